"""Operating the bot: /healthz, /readyz, /metrics and the log, read from `eadm-bot run` as a
process between the Slack double and the simulator, as an orchestrator, Prometheus and a log
shipper read them."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa
from aiohttp import web
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from bot.adapters.runners import verify
from bot.core.domain import EXPORT_AD
from bot.sim.eadm import Fault, Scenario, build_app
from bot.sim.signing import block_actions_body, slash_command_body, view_submission_body
from bot.sim.slack import SlackDouble
from bot.slack import ids
from testkit.e2e import CHANNEL, SIGNING_SECRET, BotProcess, eventually, send_signed
from testkit.world import World
from tests.conftest import PG_ADMIN_URL

# Every test runs on the module's event loop: the shared world's simulator and Slack double
# serve on it, and would stand still while a test ran on a loop of its own.
pytestmark = pytest.mark.asyncio(loop_scope="module")

TENANT = "demo-kommune"
ADMIN = "UADMIN"
STRANGER = "UNOBODY"  # unknown to Slack: users.info fails, which /metrics must count

# Every secret the bot can be given, each a string that appears nowhere else.
OPS_BOT_TOKEN = "xoxb-ops-7c1d9e5b2a4f60"
EADM_TOKEN = "eadm-token-3f9a1c77e2b4"
RERUN_SECRET = "rerun-secret-81b2c4d6e8"
TICKET_SECRET = "ticket-secret-5e6f7a8b9c"
SMTP_PASSWORD = "smtp-pass-9d8c7b6a5f"
SECRETS = {
    "SLACK_BOT_TOKEN": OPS_BOT_TOKEN,
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    "EADM_API_TOKEN": EADM_TOKEN,
    "RERUN_WEBHOOK_SECRET": RERUN_SECRET,
    "TICKET_WEBHOOK_SECRET": TICKET_SECRET,
    "SMTP_URL": f"smtp://eadm-bot:{SMTP_PASSWORD}@127.0.0.1:1",
}

TEXT_LINE = re.compile(r"^\d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+\S+: ")


# -- helpers ---------------------------------------------------------------------------------


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(url)


async def readyz_until(bot: BotProcess, status: int, failing: list[str] | None = None) -> Any:
    """/readyz's body once it answers `status` (and, if given, exactly these failing checks)."""

    async def answer() -> Any:
        response = await get(f"{bot.url}/readyz")
        body = response.json()
        if response.status_code != status:
            return None
        if failing is not None and body["failing"] != failing:
            return None
        return body

    return await eventually(answer, timeout=15, what=f"/readyz {status} failing {failing}")


