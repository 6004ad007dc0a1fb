"""The sync task's rules, row by row: result codes, the task's row, and each condition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.detect import SourceHealth, detect, normal_durations
from bot.core.domain import (
    TASK_STEP,
    Condition,
    Snapshot,
    StepState,
    TaskInfo,
    TaskState,
    snapshot_from_dict,
    snapshot_to_dict,
)
from bot.core.said import Voice
from bot.core.task_rules import describe_result, is_failure, task_row, task_snapshot, with_task
from bot.core.thresholds import Thresholds
from tests.cycles import at, cycle

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
TH = Thresholds(stuck_after=3600, stuck_factor=3, cycle_due_after=7200)


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def task(**kw: object) -> TaskInfo:
    values: dict[str, object] = {
        "name": "eAdm synkronisering",
        "state": TaskState.READY,
        "last_run_at": ago(30),
        "next_run_at": NOW + timedelta(minutes=30),
        "last_result": 0,
        "last_ok": True,
        "missed_runs": 0,
        "watched_since": ago(600),
    }
    values.update(kw)
    return TaskInfo(**values)  # type: ignore[arg-type]


def findings(info: TaskInfo, normal: dict[str, float] | None = None) -> list[tuple]:
    snapshot = task_snapshot("t", info, NOW)
    found = detect(snapshot, now=NOW, thresholds=TH, health=SourceHealth("t"), normal=normal)
    return [(f.step, f.condition) for f in found]


@pytest.mark.parametrize(
    "code,failure,words",
    [
        (0x0, False, "success"),
        (0x41300, False, "ready"),
        (0x41301, False, "running"),
        (0x41303, False, "has not run"),
        (0x41325, False, "queued"),
        (0x41306, True, "stopped"),
        (0x8004131F, True, "already running"),
        (0x80041315, True, "Task Scheduler service"),
        (0x800710E0, True, "refused"),
        (0xE0434352, True, ".NET Runtime"),
        (0xC0000005, True, "crashed"),
        (0xC000013A, True, "Ctrl+C"),
        (0x2, True, "file was not found"),
        (0x1, True, "own exit code"),
        (-1066598274, True, "own exit code"),  # a signed reading of 0xC06D007E
    ],
)
def test_result_codes(code: int, failure: bool, words: str) -> None:
    assert is_failure(code) is failure
    text = describe_result(code)
    assert words in text
    value = code & 0xFFFFFFFF
    assert text.startswith(f"0x{value:X} ({value})")


@pytest.mark.parametrize(
    "info,expected",
    [
        (task(), []),
        (task(last_ok=None, last_run_at=None, last_result=0x41303, watched_since=ago(30)), []),
        (task(state=TaskState.RUNNING, last_run_at=ago(20), last_result=0x41301), []),
        (
            task(state=TaskState.RUNNING, last_run_at=ago(61), last_result=0x41301),
            [(TASK_STEP, Condition.STUCK)],
        ),
        (task(last_result=0x41306, last_ok=False), [(TASK_STEP, Condition.FAILED)]),
        (task(last_result=0xE0434352, last_ok=False), [(TASK_STEP, Condition.FAILED)]),
        # Task Scheduler's service not running, or Windows refusing: a new start cannot help.
        (task(last_result=0x80041315, last_ok=False), [(TASK_STEP, Condition.CANNOT_START)]),
        (task(last_result=0x800710E0, last_ok=False), [(TASK_STEP, Condition.CANNOT_START)]),
        (task(last_result=-2147020576, last_ok=False), [(TASK_STEP, Condition.CANNOT_START)]),
        (task(last_run_at=ago(121)), [(None, Condition.NO_NEW_CYCLE)]),
        (task(missed_runs=3, missed_since_run=1), [(None, Condition.NO_NEW_CYCLE)]),
        (task(state=TaskState.DISABLED), [(TASK_STEP, Condition.DISABLED)]),
        # Disabled wins over a failed last run and an old one: enabling it comes first.
        (
            task(state=TaskState.DISABLED, last_ok=False, last_run_at=ago(500)),
            [(TASK_STEP, Condition.DISABLED)],
        ),
        # A failed run is reported as failed, not as a missing cycle.
        (task(last_ok=False, last_result=1, last_run_at=ago(500)), [(TASK_STEP, Condition.FAILED)]),
        (task(state=TaskState.QUEUED), []),
        # Never ran while watched for longer than a cycle is due.
        (
            task(last_run_at=None, last_ok=None, watched_since=ago(121)),
            [(None, Condition.NO_NEW_CYCLE)],
        ),
    ],
)
def test_task_conditions(info: TaskInfo, expected: list[tuple]) -> None:
    assert findings(info) == expected


def test_running_too_long_learns_the_normal_run_time() -> None:
    running = task(state=TaskState.RUNNING, last_run_at=ago(90), last_result=0x41301)
    assert findings(running) == [(TASK_STEP, Condition.STUCK)]
    # Normally 40 minutes: 3 x 40 = 120 minutes before it is too long.
    history = [
        task_snapshot("t", task(last_run_at=ago(m + 40), finished_at=ago(m)), NOW)
        for m in (60, 120, 180)
    ]
    normal = normal_durations(history)
    assert normal[TASK_STEP] == pytest.approx(2400)
    assert findings(running, normal) == []


def test_failed_text_gives_the_code_and_its_meaning() -> None:
    snapshot = task_snapshot("t", task(last_result=0xE0434352, last_ok=False), NOW)
    (finding,) = detect(snapshot, now=NOW, thresholds=TH, health=SourceHealth("t"))
    assert finding.error is not None and finding.error.parts[0].voice is Voice.TASK_SCHEDULER
    assert "0xE0434352 (3762504530)" in finding.error.english
    assert "eAdm synkronisering" in finding.error.english


@pytest.mark.parametrize(
    "info,state",
    [
        (task(), StepState.COMPLETED),
        (task(state=TaskState.RUNNING), StepState.RUNNING),
        (task(state=TaskState.QUEUED), StepState.QUEUED),
        (task(state=TaskState.DISABLED), StepState.PENDING),
        (task(last_ok=False, last_result=1), StepState.FAILED),
        (task(last_run_at=None, last_ok=None), StepState.PENDING),
    ],
)
def test_task_row(info: TaskInfo, state: StepState) -> None:
    assert task_row(info).state is state


def test_combined_no_new_cycle_alerts_once() -> None:
    api = cycle(cycle_id="c1", start=NOW - timedelta(hours=5))
    combined = with_task(api, task(last_run_at=ago(300)))
    found = detect(combined, now=NOW, thresholds=TH, health=SourceHealth("demo-kommune"))
    assert [(f.step, f.condition) for f in found] == [(None, Condition.NO_NEW_CYCLE)]
    assert combined.steps[-1].name == TASK_STEP
    assert len(combined.steps) == len(api.steps) + 1


def test_combined_keeps_both_kinds_of_trouble() -> None:
    api = cycle({"Import AD": StepState.FAILED}, upto=3, start=at(0), message="LDAP down")
    combined = with_task(api, task(state=TaskState.DISABLED))
    found = detect(combined, now=at(10), thresholds=TH, health=SourceHealth("demo-kommune"))
    assert sorted((f.step, f.condition) for f in found) == [
        ("Import AD", Condition.FAILED),
        (TASK_STEP, Condition.DISABLED),
    ]


def test_snapshot_with_task_survives_the_store_round_trip() -> None:
    snapshot = task_snapshot("t", task(missed_runs=2, missed_since_run=1, finished_at=ago(25)), NOW)
    assert snapshot_from_dict(snapshot_to_dict(snapshot)) == snapshot


def test_plain_snapshots_still_read_without_a_task() -> None:
    data = snapshot_to_dict(cycle())
    del data["task"]
    assert snapshot_from_dict(data).task is None
    assert isinstance(snapshot_from_dict(data), Snapshot)


# -- the rerun guard and the task: run it again only while it is not running -----------------


@pytest.mark.parametrize(
    "info,refusal",
    [
        (task(last_result=0xE0434352, last_ok=False), None),
        (task(state=TaskState.RUNNING, last_result=0x41301), "refused_running"),
        (task(state=TaskState.QUEUED), "refused_queued"),
        (task(last_run_at=ago(300)), None),
    ],
)
def test_the_guard_reruns_a_failed_task_but_never_a_running_one(
    info: TaskInfo, refusal: str | None
) -> None:
    from bot.core.rerun_guard import AlertFact, Refusal, RerunFacts, Verdict, judge

    facts = RerunFacts(
        has_runner=True, snapshot=task_snapshot("t", info, NOW), now=NOW, cooldown_s=0
    )
    verdict = judge(facts)
    assert (verdict.refusal.value if verdict.refusal else None) == refusal
    # A click on the disabled or not-completing task's alert never reruns it: the guide's
    # advice for those is not a rerun, whatever the task shows now.
    for condition in (Condition.DISABLED, Condition.STUCK):
        alert = AlertFact(1, TASK_STEP, condition)
        clicked = RerunFacts(
            has_runner=True,
            snapshot=task_snapshot("t", task(), NOW),
            now=NOW,
            cooldown_s=0,
            clicked=alert,
        )
        assert judge(clicked) == Verdict(Refusal.ADVICE, TASK_STEP, alert)


# -- the task's row in /eadm status and the App Home ----------------------------------------


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_status_and_home_show_the_task_row(lang: str) -> None:
    import json as _json
    from zoneinfo import ZoneInfo

    from bot.slack.render import StatusFacts, render_home, render_status

    oslo = ZoneInfo("Europe/Oslo")
    combined = with_task(
        cycle(cycle_id="c1", start=NOW - timedelta(minutes=30)),
        task(last_result=0x41306, last_ok=False, missed_runs=2, missed_since_run=1),
    )
    facts = StatusFacts(tenant="voss", snapshot=combined, last_success=NOW)
    status = _json.dumps(render_status(facts, lang, tz=oslo, now=NOW).blocks, ensure_ascii=False)
    home = _json.dumps(
        render_home([(facts, [combined])], lang, tz=oslo, now=NOW), ensure_ascii=False
    )
    name = "Sync task" if lang == "en" else "Synkroniseringsoppgaven"
    for text in (status, home):
        assert f"*{name}*" in text
        assert "*Import HR*" in text or "*Importer HR*" in text
        assert "0x41306" in text
        # last run 08:30 Oslo time, next run 09:30
        assert "08:30" in text and "09:30" in text
