"""`eadm-bot agent` end to end: the agent as a process between a stand-in sync task (the
simulated Task Scheduler task of bot.sim.scheduler) and `eadm-bot run` elsewhere, which reads it
as its status API and reruns through it as its webhook, signed with the one scheme both share.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bot.adapters.runners import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, signature_headers
from bot.sim import scheduler
from bot.sim.signing import block_actions_body
from bot.slack import ids
from testkit.e2e import BotProcess, eventually, free_port, send_signed
from testkit.world import World

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKEN = "agent-token-0123456789abcdef"
SECRET = "agent-secret-0123456789abcdef"
ADMIN = "UADMIN"
CHANNEL = "CAGENT"
SIM = [sys.executable, "-m", "bot.sim.scheduler"]


class Agents(World):
    """Two agents, each on a stand-in sync task of its own, and the bot reading the first."""

    agent: BotProcess  # read by the bot
    lone: BotProcess  # a second agent for the signature tests, on its own task

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state = self.tmp / "task.json"
        self.lone_state = self.tmp / "lone.json"

    async def start_agent(self, env: dict[str, str], log: str) -> BotProcess:
        """`eadm-bot agent` as a child process, healthy once its /healthz answers."""
        return await self.start(env, log=log, command="agent", port_var="AGENT_PORT")


def agent_env(state: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EADM_", "AGENT_"))}
    env.update(
        {
            "EADM_TASK_COMMAND": json.dumps(
                [sys.executable, "-m", "bot.sim.scheduler", "print", str(state), "--shape", "ps51"]
            ),
            "AGENT_START_COMMAND": json.dumps(
                [sys.executable, "-m", "bot.sim.scheduler", "start", str(state)]
            ),
            "EADM_EVENTS_COMMAND": json.dumps(
                [*SIM, "events", str(state), "--task", "{task}", "--since", "{since}"]
            ),
            "AGENT_TOKEN": TOKEN,
            "AGENT_SECRET": SECRET,
            "AGENT_PORT": str(free_port()),
            "HOST": "127.0.0.1",
            "TENANT_NAME": "voss",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(Path(__file__).parents[2]),
        }
    )
    env.update(extra)
    return env


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Agents]:
    async with Agents.open(tmp_path_factory.mktemp("agent")) as world:
        # The last run crashed with an unhandled .NET exception ten minutes ago, and Windows
        # wrote what it does of such a crash to Event Viewer.
        began = datetime.now(UTC) - timedelta(minutes=10)
        scheduler.set_task(
            world.state, run_seconds=2.0, run_result=scheduler.FAILED_CODE, interval=3600.0
        )
        crashed = scheduler.begin(scheduler.load(world.state), began, by_user=False)
        scheduler.save(world.state, scheduler.advance(crashed, datetime.now(UTC)))
        scheduler.set_task(world.state, run_result=0)
        logs = world.tmp / "logg"
        logs.mkdir()
        (logs / "eAdm.Client.log").write_text(
            "2026-11-27 06:00:09 ERR Unhandled exception: System.Data.SqlClient.SqlException: "
            "Timeout expired\n",
            encoding="utf-8",
        )
        scheduler.set_task(
            world.lone_state, last_run=datetime.now(UTC), result=0, run_seconds=600.0
        )
        world.agent, world.lone = await asyncio.gather(
            world.start_agent(agent_env(world.state, EADM_LOG_DIR=str(logs)), "agent.log"),
            world.start_agent(agent_env(world.lone_state), "lone.log"),
        )
        await world.start_bot(
            world.agent.url,
            EADM_API_TOKEN=TOKEN,
            RERUN_WEBHOOK_URL=f"{world.agent.url}/api/v1/sync/run",
            RERUN_WEBHOOK_SECRET=SECRET,
            ADMIN_USERS=ADMIN,
            ALERT_CHANNEL=CHANNEL,
            POLL_INTERVAL="1",
            SOURCE_DOWN_AFTER="2",
            RERUN_COOLDOWN="0",
            TENANT_NAME="voss",  # the agent's own: it starts the task only for its tenant
        )
        yield world


async def _get(world: Agents, path: str, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(f"{world.agent.url}{path}", headers=headers)


async def _post(world: Agents, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(
            f"{world.lone.url}/api/v1/sync/run",
            content=body,
            headers={"Content-Type": "application/json", **headers},
        )


async def test_the_status_needs_the_token(world: Agents) -> None:
    assert (await _get(world, "/api/v1/sync/cycles/current", token=None)).status_code == 401
    assert (await _get(world, "/api/v1/sync/cycles/current", token="wrong")).status_code == 401
    response = await _get(world, "/api/v1/sync/cycles/current")
    assert response.status_code == 200
    cycle = response.json()
    assert cycle["steps"][0]["name"] == "Sync task"
    assert cycle["task"]["name"] == "eAdm synkronisering"
    # What Event Viewer says of the last run, inside the task: read on the client server (the
    # crashed run's, or the rerun's where that test went first), starting with its start event.

    async def served() -> dict[str, Any] | None:
        task: dict[str, Any] = (await _get(world, "/api/v1/sync/cycles/current")).json()["task"]
        return task if task.get("events") else None

    task = await eventually(served, timeout=20, what="the run's events in the task")
    assert task["operational_log_enabled"] is True
    assert 100 in [event["id"] for event in task["events"]]
    history = await _get(world, "/api/v1/sync/cycles?limit=5")
    assert history.status_code == 200 and history.json()


async def test_the_central_bot_alerts_from_the_agent_and_reruns_through_it(world: Agents) -> None:
    (message,) = await eventually(
        lambda: world.slack.messages(CHANNEL), timeout=30, what="the task-failed alert"
    )
    text = json.dumps(message["blocks"])
    assert "Sync task failed" in text and "0xE0434352" in text
    assert "SqlException: Timeout expired" in text  # the agent's log lines reach the alert
    assert ids.ACTION_RERUN in text
    alert_id = next(
        element["value"]
        for block in message["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if element["action_id"] == ids.ACTION_RERUN
    )
    body = block_actions_body(
        ids.ACTION_RERUN,
        alert_id,
        user_id=ADMIN,
        channel_id=CHANNEL,
        response_url=world.slack.response_url("rerun"),
    )
    assert (await send_signed(world.bot.url, body)).status_code == 200
    await eventually(
        lambda: scheduler.load(world.state)["starts"] == 1, timeout=20, what="the task to start"
    )
    thread = lambda: [m.get("text", "") for m in world.slack.thread(CHANNEL, message["ts"])]  # noqa: E731
    # The central bot tells what the agent read of Event Viewer, with no Get-WinEvent of its own.
    (said,) = await eventually(
        lambda: [t for t in thread() if "What Event Viewer says" in t], what="Event Viewer"
    )
    assert "event 1026: The eAdm client stopped on an unhandled .NET exception" in said
    await eventually(
        lambda: any("started the sync" in t for t in thread()), what="the rerun in the thread"
    )
    # The run ends with 0: the failed alert turns green.
    await eventually(
        lambda: any("Recovered" in t or "new cycle" in t.lower() for t in thread()),
        timeout=30,
        what="the recovery in the thread",
    )


def _signed(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    if timestamp is None:
        return signature_headers(secret, body)
    ts = str(timestamp)
    return {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: sign(secret.encode(), ts, body)}


async def test_signature_refusals_and_a_start(world: Agents) -> None:
    body = json.dumps({"action": "rerun", "tenant": "voss", "requested_by": "U1"}).encode()
    unsigned = await _post(world, body, {})
    assert unsigned.status_code == 401 and "sign the request" in unsigned.json()["error"]
    wrong = await _post(world, body, _signed(body, secret="not-the-secret-at-all"))
    assert wrong.status_code == 401
    stale = await _post(world, body, _signed(body, timestamp=int(time.time()) - 3600))
    assert stale.status_code == 401
    tampered_headers = _signed(body)
    tampered = await _post(world, body.replace(b"U1", b"U2"), tampered_headers)
    assert tampered.status_code == 401
    # Signed before the agent started: a replay across a restart, whose first use it forgot.
    before = await _post(world, body, _signed(body, timestamp=int(world.lone.started) - 2))
    assert before.status_code == 401 and "before the agent started" in before.json()["error"]
    assert scheduler.load(world.lone_state)["starts"] == 0  # no refusal started anything
    good = json.dumps({"action": "rerun", "tenant": "voss", "requested_by": "U3"}).encode()
    headers = _signed(good)
    started = await _post(world, good, headers)
    assert started.status_code == 202, started.text
    replayed = await _post(world, good, headers)
    assert replayed.status_code == 401 and "already used" in replayed.json()["error"]
    again_body = good.replace(b"U3", b"U4")
    again = await _post(world, again_body, _signed(again_body))
    assert again.status_code == 409 and "running" in again.json()["error"]
    assert scheduler.load(world.lone_state)["starts"] == 1
    log = world.lone.log()
    assert "refused a run request" in log and "Traceback" not in log


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            {"action": "ticket", "tenant": "voss", "subject": "Export AD failed"},
            '{"action": "ticket", "tenant": "voss"}',
        ),
        ({"action": "rerun", "tenant": "bergen"}, '{"action": "rerun", "tenant": "bergen"}'),
        ({"requested_by": "U5"}, '{"action": null, "tenant": null}'),
        ("not an object", "the JSON is a string, not an object"),
    ],
)
async def test_a_signed_request_for_anything_but_its_own_rerun_starts_nothing(
    world: Agents, body: object, says: str
) -> None:
    before = scheduler.load(world.lone_state)["starts"]
    raw = json.dumps(body).encode()
    refused = await _post(world, raw, _signed(raw))
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert says in error
    assert 'this agent starts its task only for {"action": "rerun", "tenant": "voss"}' in error
    assert scheduler.load(world.lone_state)["starts"] == before
    assert "Traceback" not in world.lone.log()


async def test_connections_that_never_finish_a_request_do_not_keep_the_bot_out(
    world: Agents,
) -> None:
    """What 130 such connections once did to the agent: it refused the central bot's reads
    and wrote half a million log lines. Now the oldest make room, and the log says it once."""
    before = len(world.agent.log().splitlines())
    held = []
    for _ in range(300):
        _reader, writer = await asyncio.open_connection("127.0.0.1", world.agent.port)
        writer.write(b"GET /api/v1/sync/cycles/current HTTP/1.1\r\nHost: x\r\nAuthoriz")
        held.append(writer)
    try:
        started = time.monotonic()
        response = await _get(world, "/api/v1/sync/cycles/current")
        took = time.monotonic() - started
        assert response.status_code == 200 and took < 3, took
    finally:
        for writer in held:
            writer.close()
    log = world.agent.log().splitlines()[before:]
    assert len(log) <= 1, log
    print(f"300 held connections: the agent answered in {took:.2f} s, {len(log)} log line(s)")