async def scrape(bot: BotProcess) -> dict[str, Metric]:
    response = await get(f"{bot.url}/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def value(families: dict[str, Metric], sample: str, **labels: str) -> float | None:
    """The sum of a sample's values over the series matching `labels`; None when absent."""
    for family in families.values():
        found = [
            s.value
            for s in family.samples
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
        ]
        if found:
            return sum(found)
    return None


async def metric(bot: BotProcess, sample: str, **labels: str) -> float:
    return value(await scrape(bot), sample, **labels) or 0.0


HEALTHY = Scenario("every cycle completes", (None,))
EXPORT_AD_FAILS = Scenario("Export AD fails", (Fault(EXPORT_AD, "fail"),), more_cycles=False)


# -- readiness -------------------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="module")
async def sqlite_world(tmp_path: Path) -> AsyncIterator[World]:
    """A world of the test's own, beside the module's shared one."""
    async with World.open(tmp_path) as world:
        yield world


@pytest_asyncio.fixture(loop_scope="module")
async def postgres_world(tmp_path: Path, postgres_url: str) -> AsyncIterator[World]:
    """A world of the test's own whose bot keeps its data in PostgreSQL."""
    async with World.open(tmp_path, database_url=postgres_url) as world:
        yield world


async def test_readyz_names_slack_while_the_token_is_refused_and_recovers(
    sqlite_world: World,
) -> None:
    slack = sqlite_world.slack
    slack.fail("auth.test", "invalid_auth", times=None)
    bot = await sqlite_world.start_bot(await sqlite_world.simulator(HEALTHY))
    try:
        body = await readyz_until(bot, 503, failing=["slack"])
        assert body["checks"]["slack"]["ok"] is False
        assert "invalid_auth" in body["checks"]["slack"]["detail"]
        assert "SLACK_BOT_TOKEN" in body["checks"]["slack"]["detail"]
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"][f"poll:{TENANT}"]["ok"] is True
        # Liveness is not readiness: a refused token is no reason to restart the process.
        assert (await get(f"{bot.url}/healthz")).status_code == 200

        slack.clear_faults()
        body = await readyz_until(bot, 200)
        assert body == {
            "ok": True,
            "failing": [],
            "checks": {
                "database": {"ok": True},
                "slack": {"ok": True},
                f"poll:{TENANT}": {"ok": True, "age_s": body["checks"][f"poll:{TENANT}"]["age_s"]},
            },
        }
        assert body["checks"][f"poll:{TENANT}"]["age_s"] < 3

        # A probe loop does not become a Slack call per probe: the good answer is kept.
        asked = len(slack.calls("auth.test"))
        for _ in range(5):
            assert (await get(f"{bot.url}/readyz")).status_code == 200
        assert len(slack.calls("auth.test")) == asked
    finally:
        await bot.stop()


def _set_connections(database: str, allowed: bool) -> None:
    """Let the bot's database accept connections, or refuse them and drop the open ones."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(
                sa.text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}')
            )
            if not allowed:
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": database},
                )
    finally:
        admin.dispose()


async def test_readyz_fails_on_the_database_while_postgres_is_gone_and_recovers(
    postgres_world: World,
) -> None:
    database = make_url(postgres_world.db_url).database
    assert database
    bot = await postgres_world.start_bot(await postgres_world.simulator(HEALTHY))
    try:
        await readyz_until(bot, 200)

        _set_connections(database, allowed=False)
        body = await readyz_until(bot, 503)
        assert "database" in body["failing"], body
        assert body["checks"]["database"]["ok"] is False
        assert "DATABASE_URL" in body["checks"]["database"]["detail"]
        assert body["checks"]["slack"]["ok"] is True
        assert (await get(f"{bot.url}/healthz")).status_code == 503
        # The schedule goes on without its store, saying so, until the store is back.
        await eventually(lambda: f"[{TENANT}] poll failed" in bot.log(), what="a failed poll")

        _set_connections(database, allowed=True)
        await readyz_until(bot, 200)
        assert (await get(f"{bot.url}/healthz")).status_code == 200
    finally:
        _set_connections(database, allowed=True)
        await bot.stop()

    # The default log stays the readable one, and says which tenant's poll failed.
    lines = [line for line in bot.log().splitlines() if line.strip()]
    assert TEXT_LINE.match(lines[0]), lines[0]
    assert not any(line.startswith("{") for line in lines)
    (failed, *_) = [line for line in lines if f"[{TENANT}] poll failed" in line]
    assert TEXT_LINE.match(failed), failed


# -- one scenario with every secret: metrics, actions, the JSON log ---------------------------


class Ops(World):
    """The bot with every secret, the webhooks it calls, and what the eAdm side refused."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hooks: dict[str, list[tuple[dict[str, str], bytes]]] = {"rerun": [], "tickets": []}
        self.eadm_refusals: list[str] = []

    def alert(self) -> dict[str, Any]:
        (message,) = self.slack.messages(CHANNEL)
        return message

    def alert_id(self) -> str:
        return str(self.alert()["metadata"]["event_payload"]["alert_id"])


def _refuse_first_request(refusals: list[str]) -> Any:
    """The eAdm side refuses the bot's token once, as while a rotated token rolls out, so the
    error path runs with the token in play."""

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/api/") and not refusals:
            refusals.append(request.headers.get("Authorization", ""))
            return web.json_response({"error": "missing or wrong bearer token"}, status=401)
        return await handler(request)

    return middleware


@asynccontextmanager
async def ops_world(tmp: Path) -> AsyncIterator[Ops]:
    """The bot with every secret, its alert posted after one rate limit and one refused poll."""
    slack = SlackDouble(token=OPS_BOT_TOKEN, users={ADMIN: {"name": "kari"}})
    # Slack rate-limits the alert's first post once; the bot must wait it out and count it.
    slack.fail("chat.postMessage", "ratelimited", times=1, retry_after=1)
    async with Ops.open(tmp, slack=slack) as world:
        sim = build_app(EXPORT_AD_FAILS, speed=600, token=EADM_TOKEN)
        sim.middlewares.insert(0, _refuse_first_request(world.eadm_refusals))
        eadm_url = await world.serve(sim)

        async def receive(request: web.Request) -> web.Response:
            hook = world.hooks[request.match_info["kind"]]
            hook.append((dict(request.headers), await request.read()))
            return web.json_response({"reference": "HOOK-1", "url": "https://help.example/1"})

        hook_app = web.Application()
        hook_app.router.add_post("/{kind}", receive)
        hook_url = await world.serve(hook_app)

        await world.start_bot(
            eadm_url,
            ADMIN_USERS=ADMIN,
            RERUN_WEBHOOK_URL=f"{hook_url}/rerun",
            TICKET_WEBHOOK_URL=f"{hook_url}/tickets",
            CYCLE_DUE_AFTER="600",
            LOG_FORMAT="json",
            LOG_LEVEL="DEBUG",
            **SECRETS,
        )
        await world.alerts_in([CHANNEL], timeout=20, what="the alert")
        yield world


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ops]:
    async with ops_world(tmp_path_factory.mktemp("ops")) as world:
        yield world


