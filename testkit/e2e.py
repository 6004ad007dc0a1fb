"""The pieces end-to-end tests and benchmarks are made of: `eadm-bot run` (or another long-running
subcommand) as a real process between the Slack double and the simulator, both served over real
HTTP on loopback; its environment; waits on a condition or on its metrics; requests signed as
Slack signs them; and the texts a person reads in Block Kit. (A whole world of them: world.py.)"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

from bot.core.domain import Snapshot
from bot.slack import ids

BOT_TOKEN = "xoxb-e2e-test-token"
SIGNING_SECRET = "e2e-signing-secret"
CHANNEL = "C0ALERTS"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BotProcess:
    """`eadm-bot run` (or another long-running subcommand, such as `agent`) in a child
    process, with its log kept for the test to read. `port_var` names the setting its HTTP
    port is in; start() returns once its /healthz answers."""

    def __init__(
        self, env: dict[str, str], log_path: Path, command: str = "run", port_var: str = "PORT"
    ) -> None:
        self.env = env
        self.log_path = log_path
        self.command = command
        self.port = int(env[port_var])
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0  # when start() began (time.time())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 20.0) -> None:
        self.started = time.time()
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", self.command],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.log_path.parent,
        )
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"eadm-bot {self.command} exited at start:\n{self.log()}")
                with suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError(
            f"eadm-bot {self.command} did not become healthy in {timeout} s:\n{self.log()}"
        )

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        """Crash: no clean shutdown at all."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def clean_env() -> dict[str, str]:
    """This process's environment without a setting of the bot's, so that a developer's own
    settings never leak into a test's bot."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "EADM_", "ALERT_", "RERUN_", "TICKET_", "ADMIN_"))
    }


def eadm_bot(
    *args: str, cwd: Path, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    """`eadm-bot <args>` run to its end, as an admin runs it, with only `env`'s settings."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env={**clean_env(), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def eadm_bot_running(*args: str, cwd: Path, **env: str) -> Iterator[subprocess.Popen[str]]:
    """`eadm-bot <args>` started as an admin starts it, with only `env`'s settings, its output
    (stdout and stderr together) to read line by line as it comes; stopped when the block
    ends, however it ends."""
    with subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env={**clean_env(), "PYTHONUNBUFFERED": "1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        try:
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


def bot_env(
    *,
    slack_api_url: str,
    eadm_url: str,
    database_url: str,
    port: int | None = None,
    **extra: Any,
) -> dict[str, str]:
    env = clean_env()
    env.update(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_api_url,
            "EADM_URL": eadm_url,
            "ALERT_CHANNEL": CHANNEL,
            "DATABASE_URL": database_url,
            "PORT": str(port or free_port()),
            "HOST": "127.0.0.1",
            "TENANT_NAME": "demo-kommune",
            "POLL_INTERVAL": "1",
            "DELIVERY_RETRY_CAP": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({key.upper(): str(value) for key, value in extra.items()})
    return env


async def eventually(
    check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1, what: str = ""
) -> Any:
    """Wait until `check()` returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
        await asyncio.sleep(interval)


async def metric(url: str, name: str, **labels: str) -> dict[str, float]:
    """A metric's samples at `url`/metrics by their first label's value (or "" without labels),
    keeping only samples whose labels match `labels`."""
    from prometheus_client.parser import text_string_to_metric_families

    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{url}/metrics")).text
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name != name:
                continue
            if any(sample.labels.get(key) != value for key, value in labels.items()):
                continue
            key = next(iter(sample.labels.values()), "")
            found[key] = found.get(key, 0.0) + sample.value
    return found


async def polls(*bots: BotProcess) -> dict[str, float]:
    """How many times the bots have polled each tenant, all bots together."""
    total: dict[str, float] = {}
    for bot in bots:
        for tenant, count in (await metric(bot.url, "eadm_bot_polls_total")).items():
            total[tenant] = total.get(tenant, 0.0) + count
    return total


async def outbox_depth(bot: BotProcess) -> float:
    return sum((await metric(bot.url, "eadm_bot_outbox_depth")).values())


async def settled(*bots: BotProcess, polls_more: int = 2, timeout: float = 45.0) -> None:
    """Wait until every tenant has been polled `polls_more` more times and the outbox is empty,
    so that whatever those polls owed Slack has been sent. Only then does "nothing was posted
    twice" say something: a fixed sleep passes on a slow machine with no poll at all.

    A poll is counted when it starts and the next one of a tenant starts after it ended, so
    one more is awaited than asked for. With several bots, the outbox of each is read.
    """
    before = await polls(*bots)

    async def done() -> bool:
        now = await polls(*bots)
        start = before or dict.fromkeys(now, 0.0)
        if not start or any(
            now.get(tenant, 0.0) < count + polls_more + 1 for tenant, count in start.items()
        ):
            return False
        depths = [await outbox_depth(bot) for bot in bots]
        return all(depth == 0 for depth in depths)

    await eventually(done, timeout=timeout, interval=0.2, what=f"{polls_more} more polls")


async def cycle_reaches(
    eadm_url: str, check: Callable[[Snapshot], bool], *, timeout: float = 15.0, what: str = ""
) -> Snapshot:
    """Wait until the (simulated) eAdm's current cycle is as `check` wants it, read through
    the bot's own source; returns that snapshot."""
    from bot.core.errors import SourceError
    from bot.sources.api import EadmSource

    async with EadmSource(eadm_url, "t") as source:

        async def reached() -> Snapshot | None:
            try:
                snapshot = await source.current()
            except SourceError:
                return None
            return snapshot if check(snapshot) else None

        return await eventually(reached, timeout=timeout, what=what or "the simulated cycle")


async def send_signed(bot_url: str, body: str, *, json_body: bool = False) -> httpx.Response:
    """POST a request to the bot's Slack endpoint the way Slack does: signed, timed."""
    from bot.sim.signing import form_headers, json_headers

    headers = (json_headers if json_body else form_headers)(SIGNING_SECRET, body)
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(f"{bot_url}/slack/events", content=body, headers=headers)


async def serve_app(app: Any) -> tuple[Any, str]:
    """Serve an aiohttp application on a free loopback port; returns (runner, base URL)."""
    from bot.serving import serve

    runner, port = await serve(app, "127.0.0.1", 0)
    return runner, f"http://127.0.0.1:{port}"


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve an aiohttp application for the length of a `with` block; yields its base URL."""
    runner, url = await serve_app(app)
    try:
        yield url
    finally:
        await runner.cleanup()


# The button each action word of the playbook stands for, by its action ID: an alert offers
# these for its entry's `actions` (Rerun only where its tenant has a runner).
BUTTONS = {
    "rerun": ids.ACTION_RERUN,
    "ticket": ids.ACTION_TICKET,
    "ack": ids.ACTION_ACK,
    "snooze": ids.ACTION_SNOOZE,
}


def block_texts(node: Any) -> str:
    """Every `text` string in a Block Kit structure, one per line: what a person reads."""
    found: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            if isinstance(item.get("text"), str):
                found.append(item["text"])
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(node)
    return "\n".join(found)
