"""The order the outbox goes to Slack in, row by row: notices, new alerts, thread replies,
redraws; nothing about a message before its post, its lines and its redraws each in their
order; needless redraws superseded."""

from __future__ import annotations

import pytest

from bot.core.outbox_order import Lane, Pending, lane, plan

A, B, D = ("copy", 1), ("copy", 2), ("digest", 9)


def row(id_: int, kind: str, thread: tuple[str, int] | None = A, **extra: bool) -> Pending:
    return Pending(id=id_, kind=kind, channel="C1", thread=thread, **extra)


@pytest.mark.parametrize(
    ("pending", "order", "superseded"),
    [
        # Oldest news first no more: alert B's post overtakes A's reply and redraw.
        ([row(1, "update"), row(2, "reply"), row(3, "post", B)], [3, 2, 1], {}),
        # ... and a notice goes before the alert it introduces.
        ([row(1, "post", B), row(2, "notice", None)], [2, 1], {}),
        # Within a lane, oldest first; replies before redraws of other alerts.
        ([row(1, "update", A), row(2, "reply", B)], [2, 1], {}),
        ([row(1, "reply", A), row(2, "reply", B)], [1, 2], {}),
        # Nothing about an alert goes before its post.
        ([row(1, "post"), row(2, "reply"), row(3, "update")], [1], {}),
        ([row(1, "digest", D), row(2, "reply", D), row(3, "digest", D)], [1], {}),
        # Its thread's lines keep their order, and so do its redraws ...
        ([row(1, "reply"), row(2, "escalation"), row(3, "reply")], [1], {}),
        ([row(1, "reply", due=False), row(2, "reply")], [], {}),
        # ... but a line need not wait for a redraw, nor a redraw for a line.
        ([row(1, "update", due=False), row(2, "reply")], [2], {}),
        ([row(1, "reply", claimed=True, due=False), row(2, "update")], [2], {}),
        # A redraw with a newer one owed is needless, replies between or not.
        ([row(1, "update"), row(2, "update")], [2], {1: 2}),
        ([row(1, "update"), row(2, "reply"), row(3, "update")], [2, 3], {1: 3}),
        ([row(1, "update"), row(2, "update"), row(3, "update")], [3], {1: 3, 2: 3}),
        # ... but not one a process is sending now: it still blocks its message's rows.
        ([row(1, "update", claimed=True, due=False), row(2, "update")], [], {}),
        # Only redraws of the same message supersede each other.
        ([row(1, "update", A), row(2, "update", B)], [1, 2], {}),
        # A row waiting out its backoff blocks its message's later rows, not others'.
        ([row(1, "reply", due=False), row(2, "reply"), row(3, "post", B)], [3], {}),
        # A digest's first row posts it; a later one redraws it, and supersedes none of it.
        ([row(1, "digest", D), row(2, "digest", D)], [1], {}),
        ([row(1, "digest", D, drawn=True), row(2, "digest", D, drawn=True)], [2], {1: 2}),
        ([row(1, "digest", D, drawn=True), row(2, "post", B)], [2, 1], {}),
        # An escalation's call is a post; a kind from a newer version goes last, and before
        # nothing else about its message.
        ([row(1, "future", B), row(2, "escalation", A)], [2, 1], {}),
        ([row(1, "future"), row(2, "reply"), row(3, "update")], [1], {}),
        ([row(1, "reply"), row(2, "future")], [1], {}),
        ([], [], {}),
    ],
)
def test_the_plan_orders_what_is_owed(
    pending: list[Pending], order: list[int], superseded: dict[int, int]
) -> None:
    planned = plan(pending)
    assert [t.row.id for t in planned.turns] == order
    assert planned.superseded == superseded


def test_the_plan_does_not_depend_on_the_order_it_is_given() -> None:
    rows = [row(3, "post", B), row(1, "update"), row(2, "reply")]
    assert [t.row.id for t in plan(rows).turns] == [3, 2, 1]


@pytest.mark.parametrize(
    ("kind", "drawn", "first", "expected"),
    [
        ("notice", False, True, Lane.NOTICE),
        ("post", False, True, Lane.POST),
        ("escalation", False, True, Lane.POST),
        ("reply", False, True, Lane.REPLY),
        ("update", False, True, Lane.REDRAW),
        ("digest", False, True, Lane.POST),
        ("digest", True, True, Lane.REDRAW),
        ("digest", False, False, Lane.REDRAW),
    ],
)
def test_each_kind_has_its_lane(kind: str, drawn: bool, first: bool, expected: Lane) -> None:
    assert lane(row(1, kind, drawn=drawn), first_of_digest=first) is expected