async def ask_status(world: Ops, answer: str) -> None:
    """`/eadm status` from someone Slack does not know."""
    body = slash_command_body(
        ids.COMMAND,
        "status",
        user_id=STRANGER,
        response_url=world.slack.response_url(answer),
    )
    response = await send_signed(world.bot.url, body)
    assert response.status_code == 200
    await eventually(
        lambda: [r for r in world.slack.responses if r["id"] == answer], what="the status"
    )


async def rerun_and_ticket(world: Ops) -> None:
    """Rerun from the alert and open a ticket from it, each through its signed webhook."""
    await _click(world, ids.ACTION_RERUN, "rerun")
    ((headers, raw),) = await eventually(lambda: world.hooks["rerun"], what="the rerun webhook")
    assert verify(
        RERUN_SECRET.encode(), headers["X-Eadm-Timestamp"], raw, headers["X-Eadm-Signature"]
    )
    (answer,) = await eventually(
        lambda: [r for r in world.slack.responses if r["id"] == "rerun"], what="the rerun's answer"
    )
    assert answer["text"].startswith(f"Sync started for {TENANT}."), answer["text"]

    views = len(world.slack.calls("views.open"))
    await _click(world, ids.ACTION_TICKET, "ticket")
    await eventually(lambda: len(world.slack.calls("views.open")) > views, what="the modal")
    values = {
        "subject": {"value": {"type": "plain_text_input", "value": "Export AD failed"}},
        "description": {"value": {"type": "plain_text_input", "value": "Seen by ops."}},
    }
    body = view_submission_body(
        ids.VIEW_TICKET, values, user_id=ADMIN, private_metadata=world.alert_id()
    )
    assert (await send_signed(world.bot.url, body)).status_code == 200
    ((headers, raw),) = await eventually(lambda: world.hooks["tickets"], what="the ticket hook")
    assert verify(
        TICKET_SECRET.encode(), headers["X-Eadm-Timestamp"], raw, headers["X-Eadm-Signature"]
    )


async def test_metrics_count_polls_findings_alerts_and_slack(world: Ops) -> None:
    bot = world.bot
    first = await scrape(bot)
    polls = value(first, "eadm_bot_polls_total", tenant=TENANT)
    assert polls and polls >= 2, "the refused poll and the ones that read the failure"

    async def second() -> dict[str, Metric] | None:
        families = await scrape(bot)
        moved = (value(families, "eadm_bot_polls_total", tenant=TENANT) or 0) > polls
        settled = value(families, "eadm_bot_outbox_depth") == 0
        return families if moved and settled else None

    families = await eventually(second, timeout=10, what="more polls and an empty outbox")
    assert value(families, "eadm_bot_poll_errors_total", tenant=TENANT) == 1, "the 401"
    assert (value(families, "eadm_bot_poll_seconds_count") or 0) >= 1, "one for all tenants"
    assert (value(families, "eadm_bot_findings_total", condition="failed") or 0) > 0
    assert value(families, "eadm_bot_alerts_total", condition="failed", event="opened") == 1
    assert value(families, "eadm_bot_slack_rate_limited_total") == 1
    assert [c.fault for c in world.slack.calls("chat.postMessage")][:2] == ["ratelimited", None]
    assert value(families, "eadm_bot_outbox_depth") == 0
    assert (value(families, "eadm_bot_slack_send_seconds_count") or 0) >= 1
    assert (value(families, "eadm_bot_outbox_delay_seconds_count") or 0) >= 1
    # Every post Slack took is counted, the alert's and any thread replies other tests caused.
    taken = [c for c in world.slack.calls("chat.postMessage") if c.fault is None]
    assert value(families, "eadm_bot_slack_calls_total", method="chat.postMessage") == len(taken)
    families_named = {
        "eadm_bot_polls",
        "eadm_bot_poll_errors",
        "eadm_bot_poll_seconds",
        "eadm_bot_findings",
        "eadm_bot_alerts",
        "eadm_bot_outbox_depth",
        "eadm_bot_outbox_delay_seconds",
        "eadm_bot_slack_send_seconds",
        "eadm_bot_slack_calls",
        "eadm_bot_slack_errors",
        "eadm_bot_slack_rate_limited",
        "eadm_bot_actions",
    }
    assert families_named <= set(families), families_named - set(families)


