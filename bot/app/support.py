"""Support tickets from an alert: a prepared, editable text sent to the tenant's target.

The text is written from the store's alert (never from the click's payload), the log excerpt
is read from `EADM_LOG_DIR` where the bot can, and the alert remembers the ticket so a second
one needs a deliberate click.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.adapters.log_folder import log_excerpt
from bot.adapters.ticket_targets import Attachment, Ticket, TicketTarget, target_for
from bot.core.errors import ActionError, ConfigError
from bot.core.i18n import t
from bot.core.settings import Settings, Tenant
from bot.slack.compose import facts
from bot.slack.people import Person
from bot.slack.render import render_ticket, render_ticket_modal, truncate
from bot.store import Store
from bot.store.tables import Alert

log = logging.getLogger(__name__)

EXCERPT_IN_THREAD = 2500  # characters of log lines shown in Slack; the ticket gets them all


class Support:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Callable[[], datetime],
        kick: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.kick = kick

    def target(self, tenant: Tenant) -> TicketTarget | None:
        try:
            return target_for(tenant)
        except ConfigError as exc:
            log.error("[%s] ticket target is misconfigured: %s", tenant.name, exc.problems)
            return None

    def modal(self, alert: Alert, tenant: Tenant, person: Person) -> dict[str, Any]:
        """The ticket modal, prefilled in the tenant's language (support reads it)."""
        assert alert.id is not None
        lang = tenant.language
        subject, description = render_ticket(
            facts(alert, tenant),
            requester=person.name,
            requester_email=person.email,
            lang=lang,
            tz=self.settings.tz,
            now=self.clock(),
        )
        target = self.target(tenant)
        goes_to = (
            t(person.lang, "ticket.goes_to", target=target.describe)
            if target
            else t(person.lang, "ticket.no_target")
        )
        return render_ticket_modal(alert.id, subject, description, goes_to=goes_to, lang=lang)

    async def submit(
        self, alert: Alert, tenant: Tenant, person: Person, subject: str, description: str
    ) -> tuple[str, str]:
        """Send the ticket. Returns (result word for the audit, answer for the person)."""
        assert alert.id is not None
        lang = person.lang
        target = self.target(tenant)
        if target is None:
            text = f"{t(lang, 'ticket.copy')}\n```{subject}\n\n{description}```"
            return "copied", truncate(text, 3900, lang)
        excerpt = None
        if tenant.log_dir is not None:
            excerpt = await asyncio.to_thread(
                log_excerpt, tenant.log_dir, alert.since, tz=self.settings.tz
            )
        attachments = (Attachment("eadm-logg.txt", excerpt.text),) if excerpt else ()
        ticket = Ticket(
            subject=subject,
            description=description + (f"\n\n{excerpt.note}" if excerpt else ""),
            tenant=tenant.name,
            alert_id=alert.id,
            requester_name=person.name,
            requester_email=person.email,
            attachments=attachments,
        )
        try:
            ref = await target.open(ticket)
        except ActionError as exc:
            log.warning("[%s] ticket for alert %s failed: %s", tenant.name, alert.id, exc)
            return "failed", t(lang, "ticket.failed", error=str(exc))
        now = self.clock()
        # An e-mail reference is a Message-ID in angle brackets, which Slack reads as a link.
        reference = ref.reference.strip("<>")
        await asyncio.to_thread(self.store.set_ticket, alert.id, reference, ref.url, person.id, now)
        if excerpt is not None:
            files = ", ".join(excerpt.files)
            shown = truncate(excerpt.text, EXCERPT_IN_THREAD, tenant.language)
            text = f"{t(tenant.language, 'ticket.log_excerpt', files=files)}\n```{shown}```"
            await asyncio.to_thread(self.store.owe_text, alert.id, text, now)
        self.kick()
        return "opened", t(lang, "ticket.opened_answer", ref=reference)
