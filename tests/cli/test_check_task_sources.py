"""`eadm-bot check` for the task and exporter sources: read the task once, say what was found."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.cli.check import check_task
from bot.core.settings import Settings, load_settings

FIXTURES = Path(__file__).parents[1] / "fixtures"
STAND_IN = [sys.executable, str(Path(__file__).parents[1] / "doubles" / "task_command.py")]


def settings(**env: str) -> Settings:
    return load_settings(require_slack=False, alert_channel="C1", **env)


async def test_check_reads_the_task_and_says_what_it_found() -> None:
    command = json.dumps([*STAND_IN, str(FIXTURES / "task" / "ps51-failed-dotnet.json")])
    s = settings(eadm_source="task", eadm_task_command=command, timezone="Europe/Oslo")
    verdict = await check_task(s, s.tenants[0])
    assert verdict.ok, verdict
    assert '"\\eAdm synkronisering" is ready' in verdict.detail
    assert "last run 2026-11-27 06:00" in verdict.detail
    assert "0xE0434352 (3762504530)" in verdict.detail
    assert "next run 2026-11-27 07:00" in verdict.detail


async def test_check_says_the_task_is_missing() -> None:
    argv = [*STAND_IN, "--stderr", str(FIXTURES / "task" / "not-found.stderr"), "--exit", "1"]
    s = settings(eadm_source="task", eadm_task_command=json.dumps(argv))
    verdict = await check_task(s, s.tenants[0])
    assert not verdict.ok
    assert 'no task named "eAdm synkronisering"' in verdict.detail


async def test_check_exporter_unreachable_names_the_url() -> None:
    s = settings(eadm_source="exporter", eadm_exporter_url="http://127.0.0.1:9/metrics")
    verdict = await check_task(s, s.tenants[0])
    assert not verdict.ok and "127.0.0.1:9/metrics" in verdict.detail


@pytest.mark.parametrize(
    "env,words",
    [
        ({"eadm_source": "task"}, "EADM_TASK_COMMAND: missing"),
        ({"eadm_source": "exporter"}, "EADM_EXPORTER_URL: missing"),
        ({"eadm_source": "task,exporter"}, "EADM_SOURCE: combines task and exporter"),
        ({"eadm_source": "pigeon"}, "EADM_SOURCE"),
        ({"eadm_source": "task", "eadm_task_command": "ssh eadm01"}, "EADM_TASK_COMMAND"),
    ],
)
def test_source_settings_say_what_is_missing(env: dict[str, str], words: str) -> None:
    from bot.core.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        settings(**env)
    assert words in str(caught.value)


def test_a_tenant_file_names_its_source(tmp_path: Path) -> None:
    path = tmp_path / "tenants.toml"
    path.write_text(
        '[[tenants]]\nname = "a"\nchannel = "C1"\nsource = "task"\n'
        'task_command = ["ssh", "eadm01", "get-sync-task"]\ntask_name = "eAdm"\n\n'
        '[[tenants]]\nname = "b"\nchannel = "C2"\nsources = ["api", "exporter"]\n'
        'eadm_url = "https://b.example.no"\nexporter_url = "http://eadm-b:9182/metrics"\n',
        encoding="utf-8",
    )
    s = settings(eadm_bot_config=str(path))
    a, b = s.tenants
    assert (a.sources, a.task_name, a.task_source) == (["task"], "eAdm", "task")
    assert (b.sources, b.task_source) == (["api", "exporter"], "exporter")


def events_settings(events: list[str], **env: str) -> Settings:
    task = json.dumps([*STAND_IN, str(FIXTURES / "task" / "ps51-failed-dotnet.json")])
    argv = [*events, "-TaskName", "{task}", "-Since", "{since}"]
    return settings(
        eadm_source="task",
        eadm_task_command=task,
        eadm_events_command=json.dumps(argv),
        timezone="Europe/Oslo",
        **env,
    )


async def test_check_runs_the_events_command_and_says_what_it_found() -> None:
    s = events_settings([*STAND_IN, str(FIXTURES / "events" / "ps51-dotnet-crash.json")])
    verdicts = await check_all_of(s)
    (verdict,) = [v for v in verdicts if "Event Viewer" in v.item]
    assert verdict.ok and verdict.item == "[eadm] Event Viewer"
    assert "8 event(s), 3 an alert would tell; task history is on" in verdict.detail


@pytest.mark.parametrize(
    "events,ok,words",
    [
        (["ps51-history-off.json"], True, "0 event(s), 0 an alert would tell; task history is OFF"),
        (["ps51-single-event.json"], True, "does not say whether task history is on"),
        (
            ["--stderr", str(FIXTURES / "events" / "access-denied.stderr"), "--exit", "1"],
            False,
            "Attempted to perform an unauthorized operation",
        ),
        (["--text", "Get-WinEvent : Access is denied."], False, "did not print JSON"),
    ],
)
async def test_check_events_verdicts(events: list[str], ok: bool, words: str) -> None:
    argv = [
        *STAND_IN,
        *(str(FIXTURES / "events" / e) if e.endswith(".json") else e for e in events),
    ]
    s = events_settings(argv)
    (verdict,) = [v for v in await check_all_of(s) if "Event Viewer" in v.item]
    assert verdict.ok is ok and words in verdict.detail, verdict
    if not ok:
        assert verdict.fix and "Event Log Readers" in verdict.fix


async def test_check_has_no_events_item_without_a_command() -> None:
    command = json.dumps([*STAND_IN, str(FIXTURES / "task" / "ps51-ready.json")])
    s = settings(eadm_source="task", eadm_task_command=command)
    assert not [v for v in await check_all_of(s) if "Event Viewer" in v.item]


async def check_all_of(s: Settings) -> list[Any]:
    from bot.cli.check.command import check_tenant

    client = AsyncWebClient(token="xoxb-x", base_url="http://127.0.0.1:9/api/")
    return await check_tenant(s, s.tenants[0], client, slack_works=False)


async def test_check_says_what_the_agent_serves_of_event_viewer() -> None:
    from aiohttp import web

    from bot.cli.check.eadm import check_eadm
    from bot.core.domain import snapshot_to_dict
    from bot.core.task_rules import task_snapshot
    from bot.sources.events import contract_events, parse_events
    from bot.sources.task import TaskWatch, judge_result, parse_output
    from testkit.e2e import serve_app

    reading = parse_output(
        (FIXTURES / "task" / "ps51-failed-dotnet.json").read_bytes(), task_name="eAdm"
    )
    task = TaskWatch().observe(reading, datetime.now(UTC), last_ok=judge_result(reading))
    body = snapshot_to_dict(task_snapshot("voss", task, datetime.now(UTC)))
    served = parse_events((FIXTURES / "events" / "ps51-history-off.json").read_bytes())
    body["task"].update(contract_events(served))  # type: ignore[union-attr]

    async def current(_request: web.Request) -> web.Response:
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/api/v1/sync/cycles/current", current)
    runner, url = await serve_app(app)
    try:
        s = settings(eadm_url=url, tenant_name="voss")  # the agent's own name
        verdict = await check_eadm(s.tenants[0])
    finally:
        await runner.cleanup()
    assert verdict.ok
    said = "with the last run, Event Viewer: 0 event(s), 0 an alert would tell; task history is OFF"
    assert said in verdict.detail