async def test_a_command_is_counted_by_action_and_outcome(world: Ops) -> None:
    bot = world.bot
    before = await metric(bot, "eadm_bot_actions_total", action="status", outcome="shown")
    errors = await metric(
        bot, "eadm_bot_slack_errors_total", method="users.info", error="user_not_found"
    )
    await ask_status(world, "status")
    assert await metric(bot, "eadm_bot_actions_total", action="status", outcome="shown") == (
        before + 1
    )
    # Slack did not know the asker; the bot answered anyway, and the failed look-up counts.
    assert (
        await metric(
            bot, "eadm_bot_slack_errors_total", method="users.info", error="user_not_found"
        )
        == errors + 1
    )


async def _click(world: Ops, action_id: str, answer: str) -> None:
    body = block_actions_body(
        action_id,
        world.alert_id(),
        user_id=ADMIN,
        channel_id=CHANNEL,
        response_url=world.slack.response_url(answer),
        trigger_id=f"trigger-{answer}",
    )
    assert (await send_signed(world.bot.url, body)).status_code == 200


async def actions(bot: BotProcess) -> dict[tuple[str, str], float]:
    """eadm_bot_actions_total by (action, outcome)."""
    family = (await scrape(bot)).get("eadm_bot_actions")
    samples = family.samples if family else []
    return {
        (s.labels["action"], s.labels["outcome"]): s.value
        for s in samples
        if s.name == "eadm_bot_actions_total"
    }


async def test_rerun_and_ticket_webhooks_are_signed_and_counted(world: Ops) -> None:
    before = await actions(world.bot)
    await rerun_and_ticket(world)

    async def counted() -> dict[tuple[str, str], float]:
        after = await actions(world.bot)
        return {key: n - before.get(key, 0.0) for key, n in after.items() if n != before.get(key)}

    # The ticket is counted once its hook has answered, a moment after the hook has the request.
    await eventually(
        lambda: _has(counted(), ("ticket", "opened")), what="the ticket in the counters"
    )
    # The rerun that started and the ticket that was opened, once each: a refusal, or a
    # rerun that did not start, would be counted under its own outcome.
    assert await counted() == {("rerun", "started"): 1, ("ticket", "opened"): 1}


async def _has(counts: Awaitable[dict[tuple[str, str], float]], key: tuple[str, str]) -> bool:
    return key in await counts


async def test_the_json_log_names_the_tenant_and_never_a_secret(tmp_path: Path) -> None:
    # A bot of its own, taken down every path that touches a secret: the refused token, the
    # alert, a command, the rerun and ticket webhooks; then stopped, so its log is complete.
    async with ops_world(tmp_path) as world:
        await ask_status(world, "status")
        await rerun_and_ticket(world)
        assert world.eadm_refusals == [f"Bearer {EADM_TOKEN}"], "the token was in play"
        assert await world.bot.stop() == 0
        text = world.bot.log()

    for name, secret in {**SECRETS, "SMTP_URL password": SMTP_PASSWORD}.items():
        assert secret not in text, f"{name} leaked into the log"

    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any(e["level"] == "debug" for e in entries), "LOG_LEVEL=DEBUG is honoured"
    about_tenant = [e for e in entries if e["message"].startswith(f"[{TENANT}]")]
    assert about_tenant and all(e.get("tenant") == TENANT for e in about_tenant)
    (refused,) = [e for e in entries if "answered 401" in e["message"]]
    assert refused["level"] == "warning" and refused["tenant"] == TENANT
    assert "EADM_API_TOKEN" in refused["message"]
    # Lines about no tenant in particular carry no tenant field.
    assert any("tenant" not in e for e in entries if e["message"].startswith("eadm-bot running"))
