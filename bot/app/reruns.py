"""Rerunning the sync by hand, guarded as the vendor asks, and checking that it worked.

Before the sync starts the status is read again: a running step refuses (never start a sync
over a running one), a step held by the safety threshold refuses with the review procedure
(resume in the portal, never rerun). A rerun already under way or one started within the
cool-down refuses politely; the store's unique index makes that hold across replicas too.
After the start, each poll of the tenant looks for the new cycle until `RERUN_GRACE` ends.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.adapters.runners import RerunRunner
from bot.app.access import Access
from bot.app.context import Answer, Context
from bot.core.detect import is_safety_threshold
from bot.core.domain import Snapshot, StepState, snapshot_from_dict
from bot.core.errors import SourceError
from bot.core.i18n import t
from bot.core.settings import Tenant
from bot.slack import ids
from bot.slack.render import fmt_time, render_question, rerun_button, step_name
from bot.sources.api import EadmSource
from bot.store.tables import Rerun

log = logging.getLogger(__name__)

# A new cycle may have started a little before the rerun was recorded (clock skew, or the
# scheduler's own start); such a cycle still counts as the rerun's.
START_SLACK_S = 60


class Reruns:
    def __init__(self, ctx: Context, access: Access, sources: dict[str, EadmSource]) -> None:
        self.ctx = ctx
        self.access = access
        self.settings = ctx.settings
        self.store = ctx.store
        self.sources = sources
        self.clock = ctx.clock
        self.kick = ctx.kick  # deliver what was just owed, without waiting for the next sweep

    def runner(self, tenant: Tenant) -> RerunRunner | None:
        return self.ctx.adapters.runner(tenant.name)

    # -- entry points: each asks Access first ----------------------------------------------------

    async def ask(self, user_id: str, tenant_name: str | None) -> Answer:
        """`/eadm rerun` asks first, with the same confirmation as the alert's button."""
        allowed = await self.access.to_tenant(user_id, "rerun", tenant_name)
        if isinstance(allowed, Answer):
            return allowed
        tenant, lang = allowed.tenant, allowed.person.lang
        runner = self.runner(tenant)
        if runner is None:
            return Answer(t(lang, "rerun.none", tenant=tenant.name))
        button = rerun_button(ids.ACTION_RERUN_TENANT, tenant.name, runner.describe, lang)
        question = render_question(t(lang, "rerun.ask", tenant=tenant.name), button)
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
        result, text = await self.start(tenant, user_id=user_id, lang=lang, alert_id=alert_id)
        await self.ctx.audit(
            "rerun", result, user_id=user_id, tenant=tenant.name, alert_id=alert_id
        )
        return Answer(text)

    # -- the guard and the run -----------------------------------------------------------------

    async def start(
        self, tenant: Tenant, *, user_id: str, lang: str, alert_id: int | None = None
    ) -> tuple[str, str]:
        """Start the sync if it is safe to. Returns (result word for the audit, answer)."""
        runner = self.runner(tenant)
        if runner is None:
            return "not_configured", t(lang, "rerun.none", tenant=tenant.name)
        try:
            snapshot = await self.sources[tenant.name].current()
        except SourceError as exc:
            return "refused_unreadable", t(lang, "rerun.unreadable", error=str(exc))
        if (held := _threshold_stop(snapshot)) is not None:
            return "refused_threshold", t(lang, "rerun.stopped", step=step_name(held, lang))
        if (running := _held(snapshot, StepState.RUNNING)) is not None:
            return "refused_running", t(lang, "rerun.running", step=step_name(running, lang))
        now = self.clock()
        begun = await asyncio.to_thread(
            self.store.begin_rerun,
            tenant.name,
            alert_id=alert_id,
            user_id=user_id,
            runner=runner.describe,
            cycle_before=snapshot.cycle_id,
            now=now,
            grace=self.settings.rerun_grace,
            cooldown=self.settings.rerun_cooldown,
        )
        if begun == "pending":
            return "refused_pending", t(lang, "rerun.pending", tenant=tenant.name)
        if begun == "cooldown":
            minutes = max(1, round(self.settings.rerun_cooldown / 60))
            return "refused_cooldown", t(
                lang, "rerun.cooldown", tenant=tenant.name, minutes=minutes
            )
        assert isinstance(begun, Rerun) and begun.id is not None
        result = await runner.run(tenant=tenant.name, requested_by=user_id, alert_id=alert_id)
        channel_lang = tenant.language
        if result.ok:
            # The grace period counts from when the runner returned: a slow runner (ssh to a
            # far server) must not use up the time the new cycle has to appear.
            await asyncio.to_thread(
                self.store.finish_rerun,
                begun.id,
                "started",
                detail=result.detail,
                deadline=self.clock() + timedelta(seconds=self.settings.rerun_grace),
            )
            text = t(
                channel_lang,
                "rerun.started",
                user=user_id,
                time=fmt_time(now, self.settings.tz, now),
                runner=runner.describe,
            )
            await self._say(tenant, alert_id, text)
            return "started", t(lang, "rerun.started_answer", tenant=tenant.name)
        await asyncio.to_thread(self.store.finish_rerun, begun.id, "failed", detail=result.detail)
        text = t(channel_lang, "rerun.failed", user=user_id, detail=result.detail)
        await self._say(tenant, alert_id, text)
        return "failed", t(lang, "rerun.failed_answer", detail=result.detail)

    async def verify(self, tenant: Tenant, snapshot: Snapshot | None) -> None:
        """After a poll: did a rerun's new cycle start? Past its deadline: say it did not."""
        now = self.clock()
        reruns = [
            r
            for r in await asyncio.to_thread(self.store.active_reruns)
            if r.tenant == tenant.name and r.id is not None
        ]
        if reruns and snapshot is None:
            # A timer, not a poll: judge by the cycle the last good poll saw.
            state = await asyncio.to_thread(self.store.tenant_state, tenant.name)
            if state is not None and state.current_cycle:
                snapshot = snapshot_from_dict(state.current_cycle)
        for rerun in reruns:
            assert rerun.id is not None
            if snapshot is not None and _is_new_cycle(rerun, snapshot):
                moved = await asyncio.to_thread(
                    self.store.finish_rerun,
                    rerun.id,
                    "confirmed",
                    new_cycle_id=snapshot.cycle_id,
                    only_from=("started",),
                )
                if moved is not None:
                    started = snapshot.started_at or now
                    text = t(
                        tenant.language,
                        "rerun.confirmed",
                        cycle=snapshot.cycle_id,
                        time=fmt_time(started, self.settings.tz, now),
                    )
                    await self._say(tenant, rerun.alert_id, text)
            elif rerun.deadline is not None and now > rerun.deadline:
                moved = await asyncio.to_thread(
                    self.store.finish_rerun, rerun.id, "no_cycle", only_from=("started",)
                )
                if moved is not None:
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
        self.kick()


def _threshold_stop(snapshot: Snapshot) -> str | None:
    """The step held by the safety threshold, however eAdm words it (see detect)."""
    return next(
        (r.name for r in snapshot.steps if is_safety_threshold(r.state, r.name, r.message)),
        None,
    )


def _held(snapshot: Snapshot, state: StepState) -> str | None:
    return next((run.name for run in snapshot.steps if run.state is state), None)


def _is_new_cycle(rerun: Rerun, snapshot: Snapshot) -> bool:
    if snapshot.cycle_id == rerun.cycle_before:
        return False
    if snapshot.started_at is None or rerun.requested_at is None:
        return True
    return (snapshot.started_at - rerun.requested_at).total_seconds() > -START_SLACK_S
