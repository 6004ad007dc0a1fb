"""Detection, row by row of the troubleshooting guide: each step x each condition."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.detect import SourceHealth, detect, normal_durations
from bot.core.domain import IMPORT_AD, SYNCHRONIZATION, Condition, Snapshot, StepState
from bot.core.said import Said, Voice
from bot.core.thresholds import Thresholds
from tests.cycles import STEPS, T0, at, cycle, end_of, start_of

TH = Thresholds(
    not_started_after=900,
    stuck_after=3600,
    stuck_factor=3,
    cycle_due_after=7200,
    source_down_after=600,
)
HEALTH = SourceHealth(tenant="demo-kommune")


def run(snapshot: Snapshot | None, now, *, health=HEALTH, normal=None):
    return detect(snapshot, now=now, thresholds=TH, health=health, normal=normal)


def only(findings):
    assert len(findings) == 1, findings
    return findings[0]


@pytest.mark.parametrize("index,step", list(enumerate(STEPS)))
def test_failed_step_is_one_failed_finding(index: int, step: str) -> None:
    snapshot = cycle({step: StepState.FAILED}, upto=index, message="Object reference not set")
    finding = only(run(snapshot, at(60)))
    assert (finding.step, finding.condition) == (step, Condition.FAILED)
    assert finding.error == Said.quote(Voice.EADM, "Object reference not set")
    assert finding.since == snapshot.step(step).finished_at
    assert finding.key == f"demo-kommune|c1|{step}"


# How eAdm may word the import filter's stop, in English and Bokmål: a stop for review.
THRESHOLD_WORDINGS = [
    "Import filter: 14 % of users would be deleted (limit 10 %)",
    "ImportFilter stopped the synchronization",
    "import-filter limits exceeded",
    "Safety threshold exceeded",
    "Stopped with a safety threshold error",
    "Too many changes in import",
    "Too many deletions: 212 accounts would be removed",
    "Too many deleted users in the newest import",
    "Deletion limit exceeded (14 % > 10 %)",
    "Change threshold reached: 1 311 changes",
    "Limit for deletions exceeded",
    "Share of deleted users 14 % is above the configured limit",
    "Importfilteret stanset: for mange slettinger (12 %)",
    "Importfilter: synkroniseringen er stanset",
    "Stanset av sikkerhetsgrensen",
    "Sikkerhetsterskel overskredet",
    "For mange endringer i importen",
    "For mange slettede brukere",
    "Terskel for endringer overskredet",
    "Grensen for sletting er nådd",
    "Slettegrense overskredet: 14 %",
    "Andelen slettede brukere (14 %) er over grensen",
]

# Errors that name a threshold, a limit or safety without the import filter: for support.
FAILURE_WORDINGS = [
    "Timeout threshold exceeded while waiting for the HR system",
    "threshold exceeded",
    "Safety check failed: certificate expired",
    "Rate limit exceeded (429) from Microsoft Graph",
    "Memory limit exceeded in rule engine",
    "Too many requests",
    "SQL error: too many connections",
    "Deadlock in rule engine",
    "Tidsavbrudd: terskel overskredet",
    "Terskel for tidsavbrudd nådd",
    "Sikkerhetskopi mangler",
    "For mange forespørsler til HR-systemet",
    "Grensen for minne er nådd",
]


@pytest.mark.parametrize("message", [None, "Stopped", *THRESHOLD_WORDINGS])
def test_a_stopped_synchronization_is_a_threshold_stop(message: str | None) -> None:
    snapshot = cycle({SYNCHRONIZATION: StepState.STOPPED}, upto=4, message=message)
    finding = only(run(snapshot, at(60)))
    assert (finding.step, finding.condition) == (SYNCHRONIZATION, Condition.SAFETY_THRESHOLD)


@pytest.mark.parametrize("message", THRESHOLD_WORDINGS)
def test_a_failure_naming_the_import_filter_is_a_threshold_stop(message: str) -> None:
    snapshot = cycle({SYNCHRONIZATION: StepState.FAILED}, upto=4, message=message)
    finding = only(run(snapshot, at(60)))
    assert (finding.step, finding.condition) == (SYNCHRONIZATION, Condition.SAFETY_THRESHOLD)
    assert finding.error == Said.quote(Voice.EADM, message)


@pytest.mark.parametrize("message", FAILURE_WORDINGS)
def test_any_other_error_of_synchronization_stays_a_failure(message: str) -> None:
    snapshot = cycle({SYNCHRONIZATION: StepState.FAILED}, upto=4, message=message)
    assert only(run(snapshot, at(60))).condition is Condition.FAILED


def test_the_import_filter_named_by_another_failed_step_is_its_failure() -> None:
    # The guide places the threshold stop at Synchronization; elsewhere an error is an error.
    snapshot = cycle({"Export AD": StepState.FAILED}, upto=5, message="Too many changes")
    assert only(run(snapshot, at(60))).condition is Condition.FAILED


def test_several_stopped_steps_are_one_threshold_stop() -> None:
    # The import filter holds eAdm and every target system: the portal shows them all stopped.
    held = ("Synchronization", "Export AD", "Export Azure", "Export eFeide")
    snapshot = cycle(
        {name: StepState.STOPPED for name in held}, upto=4, message="Import filter: 14 %"
    )
    finding = only(run(snapshot, at(60)))
    assert (finding.step, finding.condition) == (SYNCHRONIZATION, Condition.SAFETY_THRESHOLD)
    assert finding.error == Said.quote(Voice.EADM, "Import filter: 14 %")
    assert finding.since == snapshot.step(SYNCHRONIZATION).finished_at


def test_stopped_targets_without_synchronization_are_one_stop_on_the_first() -> None:
    snapshot = cycle(
        {"Export Azure": StepState.STOPPED, "Export eFeide": StepState.STOPPED}, upto=7
    )
    finding = only(run(snapshot, at(60)))
    assert (finding.step, finding.condition) == ("Export Azure", Condition.SAFETY_THRESHOLD)


def test_a_threshold_stop_beside_a_failure_is_told_apart() -> None:
    snapshot = cycle(
        {
            SYNCHRONIZATION: StepState.STOPPED,
            "Export AD": StepState.STOPPED,
            "Export Azure": StepState.FAILED,
        },
        upto=4,
    )
    found = {(f.step, f.condition) for f in run(snapshot, at(60))}
    assert found == {
        (SYNCHRONIZATION, Condition.SAFETY_THRESHOLD),
        ("Export Azure", Condition.FAILED),
    }


@pytest.mark.parametrize("index,step", list(enumerate(STEPS)))
@pytest.mark.parametrize("waiting", [StepState.PENDING, StepState.QUEUED])
def test_step_that_does_not_start(index: int, step: str, waiting: StepState) -> None:
    snapshot = cycle({step: waiting}, upto=index)
    ready = T0 if index == 0 else end_of(snapshot, STEPS[index - 1])
    assert run(snapshot, ready + timedelta(seconds=899)) == []
    finding = only(run(snapshot, ready + timedelta(seconds=901)))
    assert (finding.step, finding.condition, finding.since) == (step, Condition.NOT_STARTED, ready)


@pytest.mark.parametrize("index,step", list(enumerate(STEPS)))
def test_step_that_never_completes(index: int, step: str) -> None:
    snapshot = cycle({step: StepState.RUNNING}, upto=index)
    began = start_of(snapshot, step)
    assert run(snapshot, began + timedelta(seconds=3599)) == []
    finding = only(run(snapshot, began + timedelta(seconds=3601)))
    assert (finding.step, finding.condition, finding.since) == (step, Condition.STUCK, began)


def test_stuck_waits_for_a_multiple_of_the_normal_duration() -> None:
    snapshot = cycle({"Import AD": StepState.RUNNING}, upto=3)
    began = start_of(snapshot, "Import AD")
    normal = {"Import AD": 2 * 3600}  # this installation's Import AD normally takes two hours
    assert run(snapshot, began + timedelta(hours=5), normal=normal) == []
    assert only(run(snapshot, began + timedelta(hours=6, seconds=1), normal=normal)).condition is (
        Condition.STUCK
    )


def test_normal_durations_are_medians_of_completed_runs() -> None:
    history = [cycle(cycle_id=f"c{i}") for i in range(5)]
    assert normal_durations(history) == {step: 180.0 for step in STEPS}


def test_no_new_cycle_after_all_steps_complete() -> None:
    snapshot = cycle()
    ended = snapshot.ended_at
    assert ended is not None
    assert run(snapshot, ended + timedelta(seconds=7199)) == []
    finding = only(run(snapshot, ended + timedelta(seconds=7201)))
    assert (finding.step, finding.condition, finding.since) == (None, Condition.NO_NEW_CYCLE, ended)


def test_source_unreachable_after_the_grace_period() -> None:
    since = T0
    health = SourceHealth(tenant="demo-kommune", failing_since=since, error="503")
    assert run(None, since + timedelta(seconds=599), health=health) == []
    finding = only(run(None, since + timedelta(seconds=600), health=health))
    assert (finding.condition, finding.error, finding.key) == (
        Condition.SOURCE_UNREACHABLE,
        Said.quote(Voice.BOT, "503"),
        "demo-kommune|source",
    )


def test_failed_poll_with_healthy_source_finds_nothing() -> None:
    assert run(None, at(10)) == []


def test_steps_after_a_failure_are_not_reported_as_not_started() -> None:
    snapshot = cycle({"Import AD": StepState.FAILED}, upto=3)
    assert only(run(snapshot, at(600))).step == "Import AD"


# -- properties -----------------------------------------------------------------------------

healthy_progress = st.integers(min_value=0, max_value=len(STEPS))


@given(done=healthy_progress, running=st.booleans(), minutes=st.floats(0, 14))
def test_a_healthy_cycle_never_alerts(done: int, running: bool, minutes: float) -> None:
    """A cycle that moves on in time never alerts, wherever it is."""
    states = {}
    if done < len(STEPS):
        states[STEPS[done]] = StepState.RUNNING if running else StepState.QUEUED
    snapshot = cycle(states, upto=done)
    last = max((t for r in snapshot.steps for t in (r.started_at, r.finished_at) if t), default=T0)
    assert run(snapshot, last + timedelta(minutes=minutes)) == []


@given(
    failed=st.integers(min_value=0, max_value=len(STEPS) - 1),
    message=st.one_of(st.none(), st.text(max_size=80)),
    hours=st.floats(0, 48),
)
def test_any_failed_step_yields_exactly_one_finding(
    failed: int, message: str | None, hours: float
) -> None:
    snapshot = cycle({STEPS[failed]: StepState.FAILED}, upto=failed, message=message)
    finding = only(run(snapshot, at(60) + timedelta(hours=hours)))
    assert finding.step == STEPS[failed]
    assert finding.condition in (Condition.FAILED, Condition.SAFETY_THRESHOLD)


def test_a_state_word_nobody_knows_is_said_in_the_bots_words_beside_eadms() -> None:
    steps = cycle({IMPORT_AD: StepState.FAILED}, upto=3, message="Kunne ikke lese AD")
    snapshot = replace(steps, problems=((IMPORT_AD, "'zzz'"),))
    finding = only(run(snapshot, at(60)))
    assert finding.error is not None
    assert [p.voice for p in finding.error.parts] == [Voice.BOT, Voice.EADM]
    assert "unknown state 'zzz'" in finding.error.text("en")
    assert "ukjent tilstand 'zzz'" in finding.error.text("nb")
    assert finding.error.quotes() == ("Kunne ikke lese AD",)
