"""`eadm-bot check` for the task and exporter sources: read the task once, say what was found."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

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
