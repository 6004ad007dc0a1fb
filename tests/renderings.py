"""Every surface a person can see, built with the project's own functions in one language: alerts
for every step and condition (with and without a runner, with and without eAdm's steps), tickets,
replies, digests, status, history, the App Home, the confirmation, what Event Viewer says,
maintenance windows and escalation, every refusal of the rerun guard, the source errors real
inputs raise, the runners' results and the log excerpt's notes. The outside text they quote is
named in `OUTSIDE`, or left out by `_without_events`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.adapters.log_folder import log_excerpt
from bot.adapters.registry import Adapters
from bot.adapters.runners import CommandRunner, RerunResult, SimulatorRunner, WebhookRunner
from bot.app.access import Access
from bot.app.context import Context
from bot.app.reruns import Reruns
from bot.core.domain import (
    GUIDE_STEPS,
    SYNCHRONIZATION,
    TASK_STEP,
    Condition,
    StepState,
    TaskInfo,
    TaskState,
    snapshot_to_dict,
)
from bot.core.errors import SourceError
from bot.core.event_report import EARLY, report_for
from bot.core.i18n import t
from bot.core.lifecycle import AlertState, Resolution
from bot.core.playbook import load_playbook
from bot.core.rerun_guard import AlertFact, Refusal, Verdict
from bot.core.said import Said, Voice, Words
from bot.core.settings import Tenant, load_settings
from bot.core.storm import Member, summarize
from bot.core.task_rules import failure_words, task_snapshot, with_task
from bot.slack.render import (
    AlertFacts,
    AlertLink,
    Came,
    CameAndWent,
    StatusFacts,
    WindowTold,
    events_file,
    render_alert,
    render_digest,
    render_escalation,
    render_events_reply,
    render_history,
    render_home,
    render_reply,
    render_status,
    render_ticket,
    rerun_button,
    ticket_again_question,
    title,
    window_began,
    window_summary,
)
from bot.sources.api import parse_cycle
from bot.sources.events import parse_events
from bot.sources.exporter import parse_metrics
from bot.sources.task import explain_exit, parse_output
from bot.store import Store
from tests.cycles import at, cycle

OSLO = ZoneInfo("Europe/Oslo")
PLAYBOOK = load_playbook()
RUNNER = 'schtasks /Run /TN "eAdm synkronisering"'
# Outside text: shown as it came, in whatever language it was written.
EADM_SAYS = "Object reference not set to an instance of an object"
LOG_LINE = "2026-11-24 22:14:07 ERROR Could not connect to the domain controller"
PRINTED = "ERROR: The system cannot find the file specified."
OUTSIDE = (EADM_SAYS, LOG_LINE, PRINTED)


# -- the renderings -------------------------------------------------------------------------------


def _task(state: TaskState = TaskState.READY, **fields: Any) -> TaskInfo:
    return TaskInfo("eAdm synkronisering", state, last_run_at=at(0), **fields)


def _error(step: str | None, condition: Condition) -> Said | None:
    """What each kind of alert carries, from the voices that say it."""
    if condition is Condition.SOURCE_UNREACHABLE:
        return Said.words(Voice.BOT, Words.of("source.api.not_json"))
    if step == TASK_STEP and condition in (Condition.FAILED, Condition.CANNOT_START):
        code = 0x80041315 if condition is Condition.CANNOT_START else 0xE0434352
        failed = replace(_task(), last_ok=False, last_result=code)
        log = Said.words(Voice.LOG, Words.of("log.newest")) + Said.quote(Voice.LOG, LOG_LINE)
        return Said.words(Voice.TASK_SCHEDULER, failure_words(failed)) + log
    if condition is Condition.DISABLED:
        return Said.words(Voice.TASK_SCHEDULER, Words.of("task.disabled", task="eAdm"))
    if condition is Condition.NO_NEW_CYCLE:
        return Said.words(Voice.TASK_SCHEDULER, Words.of("task.missed.many", task="eAdm", n=2))
    if condition in (Condition.FAILED, Condition.SAFETY_THRESHOLD):
        unknown = Said.words(Voice.BOT, Words.of("said.unknown_state", word="'zzz'"))
        return unknown + Said.quote(Voice.EADM, EADM_SAYS)
    return None


CYCLES = {
    "api": snapshot_to_dict(cycle({SYNCHRONIZATION: StepState.FAILED}, upto=4, message=EADM_SAYS)),
    "task": snapshot_to_dict(
        task_snapshot("demo", _task(TaskState.QUEUED, missed_since_run=2), at(0))
    ),
    "both": snapshot_to_dict(with_task(cycle(), _task(TaskState.DISABLED))),
}


def alert_facts(step: str | None, condition: Condition, **overrides: Any) -> AlertFacts:
    fields: dict[str, Any] = {
        "id": 7,
        "tenant": "demo-kommune",
        "step": step,
        "condition": condition,
        "error": _error(step, condition),
        "since": at(16),
        "state": AlertState.OPEN,
        "cycle": CYCLES["api"],
        "rerun_target": RUNNER,
    }
    fields.update(overrides)
    return AlertFacts(**fields)


def alerts(lang: str) -> Iterator[tuple[str, Any]]:
    for step in (*GUIDE_STEPS, "Export Azure", None):
        for condition in Condition:
            entry = PLAYBOOK.entry(step, condition)
            for seen in CYCLES:
                for runner in (RUNNER, None):
                    facts = alert_facts(step, condition, cycle=CYCLES[seen], rerun_target=runner)
                    message = render_alert(facts, entry, lang, tz=OSLO, now=at(30))
                    yield f"alert {step} x {condition.value} ({seen}, {runner})", message
    entry = PLAYBOOK.entry("Export AD", Condition.FAILED)
    for state, extra in (
        (AlertState.ACKNOWLEDGED, {"acked_by": "<@U1>", "acked_at": at(20)}),
        (AlertState.SNOOZED, {"snoozed_by": "<@U1>", "snoozed_until": at(90)}),
    ):
        facts = alert_facts("Export AD", Condition.FAILED, state=state, ticket_ref="42", **extra)
        yield f"alert {state.value}", render_alert(facts, entry, lang, tz=OSLO, now=at(30))
    for resolution in Resolution:
        facts = alert_facts(
            "Export AD",
            Condition.FAILED,
            state=AlertState.RESOLVED,
            resolved_at=at(40),
            resolution=resolution.value,
        )
        yield f"resolved {resolution.value}", render_alert(facts, entry, lang, tz=OSLO, now=at(50))


def tickets(lang: str) -> Iterator[tuple[str, Any]]:
    for step, condition in ((TASK_STEP, Condition.FAILED), ("Import AD", Condition.FAILED)):
        facts = alert_facts(step, condition, cycle=CYCLES["both"])
        ticket = render_ticket(
            facts, requester="Kari", requester_email=None, lang=lang, tz=OSLO, now=at(30)
        )
        yield f"ticket {step}", ticket
    yield "ticket again", ticket_again_question(7, "42", lang)


def replies(lang: str) -> Iterator[tuple[str, str]]:
    cases: list[tuple[str, dict[str, Any]]] = [
        ("reply.changed", {"previous": "not_started", "condition": "failed"}),
        ("reply.reminder", {}),
        ("reply.acknowledged", {"user": "U1"}),
        ("reply.snoozed", {"user": "U1", "until": at(90).isoformat()}),
        ("reply.ticket", {"user": "U1", "ref": "42", "url": ""}),
    ]
    cases += [("reply.resolved", {"resolution": r.value, "seconds": 300}) for r in Resolution]
    for key, params in cases:
        yield key, render_reply(key, params, lang, tz=OSLO, now=at(30))


def digests(lang: str) -> Iterator[tuple[str, Any]]:
    one = [Member(1, "voss", "Import AD", Condition.FAILED, AlertState.OPEN)]
    many = [
        Member(i, f"t{i}", "Import AD", Condition.FAILED, state)
        for i, state in enumerate((AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.SNOOZED))
    ] + [Member(9, "ulvik", None, Condition.NO_NEW_CYCLE, AlertState.RESOLVED)]
    green = [replace(m, state=AlertState.RESOLVED) for m in many]
    for name, members in (("one", one), ("many", many), ("green", green), ("green one", green[:1])):
        yield f"digest {name}", render_digest(summarize(members), lang)


EVENTS = Path(__file__).parent / "fixtures" / "events"


def event_views(lang: str) -> Iterator[tuple[str, Any]]:
    """What Event Viewer says, in the thread and in the ticket's file, for every recorded
    output; the events' own texts are Windows' words, quoted."""
    for fixture in sorted(EVENTS.glob("*.json")):
        found = report_for(parse_events(fixture.read_bytes()), since=at(0) - EARLY, now=at(30))
        for condition in (Condition.FAILED, Condition.STUCK):
            reply = render_events_reply(
                found, condition=condition, task_name="eAdm", lang=lang, tz=OSLO, now=at(30)
            )
            yield f"events {fixture.name} {condition.value}", _without_events(found, reply)
        attached = events_file(
            found, condition=Condition.FAILED, task_name="eAdm", lang=lang, tz=OSLO
        )
        yield f"events file {fixture.name}", _without_events(found, attached)


def _without_events(found: Any, text: str) -> str:
    """The rendering less the events' own words (messages, levels, providers), which are
    outside text in whatever language the server wrote them."""
    text = " ".join(text.split())
    said = {
        " ".join(line.split())
        for event in getattr(found, "events", ())
        for words in (event.message, event.level, event.provider, *event.data.values())
        for line in str(words).splitlines()
        if line.strip()
    }
    for words in sorted(said, key=len, reverse=True):  # a whole message before its parts
        text = text.replace(words, "")
    return text


def window_views(lang: str) -> Iterator[tuple[str, Any]]:
    """Maintenance windows and escalation: the notice when windows begin, the summary when
    they end (for one and for several tenants), the status lines, an escalation."""
    came = [
        CameAndWent(at(10), "Import AD", Condition.FAILED, Came.OPEN),
        CameAndWent(at(20), "Export AD", Condition.FAILED, Came.RESOLVED),
        CameAndWent(at(-30), SYNCHRONIZATION, Condition.STUCK, Came.CHANGED),
    ]
    one = [("bergen", at(240))]
    several = [("bergen", at(240)), ("voss", at(120))]
    for name, ends in (("one", one), ("several", several)):
        yield f"window began {name}", window_began(ends, lang, tz=OSLO, now=at(0))
    summaries = {
        "one": [WindowTold("bergen", at(0), at(240), came)],
        "one alert": [WindowTold("bergen", at(0), at(240), came[:1])],
        "none": [WindowTold("bergen", at(0), at(240), [])],
        "several": [
            WindowTold("alna", at(0), at(240), []),
            WindowTold("bergen", at(0), at(240), came),
            WindowTold("voss", at(0), at(240), came[:1]),
        ],
    }
    for name, told in summaries.items():
        yield f"window summary {name}", window_summary(told, lang, tz=OSLO, now=at(241))
    for name, fields in (
        ("window", {"window_until": at(240), "next_window": (at(10080), at(10320))}),
        ("planned", {"silenced_since": at(600), "silenced_until": at(660), "silenced_by": "U1"}),
    ):
        facts = StatusFacts("bergen", None, **fields)  # type: ignore[arg-type]
        yield f"status {name}", render_status(facts, lang, tz=OSLO, now=at(30))
    about = title(Condition.FAILED, "Import AD", lang) + " · bergen"
    params = {"to": "S0ONCALL", "seconds": 7200}
    yield (
        "escalated",
        render_reply("reply.escalated", params, lang, tz=OSLO, now=at(0), about=about),
    )
    yield (
        "escalation",
        render_escalation(
            params, lang, tz=OSLO, now=at(0), about=about, link="https://x.slack.com/a"
        ),
    )


def source_errors() -> list[SourceError]:
    """What real inputs raise, each source's way."""
    raised: list[SourceError] = []

    def catch(call: Any) -> None:
        try:
            call()
        except SourceError as exc:
            raised.append(exc)

    for data in (
        [],
        {"steps": []},
        {"cycle_id": "c", "steps": "x"},
        {"cycle_id": "c", "steps": [3]},
    ):
        catch(lambda data=data: parse_cycle(data, tenant="t", fetched_at=at(0)))
    catch(
        lambda: parse_cycle(
            {"cycle_id": "c", "started_at": "yesterday", "steps": []}, tenant="t", fetched_at=at(0)
        )
    )
    for out in (
        b"",
        b"Get-ScheduledTask: access denied",
        b"[]",
        b'{"TaskName": "x"}',
        b'{"State": "Sleeping", "LastRunTime": null}',
    ):
        catch(lambda out=out: parse_output(out, task_name="eAdm"))
    for text in (
        "not metrics {",
        "",
        'windows_scheduled_task_state{state="ready",task="/Other"} 1\n',
    ):
        catch(lambda text=text: parse_metrics(text, task_name="eAdm synkronisering"))
    raised.append(explain_exit(1, b"No MSFT_ScheduledTask objects found", "eAdm"))
    raised.append(explain_exit(5, b"", "eAdm"))
    raised.append(SourceError("source.task.output", problem=raised[5].words))
    return raised


