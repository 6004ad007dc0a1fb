"""`eadm-bot check` against real endpoints on 127.0.0.1: the Slack Web API double, the
simulator, a SQLite file; each broken setting must give its own verdict and fix."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import yaml
from aiohttp import web

from bot.cli.check import REQUIRED_SCOPES, Verdict, check_all, check_database, run_check
from bot.core.settings import Settings, load_settings
from bot.sim import eadm
from bot.sim import slack as slack_double
from bot.sim.slack import SlackDouble
from bot.store import Store
from tests.doubles.socket_mode import SocketModeDouble, SocketSlackDouble

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-app-manifest.yml"
TOKEN = "xoxb-check-test"


class SlackWithChannels(SlackDouble):
    """conversations.info as Slack answers it: channel IDs only, and only channels that exist;
    names are found through conversations.list, one channel per page to make paging count."""

    CHANNELS: ClassVar[dict[str, dict[str, Any]]] = {
        "C0ALERTS": {"name": "eadm-alerts", "is_member": True, "is_archived": False},
        "C0RANDOM": {"name": "random", "is_member": False, "is_archived": False},
        "C0OLD": {"name": "old-alerts", "is_member": True, "is_archived": True},
    }

    def _m_conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        found = self.CHANNELS.get(str(params.get("channel", "")))
        if found is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": params["channel"], **found}}

    def _m_conversations_list(self, params: dict[str, Any]) -> dict[str, Any]:
        ids = list(self.CHANNELS)
        at = int(params.get("cursor") or 0)
        page = [{"id": ids[at], **self.CHANNELS[ids[at]]}]
        following = str(at + 1) if at + 1 < len(ids) else ""
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": following}}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(
            ("SLACK_", "EADM_", "ALERT_", "RERUN_", "TICKET_", "SMTP_", "ADMIN_", "ZENDESK_")
        ) or name in ("DATABASE_URL", "PORT", "TENANT_NAME"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.fixture
async def slack() -> AsyncIterator[SlackDouble]:
    double = SlackWithChannels(token=TOKEN)
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def eadm_url() -> AsyncIterator[str]:
    runner, port = await eadm.serve("127.0.0.1", 0, scenario_name="healthy")
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
def migrated_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'eadm-bot.db'}"
    store = Store(url)
    store.migrate()
    store.dispose()
    return url


@pytest.fixture
def make_settings(slack: SlackDouble, eadm_url: str, migrated_db: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "slack_bot_token": TOKEN,
            "slack_signing_secret": "check-test-secret",
            "slack_api_url": slack.api_url,
            "eadm_url": eadm_url,
            "alert_channel": "C0ALERTS",
            "database_url": migrated_db,
            "rerun_command": [sys.executable, "-c", "pass"],
        }
        values.update(overrides)
        return load_settings(**values)

    return make


async def check(settings: Settings) -> dict[str, Verdict]:
    verdicts = await check_all(settings)
    return {v.item: v for v in verdicts}


async def run(settings: Settings | None = None) -> tuple[int, str]:
    """The command itself, in a thread: it runs its own event loop, ours serves the doubles."""
    out = io.StringIO()
    code = await asyncio.to_thread(run_check, settings, out)
    return code, out.getvalue()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def newest_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from bot.store.repo import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def line(output: str, start: str) -> str:
    found = [ln for ln in output.splitlines() if ln.strip().startswith(start)]
    assert found, f"no line starting with {start!r} in:\n{output}"
    return found[0]


# -- the good configuration ------------------------------------------------------------------


async def test_good_configuration_passes_every_item(make_settings: Callable[..., Settings]) -> None:
    code, output = await run(make_settings())
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == "  ok    settings valid (1 tenant: eadm; HTTP mode)"
    assert lines[1].startswith("  ok    database reachable and migrated (sqlite:///")
    assert lines[1].endswith(f"revision {newest_revision()})")
    assert lines[2] == (
        "  ok    data kept (keeps cycles, resolved alerts, closed digests and finished reruns for "
        "90 days, messages Slack has taken for 1 day; the audit log for 365 days)"
    )
    assert lines[3] == "  ok    Slack token (bot @eadm-bot in Demo kommune)"
    assert lines[4] == f"  ok    Slack scopes (all {len(REQUIRED_SCOPES)} the bot needs)"
    assert line(output, "skip  Slack app-level token").endswith("POST /slack/events")
    assert "ok    [eadm] alert channel C0ALERTS (C0ALERTS, #eadm-alerts" in output
    assert "ok    [eadm] eAdm status API (http://127.0.0.1:" in output
    assert line(output, "ok    [eadm] rerun runner")
    assert line(output, "skip  [eadm] ticket target")
    assert "FAIL" not in output
    assert lines[-1] == "All 8 checks passed (2 skipped)."


async def test_socket_mode_checks_the_app_token(
    make_settings: Callable[..., Settings],
) -> None:
    socket_double = SocketModeDouble()
    await socket_double.start()
    slack = SocketSlackDouble(socket_double, app_token="xapp-check", token=TOKEN)
    await slack.start()
    try:
        good = await check(make_settings(slack_app_token="xapp-check", slack_api_url=slack.api_url))
        bad = await check(make_settings(slack_app_token="xapp-wrong", slack_api_url=slack.api_url))
    finally:
        await slack.stop()
        await socket_double.stop()
    assert good["Slack app-level token"].ok and not good["Slack app-level token"].skipped
    verdict = bad["Slack app-level token"]
    assert not verdict.ok and verdict.detail == "invalid_auth"
    assert verdict.fix and "SLACK_APP_TOKEN" in verdict.fix
    assert len(slack.calls("apps.connections.open")) == 2


async def test_channel_names_are_found_across_pages(
    make_settings: Callable[..., Settings], slack: SlackDouble
) -> None:
    verdicts = await check(make_settings(alert_channel="#old-alerts"))
    verdict = verdicts["[eadm] alert channel #old-alerts"]
    assert not verdict.ok and verdict.detail == "C0OLD, #old-alerts is archived"
    assert len(slack.calls("conversations.list")) == 3  # the third page had it

    verdicts = await check(make_settings(alert_channel="#eadm-alerts"))
    assert verdicts["[eadm] alert channel #eadm-alerts"].ok


# -- broken configurations -------------------------------------------------------------------


async def test_bad_token(make_settings: Callable[..., Settings]) -> None:
    code, output = await run(make_settings(slack_bot_token="xoxb-revoked"))
    assert code == 1
    assert line(output, "FAIL  Slack token") == (
        "  FAIL  Slack token: invalid_auth — set SLACK_BOT_TOKEN to the Bot User OAuth Token "
        "(xoxb-...) from your Slack app's OAuth & Permissions page"
    )
    # Channels cannot be asked about without a token; eAdm still can.
    assert line(output, "skip  [eadm] alert channel")
    assert line(output, "ok    [eadm] eAdm status API")
    assert output.splitlines()[-1].startswith("1 of 6 checks failed (3 skipped)")


async def test_missing_scope(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    granted = [s for s in REQUIRED_SCOPES if s not in ("groups:read", "users:read.email")]
    monkeypatch.setattr(slack_double, "SCOPES", ",".join(granted))
    code, output = await run(make_settings())
    assert code == 1
    failing = line(output, "FAIL  Slack scopes")
    assert "missing groups:read, users:read.email" in failing
    assert "reinstall the app after adding them" in failing
    assert line(output, "ok    Slack token")


async def test_unknown_channel(make_settings: Callable[..., Settings]) -> None:
    for channel in ("C0NOPE", "#no-such-channel"):
        verdict = (await check(make_settings(alert_channel=channel)))[
            f"[eadm] alert channel {channel}"
        ]
        assert not verdict.ok and verdict.detail == "channel_not_found", channel
        assert verdict.fix and "/invite @eadm-bot" in verdict.fix and "ALERT_CHANNEL" in verdict.fix


async def test_bot_not_in_channel(make_settings: Callable[..., Settings]) -> None:
    verdict = (await check(make_settings(alert_channel="C0RANDOM")))[
        "[eadm] alert channel C0RANDOM"
    ]
    assert not verdict.ok and "not a member" in verdict.detail
    assert verdict.fix == "invite the bot with /invite @eadm-bot in that channel"


async def test_not_in_channel_error_from_slack(
    make_settings: Callable[..., Settings], slack: SlackDouble
) -> None:
    slack.fail("conversations.info", "not_in_channel", times=None)
    verdict = (await check(make_settings()))["[eadm] alert channel C0ALERTS"]
    assert not verdict.ok and verdict.detail == "not_in_channel"
    assert verdict.fix and verdict.fix.startswith("invite the bot with /invite @eadm-bot")


async def test_eadm_down(make_settings: Callable[..., Settings]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    code, output = await run(make_settings(eadm_url=url))
    assert code == 1
    failing = line(output, "FAIL  [eadm] eAdm status API")
    assert f"cannot reach the eAdm status API at {url}" in failing
    assert "check EADM_URL" in failing
    assert " — " not in failing, "the source's message names the fix; no contract fix after it"


async def test_eadm_answering_garbage(
    make_settings: Callable[..., Settings], eadm_url: str
) -> None:
    async with httpx.AsyncClient() as client:
        await client.post(f"{eadm_url}/_sim/api", json={"mode": "garbage"})
    verdict = (await check(make_settings()))["[eadm] eAdm status API"]
    assert not verdict.ok
    assert "not the status contract: the body is not JSON" in verdict.detail
    assert "next poll" not in verdict.detail  # the poller's promise means nothing here
    assert verdict.fix and "EADM_URL" in verdict.fix


async def test_eadm_answering_json_that_is_not_a_cycle(
    make_settings: Callable[..., Settings],
) -> None:
    app = web.Application()

    async def wrong(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/api/v1/sync/cycles/current", wrong)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        verdicts = await check(make_settings(eadm_url=f"http://127.0.0.1:{port}"))
    finally:
        await runner.cleanup()
    verdict = verdicts["[eadm] eAdm status API"]
    assert not verdict.ok and "the cycle has no cycle_id" in verdict.detail
    assert verdict.fix and verdict.fix.startswith("point EADM_URL at a server that serves the")


async def test_unmigrated_database(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    code, output = await run(make_settings(database_url=f"sqlite:///{empty}"))
    assert code == 1
    failing = line(output, "FAIL  database")
    assert "does not exist yet" in failing and "run eadm-bot db upgrade" in failing
    assert not empty.exists()  # check reads; it never creates the database

    Store(f"sqlite:///{empty}").ping()  # now the file exists, without tables
    verdict = (await check(make_settings(database_url=f"sqlite:///{empty}")))["database"]
    assert not verdict.ok and "has no eadm-bot tables yet" in verdict.detail
    assert verdict.fix and verdict.fix.startswith("run eadm-bot db upgrade")


async def test_database_behind_or_ahead_of_this_version(
    make_settings: Callable[..., Settings], migrated_db: str
) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(migrated_db)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    verdict = (await check(make_settings()))["database"]
    assert not verdict.ok and "revision 9999, which this eadm-bot does not know" in verdict.detail


async def test_database_unreachable(make_settings: Callable[..., Settings]) -> None:
    url = f"postgresql://eadm@127.0.0.1:{closed_port()}/eadm"
    verdict = (await check(make_settings(database_url=url)))["database"]
    assert not verdict.ok and verdict.detail.startswith("cannot connect to postgresql+psycopg://")
    assert verdict.fix and "DATABASE_URL" in verdict.fix


async def test_rerun_command_that_does_not_exist(make_settings: Callable[..., Settings]) -> None:
    code, output = await run(make_settings(rerun_command=["no-such-schtasks", "/Run"]))
    assert code == 1
    failing = line(output, "FAIL  [eadm] rerun runner")
    assert "'no-such-schtasks' was not found" in failing and "RERUN_COMMAND" in failing


async def test_ticket_target_unreachable(make_settings: Callable[..., Settings]) -> None:
    host = f"http://127.0.0.1:{closed_port()}"
    url = f"{host}/tickets?code=s3cret"
    verdict = (await check(make_settings(ticket_webhook_url=url)))["[eadm] ticket target"]
    assert not verdict.ok and host in verdict.detail and "TICKET_WEBHOOK_URL" in verdict.detail
    assert "/tickets" not in verdict.detail and "s3cret" not in verdict.detail


async def test_ticket_target_reachable(
    make_settings: Callable[..., Settings], eadm_url: str
) -> None:
    verdict = (await check(make_settings(ticket_webhook_url=f"{eadm_url}/tickets")))[
        "[eadm] ticket target"
    ]
    assert verdict.ok and not verdict.skipped, verdict


async def test_invalid_settings_name_each_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "not-a-bot-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cret")
    monkeypatch.setenv("POLL_INTERVAL", "-5")
    code, output = await run()
    assert code == 2
    fails = [ln for ln in output.splitlines() if ln.startswith("  FAIL  ")]
    named = {ln.removeprefix("  FAIL  ").split(":")[0] for ln in fails}
    assert named == {"POLL_INTERVAL"}  # pydantic stops before the settings that go together

    monkeypatch.setenv("POLL_INTERVAL", "60")
    code, output = await run()
    assert code == 2
    fails = [ln.removeprefix("  FAIL  ") for ln in output.splitlines() if "FAIL" in ln]
    assert [f.split(":")[0] for f in fails] == ["SLACK_BOT_TOKEN", "EADM_URL", "ALERT_CHANNEL"]
    assert all("; " in f for f in fails)  # each says what to do
    assert "nothing else was checked" in output


async def test_settings_passed_in_are_checked_too(migrated_db: str) -> None:
    settings = Settings(database_url=migrated_db)  # built directly, skipping load_settings
    code, output = await run(settings)
    assert code == 2 and "SLACK_BOT_TOKEN: missing" in output


# -- the scopes the check asks for are the manifest's --------------------------------------------


def test_required_scopes_are_the_manifests() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert list(REQUIRED_SCOPES) == manifest["oauth_config"]["scopes"]["bot"]
    # And the Slack double grants exactly these, so the good configuration passes.
    assert set(slack_double.SCOPES.split(",")) == set(REQUIRED_SCOPES)


@pytest.mark.postgres
def test_postgres_database_before_and_after_migrating(postgres_url: str) -> None:
    before = check_database(postgres_url)
    assert not before.ok and "has no eadm-bot tables yet" in before.detail
    store = Store(postgres_url)
    store.migrate()
    store.dispose()
    after = check_database(postgres_url)
    assert after.ok and after.item == "database reachable and migrated", after


async def test_a_misconfigured_runner_and_target_fail_as_the_bot_resolves_them() -> None:
    from bot.cli.check import check_rerun, check_ticket
    from bot.core.settings import RerunConfig, Tenant, TicketConfig

    tenant = Tenant(
        name="voss",
        eadm_url="http://127.0.0.1:9",
        channel="C1",
        rerun=RerunConfig(kind="webhook"),
        ticket=TicketConfig(kind="email", email_to="support@example.no"),
    )
    rerun, ticket = await check_rerun(tenant), await check_ticket(tenant)
    assert not rerun.ok and "RERUN_WEBHOOK_URL: missing for tenant voss" in rerun.detail
    assert not ticket.ok and "SMTP_URL: missing for tenant voss" in ticket.detail


async def test_it_says_what_is_kept_and_points_at_the_membership_events(
    make_settings: Callable[..., Settings], tmp_path: Path, eadm_url: str
) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text(
        "".join(
            f'[[tenants]]\nname = "{name}"\neadm_url = "{eadm_url}"\nchannel = "C0ALERTS"\n'
            for name in ("voss", "os")
        ),
        encoding="utf-8",
    )
    code, output = await run(
        make_settings(eadm_bot_config=config, retention_days=0, audit_retention_days=30)
    )
    assert line(output, "ok    data kept").endswith(
        "(keeps cycles, alerts, digests, reruns and messages for ever (RETENTION_DAYS=0); "
        "the audit log for 30 days)"
    )
    events = line(output, "warn  Slack membership events")
    assert "member_joined_channel" in events and "member_left_channel" in events
    assert code == 0 and output.splitlines()[-1].endswith(" skipped, 1 warning).")
    _, single = await run(make_settings())
    assert "membership events" not in single, "one tenant: everyone sees it"
