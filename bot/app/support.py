"""Support tickets from an alert: a prepared, editable text sent to the tenant's target.

The text is written from the store's alert (never from the click's payload), the log excerpt
is read from `EADM_LOG_DIR` where the bot can, what Event Viewer said when the alert was told
goes with it as `event-viewer.txt`, and the alert remembers the ticket so a second one needs a
deliberate click.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from bot.adapters.log_folder import log_excerpt
from bot.adapters.ticket_targets import Attachment, Ticket, TicketTarget
from bot.app.access import Access
from bot.app.context import Answer, Context
from bot.core.domain import Condition
from bot.core.errors import ActionError
from bot.core.event_report import EventsReport
from bot.core.i18n import t
from bot.core.inputs import parse_id
from bot.core.settings import Tenant
from bot.slack.compose import facts
from bot.slack.people import Person
from bot.slack.render import (
    code,
    escape,
    events_file,
    outside,
    render_ticket,
    render_ticket_modal,
    ticket_again_question,
    truncate,
)
from bot.store.tables import Alert

log = logging.getLogger(__name__)

EXCERPT_IN_THREAD = 2500  # characters of log lines shown in Slack; the ticket gets them all
EVENTS_FILE = "event-viewer.txt"
# What the modal lets a person type (and what a forged submission is cut to).
SUBJECT_MAX = 150
DESCRIPTION_MAX = 3000
COPY_MAX = 3800  # characters of the ticket's text shown to copy when there is no target
ERROR_MAX = 1000  # characters of a ticket target's error in the answer


@dataclass(frozen=True, slots=True)
class Submitted:
    """How a ticket submission went, and where to tell the person (the alert's channel and
    thread, when the alert is known)."""

    answer: Answer
    channel: str | None = None
    thread_ts: str | None = None


class Support:
    def __init__(self, ctx: Context, access: Access) -> None:
        self.ctx = ctx
        self.access = access
        self.settings = ctx.settings
        self.store = ctx.store
        self.clock = ctx.clock
        self.kick = ctx.kick

    def target(self, tenant: Tenant) -> TicketTarget | None:
        return self.ctx.adapters.target(tenant.name)

    # -- entry points: each asks Access first ----------------------------------------------------

    async def ticket_view(
        self, user_id: str, value: str, *, again: bool = False
    ) -> dict[str, Any] | Answer:
        """The modal to open, or (when a ticket exists) a question whether to open another."""
        allowed = await self.access.to_alert(user_id, "ticket", value)
        if isinstance(allowed, Answer):
            return allowed
        alert, person = allowed.alert, allowed.person
        assert alert is not None and alert.id is not None
        if alert.ticket_ref and not again:
            question = ticket_again_question(alert.id, alert.ticket_ref, person.lang)
            return Answer(question.text, question.blocks)
        return self.modal(alert, allowed.tenant, person)

    async def submit_ticket(
        self, user_id: str, alert_id_text: str, subject: str, description: str
    ) -> Submitted:
        """Send the ticket the modal holds. An alert that resolved while the modal was open
        still gets its ticket: the person decided to send it."""
        allowed = await self.access.to_alert(user_id, "ticket", alert_id_text, resolved_ok=True)
        if isinstance(allowed, Answer):
            alert = None
            if (alert_id := parse_id(alert_id_text)) is not None:
                alert = await asyncio.to_thread(self.store.get_alert, alert_id)
            if alert is None:
                return Submitted(allowed)
            return Submitted(allowed, alert.channel, alert.message_ts)
        alert, tenant, person = allowed.alert, allowed.tenant, allowed.person
        assert alert is not None
        # What a person types enters here: cut to the modal's limits, then redacted.
        subject = tenant.redactor.within(subject, SUBJECT_MAX)
        description = tenant.redactor.within(description, DESCRIPTION_MAX)
        result, text = await self.submit(alert, tenant, person, subject, description)
        await self.ctx.audit(
            "ticket", result, user_id=user_id, tenant=tenant.name, alert_id=alert.id
        )
        return Submitted(Answer(text), alert.channel, alert.message_ts)

    # -- the work ----------------------------------------------------------------------------------

    def modal(self, alert: Alert, tenant: Tenant, person: Person) -> dict[str, Any]:
        """The ticket modal, prefilled in the tenant's language (support reads it)."""
        assert alert.id is not None
        lang = tenant.language
        subject, description = render_ticket(
            facts(alert, tenant, self.ctx.adapters),
            requester=person.name,
            requester_email=person.email,
            lang=lang,
            tz=self.settings.tz,
            now=self.clock(),
        )
        target = self.target(tenant)
        goes_to = (
            t(person.lang, "ticket.goes_to", target=outside(target.describe, 500, person.lang))
            if target
            else t(person.lang, "ticket.no_target")
        )
        return render_ticket_modal(alert.id, subject, description, goes_to=goes_to, lang=lang)

    def events_text(self, alert: Alert, tenant: Tenant) -> str:
        """`event-viewer.txt`: the reading kept with the alert, in the tenant's language."""
        assert alert.events is not None
        return events_file(
            EventsReport.from_dict(alert.events),
            condition=Condition(alert.condition),
            task_name=tenant.task_name,
            lang=tenant.language,
            tz=self.settings.tz,
        )

    async def submit(
        self, alert: Alert, tenant: Tenant, person: Person, subject: str, description: str
    ) -> tuple[str, str]:
        """Send the ticket. Returns (result word for the audit, answer for the person)."""
        assert alert.id is not None
        lang = person.lang
        target = self.target(tenant)
        if target is None:
            copy = truncate(code(f"{subject}\n\n{description}"), COPY_MAX, lang)
            return "copied", f"{t(lang, 'ticket.copy')}\n```{copy}```"
        excerpt = None
        if tenant.log_dir is not None:
            excerpt = await asyncio.to_thread(
                log_excerpt,
                tenant.log_dir,
                alert.since,
                tz=self.settings.tz,
                redact=tenant.redactor,
            )
        attachments = [Attachment("eadm-logg.txt", excerpt.text)] if excerpt else []
        # Notes in the language the ticket is written in (the tenant's: support reads it).
        notes = [excerpt.note.text(tenant.language)] if excerpt else []
        if alert.events:  # what Event Viewer said when the alert was told, read then once
            attachments.append(Attachment(EVENTS_FILE, self.events_text(alert, tenant)))
            notes.append(t(tenant.language, "events.attached"))
        ticket = Ticket(
            subject=subject,
            description=description + "".join(f"\n\n{note}" for note in notes),
            tenant=tenant.name,
            alert_id=alert.id,
            requester_name=person.name,
            requester_email=person.email,
            attachments=tuple(attachments),
        )
        try:
            ref = await target.open(ticket)
        except ActionError as exc:
            error = tenant.redactor.within(str(exc), DESCRIPTION_MAX)  # it may quote an answer
            log.warning("[%s] ticket for alert %s failed: %s", tenant.name, alert.id, error)
            return "failed", t(lang, "ticket.failed", error=outside(error, ERROR_MAX, lang))
        now = self.clock()
        # An e-mail reference is a Message-ID in angle brackets, which Slack reads as a link.
        reference = ref.reference.strip("<>")
        await asyncio.to_thread(self.store.set_ticket, alert.id, reference, ref.url, person.id, now)
        if excerpt is not None:
            files = escape(", ".join(excerpt.files))
            shown = truncate(code(excerpt.text), EXCERPT_IN_THREAD, tenant.language)
            text = f"{t(tenant.language, 'ticket.log_excerpt', files=files)}\n```{shown}```"
            await asyncio.to_thread(self.store.owe_text, alert.id, text, now)
        self.kick(tenant.name)
        return "opened", t(lang, "ticket.opened_answer", ref=escape(reference))
