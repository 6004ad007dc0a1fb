"""Readiness verdicts and the Slack auth cache, without a running bot."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.runtime import health, health_routes
from bot.runtime.health import Check, SlackAuth
from bot.runtime.health_routes import HealthRoutes
from bot.store import Store

NOW = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)


def slack_error(code: str, status: int = 200) -> SlackApiError:
    response = AsyncSlackResponse(
        client=None,  # type: ignore[arg-type]
        http_verb="POST",
        api_url="http://slack.invalid/api/auth.test",
        req_args={},
        data={"ok": False, "error": code},
        headers={},
        status_code=status,
    )
    return SlackApiError(f"The request to the Slack API failed: {code}", response)


class FakeSlack:
    """auth.test as a counter with a switch, on a hand-moved clock."""

    def __init__(self) -> None:
        self.calls = 0
        self.error: BaseException | None = None
        self.answer: asyncio.Event | None = None  # set: Slack holds its answer until then
        self.asked = asyncio.Event()
        self.now = 1000.0

    async def auth_test(self) -> dict[str, object]:
        self.calls += 1
        self.asked.set()
        if self.answer is not None:
            await self.answer.wait()
        if self.error is not None:
            raise self.error
        return {"ok": True}

    def clock(self) -> float:
        return self.now


@pytest.fixture
def fake() -> FakeSlack:
    return FakeSlack()


def auth(fake: FakeSlack, **kwargs: float) -> SlackAuth:
    return SlackAuth(fake.auth_test, clock=fake.clock, **kwargs)


# -- verdicts --------------------------------------------------------------------------------


def test_a_recent_poll_is_ready_and_reports_its_age() -> None:
    check = health.poll_check("bergen", NOW - timedelta(seconds=50), now=NOW, poll_interval=60)
    assert check == Check("poll:bergen", True, age_s=50.0)


@pytest.mark.parametrize(
    ("age", "ok"),
    [(0, True), (179.9, True), (180, False), (3600, False)],
)
def test_a_poll_is_overdue_at_three_intervals(age: float, ok: bool) -> None:
    check = health.poll_check("t", NOW - timedelta(seconds=age), now=NOW, poll_interval=60)
    assert check.ok is ok
    if not ok:
        assert "3 x POLL_INTERVAL" in check.detail


def test_a_tenant_never_polled_is_not_ready() -> None:
    check = health.poll_check("t", None, now=NOW, poll_interval=60)
    assert not check.ok and check.detail == "not polled yet"


def test_the_newest_known_poll_counts_whoever_made_it() -> None:
    mine, other_replica = NOW - timedelta(minutes=10), NOW - timedelta(seconds=5)
    assert health.last_poll(mine, other_replica) == other_replica
    assert health.last_poll(None, mine) == mine
    assert health.last_poll(None, None) is None


def test_database_verdicts() -> None:
    assert health.database_check(True) == Check("database", True)
    assert "DATABASE_URL" in health.database_check(False).detail
    assert "did not answer" in health.database_check(None).detail


def test_the_verdict_is_200_when_all_pass_and_503_naming_the_failing_check() -> None:
    good = [Check("database", True), Check("slack", True), Check("poll:t", True, age_s=1.23456)]
    status, body = health.verdict(good)
    assert status == 200
    assert body == {
        "ok": True,
        "failing": [],
        "checks": {
            "database": {"ok": True},
            "slack": {"ok": True},
            "poll:t": {"ok": True, "age_s": 1.235},
        },
    }
    status, body = health.verdict([Check("database", False, "gone"), *good[1:]])
    assert status == 503
    assert body["ok"] is False and body["failing"] == ["database"]
    assert body["checks"]["database"] == {"ok": False, "detail": "gone"}


def test_slack_verdicts_name_the_fix() -> None:
    assert health.slack_check(None).ok
    bad = health.slack_check(slack_error("invalid_auth"))
    assert not bad.ok and "invalid_auth" in bad.detail and "SLACK_BOT_TOKEN" in bad.detail
    assert "within" in health.slack_check(TimeoutError()).detail
    assert "could not be reached" in health.slack_check(ConnectionRefusedError()).detail


# -- the Slack auth cache -------------------------------------------------------------------


async def test_a_good_answer_is_kept_for_a_minute(fake: FakeSlack) -> None:
    slack = auth(fake)
    for _ in range(10):
        assert (await slack.check()).ok
    assert fake.calls == 1, "a probe loop must not turn into a Slack call per probe"
    fake.now += 59
    await slack.check()
    assert fake.calls == 1
    fake.now += 2
    await slack.check()
    assert fake.calls == 2


async def test_a_bad_answer_is_asked_again_sooner(fake: FakeSlack) -> None:
    slack = auth(fake)
    fake.error = slack_error("invalid_auth")
    assert not (await slack.check()).ok
    assert not (await slack.check()).ok
    assert fake.calls == 1
    fake.error = None
    fake.now += health.SLACK_FAIL_TTL + 0.1
    assert (await slack.check()).ok
    assert fake.calls == 2


async def test_a_token_revoked_while_cached_shows_after_the_ttl(fake: FakeSlack) -> None:
    slack = auth(fake)
    assert (await slack.check()).ok
    fake.error = slack_error("token_revoked")
    assert (await slack.check()).ok, "still the cached answer"
    fake.now += health.SLACK_OK_TTL + 0.1
    check = await slack.check()
    assert not check.ok and "token_revoked" in check.detail


async def test_concurrent_probes_share_one_question(fake: FakeSlack) -> None:
    fake.answer = asyncio.Event()
    slack = auth(fake)
    probes = asyncio.gather(*(slack.check() for _ in range(20)))
    await fake.asked.wait()  # the first probe is asking Slack; the others wait for it
    fake.answer.set()
    results = await probes
    assert all(r.ok for r in results)
    assert fake.calls == 1


async def test_a_slack_that_does_not_answer_fails_the_check_in_time(fake: FakeSlack) -> None:
    fake.answer = asyncio.Event()  # never set: Slack does not answer
    slack = auth(fake, timeout=0.05)
    started = asyncio.get_running_loop().time()
    check = await slack.check()
    assert not check.ok and "did not answer" in check.detail
    assert asyncio.get_running_loop().time() - started < 1


async def test_a_rate_limited_auth_test_is_not_ready(fake: FakeSlack) -> None:
    fake.error = slack_error("ratelimited", status=429)
    check = await auth(fake).check()
    assert not check.ok and "ratelimited" in check.detail


# -- measured against a real store ----------------------------------------------------------


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'bot.db'}")
    store.migrate()
    yield store
    store.dispose()


async def test_readiness_reads_polls_from_the_store_too(
    sqlite_store: Store, fake: FakeSlack
) -> None:
    # Another replica polled "b" a moment ago; this process polled "a" long ago.
    sqlite_store.record_failure("b", "timeout", NOW - timedelta(seconds=2))
    checks = await health.readiness(
        store=sqlite_store,
        slack=auth(fake),
        tenants=["a", "b", "c"],
        seen={"a": NOW - timedelta(seconds=500)},
        poll_interval=60,
        now=NOW,
    )
    by_name = {check.name: check for check in checks}
    assert [c.name for c in checks] == ["database", "slack", "poll:a", "poll:b", "poll:c"]
    assert by_name["database"].ok and by_name["slack"].ok
    assert not by_name["poll:a"].ok
    assert by_name["poll:b"].ok and by_name["poll:b"].age_s == 2
    assert by_name["poll:c"].detail == "not polled yet"


async def test_the_ping_is_answered_while_every_worker_thread_is_busy(
    sqlite_store: Store,
) -> None:
    # At start-up with thousands of tenants the worker threads have a queue of polls' store
    # work; the probe has a thread of its own and does not wait behind it.
    loop = asyncio.get_running_loop()
    workers = ThreadPoolExecutor(max_workers=2)
    loop.set_default_executor(workers)
    release = threading.Event()
    busy = [asyncio.to_thread(release.wait) for _ in range(50)]
    try:
        async with asyncio.timeout(2):
            assert await health.ping(sqlite_store) is True
    finally:
        release.set()
        await asyncio.gather(*busy)
        workers.shutdown()


async def test_readiness_with_the_database_gone_names_the_database(fake: FakeSlack) -> None:
    # Nothing listens on port 9 of loopback: the connection is refused at once.
    store = Store("postgresql+psycopg://postgres@127.0.0.1:9/none?connect_timeout=2")
    try:
        checks = await health.readiness(
            store=store,
            slack=auth(fake),
            tenants=["a"],
            seen={"a": NOW - timedelta(seconds=1)},
            poll_interval=60,
            now=NOW,
        )
    finally:
        store.dispose()
    status, body = health.verdict(checks)
    assert status == 503 and body["failing"] == ["database"]


# -- /readyz at a provider's scale -----------------------------------------------------------

THOUSAND = [f"tenant-{n:04d}" for n in range(1000)]


def polled_elsewhere(store: Store, tenants: list[str], at: datetime) -> None:
    """Every tenant polled by another replica: rows in the store, nothing in this process."""
    from bot.store.tables import TenantState

    with store.session() as s:
        s.add_all(TenantState(tenant=name, last_poll_at=at) for name in tenants)
        s.commit()


class Statements:
    """SQL statements the store runs while counted."""

    def __init__(self, store: Store) -> None:
        self.count = 0
        sqlalchemy.event.listen(store.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1


def routes(store: Store, fake: FakeSlack, tenants: list[str]) -> HealthRoutes:
    return HealthRoutes(
        scheduler=AsyncIOScheduler(),
        store=store,
        slack=auth(fake),
        tenants=tenants,
        seen={},
        poll_interval=60,
    )


async def test_readiness_of_a_thousand_tenants_is_one_read_and_quick(
    store: Store, fake: FakeSlack
) -> None:
    polled_elsewhere(store, THOUSAND, datetime.now(UTC) - timedelta(seconds=5))
    probes = routes(store, fake, THOUSAND)
    await probes.ready()  # the first: the connection pool and Slack's answer warm up
    statements = Statements(store)
    times = []
    for _ in range(5):  # the best of five: a busy machine's hiccup is not the code's cost
        probes._ready = None
        started = time.perf_counter()
        _at, status, body, _text = await probes.ready()
        times.append(time.perf_counter() - started)
    assert status == 200 and body["failing"] == []
    assert len(body["checks"]) == 1002  # database, slack, and every tenant polled elsewhere
    assert statements.count <= 2 * 5  # each time the ping and one read of every last poll
    assert min(times) < 0.05, f"/readyz took {min(times) * 1000:.0f} ms at 1,000 tenants"


async def test_the_readiness_answer_is_kept_for_a_second(
    sqlite_store: Store, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    polled_elsewhere(sqlite_store, ["a"], datetime.now(UTC))
    probes = routes(sqlite_store, fake, ["a", "b"])
    now = [100.0]
    monkeypatch.setattr(health_routes.time, "monotonic", lambda: now[0])
    statements = Statements(sqlite_store)
    first = await asyncio.gather(*(probes.ready() for _ in range(20)))
    assert statements.count <= 2 and len({id(answer) for answer in first}) == 1
    assert first[0][1] == 503 and first[0][2]["failing"] == ["poll:b"]
    polled_elsewhere(sqlite_store, ["b"], datetime.now(UTC))
    measured = statements.count
    now[0] += 0.5
    assert (await probes.ready())[1] == 503  # still the answer of half a second ago
    assert statements.count == measured  # and nothing was read for it
    now[0] += 0.6
    assert (await probes.ready())[1] == 200  # measured again: b was polled meanwhile
