"""The rerun guard's rules, table by table: what the vendor warns against and what the guide
advises, decided from plain facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.domain import (
    CORE_STEPS,
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
    StepState,
    TaskInfo,
    TaskState,
)
from bot.core.rerun_guard import GO, AlertFact, Refusal, RerunFacts, can_allow_rerun, judge
from bot.core.task_rules import task_snapshot
from bot.sim.eadm import THRESHOLD_MESSAGE
from tests.cycles import at, cycle


def facts(**overrides: object) -> RerunFacts:
    base = RerunFacts(has_runner=True, snapshot=cycle(), now=at(60), cooldown_s=900)
    return replace(base, **overrides)  # type: ignore[arg-type]


def failed(step: str, message: str = "boom") -> RerunFacts:
    index = [*CORE_STEPS, "Export Azure", "Export eFeide"].index(step)
    return facts(snapshot=cycle({step: StepState.FAILED}, upto=index, message=message))


@pytest.mark.parametrize(
    ("case", "refusal", "step"),
    [
        ("all completed", None, None),
        ("no runner", Refusal.NO_RUNNER, None),
        ("unreadable", Refusal.UNREADABLE, None),
        ("the sync task disabled", Refusal.DISABLED, TASK_STEP),
        ("the sync task ready", None, None),
        ("running", Refusal.RUNNING, IMPORT_AD),
        ("queued as a cycle begins", Refusal.QUEUED, IMPORT_HR),
        ("queued and reported not started", None, None),
        ("held by the import filter", Refusal.THRESHOLD, SYNCHRONIZATION),
        ("Synchronization failed on its threshold", Refusal.THRESHOLD, SYNCHRONIZATION),
        ("Export AD failed", None, None),
        ("Export Azure failed", Refusal.FAILED, "Export Azure"),
        ("a rerun under way", Refusal.PENDING, None),
        ("started ten minutes ago", Refusal.COOLDOWN, None),
        ("started twenty minutes ago", None, None),
    ],
)
def test_the_guard(case: str, refusal: Refusal | None, step: str | None) -> None:
    given = {
        "all completed": facts(),
        "no runner": facts(has_runner=False),
        "unreadable": facts(snapshot=None),
        "the sync task disabled": facts(
            snapshot=task_snapshot("t", TaskInfo("eAdm synkronisering", TaskState.DISABLED), at(0))
        ),
        "the sync task ready": facts(
            snapshot=task_snapshot("t", TaskInfo("eAdm synkronisering", TaskState.READY), at(0))
        ),
        "running": facts(snapshot=cycle({IMPORT_AD: StepState.RUNNING}, upto=3)),
        "queued as a cycle begins": facts(snapshot=cycle({IMPORT_HR: StepState.QUEUED}, upto=0)),
        "queued and reported not started": facts(
            snapshot=cycle({IMPORT_AD: StepState.QUEUED}, upto=3),
            open_alerts=(AlertFact(1, IMPORT_AD, Condition.NOT_STARTED),),
        ),
        "held by the import filter": facts(
            snapshot=cycle({SYNCHRONIZATION: StepState.STOPPED}, upto=4)
        ),
        "Synchronization failed on its threshold": failed(SYNCHRONIZATION, THRESHOLD_MESSAGE),
        "Export AD failed": failed(EXPORT_AD),
        "Export Azure failed": failed("Export Azure"),
        "a rerun under way": facts(rerun_active=True),
        "started ten minutes ago": facts(last_ran_at=at(50)),
        "started twenty minutes ago": facts(last_ran_at=at(40)),
    }[case]
    verdict = judge(given)
    assert (verdict.refusal, verdict.step) == (refusal, step)


@pytest.mark.parametrize(
    "step",
    [IMPORT_HR, IMPORT_HR_FUTURE, IMPORT_HIERARCHY, IMPORT_AD, SYNCHRONIZATION, IMPORT_AD_RESULTS],
)
def test_every_failed_step_but_export_ad_is_for_support_and_links_its_alert(step: str) -> None:
    alert = AlertFact(7, step, Condition.FAILED)
    verdict = judge(replace(failed(step), open_alerts=(alert,)))
    assert (verdict.refusal, verdict.step, verdict.alert) == (Refusal.FAILED, step, alert)


def test_a_failed_step_without_an_alert_yet_is_still_refused() -> None:
    verdict = judge(failed(IMPORT_HR))
    assert (verdict.refusal, verdict.alert) == (Refusal.FAILED, None)


def test_a_queued_step_is_not_excused_by_another_steps_alert() -> None:
    given = facts(
        snapshot=cycle({IMPORT_AD: StepState.QUEUED}, upto=3),
        open_alerts=(AlertFact(1, IMPORT_HIERARCHY, Condition.NOT_STARTED),),
    )
    assert judge(given).refusal is Refusal.QUEUED


@pytest.mark.parametrize(
    ("step", "condition", "refusal"),
    [
        (IMPORT_HIERARCHY, Condition.NOT_STARTED, None),
        (IMPORT_HIERARCHY, Condition.FAILED, Refusal.ADVICE),  # changed since it was posted
        (None, Condition.NO_NEW_CYCLE, None),
        (EXPORT_AD, Condition.FAILED, None),
        (IMPORT_HR, Condition.FAILED, Refusal.ADVICE),
        (SYNCHRONIZATION, Condition.SAFETY_THRESHOLD, Refusal.ADVICE),
        (IMPORT_AD, Condition.STUCK, Refusal.ADVICE),
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


def test_a_resolved_alert_is_refused_before_anything_else() -> None:
    clicked = AlertFact(3, IMPORT_AD, Condition.NOT_STARTED, resolved=True)
    assert judge(facts(clicked=clicked, snapshot=None)).refusal is Refusal.RESOLVED


def test_the_first_reason_wins_in_a_fixed_order() -> None:
    everything = facts(
        snapshot=None, rerun_active=True, clicked=AlertFact(1, IMPORT_HR, Condition.FAILED)
    )
    assert judge(everything).refusal is Refusal.ADVICE
    assert judge(replace(everything, clicked=None)).refusal is Refusal.PENDING
    assert judge(replace(everything, clicked=None, rerun_active=False)).refusal is (
        Refusal.UNREADABLE
    )


def test_the_cool_down_ends() -> None:
    assert judge(facts(last_ran_at=at(60) - timedelta(seconds=899))).refusal is (Refusal.COOLDOWN)
    assert judge(facts(last_ran_at=at(60) - timedelta(seconds=900))) == GO


# Where the guide's advice is to run the sync script; every other step x condition is refused.
RERUN_ADVISED = {
    (EXPORT_AD, Condition.FAILED),
    (TASK_STEP, Condition.FAILED),
    *((step, Condition.NOT_STARTED) for step in (*GUIDE_STEPS, None) if step != IMPORT_HR_FUTURE),
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
