"""Status views: `/eadm status`, `/eadm history` and the App Home, within Slack's limits."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block

from bot.core.domain import EXPORT_AD, Condition, StepState
from bot.core.lifecycle import AlertState
from bot.slack import ids
from bot.slack.render import (
    AlertLink,
    StatusFacts,
    history_lines,
    render_history,
    render_home,
    render_status,
)
from tests.cycles import at, cycle

OSLO = ZoneInfo("Europe/Oslo")


def status_facts(**overrides: Any) -> StatusFacts:
    base: dict[str, Any] = {
        "tenant": "demo-kommune",
        "snapshot": cycle({EXPORT_AD: StepState.FAILED}, upto=5, message="Client did not answer"),
        "last_success": at(-60 * 24 + 30),
        "alerts": (
            AlertLink(EXPORT_AD, Condition.FAILED, "https://x.slack.com/p1", AlertState.OPEN),
        ),
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


@pytest.mark.parametrize(
    ("lang", "state", "line"),
    [
        ("en", AlertState.OPEN, "• Export AD failed (<https://x.slack.com/p1|view>)"),
        (
            "en",
            AlertState.ACKNOWLEDGED,
            "• Export AD failed (<https://x.slack.com/p1|view>) · acknowledged",
        ),
        ("nb", AlertState.SNOOZED, "• Export AD feilet (<https://x.slack.com/p1|vis>) · utsatt"),
    ],
)
def test_status_names_the_state_of_an_alert_someone_is_on(
    lang: str, state: AlertState, line: str
) -> None:
    link = AlertLink(EXPORT_AD, Condition.FAILED, "https://x.slack.com/p1", state)
    msg = render_status(status_facts(alerts=(link,)), lang, tz=OSLO, now=at(30))
    listed = msg.blocks[-1]["text"]["text"].splitlines()
    assert listed[1:] == [line]


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
