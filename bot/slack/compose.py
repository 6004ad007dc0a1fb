"""Composing what a stored message says at the moment it is delivered.

An outbox row names what is owed (post or update an alert, a thread reply, a notice); this
module reads the alert as it is now and hands it to the pure renderers, so a message that
waited out a Slack outage shows the current state, not the state when it was owed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.adapters.registry import Adapters
from bot.core import storm as storm_rules
from bot.core.domain import Condition
from bot.core.event_report import EventsReport
from bot.core.i18n import t
from bot.core.lifecycle import AlertState
from bot.core.notify import EVENTS_REPLY
from bot.core.playbook import Playbook
from bot.core.said import kept
from bot.core.settings import Settings, Tenant
from bot.slack.render import (
    AlertFacts,
    SlackMessage,
    mention_markup,
    render_alert,
    render_digest,
    render_escalation,
    render_events_reply,
    render_reply,
    title,
)
from bot.store.tables import Alert, Digest, Outbox


def rerun_target(adapters: Adapters, tenant: Tenant | None) -> str | None:
    """How the rerun confirmation names what will be started (the runner's own words, so the
    alert's button and `/eadm rerun` say the same); None hides the button."""
    runner = adapters.runner(tenant.name) if tenant else None
    return runner.describe if runner is not None else None


def facts(alert: Alert, tenant: Tenant | None, adapters: Adapters) -> AlertFacts:
    assert alert.id is not None
    return AlertFacts(
        id=alert.id,
        tenant=alert.tenant,
        step=alert.step,
        condition=Condition(alert.condition),
        error=kept(alert.error_said, alert.error),
        since=alert.since or alert.opened_at,  # type: ignore[arg-type]
        state=AlertState(alert.state),
        cycle=alert.cycle,
        acked_by=f"<@{alert.acked_by}>" if alert.acked_by else None,
        acked_at=alert.acked_at,
        snoozed_until=alert.snoozed_until,
        snoozed_by=f"<@{alert.snoozed_by}>" if alert.snoozed_by else None,
        resolved_at=alert.resolved_at,
        resolution=alert.resolution,
        ticket_ref=alert.ticket_ref,
        ticket_url=alert.ticket_url,
        rerun_target=rerun_target(adapters, tenant),
    )


class Composer:
    def __init__(self, settings: Settings, playbook: Playbook, adapters: Adapters) -> None:
        self.settings = settings
        self.playbook = playbook
        self.adapters = adapters  # built once at start-up, shared with the use cases

    def alert_message(self, alert: Alert, now: datetime, *, new: bool = False) -> SlackMessage:
        """The alert as it is now. `new` for the post that first tells the channel: only it
        carries the mention, so updates, reminders and resolutions notify nobody again."""
        tenant = self.settings.tenant(alert.tenant)
        entry = self.playbook.entry(alert.step, Condition(alert.condition))
        return render_alert(
            facts(alert, tenant, self.adapters),
            entry,
            alert.language,
            tz=self.settings.tz,
            now=now,
            portal_url=tenant.portal_url if tenant else None,
            portal_pages=tenant.portal_pages if tenant else None,
            mention=mention_markup(self.mention(tenant)) if new else None,
        )

    def digest_message(self, told: Digest, members: Sequence[storm_rules.Member]) -> SlackMessage:
        """A storm digest as it is now."""
        return render_digest(storm_rules.summarize(members), told.language)

    def mention(self, tenant: Tenant | None) -> str | None:
        """Who a new alert of this tenant notifies: its own `mention`, else MENTION."""
        if tenant is not None and tenant.mention is not None:
            return tenant.mention
        return self.settings.mention

    def reply_text(self, row: Outbox, alert: Alert, now: datetime) -> str:
        payload = row.payload or {}
        if "text" in payload:
            return str(payload["text"])
        if payload.get("msg") == EVENTS_REPLY:
            return self.events_reply(alert, now)
        params = dict(payload.get("params") or {})
        return render_reply(
            str(payload["msg"]),
            params,
            alert.language,
            tz=self.settings.tz,
            now=now,
            about=headline(alert),
        )

    def events_reply(self, alert: Alert, now: datetime) -> str:
        """*What Event Viewer says*, from the reading kept with the alert."""
        if not alert.events:
            return t(alert.language, "events.title")
        tenant = self.settings.tenant(alert.tenant)
        return render_events_reply(
            EventsReport.from_dict(alert.events),
            condition=Condition(alert.condition),
            task_name=tenant.task_name if tenant else None,
            lang=alert.language,
            tz=self.settings.tz,
            now=now,
        )

    def escalation_text(self, row: Outbox, alert: Alert, link: str, now: datetime) -> str:
        """The escalation channel's message about an alert, linking it."""
        params = dict((row.payload or {}).get("params") or {})
        return render_escalation(
            params, alert.language, tz=self.settings.tz, now=now, about=headline(alert), link=link
        )


def headline(alert: Alert) -> str:
    """An alert named in a line of its own: what is wrong, and for which tenant."""
    return f"{title(Condition(alert.condition), alert.step, alert.language)} · {alert.tenant}"
