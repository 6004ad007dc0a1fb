"""`eadm-bot check` on maintenance windows and escalation: each tenant's next window as the
bot reads it, and a warning when the people an alert escalates to would not hear it."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from bot.cli.check.command import run_check
from bot.cli.check.windows import check_escalation, check_windows
from bot.core.settings import Settings, load_settings
from bot.sim import eadm
from bot.sim.slack import SlackDouble
from bot.store import Store

TOKEN = "xoxb-check-windows"
NOV_20 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a Friday


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[SlackDouble]:
    double = SlackDouble(token=TOKEN, usergroups={"S0ONCALL": ["U0KARI", "U0OLA"]})
    await double.start()
    yield double
    await double.stop()


def settings(tmp_path: Path, slack: SlackDouble | None = None, **env: str) -> Settings:
    values = {"slack_bot_token": TOKEN, "slack_signing_secret": "s", "eadm_url": "http://e.invalid"}
    values.update(env)
    if slack is not None:
        values["slack_api_url"] = slack.api_url
    return load_settings(
        _env_file=None,
        alert_channel="C0ALERTS",
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        **values,
    )


@pytest.mark.parametrize(
    ("maintenance", "now", "detail"),
    [
        (
            "second tue 22:00-02:00, sun 06:00-08:00",
            NOV_20,
            "Europe/Oslo: second tue 22:00-02:00, sun 06:00-08:00; "
            "next Sun 2026-11-22 06:00 to Sun 2026-11-22 08:00",
        ),
        (
            "fri 12:00-14:00",
            NOV_20,
            "Europe/Oslo: fri 12:00-14:00; in one until Fri 2026-11-20 14:00; "
            "next Fri 2026-11-27 12:00 to Fri 2026-11-27 14:00",
        ),
        (
            "2026-01-01 00:00-24:00",
            NOV_20,
            "Europe/Oslo: 2026-01-01 00:00-24:00; no next one within a year",
        ),
    ],
)
def test_each_tenants_next_window_is_listed(
    tmp_path: Path, maintenance: str, now: datetime, detail: str
) -> None:
    s = settings(tmp_path, maintenance=maintenance)
    verdict = check_windows(s, s.tenants[0], now)
    assert verdict.ok and verdict.item == "[eadm] maintenance windows"
    assert verdict.detail == detail


async def test_people_to_escalate_to_outside_the_channel_are_warned_of(
    tmp_path: Path, slack: SlackDouble
) -> None:
    client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
    slack.members["C0ALERTS"] = ["U0BOT", "U0KARI"]
    s = settings(tmp_path, slack, escalate_after="3600", escalate_to="S0ONCALL")
    verdict = await check_escalation(s, s.tenants[0], client)
    assert verdict is not None and verdict.warning and verdict.label == "warn"
    assert verdict.detail == "U0OLA not in C0ALERTS, so the mention there notifies nobody"
    assert verdict.fix and "ESCALATE_CHANNEL" in verdict.fix
    slack.members["C0ALERTS"] = ["U0BOT", "U0KARI", "U0OLA"]
    verdict = await check_escalation(s, s.tenants[0], client)
    assert verdict is not None and verdict.ok and not verdict.warning
    person = settings(tmp_path, slack, escalate_after="3600", escalate_to="U0PER")
    verdict = await check_escalation(person, person.tenants[0], client)
    assert verdict is not None and verdict.warning and "U0PER not in C0ALERTS" in verdict.detail


async def test_no_warning_with_an_escalation_channel_or_without_escalation(
    tmp_path: Path, slack: SlackDouble
) -> None:
    client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
    slack.members["C0ALERTS"] = ["U0BOT"]
    elsewhere = settings(
        tmp_path, slack, escalate_after="60", escalate_to="S0ONCALL", escalate_channel="#vakt"
    )
    assert await check_escalation(elsewhere, elsewhere.tenants[0], client) is None
    assert (
        await check_escalation(settings(tmp_path, slack), settings(tmp_path).tenants[0], client)
        is None
    )
    here = settings(tmp_path, slack, escalate_after="60", escalate_to="here")
    verdict = await check_escalation(here, here.tenants[0], client)
    assert verdict is not None and verdict.ok


async def test_a_warning_passes_the_check_and_is_counted(
    tmp_path: Path, slack: SlackDouble
) -> None:
    runner, port = await eadm.serve("127.0.0.1", 0, scenario_name="healthy")
    slack.members["C0ALERTS"] = ["U0BOT"]
    s = settings(
        tmp_path,
        slack,
        eadm_url=f"http://127.0.0.1:{port}",
        escalate_after="60",
        escalate_to="U0PER",
        maintenance="sun 06:00-08:00",
    )
    store = Store(s.database_url)
    store.migrate()
    store.dispose()
    out = io.StringIO()
    try:
        code = await asyncio.to_thread(run_check, s, out)
    finally:
        await runner.cleanup()
    lines = out.getvalue().splitlines()
    assert code == 0, lines
    (warning,) = [ln for ln in lines if ln.startswith("  warn")]
    assert warning.startswith("  warn  [eadm] escalation to U0PER: U0PER not in C0ALERTS")
    windows = "  ok    [eadm] maintenance windows (Europe/Oslo: sun 06:00-08:00; next Sun "
    assert any(ln.startswith(windows) for ln in lines)
    assert re.fullmatch(r"All \d+ checks passed \(3 skipped, 1 warning\)\.", lines[-1])
