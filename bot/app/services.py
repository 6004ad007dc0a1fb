"""Services: what handlers and timers call. Handlers ack, ask `authorize`, delegate here and
answer with the `Answer` they get back. Everything an action needs is read from the store by
the alert's ID; nothing in a Slack payload is trusted beyond who clicked.

Each action lands in the audit log, allowed or refused, with its result.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ButtonElement
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.polling import PollListener
from bot.app.reruns import Reruns
from bot.app.support import Support
from bot.core import slash_command
from bot.core.domain import Condition, Snapshot, snapshot_from_dict
from bot.core.i18n import t
from bot.core.lifecycle import Decision, Keep
from bot.core.metrics import ACTIONS
from bot.core.settings import Settings, Tenant
from bot.slack import ids
from bot.slack.delivery import Deliverer
from bot.slack.people import People, Person
from bot.slack.render import (
    AlertLink,
    StatusFacts,
    fmt_time,
    render_history,
    render_home,
    render_question,
    render_status,
    rerun_button,
    title,
)
from bot.sources.api import EadmSource
from bot.store import Store, utcnow
from bot.store.tables import Alert, TenantState

log = logging.getLogger(__name__)

SNOOZE_HOURS = {"1h": 1, "4h": 4}
MORNING_HOUR = 8  # "until tomorrow" means 08:00 local time


@dataclass(frozen=True, slots=True)
class Answer:
    """What a handler says back: privately by default."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    public: bool = False