async def refusals(lang: str, store: Store) -> list[tuple[str, Any]]:
    """Every refusal of the rerun guard, as `Reruns` tells it (with and without eAdm's steps)."""
    tenant = Tenant(name="t", eadm_url="http://127.0.0.1:9", channel="C1")
    settings = load_settings(require_slack=False, require_tenants=False)
    ctx = Context(settings, store, Adapters.resolve([tenant]), lambda: at(30))
    reruns = Reruns(ctx, Access(ctx, None, None), {}, PLAYBOOK)  # type: ignore[arg-type]
    told = []
    unreadable = source_errors()[0].words
    for refusal in Refusal:
        for step in (None, "Import AD", TASK_STEP, "Import HR Future", "Import AD Results"):
            alert = AlertFact(99, step, Condition.FAILED) if refusal is Refusal.ADVICE else None
            verdict = Verdict(refusal, step, alert)
            for sees in (True, False):
                answer = await reruns.refusal(verdict, tenant, lang, unreadable, sees)
                told.append((f"refusal {refusal.value} {step} {sees}", answer.text))
    return told


async def runner_results() -> list[RerunResult]:
    missing = CommandRunner(["no-such-program-eadm"], timeout=5)
    failing = CommandRunner([sys.executable, "-c", f"print({PRINTED!r}); raise SystemExit(1)"])
    quiet = CommandRunner([sys.executable, "-c", "raise SystemExit(3)"])
    slow = CommandRunner([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.3)
    down = "http://127.0.0.1:9/run"
    results = [
        await runner.run(tenant="t", requested_by="U1", alert_id=None)
        for runner in (missing, failing, quiet, slow, WebhookRunner(down), SimulatorRunner(down))
    ]
    results += [
        RerunResult.of(
            False, "runner.webhook_refused", status="401 Unauthorized", body="", hint=Words.of(hint)
        )
        for hint in ("runner.hint_log", "runner.hint_secret", "runner.hint_url")
    ]
    return results


def log_notes(tmp: Path) -> list[Words]:
    folder = tmp / "logg"
    folder.mkdir(parents=True)
    (folder / "eadm.log").write_text(f"2026-11-24 22:10:00 INFO start\n{LOG_LINE}\n", "utf-8")
    (folder / "quiet.log").write_text("2026-11-24 22:10:00 INFO all is well\n", "utf-8")
    notes = []
    for around in (at(74), at(74) + timedelta(days=3), None):
        excerpt = log_excerpt(folder, around, tz=OSLO)
        assert excerpt is not None
        notes.append(excerpt.note)
    (folder / "eadm.log").unlink()
    quiet = log_excerpt(folder, None, tz=OSLO)
    assert quiet is not None
    return [*notes, quiet.note]


def status_views(lang: str) -> Iterator[tuple[str, Any]]:
    links = tuple(
        AlertLink(step, condition, "https://x.slack.com/a", state)
        for step, condition, state in (
            ("Import AD", Condition.FAILED, AlertState.OPEN),
            (TASK_STEP, Condition.CANNOT_START, AlertState.ACKNOWLEDGED),
            (None, Condition.NO_NEW_CYCLE, AlertState.SNOOZED),
        )
    )
    snapshots = [
        task_snapshot("demo", _task(state), at(0))
        for state in (TaskState.QUEUED, TaskState.RUNNING, TaskState.DISABLED)
    ]
    snapshots += [
        cycle({SYNCHRONIZATION: StepState.STOPPED}, upto=4),
        cycle({"Import AD": StepState.RUNNING}, upto=3),
        cycle(),
    ]
    for error in source_errors():
        facts = StatusFacts(
            tenant="demo",
            snapshot=snapshots[0],
            alerts=links,
            source_error=Said.words(Voice.BOT, error.words),
            failing_since=at(10),
            silenced_until=at(90),
            silenced_by="U1",
            silence_reason="oppgradering",
        )
        yield f"status {error.words.key}", render_status(facts, lang, tz=OSLO, now=at(30))
    for snap in snapshots:
        facts = StatusFacts(tenant="demo", snapshot=snap, last_success=at(5))
        yield f"status {snap.cycle_id}", render_status(facts, lang, tz=OSLO, now=at(30))
    yield "history", render_history("demo", snapshots, lang, tz=OSLO, now=at(30))
    yield "history one", render_history("demo", snapshots[:1], lang, tz=OSLO, now=at(30))
    yield "history none", render_history("demo", [], lang, tz=OSLO, now=at(30))
    home = [(StatusFacts(tenant="demo", snapshot=s), snapshots) for s in snapshots[:2]]
    yield "home", render_home(home, lang, tz=OSLO, now=at(30))
    for sees in (True, False):
        yield f"confirm {sees}", rerun_button("a", "1", RUNNER, lang, sees_steps=sees).to_dict()


async def every_rendering(lang: str, store: Store, tmp: Path) -> list[tuple[str, Any]]:
    shown: list[tuple[str, Any]] = []
    surfaces = (alerts, tickets, replies, digests, status_views, event_views, window_views)
    for surface in surfaces:
        shown += list(surface(lang))
    shown += await refusals(lang, store)
    shown += [(f"source {e.words.key}", e.words.text(lang)) for e in source_errors()]
    for result in await runner_results():
        shown.append(
            (
                f"runner {result.words.key}",
                t(lang, "rerun.failed", user="U1", detail=result.words.text(lang)),
            )
        )
    shown += [(f"log {note.key}", note.text(lang)) for note in log_notes(tmp)]
    return shown
