"""Rendering is pure: alert and cycle in, Block Kit out, within Slack's limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block

from bot.core.domain import (
    EXPORT_AD,
    GUIDE_STEPS,
    SYNCHRONIZATION,
    Condition,
    StepState,
    snapshot_to_dict,
)
from bot.core.i18n import LANGUAGES, t
from bot.core.playbook import load_playbook
from bot.slack import ids
from bot.slack.render import (
    AlertFacts,
    AlertLink,
    StatusFacts,
    cycle_lines,
    fmt_duration,
    fmt_time,
    history_lines,
    mention_markup,
    outcome,
    portal_line,
    render_alert,
    render_history,
    render_home,
    render_reply,
    render_status,
    truncate,
)
from tests.cycles import T0, at, cycle

OSLO = ZoneInfo("Europe/Oslo")
PLAYBOOK = load_playbook()


def facts(**overrides: Any) -> AlertFacts:
    snap = cycle({EXPORT_AD: StepState.FAILED}, upto=5, message="Client did not answer")
    base: dict[str, Any] = {
        "id": 7,
        "tenant": "demo-kommune",
        "step": EXPORT_AD,
        "condition": Condition.FAILED,
        "error": "Client did not answer",
        "since": at(16),
        "state": "open",
        "cycle": snapshot_to_dict(snap),
        "rerun_target": 'schtasks /Run /TN "eAdm synkronisering"',
    }
    base.update(overrides)
    return AlertFacts(**base)


def render(
    lang: str = "en",
    *,
    portal_url: str | None = "https://p.no",
    portal_pages: dict[str, str] | None = None,
    mention: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    alert = facts(**overrides)
    entry = PLAYBOOK.entry(alert.step, alert.condition)
    message = render_alert(
        alert,
        entry,
        lang,
        tz=OSLO,
        now=at(30),
        portal_url=portal_url,
        portal_pages=portal_pages,
        mention=mention,
    )
    return {"text": message.text, "blocks": message.blocks}


def actions(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_the_alert_reads_like_the_cycle_view() -> None:
    msg = render()
    blocks = msg["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "Export AD failed · demo-kommune"
    body = str(blocks)
    assert "Client did not answer" in body
    assert ":white_check_mark: *Import HR*" in body and ":x: *Export AD*" in body
    assert (
        "In the eAdm portal at <https://p.no|p.no>: Synchronization > Synchronization Status"
        in (body)
    )
    assert msg["text"].startswith(":x: Export AD failed (demo-kommune)")
    for block in blocks:
        Block.parse(block).validate_json()  # slack_sdk checks Slack's own limits


def test_every_value_carries_the_alert_id_only() -> None:
    elements = actions(render()["blocks"])
    assert {e["action_id"] for e in elements} == {
        ids.ACTION_RERUN,
        ids.ACTION_TICKET,
        ids.ACTION_ACK,
        ids.ACTION_SNOOZE,
    }
    for element in elements:
        if element["type"] == "button":
            assert element["value"] == "7"
        else:
            assert [o["value"] for o in element["options"]] == ["7:1h", "7:4h", "7:tomorrow"]


def test_rerun_asks_slacks_confirmation_naming_the_task() -> None:
    (rerun,) = [e for e in actions(render()["blocks"]) if e["action_id"] == ids.ACTION_RERUN]
    assert "eAdm synkronisering" in rerun["confirm"]["text"]["text"]


def test_no_rerun_button_without_a_runner() -> None:
    ids_ = {e["action_id"] for e in actions(render(rerun_target=None)["blocks"])}
    assert ids.ACTION_RERUN not in ids_ and ids.ACTION_TICKET in ids_


def test_the_safety_threshold_never_offers_a_rerun() -> None:
    msg = render(step=SYNCHRONIZATION, condition=Condition.SAFETY_THRESHOLD)
    assert ids.ACTION_RERUN not in {e["action_id"] for e in actions(msg["blocks"])}
    assert "Import History" in str(msg["blocks"])


def test_a_long_error_is_cut_with_a_note_and_stays_within_limits() -> None:
    msg = render(error="x" * 10_000)
    body = str(msg["blocks"])
    assert "more characters cut]" in body
    for block in msg["blocks"]:
        Block.parse(block).validate_json()
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    assert len(msg["text"]) <= 3000


def test_acknowledged_and_ticketed_alert_says_who_and_drops_the_ack_button() -> None:
    msg = render(
        state="acknowledged",
        acked_by="<@U1>",
        acked_at=at(20),
        ticket_ref="#35436",
        ticket_url="https://h.zendesk.com/agent/tickets/35436",
    )
    body = str(msg["blocks"])
    assert "<@U1>" in body and "<https://h.zendesk.com/agent/tickets/35436|#35436>" in body
    assert ids.ACTION_ACK not in {e["action_id"] for e in actions(msg["blocks"])}


def test_a_resolved_alert_keeps_the_facts_and_loses_the_buttons() -> None:
    msg = render(state="resolved", resolved_at=at(40), resolution="recovered")
    assert msg["blocks"][0]["text"]["text"].startswith("Resolved: ")
    assert actions(msg["blocks"]) == []
    assert "24 min" in str(msg["blocks"])


def test_norwegian() -> None:
    msg = render("nb")
    assert msg["blocks"][0]["text"]["text"] == "Export AD feilet · demo-kommune"
    assert "Kvitter" in str(msg["blocks"])


@pytest.mark.parametrize(
    ("seconds", "en", "nb"),
    [
        (42, "42 s", "42 s"),
        (60 * 7, "7 min", "7 min"),
        (3600 * 2 + 60 * 5, "2 h 5 min", "2 t 5 min"),
        (3600 * 50, "2 d 2 h", "2 d 2 t"),
    ],
)
def test_durations(seconds: float, en: str, nb: str) -> None:
    assert fmt_duration(seconds, "en") == en
    assert fmt_duration(seconds, "nb") == nb


def test_times_are_local_and_dated_when_not_today() -> None:
    assert fmt_time(T0, OSLO, T0 + timedelta(minutes=5)) == "22:00"
    assert fmt_time(T0, OSLO, T0 + timedelta(days=1)) == "24.11 22:00"


def test_cycle_lines_icons_and_durations() -> None:
    snap = cycle({SYNCHRONIZATION: StepState.RUNNING}, upto=4)
    lines = cycle_lines(snap, "en", OSLO, at(14))
    assert lines[0] == ":white_check_mark: *Import HR* completed from 22:00 (3 min)"
    assert lines[4].startswith(":arrows_counterclockwise: *Synchronization*")
    assert "(2 min)" in lines[4]
    assert lines[5] == ":white_circle: *Export AD* not started"


def test_truncate_keeps_short_text() -> None:
    assert truncate("short", 100, "en") == "short"


def test_replies() -> None:
    text = render_reply(
        "reply.resolved", {"seconds": 1500, "resolution": "recovered"}, "en", tz=OSLO, now=T0
    )
    assert "25 min" in text


# -- status, history and home ----------------------------------------------------------------


def status_facts(**overrides: Any) -> StatusFacts:
    base: dict[str, Any] = {
        "tenant": "demo-kommune",
        "snapshot": cycle({EXPORT_AD: StepState.FAILED}, upto=5, message="Client did not answer"),
        "last_success": at(-60 * 24 + 30),
        "alerts": (AlertLink(EXPORT_AD, Condition.FAILED, "https://x.slack.com/p1", "open"),),
    }
    base.update(overrides)
    return StatusFacts(**base)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["eAdm status · demo-kommune", "Open alerts", "Export AD failed", "|view>"]),
        ("nb", ["eAdm-status · demo-kommune", "Åpne varsler", "Export AD feilet", "|vis>"]),
    ],
)
def test_status_in_both_languages(lang: str, words: list[str]) -> None:
    msg = render_status(status_facts(), lang, tz=OSLO, now=at(30))
    body = str(msg.blocks)
    for word in words:
        assert word in body, word
    assert "Client did not answer" in body
    assert "23.11 22:30" in body or "22:30" in body  # yesterday's success, dated
    for block in msg.blocks:
        Block.parse(block).validate_json()


def test_status_says_when_the_source_is_down_or_silenced() -> None:
    facts = status_facts(
        snapshot=None,
        alerts=(),
        last_success=None,
        source_error="cannot reach the eAdm status API",
        failing_since=at(10),
        silenced_until=at(120),
        silenced_by="<@U1>",
        silence_reason="patching",
    )
    body = str(render_status(facts, "en", tz=OSLO, now=at(30)).blocks)
    assert "cannot be read since 22:10" in body
    assert "Silenced until 00:00" in body or "Silenced until 25.11 00:00" in body
    assert "No cycle has been seen yet." in body and "No open alerts." in body


@pytest.mark.parametrize(
    ("states", "icon", "words"),
    [
        ({}, ":white_check_mark:", "completed"),
        ({EXPORT_AD: StepState.FAILED}, ":x:", "Export AD failed"),
        ({SYNCHRONIZATION: StepState.STOPPED}, ":octagonal_sign:", "Synchronization stopped"),
        ({SYNCHRONIZATION: StepState.RUNNING}, ":arrows_counterclockwise:", "running, at"),
    ],
)
def test_outcome(states: dict[str, StepState], icon: str, words: str) -> None:
    upto = None if not states else 4 if SYNCHRONIZATION in states else 5
    got = outcome(cycle(states, upto=upto), "en")
    assert got[0] == icon and words in got[1]


def test_history_lines_and_message() -> None:
    cycles = [
        cycle({EXPORT_AD: StepState.FAILED}, upto=5, cycle_id="c2", start=at(120)),
        cycle(cycle_id="c1"),
    ]
    lines = history_lines(cycles, "en", OSLO, at(200))
    assert lines[0] == ":x: 00:00 · Export AD failed · 16 min"
    assert lines[1] == ":white_check_mark: 24.11 22:00 · completed · 27 min"
    msg = render_history("demo-kommune", cycles, "nb", tz=OSLO, now=at(200))
    assert "Siste 2 sykluser · demo-kommune" in str(msg.blocks)


def test_home_view_is_a_valid_home_tab() -> None:
    view = render_home(
        [(status_facts(), [cycle()]), (status_facts(tenant="asker", alerts=()), [])],
        "en",
        tz=OSLO,
        now=at(30),
    )
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    body = str(view)
    assert "*demo-kommune*" in body and "*asker*" in body and "Recent cycles" in body
    assert view["blocks"][-1]["elements"][0]["action_id"] == ids.ACTION_HOME_REFRESH


# -- what the texts promise, against what the alert shows ------------------------------------


# Words by which a text points at a button, per language: the button's own label, and the
# phrases the advice uses for it.
POINTERS = {
    "rerun": {lang: [t(lang, "button.rerun")] for lang in LANGUAGES},
    "ticket": {
        "en": [t("en", "button.ticket"), "ticket button", "ticket here"],
        "nb": [t("nb", "button.ticket"), "knappen for supportsak", "saken her"],
    },
}
ACTION_IDS = {"rerun": ids.ACTION_RERUN, "ticket": ids.ACTION_TICKET}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("runner", [True, False], ids=["runner", "no-runner"])
@pytest.mark.parametrize("step", [*GUIDE_STEPS, None])
@pytest.mark.parametrize("condition", list(Condition))
def test_no_text_offers_a_button_the_alert_does_not_show(
    condition: Condition, step: str | None, runner: bool, lang: str
) -> None:
    target = 'schtasks /Run /TN "eAdm synkronisering"' if runner else None
    msg = render(lang, step=step, condition=condition, rerun_target=target, error=None)
    shown = {e["action_id"] for e in actions(msg["blocks"])}
    sections = [b for b in msg["blocks"] if b["type"] in ("section", "context")]
    text = "\n".join(str(b) for b in sections[1:])  # the status line names no button
    for action, words in POINTERS.items():
        pointed = [w for w in words[lang] if w.lower() in text.lower()]
        if ACTION_IDS[action] not in shown:
            assert not pointed, f"{step} x {condition}, {lang}: {pointed} without the button"
    if ids.ACTION_RERUN in shown:
        assert t(lang, "button.rerun") in text, "the button is there: the advice says so"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_without_a_runner_the_advice_is_the_manual_task_scheduler_route(lang: str) -> None:
    msg = render(lang, step="Import AD", condition=Condition.NOT_STARTED, rerun_target=None)
    body = str(msg["blocks"])
    assert "Task Scheduler" in body and "eAdm synkronisering" in body
    assert t(lang, "button.rerun") not in body
    assert "{rerun}" not in body and "  " not in body.replace("\n", " ")


def test_with_a_runner_the_advice_points_at_the_button_once() -> None:
    msg = render(step="Import AD", condition=Condition.NOT_STARTED)
    advice = next(b for b in msg["blocks"] if "What to do" in str(b))["text"]["text"]
    assert advice.count("Or press *Rerun sync* here") == 1
    assert "1. Run the eAdm sync task from Task Scheduler on the eAdm client server" in advice


def test_import_hr_future_that_does_not_start_is_for_support() -> None:
    msg = render(step="Import HR Future", condition=Condition.NOT_STARTED)
    body = str(msg["blocks"])
    assert "Identum support has to help" in body and "fix this yourself" not in body
    shown = [e["action_id"] for e in actions(msg["blocks"])]
    assert shown[0] == ids.ACTION_TICKET and ids.ACTION_RERUN not in shown


# -- the portal: its address, and pages by menu path -----------------------------------------

SYNC = ("status", "import_history")


def test_the_portal_is_linked_and_pages_named_by_their_menu_path() -> None:
    line = portal_line(SYNC, "en", "https://bergen.eadm.no/", {})
    assert line == (
        "In the eAdm portal at <https://bergen.eadm.no/|bergen.eadm.no>: "
        "Synchronization > Synchronization Status · Synchronization > Import History"
    )


def test_pages_with_an_address_of_their_own_are_linked() -> None:
    pages = {"import_history": "https://bergen.eadm.no/#/import/history"}
    line = portal_line(SYNC, "nb", "https://bergen.eadm.no", pages)
    assert line == (
        "I eAdm-portalen på <https://bergen.eadm.no|bergen.eadm.no>: "
        "Synkronisering > Synkroniseringsstatus · "
        "<https://bergen.eadm.no/#/import/history|Synkronisering > Importhistorikk>"
    )


def test_page_addresses_alone_are_enough() -> None:
    line = portal_line(("status",), "en", None, {"status": "https://p.no/s"})
    assert line == "In the eAdm portal: <https://p.no/s|Synchronization > Synchronization Status>"


def test_no_portal_address_no_portal_line_and_no_invented_paths() -> None:
    assert portal_line(SYNC, "en", None, {}) is None
    assert render(portal_url=None)["blocks"][-2]["type"] != "context"
    threshold = str(render(step=SYNCHRONIZATION, condition=Condition.SAFETY_THRESHOLD)["blocks"])
    assert "<https://p.no|p.no>" in threshold and "https://p.no/" not in threshold


# -- the mention on a new alert --------------------------------------------------------------


@pytest.mark.parametrize(
    "value,markup",
    [
        ("S0123ABCD", "<!subteam^S0123ABCD>"),
        ("U0123ABCD", "<@U0123ABCD>"),
        ("W0123ABCD", "<@W0123ABCD>"),
        ("here", "<!here>"),
        ("channel", "<!channel>"),
        ("none", None),
        (None, None),
    ],
)
def test_mention_markup(value: str | None, markup: str | None) -> None:
    assert mention_markup(value) == markup


def test_a_mention_leads_the_new_alerts_text_and_first_section() -> None:
    msg = render(mention="<!subteam^S0123ABCD>")
    assert msg["text"].startswith("<!subteam^S0123ABCD> :x: Export AD failed")
    assert msg["blocks"][1]["text"]["text"].startswith("<!subteam^S0123ABCD> :x: ")


def test_no_mention_without_one_or_on_a_resolved_alert() -> None:
    assert "subteam" not in str(render())
    resolved = render(
        mention="<!here>", state="resolved", resolved_at=at(40), resolution="recovered"
    )
    assert "<!here>" not in str(resolved)