@dataclass
class Services:
    settings: Settings
    store: Store
    client: AsyncWebClient
    sources: dict[str, EadmSource]
    deliverer: Deliverer
    people: People = field(init=False)
    reruns: Reruns = field(init=False)
    support: Support = field(init=False)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set, init=False)
    _home_viewers: set[str] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.people = People(self.settings, self.client)
        self.reruns = Reruns(self.settings, self.store, self.sources, self.clock, self.kick)
        self.support = Support(self.settings, self.store, self.clock, self.kick)

    # -- plumbing -----------------------------------------------------------------------------

    def clock(self) -> datetime:
        return utcnow()

    def kick(self) -> None:
        """Deliver what was just owed now rather than at the next outbox sweep, and show the
        change on the Home tabs people have open."""
        self.background(self.deliverer.run_once())
        self.refresh_homes()

    def refresh_homes(self) -> None:
        for user_id in list(self._home_viewers):
            self.background(self.publish_home(user_id))

    def background(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)

    def tenant(self, name: str | None) -> Tenant | None:
        return self.settings.tenant(name)

    async def person(self, user_id: str) -> Person:
        return await self.people.person(user_id)

    async def audit(
        self,
        action: str,
        result: str,
        *,
        user_id: str,
        tenant: str | None = None,
        alert_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        ACTIONS.labels(action=action, outcome=result).inc()
        log.info("[%s] %s by %s on alert %s: %s", tenant or "-", action, user_id, alert_id, result)
        await asyncio.to_thread(
            self.store.audit,
            action,
            result,
            user_id=user_id,
            tenant=tenant,
            alert_id=alert_id,
            detail=detail,
            now=self.clock(),
        )

    async def authorize(
        self,
        user_id: str,
        action: str,
        *,
        tenant: str | None = None,
        alert_id: int | None = None,
    ) -> Answer | None:
        """None when the user may act; else the refusal to show them (and it is audited)."""
        if await self.people.is_admin(user_id):
            return None
        person = await self.person(user_id)
        who = self.people.who_may_act(person.lang)
        text = t(person.lang, "auth.refused", who=who) if who else t(person.lang, "auth.nobody")
        await self.audit(action, "refused", user_id=user_id, tenant=tenant, alert_id=alert_id)
        return Answer(text)

    async def alert_for(self, value: str, user_id: str) -> tuple[Alert | None, Answer | None]:
        """The alert a button names (its value carries the ID only), or what to say instead."""
        person = await self.person(user_id)
        try:
            alert_id = int(value.split(":", 1)[0])
        except ValueError:
            return None, Answer(t(person.lang, "answer.bad_value"))
        alert = await asyncio.to_thread(self.store.get_alert, alert_id)
        if alert is None:
            return None, Answer(t(person.lang, "answer.gone"))
        if alert.resolved_at is not None:
            return None, Answer(t(person.lang, "answer.resolved"))
        return alert, None

    # -- acknowledge and snooze ---------------------------------------------------------------

    async def acknowledge(self, alert: Alert, user_id: str) -> Answer:
        assert alert.id is not None
        person = await self.person(user_id)
        if alert.state == "acknowledged" and alert.acked_by:
            await self.audit(
                "ack", "already", user_id=user_id, tenant=alert.tenant, alert_id=alert.id
            )
            return Answer(t(person.lang, "answer.already_acked", user=alert.acked_by))
        await asyncio.to_thread(self.store.acknowledge, alert.id, user_id, self.clock())
        await self.audit("ack", "done", user_id=user_id, tenant=alert.tenant, alert_id=alert.id)
        self.kick()
        return Answer(t(person.lang, "answer.acked"))

    def snooze_until(self, choice: str, now: datetime) -> datetime | None:
        if choice in SNOOZE_HOURS:
            return now + timedelta(hours=SNOOZE_HOURS[choice])
        if choice == "tomorrow":
            local = now.astimezone(self.settings.tz)
            morning = (local + timedelta(days=1)).replace(
                hour=MORNING_HOUR, minute=0, second=0, microsecond=0
            )
            return morning
        return None

    async def snooze(self, alert: Alert, choice: str, user_id: str) -> Answer:
        assert alert.id is not None
        person = await self.person(user_id)
        now = self.clock()
        until = self.snooze_until(choice, now)
        if until is None:
            return Answer(t(person.lang, "answer.bad_value"))
        await asyncio.to_thread(self.store.snooze, alert.id, user_id, until, now)
        await self.audit(
            "snooze",
            "done",
            user_id=user_id,
            tenant=alert.tenant,
            alert_id=alert.id,
            detail=until.isoformat(),
        )
        self.kick()
        return Answer(
            t(person.lang, "answer.snoozed", until=fmt_time(until, self.settings.tz, now))
        )

    # -- rerun -------------------------------------------------------------------------------

    async def rerun(self, tenant: Tenant, user_id: str, alert_id: int | None = None) -> Answer:
        person = await self.person(user_id)
        result, text = await self.reruns.start(
            tenant, user_id=user_id, lang=person.lang, alert_id=alert_id
        )
        await self.audit("rerun", result, user_id=user_id, tenant=tenant.name, alert_id=alert_id)
        return Answer(text)

    def rerun_question(self, tenant: Tenant, lang: str) -> Answer:
        """`/eadm rerun` asks first, with the same confirmation as the alert's button."""
        runner = self.reruns.runner(tenant)
        if runner is None:
            return Answer(t(lang, "rerun.none", tenant=tenant.name))
        button = rerun_button(ids.ACTION_RERUN_TENANT, tenant.name, runner.describe, lang)
        question = render_question(t(lang, "rerun.ask", tenant=tenant.name), button)
        return Answer(question.text, question.blocks)

    # -- tickets ------------------------------------------------------------------------------

    async def ticket_view(
        self, alert: Alert, user_id: str, *, again: bool = False
    ) -> dict[str, Any] | Answer:
        """The modal to open, or (when a ticket exists) a question whether to open another."""
        assert alert.id is not None
        person = await self.person(user_id)
        tenant = self.tenant(alert.tenant)
        if tenant is None:
            return Answer(t(person.lang, "answer.gone"))
        if alert.ticket_ref and not again:
            button = ButtonElement(
                text=t(person.lang, "ticket.again"),
                action_id=ids.ACTION_TICKET_AGAIN,
                value=str(alert.id),
            )
            question = render_question(
                t(person.lang, "ticket.exists", ref=alert.ticket_ref), button
            )
            return Answer(question.text, question.blocks)
        return self.support.modal(alert, tenant, person)

    async def submit_ticket(
        self, alert_id_text: str, user_id: str, subject: str, description: str
    ) -> tuple[Alert | None, Answer]:
        """Send the ticket the modal holds. An alert that resolved while the modal was open
        still gets its ticket: the person decided to send it."""
        person = await self.person(user_id)
        alert = None
        if alert_id_text.isdigit():
            alert = await asyncio.to_thread(self.store.get_alert, int(alert_id_text))
        tenant = self.tenant(alert.tenant) if alert is not None else None
        if alert is None or tenant is None:
            return alert, Answer(t(person.lang, "answer.gone"))
        result, text = await self.support.submit(alert, tenant, person, subject, description)
        await self.audit("ticket", result, user_id=user_id, tenant=tenant.name, alert_id=alert.id)
        return alert, Answer(text)

    # -- status, history, home -----------------------------------------------------------------

    async def status_facts(self, tenant: Tenant) -> StatusFacts:
        def read() -> tuple[TenantState | None, list[Snapshot], list[Alert]]:
            return (
                self.store.tenant_state(tenant.name),
                self.store.recent_cycles(tenant.name, 50),
                self.store.unresolved_alerts(tenant.name),
            )

        state, recent, alerts = await asyncio.to_thread(read)
        links = await asyncio.gather(*(self._permalink(a) for a in alerts))
        snapshot = None
        if state is not None and state.current_cycle:
            snapshot = snapshot_from_dict(state.current_cycle)
        failing = state is not None and state.failing_since is not None
        return StatusFacts(
            tenant=tenant.name,
            snapshot=snapshot,
            last_success=next((c.ended_at for c in recent if c.all_completed), None),
            alerts=tuple(
                AlertLink(a.step, Condition(a.condition), link, a.state)
                for a, link in zip(alerts, links, strict=True)
            ),
            source_error=state.last_error if state is not None and failing else None,
            failing_since=state.failing_since if state is not None else None,
            silenced_until=state.silenced_until if state is not None else None,
            silenced_by=state.silenced_by if state is not None else None,
            silence_reason=state.silence_reason if state is not None else None,
        )

    async def _permalink(self, alert: Alert) -> str | None:
        if not alert.message_ts:
            return None
        try:
            response = await self.client.chat_getPermalink(
                channel=alert.channel, message_ts=alert.message_ts
            )
        except (SlackApiError, OSError):
            return None
        return response.get("permalink")

    async def status(self, tenant: Tenant, lang: str, public: bool = False) -> Answer:
        facts = await self.status_facts(tenant)
        message = render_status(facts, lang, tz=self.settings.tz, now=self.clock())
        return Answer(message.text, message.blocks, public=public)

    async def history(self, tenant: Tenant, count: int, lang: str) -> Answer:
        cycles = await asyncio.to_thread(self.store.recent_cycles, tenant.name, count)
        message = render_history(tenant.name, cycles, lang, tz=self.settings.tz, now=self.clock())
        return Answer(message.text, message.blocks)

    async def home_view(self, user_id: str) -> dict[str, Any]:
        person = await self.person(user_id)
        parts: list[tuple[StatusFacts, list[Snapshot]]] = []
        for tenant in self.settings.tenants:
            facts = await self.status_facts(tenant)
            recent = await asyncio.to_thread(self.store.recent_cycles, tenant.name, 5)
            parts.append((facts, recent))
        return render_home(parts, person.lang, tz=self.settings.tz, now=self.clock())

    async def publish_home(self, user_id: str) -> None:
        self._home_viewers.add(user_id)
        try:
            await self.client.views_publish(user_id=user_id, view=await self.home_view(user_id))
        except (SlackApiError, OSError) as exc:
            log.warning("could not publish the Home tab for %s: %s", user_id, exc)

    # -- /eadm -----------------------------------------------------------------------------------

    async def command(self, text: str, user_id: str) -> Answer:
        person = await self.person(user_id)
        lang = person.lang
        names = [tenant.name for tenant in self.settings.tenants]
        parsed = slash_command.parse(text, names)
        if isinstance(parsed, slash_command.Help):
            return Answer(t(lang, "command.help"))
        if isinstance(parsed, slash_command.Usage):
            problem = t(lang, parsed.key, **dict(parsed.params))
            return Answer(f"{problem}\n\n{t(lang, 'command.help')}")
        tenant = self.settings.tenant(parsed.tenant)
        if tenant is None:
            return Answer(t(lang, "command.tenant_needed", names=", ".join(names)))
        match parsed:
            case slash_command.Status(public=public):
                await self.audit("status", "shown", user_id=user_id, tenant=tenant.name)
                # A public answer speaks the channel's language; a private one the asker's.
                return await self.status(tenant, tenant.language if public else lang, public)
            case slash_command.History(count=count):
                await self.audit("history", "shown", user_id=user_id, tenant=tenant.name)
                return await self.history(tenant, count, lang)
            case slash_command.Rerun():
                if refusal := await self.authorize(user_id, "rerun", tenant=tenant.name):
                    return refusal
                return self.rerun_question(tenant, lang)
            case slash_command.Silence(seconds=seconds, reason=reason):
                if refusal := await self.authorize(user_id, "silence", tenant=tenant.name):
                    return refusal
                return await self.silence(tenant, seconds, reason, user_id, lang)
            case slash_command.Unsilence():
                if refusal := await self.authorize(user_id, "unsilence", tenant=tenant.name):
                    return refusal
                return await self.unsilence(tenant, user_id, lang)
        return Answer(t(lang, "command.help"))

    # -- maintenance windows ---------------------------------------------------------------------

    async def silence(
        self, tenant: Tenant, seconds: int, reason: str | None, user_id: str, lang: str
    ) -> Answer:
        now = self.clock()
        until = now + timedelta(seconds=seconds)
        await asyncio.to_thread(self.store.silence, tenant.name, until, reason, user_id, now)
        await self.audit(
            "silence",
            "done",
            user_id=user_id,
            tenant=tenant.name,
            detail=f"until {until.isoformat()}: {reason or ''}",
        )
        note = f" ({reason})" if reason else ""
        channel_text = t(
            tenant.language,
            "silence.started",
            user=user_id,
            tenant=tenant.name,
            until=fmt_time(until, self.settings.tz, now),
            reason=note,
        )
        await asyncio.to_thread(
            self.store.owe_notice, tenant.name, tenant.channel, {"text": channel_text}, now
        )
        self.kick()
        return Answer(
            t(
                lang,
                "silence.started",
                user=user_id,
                tenant=tenant.name,
                until=fmt_time(until, self.settings.tz, now),
                reason=note,
            )
        )

    async def unsilence(self, tenant: Tenant, user_id: str, lang: str) -> Answer:
        ended = await self._end_silence(tenant, early=True)
        await self.audit(
            "unsilence", "done" if ended else "not_silenced", user_id=user_id, tenant=tenant.name
        )
        key = "silence.ended" if ended else "silence.not_silenced"
        return Answer(t(lang, key, tenant=tenant.name))

    async def _end_silence(self, tenant: Tenant, *, early: bool = False) -> bool:
        now = self.clock()
        lang, tz = tenant.language, self.settings.tz

        def summarize(ended: TenantState, alerts: list[Alert]) -> dict[str, Any]:
            start = ended.silenced_since or now
            lines = [
                t(
                    lang,
                    "silence.summary",
                    tenant=tenant.name,
                    start=fmt_time(start, tz, now),
                    end=fmt_time(ended.silenced_until or now, tz, now),
                )
            ]
            if not alerts:
                lines.append(t(lang, "silence.summary_none"))
            else:
                lines.append(t(lang, "silence.summary_some", count=len(alerts)))
                for alert in alerts[:30]:
                    state = "summary_resolved" if alert.resolved_at else "summary_open"
                    since = fmt_time(alert.since or alert.opened_at or now, tz, now)
                    headline = title(Condition(alert.condition), alert.step, lang)
                    lines.append(f"• {since} {headline} ({t(lang, f'silence.{state}')})")
            return {"text": "\n".join(lines)}

        ended = await asyncio.to_thread(
            self.store.end_silence, tenant.name, tenant.channel, now, summarize, early=early
        )
        if ended:
            self.kick()
        return ended

    # -- timers and poll listeners -------------------------------------------------------------

    async def tick(self) -> None:
        """Timers that are not polls: maintenance windows that ended, rerun deadlines."""
        for tenant in self.settings.tenants:
            try:
                await self._end_silence(tenant)
                await self.reruns.verify(tenant, None)
            except Exception:
                log.exception("[%s] timer failed; trying again at the next tick", tenant.name)

    def poll_listeners(self) -> list[PollListener]:
        return [self.on_poll]

    async def on_poll(
        self, tenant: Tenant, snapshot: Snapshot | None, decisions: Sequence[Decision]
    ) -> None:
        await self.reruns.verify(tenant, snapshot)
        if any(not isinstance(d, Keep) for d in decisions):
            self.refresh_homes()
