"""Rerunning the sync by hand, guarded as the vendor asks, and checking that it worked.

Every entry point asks `Access`, then the guard: the facts are gathered here (the status read
afresh, the clicked alert as it reads now, the tenant's open alerts and reruns) and judged by
the pure rules in `bot.core.rerun_guard`. A refusal says why and what to do instead. The
store's unique index refuses a second rerun under way across replicas too. After the start,
each poll of the tenant looks for the new cycle until `RERUN_GRACE` ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.runners import RerunRunner
from bot.app.access import Access
from bot.app.awaiting import AwaitingReruns
from bot.app.context import Answer, Context
from bot.core.domain import TASK_STEP, Condition, Snapshot, snapshot_from_dict
from bot.core.errors import SourceError
from bot.core.i18n import t
from bot.core.playbook import Playbook
from bot.core.rerun_guard import AlertFact, Refusal, RerunFacts, Verdict, judge
from bot.core.rerun_status import RerunStatus, has_lapsed
from bot.core.said import Words
from bot.core.settings import Tenant
from bot.slack import ids
from bot.slack.calls import permalink
from bot.slack.render import (
    code,
    escape,
    fmt_time,
    one_line,
    render_question,
    rerun_button,
    said_words,
    step_name,
    ticket_offer,
    title,
    truncate,
)
from bot.sources import Source
from bot.store.tables import Alert, Rerun

log = logging.getLogger(__name__)

DETAIL_MAX = 500  # characters of a runner's or a source's words in an answer

# A new cycle may have started a little before the rerun was recorded (clock skew, or the
# scheduler's own start); such a cycle still counts as the rerun's.
START_SLACK_S = 60


class Reruns:
    def __init__(
        self,
        ctx: Context,
        access: Access,
        sources: dict[str, Source],
        playbook: Playbook,
        client: AsyncWebClient | None = None,
    ) -> None:
        self.ctx = ctx
        self.playbook = playbook
        self.client = client
        self.access = access
        self.settings = ctx.settings
        self.store = ctx.store
        self.sources = sources
        self.clock = ctx.clock
        self.kick = ctx.kick  # deliver what was just owed, without waiting for the next sweep
        self.awaiting = AwaitingReruns(ctx.store, every=ctx.settings.poll_interval)

    def runner(self, tenant: Tenant) -> RerunRunner | None:
        return self.ctx.adapters.runner(tenant.name)

    # -- entry points: each asks Access first ----------------------------------------------------

    async def ask(self, user_id: str, tenant_name: str | None) -> Answer:
        """`/eadm rerun` asks first, with the same confirmation as the alert's button."""
        allowed = await self.access.to_tenant(user_id, "rerun", tenant_name)
        if isinstance(allowed, Answer):
            return allowed
        tenant, lang = allowed.tenant, allowed.person.lang
        # Judged now too, so a refusal comes before the question rather than after it.
        facts, error = await self.facts(tenant, None)
        verdict = judge(facts)
        if verdict.refusal is not None:
            await self.ctx.audit(
                "rerun", verdict.refusal.value, user_id=user_id, tenant=tenant.name
            )
            return await self.refusal(verdict, tenant, lang, error, _sees_steps(facts))
        runner = self.runner(tenant)
        assert runner is not None
        button = rerun_button(
            ids.ACTION_RERUN_TENANT,
            tenant.name,
            runner.describe,
            lang,
            sees_steps=_sees_steps(facts),
        )
        question = render_question(t(lang, "rerun.ask", tenant=escape(tenant.name)), button, lang)
        return Answer(question.text, question.blocks)

    async def from_alert(self, user_id: str, value: str) -> Answer:
        """The Rerun button on an alert."""
        allowed = await self.access.to_alert(user_id, "rerun", value)
        if isinstance(allowed, Answer):
            return allowed
        assert allowed.alert is not None
        return await self._run(allowed.tenant, user_id, allowed.person.lang, allowed.alert.id)

    async def for_tenant(self, user_id: str, tenant_name: str) -> Answer:
        """The confirmed button of `/eadm rerun`, which names the tenant, not an alert."""
        allowed = await self.access.to_tenant(user_id, "rerun", tenant_name)
        if isinstance(allowed, Answer):
            return allowed
        return await self._run(allowed.tenant, user_id, allowed.person.lang, None)

    async def _run(self, tenant: Tenant, user_id: str, lang: str, alert_id: int | None) -> Answer:
        result, reply = await self.start(tenant, user_id=user_id, lang=lang, alert_id=alert_id)
        runner = self.runner(tenant)
        await self.ctx.audit(
            "rerun",
            result,
            user_id=user_id,
            tenant=tenant.name,
            alert_id=alert_id,
            # What was (or would have been) started, as the confirmation named it: masked.
            detail=runner.describe if runner is not None else None,
        )
        return reply

    # -- the guard and the run -----------------------------------------------------------------

    async def facts(self, tenant: Tenant, alert_id: int | None) -> tuple[RerunFacts, Words | None]:
        """What the guard judges, read now; and why the status is unreadable, when it is."""
        error = None
        deadline = self.settings.poll_deadline  # a poll's, so a trickling source ends here too
        try:
            async with asyncio.timeout(deadline):
                snapshot: Snapshot | None = await self.sources[tenant.name].current()
        except SourceError as exc:
            snapshot, error = None, exc.words
        except TimeoutError:
            snapshot, error = None, SourceError("source.deadline", seconds=f"{deadline:g}").words

        def read() -> tuple[Alert | None, list[Alert], bool, datetime | None]:
            clicked = self.store.get_alert(alert_id) if alert_id is not None else None
            return (
                clicked,
                self.store.unresolved_alerts(tenant.name),
                self._still_active(tenant),
                self.store.last_rerun_ran_at(tenant.name),
            )

        clicked, alerts, rerun_active, last_ran_at = await asyncio.to_thread(read)
        facts = RerunFacts(
            has_runner=self.runner(tenant) is not None,
            snapshot=snapshot,
            now=self.clock(),
            cooldown_s=self.settings.rerun_cooldown,
            clicked=_fact(clicked) if clicked is not None else None,
            open_alerts=tuple(_fact(a) for a in alerts),
            rerun_active=rerun_active,
            last_ran_at=last_ran_at,
            not_started_after=self.settings.thresholds.not_started_after,
        )
        return facts, error

    def _still_active(self, tenant: Tenant) -> bool:
        """Whether one of the tenant's reruns is under way; one whose runner will never answer
        (the process that asked stopped first) lapses here instead of blocking for good."""
        active = self.store.active_rerun(tenant.name)
        if active is None or active.id is None:
            return False
        runner = self.runner(tenant)
        timeout = runner.timeout if runner is not None else tenant.rerun.timeout
        status = RerunStatus(active.status)
        if not has_lapsed(status, active.requested_at, timeout, self.clock()):
            return True
        if self.store.move_rerun(active.id, RerunStatus.LAPSED, detail="no runner answered"):
            log.warning(
                "[%s] rerun %s, asked for at %s, lapsed: no runner answered within %g s, "
                "so the process that asked most likely stopped; the sync may or may not have "
                "started",
                tenant.name,
                active.id,
                active.requested_at,
                timeout,
            )
        return self.store.rerun_is_active(tenant.name)

    async def refusal(
        self,
        verdict: Verdict,
        tenant: Tenant,
        lang: str,
        error: Words | None,
        sees_steps: bool = True,
    ) -> Answer:
        """What to tell the person the guard refused: why, and what to do instead. Where the
        status holds no eAdm steps, the manual route comes after the vendor's pre-check, which
        only the admin can make there."""
        step = escape(step_name(verdict.step, lang)) if verdict.step else ""
        name = escape(tenant.name)
        unreadable = truncate(one_line(said_words(error, lang)), DETAIL_MAX, lang) if error else "?"
        minutes = max(1, round(self.settings.rerun_cooldown / 60))
        queued = "rerun.task_queued" if verdict.step == TASK_STEP else "rerun.queued"
        texts = {
            Refusal.NO_RUNNER: ("rerun.none", {"tenant": name}),
            Refusal.RESOLVED: ("answer.resolved", {}),
            Refusal.PENDING: ("rerun.pending", {"tenant": name}),
            Refusal.COOLDOWN: ("rerun.cooldown", {"tenant": tenant.name, "minutes": minutes}),
            Refusal.UNREADABLE: ("rerun.unreadable", {"error": unreadable}),
            Refusal.DISABLED: ("rerun.disabled", {}),
            Refusal.THRESHOLD: ("rerun.stopped", {"step": step}),
            Refusal.RUNNING: ("rerun.running", {"step": step}),
            Refusal.QUEUED: (queued, {"step": step}),
            Refusal.IN_PROGRESS: ("rerun.in_progress", {"step": step}),
        }
        if verdict.refusal in texts:
            key, params = texts[verdict.refusal]  # type: ignore[index]
            text = t(lang, key, **params)
            if verdict.refusal is Refusal.NO_RUNNER and not sees_steps:
                text = f"{t(lang, 'alert.precheck')} {text}"
            return Answer(text)
        alert = verdict.alert
        if verdict.refusal is Refusal.ADVICE and alert is not None:
            headline = escape(title(alert.condition, alert.step, lang))
            text = t(lang, "rerun.advice_changed", title=headline)
            offers_ticket = "ticket" in self.playbook.entry(alert.step, alert.condition).actions
        elif verdict.refusal is Refusal.CANNOT_START:
            # Its alert says what to fix; a ticket is for when the admin cannot find the cause.
            text, offers_ticket = t(lang, "rerun.cannot_start"), False
        else:
            # The ticket button opens on the step's alert: until the bot has one, there is no
            # button to point at, and the answer says to contact support instead.
            offers_ticket = alert is not None
            if verdict.refusal is Refusal.STALLED:
                # Refused with the guide's own advice for that step's stall.
                advice = self.playbook.entry(verdict.step, Condition.NOT_STARTED).advice(lang)
                text = " ".join((t(lang, "rerun.stalled", step=step), *advice.steps(None)))
            else:
                more = t(lang, "rerun.ticket_below" if offers_ticket else "rerun.ask_support")
                text = f"{t(lang, 'rerun.failed_step', step=step)} {more}"
        if alert is None:
            return Answer(text)
        row = await asyncio.to_thread(self.store.get_alert, alert.id)
        link = await permalink(self.client, row.channel, row.message_ts) if row else None
        if link:
            text += " " + t(lang, "rerun.see_alert", link=link)
        if not offers_ticket:
            return Answer(text)
        question = ticket_offer(text, alert.id, lang)
        return Answer(question.text, question.blocks)

    async def start(
        self, tenant: Tenant, *, user_id: str, lang: str, alert_id: int | None = None
    ) -> tuple[str, Answer]:
        """Start the sync if the guard allows. Returns (result word for the audit, answer)."""
        facts, error = await self.facts(tenant, alert_id)
        verdict = judge(facts)
        if verdict.refusal is not None:
            answer = await self.refusal(verdict, tenant, lang, error, _sees_steps(facts))
            return verdict.refusal.value, answer
        runner = self.runner(tenant)
        snapshot = facts.snapshot
        assert runner is not None and snapshot is not None
        now = self.clock()
        begun = await asyncio.to_thread(
            self.store.record_rerun,
            tenant.name,
            alert_id=alert_id,
            user_id=user_id,
            runner=runner.describe,
            cycle_before=snapshot.cycle_id,
            now=now,
            grace=self.settings.rerun_grace,
        )
        if begun is None:  # another click or replica got past the guard first
            late = Verdict(Refusal.PENDING)
            return Refusal.PENDING.value, await self.refusal(late, tenant, lang, None)
        assert begun.id is not None
        result = await runner.run(tenant=tenant.name, requested_by=user_id, alert_id=alert_id)
        # What the runner says may quote what the command or the receiver printed.
        words = result.words.mapped(lambda text: tenant.redactor.within(text, 1000))
        result = dataclasses.replace(result, words=words)
        channel_lang = tenant.language
        if result.ok:
            # The grace period counts from when the runner returned: a slow runner (ssh to a
            # far server) must not use up the time the new cycle has to appear.
            await asyncio.to_thread(
                self.store.move_rerun,
                begun.id,
                RerunStatus.STARTED,
                detail=result.detail,
                deadline=self.clock() + timedelta(seconds=self.settings.rerun_grace),
            )
            self.awaiting.changed()
            text = t(
                channel_lang,
                "rerun.started",
                user=user_id,
                time=fmt_time(now, self.settings.tz, now),
                runner=code(runner.describe),
            )
            await self._say(tenant, alert_id, text)
            return "started", Answer(t(lang, "rerun.started_answer", tenant=escape(tenant.name)))
        await asyncio.to_thread(
            self.store.move_rerun, begun.id, RerunStatus.FAILED, detail=result.detail
        )
        told = truncate(said_words(result.words, channel_lang), DETAIL_MAX, channel_lang)
        text = t(channel_lang, "rerun.failed", user=user_id, detail=told)
        await self._say(tenant, alert_id, text)
        detail = truncate(said_words(result.words, lang), DETAIL_MAX, lang)
        answer = t(lang, "rerun.failed_answer", detail=detail)
        return "failed", Answer(answer)

    async def verify(
        self, tenant: Tenant, snapshot: Snapshot | None, awaiting: Sequence[Rerun] | None = None
    ) -> None:
        """After a poll: did a rerun's new cycle start? Past its deadline: say it did not.
        `awaiting`: every tenant's reruns awaiting their cycle, when the caller has read them
        already; else those read this tick (`AwaitingReruns`), one read for all polls."""
        now = self.clock()
        if awaiting is None:
            awaiting = await self.awaiting.get()
        reruns = [r for r in awaiting if r.tenant == tenant.name and r.id is not None]
        if reruns and snapshot is None:
            # A timer, not a poll: judge by the cycle the last good poll saw.
            state = await asyncio.to_thread(self.store.tenant_state, tenant.name)
            if state is not None and state.current_cycle:
                snapshot = snapshot_from_dict(state.current_cycle)
        for rerun in reruns:
            assert rerun.id is not None
            if snapshot is not None and _is_new_cycle(rerun, snapshot):
                moved = await asyncio.to_thread(
                    self.store.move_rerun,
                    rerun.id,
                    RerunStatus.CONFIRMED,
                    new_cycle_id=snapshot.cycle_id,
                )
                self.awaiting.changed()
                if moved:
                    started = snapshot.started_at or now
                    text = t(
                        tenant.language,
                        "rerun.confirmed",
                        cycle=escape(snapshot.cycle_id),
                        time=fmt_time(started, self.settings.tz, now),
                    )
                    await self._say(tenant, rerun.alert_id, text)
            elif rerun.deadline is not None and now > rerun.deadline:
                moved = await asyncio.to_thread(
                    self.store.move_rerun, rerun.id, RerunStatus.NO_CYCLE
                )
                self.awaiting.changed()
                if moved:
                    minutes = max(1, round(self.settings.rerun_grace / 60))
                    text = t(tenant.language, "rerun.no_cycle", minutes=minutes)
                    await self._say(tenant, rerun.alert_id, text)

    async def _say(self, tenant: Tenant, alert_id: int | None, text: str) -> None:
        """In the alert's thread when there is one, else in the tenant's channel."""
        now = self.clock()
        said = False
        if alert_id is not None:
            said = await asyncio.to_thread(self.store.owe_text, alert_id, text, now)
        if not said:
            await asyncio.to_thread(
                self.store.owe_notice, tenant.name, tenant.channel, {"text": text}, now
            )
        self.kick(tenant.name)


def _sees_steps(facts: RerunFacts) -> bool:
    return facts.snapshot is None or facts.snapshot.sees_steps


def _fact(alert: Alert) -> AlertFact:
    assert alert.id is not None
    return AlertFact(
        alert.id, alert.step, Condition(alert.condition), resolved=alert.resolved_at is not None
    )


def _is_new_cycle(rerun: Rerun, snapshot: Snapshot) -> bool:
    if snapshot.cycle_id == rerun.cycle_before:
        return False
    if snapshot.started_at is None or rerun.requested_at is None:
        return True
    return (snapshot.started_at - rerun.requested_at).total_seconds() > -START_SLACK_S
