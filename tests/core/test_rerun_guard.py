"""The rerun guard's rules, table by table: what the vendor warns against and what the guide
advises, decided from plain facts with the packaged playbook."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.domain import (
    CORE_STEPS,
    EXPORT_AD,
    IMPORT_AD,
    IMPORT_AD_RESULTS,
    IMPORT_HIERARCHY,
    IMPORT_HR,
    IMPORT_HR_FUTURE,
    SYNCHRONIZATION,
    TASK_STEP,
    Condition,
    StepState,
    TaskInfo,
    TaskState,
)
from bot.core.playbook import load_playbook
from bot.core.rerun_guard import GO, AlertFact, Refusal, RerunFacts, judge
from bot.core.task_rules import task_snapshot
from bot.sim.eadm import THRESHOLD_MESSAGE
from tests.cycles import at, cycle

PLAYBOOK = load_playbook()


def advised(step: str | None, condition: Condition) -> bool:
    return "rerun" in PLAYBOOK.entry(step, condition).actions


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
    verdict = judge(given, advised)
    assert (verdict.refusal, verdict.step) == (refusal, step)
    assert verdict.go is (refusal is None)


@pytest.mark.parametrize(
    "step",
    [IMPORT_HR, IMPORT_HR_FUTURE, IMPORT_HIERARCHY, IMPORT_AD, SYNCHRONIZATION, IMPORT_AD_RESULTS],
)
def test_every_failed_step_but_export_ad_is_for_support_and_links_its_alert(step: str) -> None:
    alert = AlertFact(7, step, Condition.FAILED)
    verdict = judge(replace(failed(step), open_alerts=(alert,)), advised)
    assert (verdict.refusal, verdict.step, verdict.alert) == (Refusal.FAILED, step, alert)


def test_a_failed_step_without_an_alert_yet_is_still_refused() -> None:
    verdict = judge(failed(IMPORT_HR), advised)
    assert (verdict.refusal, verdict.alert) == (Refusal.FAILED, None)


def test_a_queued_step_is_not_excused_by_another_steps_alert() -> None:
    given = facts(
        snapshot=cycle({IMPORT_AD: StepState.QUEUED}, upto=3),
        open_alerts=(AlertFact(1, IMPORT_HIERARCHY, Condition.NOT_STARTED),),
    )
    assert judge(given, advised).refusal is Refusal.QUEUED


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
    verdict = judge(facts(clicked=clicked), advised)
    assert verdict.refusal is refusal
    if refusal is not None:
        assert verdict.alert == clicked


def test_a_resolved_alert_is_refused_before_anything_else() -> None:
    clicked = AlertFact(3, IMPORT_AD, Condition.NOT_STARTED, resolved=True)
    assert judge(facts(clicked=clicked, snapshot=None), advised).refusal is Refusal.RESOLVED


def test_the_first_reason_wins_in_a_fixed_order() -> None:
    everything = facts(
        snapshot=None, rerun_active=True, clicked=AlertFact(1, IMPORT_HR, Condition.FAILED)
    )
    assert judge(everything, advised).refusal is Refusal.ADVICE
    assert judge(replace(everything, clicked=None), advised).refusal is Refusal.PENDING
    assert judge(replace(everything, clicked=None, rerun_active=False), advised).refusal is (
        Refusal.UNREADABLE
    )


def test_the_cool_down_ends() -> None:
    assert judge(facts(last_ran_at=at(60) - timedelta(seconds=899)), advised).refusal is (
        Refusal.COOLDOWN
    )
    assert judge(facts(last_ran_at=at(60) - timedelta(seconds=900)), advised) == GO
