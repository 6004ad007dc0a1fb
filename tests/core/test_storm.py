"""Storm digests as pure functions: where a new alert goes, what becomes of an alert's messages
once it is in a digest, how the digest groups its alerts, and the message it renders to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.domain import EXPORT_AD, IMPORT_AD, SYNCHRONIZATION, Condition
from bot.core.lifecycle import AlertState
from bot.core.notify import DIGEST, POST, UPDATE, Message, OutboxKind, reply
from bot.core.storm import (
    Member,
    Route,
    gathering,
    in_digest,
    pickable,
    route_new,
    summarize,
)
from bot.slack import ids
from bot.slack.render.digest import PICKER_MAX, render_digest

NOW = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("others", "is_gathering", "after", "route"),
    [
        (0, False, 5, Route.POST_NOW),  # a quiet channel hears at once
        (1, False, 5, Route.POST_HELD),  # after another tenant's: a moment, for a storm
        (4, False, 5, Route.POST_HELD),  # the fifth tenant: still not more than STORM_AFTER
        (5, False, 5, Route.START),  # the sixth tenant: a storm
        (40, False, 5, Route.START),
        (0, True, 5, Route.JOIN),  # a digest still gathering takes every new alert
        (3, True, 5, Route.JOIN),
        (0, False, 1, Route.POST_NOW),  # one tenant alone is never a storm, not even at 1
        (1, False, 1, Route.START),
    ],
)
def test_where_a_new_alert_goes_by_the_tenants_around_it(
    others: int, is_gathering: bool, after: int, route: Route
) -> None:
    assert route_new(others, is_gathering, after=after) is route


@pytest.mark.parametrize(
    ("last_added", "expected"),
    [
        (None, False),
        (NOW, True),
        (NOW - timedelta(seconds=30), True),
        (NOW - timedelta(seconds=31), False),
    ],
)
def test_a_digest_gathers_while_alerts_keep_coming(
    last_added: datetime | None, expected: bool
) -> None:
    assert gathering(last_added, NOW, 30) is expected


@pytest.mark.parametrize(
    ("message", "becomes"),
    [
        (POST, DIGEST),  # a new post of an alert in a digest: the digest is redrawn
        (UPDATE, DIGEST),
        (reply("reply.acknowledged", user="U1"), reply("reply.acknowledged", user="U1")),
        (
            reply("reply.snoozed", user="U1", until="x"),
            reply("reply.snoozed", user="U1", until="x"),
        ),
        (
            reply("reply.ticket", user="U1", ref="1", url=""),
            reply("reply.ticket", user="U1", ref="1", url=""),
        ),
        (
            Message(OutboxKind.REPLY, text="rerun started"),
            Message(OutboxKind.REPLY, text="rerun started"),
        ),
        (  # an escalation: one line in the digest's thread
            reply("reply.escalated", to="S0ONCALL", seconds=3600),
            reply("reply.escalated", to="S0ONCALL", seconds=3600),
        ),
        (reply("reply.resolved", resolution="recovered", seconds=3), None),  # the digest shows it
        (reply("reply.changed", previous="failed", condition="stuck"), None),
        (reply("reply.reminder"), None),
    ],
)
def test_what_an_alert_in_a_digest_owes(message: Message, becomes: Message | None) -> None:
    assert in_digest(message) == becomes


def _m(
    alert_id: int, tenant: str, step: str | None, condition: Condition, state: AlertState
) -> Member:
    return Member(alert_id, tenant, step, condition, state)


OPEN, RESOLVED, ACKED = AlertState.OPEN, AlertState.RESOLVED, AlertState.ACKNOWLEDGED
FAILED, STUCK = Condition.FAILED, Condition.STUCK


def test_the_digest_groups_by_step_and_condition_biggest_first() -> None:
    summary = summarize(
        [
            _m(1, "b-kommune", IMPORT_AD, FAILED, OPEN),
            _m(2, "a-kommune", IMPORT_AD, FAILED, RESOLVED),
            _m(3, "c-kommune", IMPORT_AD, FAILED, ACKED),
            _m(4, "d-kommune", EXPORT_AD, FAILED, OPEN),
            _m(5, "e-kommune", IMPORT_AD, STUCK, RESOLVED),
        ]
    )
    assert [(g.step, g.condition, len(g.members)) for g in summary.groups] == [
        (IMPORT_AD, FAILED, 3),
        (EXPORT_AD, FAILED, 1),
        (IMPORT_AD, STUCK, 1),
    ]
    first = summary.groups[0]
    assert [m.tenant for m in first.members] == ["b-kommune", "c-kommune", "a-kommune"]
    assert [m.tenant for m in first.open] == ["b-kommune", "c-kommune"]
    assert [m.tenant for m in first.recovered] == ["a-kommune"]
    assert (summary.total, summary.open, summary.all_recovered) == (5, 3, False)


@pytest.mark.parametrize(
    ("states", "open_count", "green"),
    [
        ([OPEN, OPEN], 2, False),
        ([RESOLVED, OPEN], 1, False),
        ([RESOLVED, RESOLVED], 0, True),
        ([], 0, False),
    ],
)
def test_green_only_when_every_alert_recovered(
    states: list[AlertState], open_count: int, green: bool
) -> None:
    summary = summarize([_m(i, f"t{i}", IMPORT_AD, FAILED, s) for i, s in enumerate(states)])
    assert (summary.open, summary.all_recovered) == (open_count, green)


def test_the_picker_offers_alerts_still_in_trouble_up_to_its_limit() -> None:
    members = [_m(i, f"t{i:03d}", IMPORT_AD, FAILED, OPEN) for i in range(150)]
    members += [_m(500, "x", SYNCHRONIZATION, FAILED, RESOLVED)]
    chosen = pickable(summarize(members), 100)
    assert len(chosen) == 100
    assert all(m.state is OPEN for m in chosen)


def test_a_storm_of_two_hundred_renders_within_slacks_limits() -> None:
    members = [_m(i, f"kommune-{i:03d}", IMPORT_AD, FAILED, OPEN) for i in range(143)]
    members += [_m(1000 + i, f"skole-{i:02d}", EXPORT_AD, FAILED, OPEN) for i in range(57)]
    message = render_digest(summarize(members), "en")
    assert message.blocks[0]["text"]["text"] == "200 new alerts at once in this channel"
    sections = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    assert sections[0].startswith(":x: *Import AD failed: 143 tenants*")
    assert "kommune-000" in sections[0] and "more" in sections[0]
    assert all(len(text) <= 3000 for text in sections)
    assert len(message.blocks) <= 50
    picker = next(b for b in message.blocks if b["type"] == "actions")["elements"][0]
    assert picker["action_id"] == ids.ACTION_DIGEST_PICK
    assert len(picker["options"]) == PICKER_MAX
    assert picker["options"][0]["value"] == "0"


def test_the_digest_shows_who_is_on_an_alert_and_what_recovered() -> None:
    members = [
        _m(1, "bergen", IMPORT_AD, FAILED, ACKED),
        _m(2, "voss", IMPORT_AD, FAILED, OPEN),
        _m(3, "ulvik", IMPORT_AD, FAILED, RESOLVED),
    ]
    message = render_digest(summarize(members), "en")
    section = next(b for b in message.blocks if b["type"] == "section")["text"]["text"]
    assert "Still in trouble: bergen (acknowledged), voss" in section
    assert "Recovered: ulvik" in section
    assert "2 of 3 still in trouble" in str(message.blocks[1])


def test_a_recovered_storm_is_green_and_offers_nothing_to_pick() -> None:
    members = [_m(i, f"t{i}", IMPORT_AD, FAILED, RESOLVED) for i in range(7)]
    message = render_digest(summarize(members), "nb")
    assert message.blocks[0]["text"]["text"] == (
        "Alle de 7 varslene i denne samlemeldingen er i orden igjen"
    )
    assert not [b for b in message.blocks if b["type"] == "actions"]
    assert message.text.startswith(":white_check_mark:")


@pytest.mark.parametrize(
    ("lang", "header", "group"),
    [
        ("en", "1 new alert in this channel", "Import AD failed: 1 tenant"),
        ("nb", "1 nytt varsel i denne kanalen", "Importer AD feilet: 1 kunde"),
    ],
)
def test_one_alert_and_one_tenant_are_counted_as_one(lang: str, header: str, group: str) -> None:
    message = render_digest(summarize([_m(1, "voss", IMPORT_AD, FAILED, OPEN)]), lang)
    assert message.blocks[0]["text"]["text"] == header
    assert group in str(message.blocks) and group in message.text


@pytest.mark.parametrize(
    ("lang", "header", "group"),
    [
        ("en", "3 new alerts at once in this channel", "Import AD failed: 2 tenants"),
        ("nb", "3 nye varsler på én gang i denne kanalen", "Importer AD feilet: 2 kunder"),
    ],
)
def test_a_group_counts_its_tenants_and_the_header_its_alerts(
    lang: str, header: str, group: str
) -> None:
    members = [
        _m(1, "voss", IMPORT_AD, FAILED, OPEN),
        _m(2, "voss", IMPORT_AD, FAILED, OPEN),  # a second cycle of the same tenant
        _m(3, "ulvik", IMPORT_AD, FAILED, OPEN),
    ]
    message = render_digest(summarize(members), lang)
    assert message.blocks[0]["text"]["text"] == header
    assert group in str(message.blocks)


@pytest.mark.parametrize(
    ("lang", "n", "header"),
    [
        ("en", 1, "The alert in this digest has recovered"),
        ("nb", 1, "Varselet i denne samlemeldingen er i orden igjen"),
        ("en", 2, "All 2 alerts in this digest have recovered"),
    ],
)
def test_a_recovered_digest_counts_right(lang: str, n: int, header: str) -> None:
    members = [_m(i, f"t{i}", IMPORT_AD, FAILED, RESOLVED) for i in range(n)]
    assert render_digest(summarize(members), lang).blocks[0]["text"]["text"] == header
