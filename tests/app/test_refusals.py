"""Refused requests in the log: one line for the first of each kind, a count for repeats, and a
summary a minute at most; every one counted in the metric."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY

from bot.app.refusals import Refusals


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refused_total(reason: str) -> float:
    value = REGISTRY.get_sample_value("eadm_bot_refused_requests_total", {"reason": reason})
    return value or 0.0


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.requests"]


def test_a_flood_of_one_refusal_is_one_line_then_one_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.requests")
    clock = Clock()
    refusals = Refusals(clock=clock)
    before = refused_total("signature")
    for n in range(500):
        clock.now += 0.1  # 500 in 50 s
        refusals.refuse("signature", f"bad signature {n}", who="203.0.113.9")
    assert lines(caplog) == [
        "refused a request: bad signature 0 (from 203.0.113.9); more like it are counted"
    ]
    assert refusals.count("signature") == 499
    clock.now += 20  # past the minute: the next one sums up the others
    refusals.refuse("signature", "bad signature 500", who="203.0.113.9")
    assert len(lines(caplog)) == 2
    assert lines(caplog)[1].startswith("refused 500 more like that (signature) in the last 70 s")
    assert lines(caplog)[1].endswith("the latest: bad signature 500 (from 203.0.113.9)")
    assert refused_total("signature") - before == 501


def test_each_kind_is_told_once_on_its_own(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.requests")
    refusals = Refusals("a run request", clock=Clock())
    for _ in range(3):
        refusals.refuse("body", "not JSON")
        refusals.refuse("signature", "unsigned")
    assert lines(caplog) == [
        "refused a run request: not JSON; more like it are counted",
        "refused a run request: unsigned; more like it are counted",
    ]
    assert not any(r.exc_info for r in caplog.records)
