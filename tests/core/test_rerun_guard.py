"""The rerun guard's rules, table by table: the vendor's pre-check on the cycle as it reads now,
the guide's exceptions to it, and what the guard says before and after, decided from plain
facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.domain import (
    EXPORT_AD,
    GUIDE_STEPS,
    IMPORT_AD,
    IMPORT_AD_RESULTS,
    IMPORT_HIERARCHY,
    IMPORT_HR,
    IMPORT_HR_FUTURE,
    OTHER_INTEGRATIONS,
    SYNCHRONIZATION,
    TASK_STEP,
    Condition,
    Snapshot,
    StepState,
    TaskInfo,
    TaskState,
)
from bot.core.rerun_guard import GO, AlertFact, Refusal, RerunFacts, can_allow_rerun, judge
from bot.core.task_rules import task_snapshot, with_task
from bot.core.thresholds import Thresholds
from bot.sim.eadm import THRESHOLD_MESSAGE
from tests.cycles import STEP_MINUTES, STEPS, at, cycle

WAIT = Thresholds().not_started_after  # NOT_STARTED_AFTER's default, as detection uses it


def facts(snapshot: Snapshot | None = None, **overrides: object) -> RerunFacts:
    """A runner set up, the cycle as given (all green by default), a minute after it ended."""
    base = RerunFacts(
        has_runner=True,
        snapshot=cycle() if snapshot is None else snapshot,
        now=at(60),
        cooldown_s=900,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def waiting_at(index: int, *, late: float, state: StepState = StepState.PENDING) -> RerunFacts:
    """Every step before `index` completed, the step at `index` waiting (pending or queued),
    read `late` seconds past NOT_STARTED_AFTER after it could have started (negative: not yet
    overdue)."""
    snapshot = cycle({STEPS[index]: state}, upto=index)
    ready = at(index * STEP_MINUTES)
    return facts(snapshot, now=ready + timedelta(seconds=WAIT + late))


def failed(step: str, message: str = "boom") -> RerunFacts:
    return facts(cycle({step: StepState.FAILED}, upto=STEPS.index(step), message=message))


def task(state: TaskState = TaskState.READY, **fields: object) -> Snapshot:
    info = TaskInfo("eAdm synkronisering", state, last_run_at=at(0), **fields)  # type: ignore[arg-type]
    return task_snapshot("t", info, at(0))


def verdict_of(given: RerunFacts) -> tuple[Refusal | None, str | None]:
    verdict = judge(given)
    return verdict.refusal, verdict.step


# -- the vendor's pre-check, row by row --------------------------------------------------------


def test_every_step_completed_allows_a_rerun_however_soon_the_next_cycle_is_due() -> None:
    done = cycle()
    assert done.ended_at is not None
    assert judge(facts(done, now=done.ended_at + timedelta(seconds=1))) == GO
    assert judge(facts(done, now=done.ended_at + timedelta(hours=30))) == GO


@pytest.mark.parametrize("index", range(len(STEPS)))
def test_a_running_step_refuses_a_rerun(index: int) -> None:
    given = facts(cycle({STEPS[index]: StepState.RUNNING}, upto=index))
    assert verdict_of(given) == (Refusal.RUNNING, STEPS[index])


def test_a_running_parallel_integration_refuses_a_rerun() -> None:
    running = cycle({"Export Azure": StepState.RUNNING, "Export eFeide": StepState.QUEUED}, upto=7)
    assert verdict_of(facts(running)) == (Refusal.RUNNING, "Export Azure")


@pytest.mark.parametrize("index", range(len(STEPS)))
def test_a_queued_step_not_overdue_refuses_a_rerun(index: int) -> None:
    given = waiting_at(index, late=-60, state=StepState.QUEUED)
    assert verdict_of(given) == (Refusal.QUEUED, STEPS[index])


def test_a_queued_parallel_integration_refuses_a_rerun_while_the_one_before_it_waits() -> None:
    # Export Azure waits its turn (not overdue) and Export eFeide is queued beside it.
    given = cycle({"Export eFeide": StepState.QUEUED}, upto=7)
    assert verdict_of(facts(given, now=at(7 * STEP_MINUTES))) == (Refusal.QUEUED, "Export eFeide")


@pytest.mark.parametrize("index", range(len(STEPS)))
def test_completed_steps_then_a_pending_one_not_overdue_is_a_cycle_in_progress(index: int) -> None:
    assert verdict_of(waiting_at(index, late=-60)) == (Refusal.IN_PROGRESS, STEPS[index])


def test_a_pending_step_is_in_progress_up_to_not_started_after_and_overdue_after_it() -> None:
    assert verdict_of(waiting_at(3, late=0)) == (Refusal.IN_PROGRESS, IMPORT_AD)
    assert judge(waiting_at(3, late=1)) == GO


def test_the_guard_uses_the_not_started_after_it_is_given() -> None:
    given = replace(waiting_at(3, late=-60), not_started_after=WAIT - 120)
    assert judge(given) == GO


OVERDUE_RERUN = [IMPORT_HR, IMPORT_HIERARCHY, IMPORT_AD, SYNCHRONIZATION, EXPORT_AD, "Export Azure"]


@pytest.mark.parametrize("state", [StepState.PENDING, StepState.QUEUED])
@pytest.mark.parametrize("step", OVERDUE_RERUN)
def test_a_step_overdue_to_start_where_the_guide_says_run_the_sync_script_allows_it(
    step: str, state: StepState
) -> None:
    assert judge(waiting_at(STEPS.index(step), late=60, state=state)) == GO


def test_the_first_step_is_overdue_counted_from_the_cycles_start() -> None:
    assert verdict_of(waiting_at(0, late=-1)) == (Refusal.IN_PROGRESS, IMPORT_HR)
    assert judge(waiting_at(0, late=1)) == GO


@pytest.mark.parametrize("state", [StepState.PENDING, StepState.QUEUED])
@pytest.mark.parametrize("step", [IMPORT_HR_FUTURE, IMPORT_AD_RESULTS])
def test_the_same_stall_where_the_guide_says_otherwise_is_refused_with_its_advice(
    step: str, state: StepState
) -> None:
    alert = AlertFact(4, step, Condition.NOT_STARTED)
    given = replace(waiting_at(STEPS.index(step), late=60, state=state), open_alerts=(alert,))
    verdict = judge(given)
    assert (verdict.refusal, verdict.step, verdict.alert) == (Refusal.STALLED, step, alert)


def test_export_ad_failed_with_the_steps_after_it_pending_allows_a_rerun() -> None:
    given = failed(EXPORT_AD)
    assert given.snapshot is not None and given.snapshot.step(IMPORT_AD_RESULTS) is not None
    assert given.snapshot.step(IMPORT_AD_RESULTS).state is StepState.PENDING  # type: ignore[union-attr]
    assert judge(given) == GO


@pytest.mark.parametrize("step", [s for s in STEPS if s != EXPORT_AD])
def test_any_other_failed_step_is_for_support_and_links_its_alert(step: str) -> None:
    alert = AlertFact(7, step, Condition.FAILED)
    verdict = judge(replace(failed(step), open_alerts=(alert,)))
    assert (verdict.refusal, verdict.step, verdict.alert) == (Refusal.FAILED, step, alert)


def test_a_failed_step_without_an_alert_yet_is_still_refused() -> None:
    verdict = judge(failed(IMPORT_HR))
    assert (verdict.refusal, verdict.alert) == (Refusal.FAILED, None)


@pytest.mark.parametrize(
    "given",
    [
        facts(cycle({SYNCHRONIZATION: StepState.STOPPED}, upto=4)),
        failed(SYNCHRONIZATION, THRESHOLD_MESSAGE),
    ],
    ids=["stopped", "failed on its threshold"],
)
def test_a_step_held_by_the_import_filter_is_refused_for_review_and_resume(
    given: RerunFacts,
) -> None:
    assert verdict_of(given) == (Refusal.THRESHOLD, SYNCHRONIZATION)


# -- the sync task's own row ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("snapshot", "refusal", "step"),
    [
        (task(), None, None),
        (task(last_ok=True, last_result=0), None, None),
        (task(last_ok=False, last_result=1), None, None),  # the guide's "run the sync script"
        (task(TaskState.RUNNING), Refusal.RUNNING, TASK_STEP),
        (task(TaskState.QUEUED), Refusal.QUEUED, TASK_STEP),  # waiting to start
        (task(TaskState.DISABLED), Refusal.DISABLED, TASK_STEP),
        (task(last_ok=False, last_result=0x80041315), Refusal.CANNOT_START, TASK_STEP),
        (task(last_ok=False, last_result=0x800710E0), Refusal.CANNOT_START, TASK_STEP),
    ],
    ids=[
        "ready",
        "succeeded",
        "failed",
        "running",
        "queued",
        "disabled",
        "0x80041315",
        "0x800710E0",
    ],
)
def test_the_sync_task(snapshot: Snapshot, refusal: Refusal | None, step: str | None) -> None:
    assert verdict_of(facts(snapshot)) == (refusal, step)


def test_the_task_beside_the_status_api_is_judged_with_the_cycle() -> None:
    info = TaskInfo("eAdm synkronisering", TaskState.READY, last_run_at=at(0))
    running = with_task(cycle({IMPORT_AD: StepState.RUNNING}, upto=3), info)
    assert verdict_of(facts(running)) == (Refusal.RUNNING, IMPORT_AD)
    assert judge(facts(with_task(cycle(), info))) == GO
    queued = replace(info, state=TaskState.QUEUED)
    assert verdict_of(facts(with_task(cycle(), queued))) == (Refusal.QUEUED, TASK_STEP)


# -- before and after the cycle ---------------------------------------------------------------


def test_no_runner_is_said_only_where_the_guard_would_let_a_rerun_through() -> None:
    assert verdict_of(facts(has_runner=False)) == (Refusal.NO_RUNNER, None)
    assert verdict_of(facts(task(), has_runner=False)) == (Refusal.NO_RUNNER, None)
    assert judge(replace(waiting_at(3, late=60), has_runner=False)).refusal is Refusal.NO_RUNNER
    # Anywhere else, the guard's own reason.
    refused = {
        "running": (facts(cycle({IMPORT_AD: StepState.RUNNING}, upto=3)), Refusal.RUNNING),
        "in progress": (waiting_at(3, late=-60), Refusal.IN_PROGRESS),
        "threshold": (failed(SYNCHRONIZATION, THRESHOLD_MESSAGE), Refusal.THRESHOLD),
        "failed": (failed(IMPORT_HR), Refusal.FAILED),
        "stalled": (waiting_at(STEPS.index(IMPORT_AD_RESULTS), late=60), Refusal.STALLED),
        "unreadable": (replace(facts(), snapshot=None), Refusal.UNREADABLE),
        "disabled": (facts(task(TaskState.DISABLED)), Refusal.DISABLED),
    }
    for case, (given, refusal) in refused.items():
        assert judge(replace(given, has_runner=False)).refusal is refusal, case


def test_a_click_on_a_resolved_alert_is_refused_before_anything_else() -> None:
    clicked = AlertFact(3, IMPORT_AD, Condition.NOT_STARTED, resolved=True)
    assert judge(replace(facts(), clicked=clicked, snapshot=None)).refusal is Refusal.RESOLVED


@pytest.mark.parametrize(
    ("step", "condition", "refusal"),
    [
        (IMPORT_HIERARCHY, Condition.NOT_STARTED, None),
        (IMPORT_HIERARCHY, Condition.FAILED, Refusal.ADVICE),  # changed since it was posted
        (None, Condition.NO_NEW_CYCLE, None),
        (EXPORT_AD, Condition.FAILED, None),
        (IMPORT_HR, Condition.FAILED, Refusal.ADVICE),
        (IMPORT_AD_RESULTS, Condition.NOT_STARTED, Refusal.ADVICE),
        (SYNCHRONIZATION, Condition.SAFETY_THRESHOLD, Refusal.ADVICE),
        (IMPORT_AD, Condition.STUCK, Refusal.ADVICE),
        (TASK_STEP, Condition.CANNOT_START, Refusal.ADVICE),
    ],
)
def test_a_click_is_judged_by_its_alert_as_it_reads_now(
    step: str | None, condition: Condition, refusal: Refusal | None
) -> None:
    clicked = AlertFact(3, step, condition)
    verdict = judge(facts(clicked=clicked))
    assert verdict.refusal is refusal
    if refusal is not None:
        assert verdict.alert == clicked


def test_the_first_reason_wins_in_a_fixed_order() -> None:
    everything = replace(
        facts(), snapshot=None, rerun_active=True, clicked=AlertFact(1, IMPORT_HR, Condition.FAILED)
    )
    assert judge(everything).refusal is Refusal.ADVICE
    assert judge(replace(everything, clicked=None)).refusal is Refusal.PENDING
    assert judge(replace(everything, clicked=None, rerun_active=False)).refusal is (
        Refusal.UNREADABLE
    )


def test_the_cool_down_ends() -> None:
    assert judge(facts(last_ran_at=at(60) - timedelta(seconds=899))).refusal is Refusal.COOLDOWN
    assert judge(facts(last_ran_at=at(60) - timedelta(seconds=900))) == GO


# -- where a rerun can go through at all --------------------------------------------------------

# Where the guide's advice is to run the sync script; every other step x condition is refused.
RERUN_ADVISED = {
    (EXPORT_AD, Condition.FAILED),
    (TASK_STEP, Condition.FAILED),
    *(
        (step, Condition.NOT_STARTED)
        for step in (*GUIDE_STEPS, None)
        if step not in (IMPORT_HR_FUTURE, IMPORT_AD_RESULTS)
    ),
    *((step, Condition.NO_NEW_CYCLE) for step in (*GUIDE_STEPS, None)),
}


@pytest.mark.parametrize("condition", list(Condition))
@pytest.mark.parametrize("step", [*GUIDE_STEPS, None])
def test_where_a_rerun_can_go_through_at_all(step: str | None, condition: Condition) -> None:
    assert can_allow_rerun(step, condition) is ((step, condition) in RERUN_ADVISED)


@pytest.mark.parametrize(
    ("step", "row"), [("Export Azure", OTHER_INTEGRATIONS), ("Eksport AD", EXPORT_AD)]
)
def test_a_step_is_judged_by_the_guide_row_that_advises_it(step: str, row: str) -> None:
    for condition in Condition:
        assert can_allow_rerun(step, condition) is can_allow_rerun(row, condition)
