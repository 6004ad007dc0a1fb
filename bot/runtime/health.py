"""Liveness and readiness: what /healthz and /readyz answer.

/healthz says the process works at all (the scheduler runs, the store answers); an
orchestrator restarts the process when it does not. /readyz says whether the bot does its job
right now: the store answers, Slack accepts the bot token, and every tenant was polled
recently. It fails, naming the check, when any of them does not, so an admin or a load
balancer sees which part is wrong without reading the log.

The verdicts are pure functions of what was measured; the measuring is `readiness()`. Slack's
answer is remembered for a while (`SlackAuth`), because a probe every few seconds must not
turn into a Web API call every few seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.store import Store

POLL_AGE_FACTOR = 3  # a tenant is overdue after this many poll intervals without a poll
SLACK_OK_TTL = 60.0  # seconds a good auth.test answer is trusted
# A failure is asked again sooner, so readiness returns soon after the token is fixed; still
# long enough that a tight probe loop cannot hammer Slack.
SLACK_FAIL_TTL = 5.0
PROBE_TIMEOUT = 5.0  # seconds one probe (database or Slack) may take before it counts as down

T = TypeVar("T")

DATABASE = "database"
SLACK = "slack"

# Slack's answers that mean the token itself is wrong, with what the admin should do.
_AUTH_FIXES = {
    "invalid_auth": "check SLACK_BOT_TOKEN",
    "not_authed": "set SLACK_BOT_TOKEN",
    "account_inactive": "the Slack app or its token was deactivated; reinstall the app",
    "token_revoked": "reinstall the app and update SLACK_BOT_TOKEN",
    "token_expired": "reinstall the app and update SLACK_BOT_TOKEN",
}


@dataclass(frozen=True, slots=True)
class Check:
    """One readiness check's verdict; `detail` says why, for a person."""

    name: str
    ok: bool
    detail: str = ""
    age_s: float | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": self.ok}
        if self.detail:
            body["detail"] = self.detail
        if self.age_s is not None:
            body["age_s"] = round(self.age_s, 3)
        return body


def poll_check_name(tenant: str) -> str:
    return f"poll:{tenant}"


def database_check(reachable: bool | None) -> Check:
    """`None` means the probe did not finish in time, which is as bad as a refusal."""
    if reachable:
        return Check(DATABASE, True)
    if reachable is None:
        return Check(DATABASE, False, f"the database did not answer within {PROBE_TIMEOUT:g} s")
    return Check(DATABASE, False, "the database is not reachable; check DATABASE_URL")


def last_poll(*seen: datetime | None) -> datetime | None:
    """The newest of the poll times known: this process's own, and the store's (which also
    knows polls by other replicas)."""
    return max((when for when in seen if when is not None), default=None)


def poll_check(
    tenant: str,
    last: datetime | None,
    *,
    now: datetime,
    poll_interval: float,
    factor: float = POLL_AGE_FACTOR,
) -> Check:
    name = poll_check_name(tenant)
    limit = factor * poll_interval
    if last is None:
        return Check(name, False, "not polled yet")
    age = max(0.0, (now - last).total_seconds())
    if age < limit:
        return Check(name, True, age_s=age)
    return Check(
        name,
        False,
        f"last poll {age:.0f} s ago, more than {limit:g} s ({factor:g} x POLL_INTERVAL)",
        age,
    )


def verdict(checks: Sequence[Check]) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body of /readyz."""
    failing = [check.name for check in checks if not check.ok]
    body = {
        "ok": not failing,
        "failing": failing,
        "checks": {check.name: check.as_json() for check in checks},
    }
    return (503 if failing else 200), body


def slack_check(error: BaseException | None) -> Check:
    """The verdict on one auth.test: `None` when Slack accepted the token."""
    if error is None:
        return Check(SLACK, True)
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error") or error.response.status_code)
        fix = _AUTH_FIXES.get(code, "see the log")
        return Check(SLACK, False, f"Slack answered {code} to auth.test; {fix}")
    if isinstance(error, TimeoutError):
        return Check(SLACK, False, f"Slack did not answer auth.test within {PROBE_TIMEOUT:g} s")
    return Check(
        SLACK,
        False,
        f"Slack could not be reached ({type(error).__name__}); check SLACK_API_URL and the network",
    )


class SlackAuth:
    """Whether Slack accepts the bot token, asked at most once per TTL.

    Concurrent probes share one question to Slack, and the answer is kept: a good one for
    `ok_ttl` seconds, a bad one for `fail_ttl`.
    """

    def __init__(
        self,
        probe: Callable[[], Awaitable[Any]],
        *,
        ok_ttl: float = SLACK_OK_TTL,
        fail_ttl: float = SLACK_FAIL_TTL,
        timeout: float = PROBE_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.probe = probe
        self.ok_ttl = ok_ttl
        self.fail_ttl = fail_ttl
        self.timeout = timeout
        self.clock = clock
        self._last: Check | None = None
        self._until = 0.0
        self._lock = asyncio.Lock()

    async def check(self) -> Check:
        async with self._lock:
            if self._last is not None and self.clock() < self._until:
                return self._last
            error: BaseException | None = None
            try:
                await asyncio.wait_for(self.probe(), timeout=self.timeout)
            except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                error = exc
            result = slack_check(error)
            self._last = result
            self._until = self.clock() + (self.ok_ttl if result.ok else self.fail_ttl)
            return result


# The probes' own thread: the worker threads may have a queue of polls' store work before
# them (thousands at start-up), and a probe that waits its turn there is a probe that fails.
_PROBES = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eadm-bot-probe")


async def in_probe_thread(work: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(_PROBES, work)


async def ping(store: Store) -> bool | None:
    """Whether the store answers; `None` when it did not answer within PROBE_TIMEOUT.

    The ping runs in the probes' thread, and a hung connection attempt must not hang the
    probe with it.
    """
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            return await in_probe_thread(store.ping)
    except TimeoutError:
        return None


async def readiness(
    *,
    store: Store,
    slack: SlackAuth,
    tenants: Sequence[str],
    seen: Mapping[str, datetime],
    poll_interval: float,
    now: datetime,
) -> list[Check]:
    """Every readiness check, measured now: database, Slack, then one per tenant."""
    reachable, slack_result = await asyncio.gather(ping(store), slack.check())
    stored: dict[str, datetime | None] = {}
    if reachable:
        try:
            stored = await asyncio.wait_for(
                in_probe_thread(store.last_polls), timeout=PROBE_TIMEOUT
            )
        except Exception:  # the database check already says what is wrong
            stored = {}
    checks = [database_check(reachable), slack_result]
    for tenant in tenants:
        when = last_poll(seen.get(tenant), stored.get(tenant))
        checks.append(poll_check(tenant, when, now=now, poll_interval=poll_interval))
    return checks
