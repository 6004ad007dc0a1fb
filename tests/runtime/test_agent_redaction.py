"""What the agent on the eAdm client server serves leaves it redacted: the log folder's lines on
a failed run, and the errors of a task command that fails, over real HTTP from the agent
built in-process on a stand-in task command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx

from bot.core.settings import load_settings
from bot.runtime.agent import Agent
from testkit.identity import spaced, synthetic_fnr

FNR = synthetic_fnr(2, 2, 1982)
STAND_IN = Path(__file__).parents[1] / "doubles" / "task_command.py"
FAILED = Path(__file__).parents[1] / "fixtures" / "task" / "ps7-failed-terminated.json"
TOKEN = "agent-token-0123456789"


async def serve_and_read(command: list[str], log_dir: Path) -> httpx.Response:
    settings = load_settings(
        require_slack=False,
        require_tenants=False,
        agent_token=TOKEN,
        agent_secret="agent-secret-0123456789",
        eadm_task_command=json.dumps(command),
        eadm_log_dir=log_dir,
        redact_patterns='["ANS-\\\\d{4}"]',
    )
    agent = Agent(settings)
    await agent.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient() as client:
            return await client.get(
                f"http://127.0.0.1:{agent.port}/api/v1/sync/cycles/current",
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
    finally:
        await agent.stop()


async def test_a_failed_runs_log_lines_are_served_redacted(tmp_path: Path) -> None:
    (tmp_path / "eAdm.log").write_text(
        f"2026-11-26 05:00:02 ERROR Bruker {spaced(FNR)} (ANS-1234) finnes ikke\n",
        encoding="utf-8",
    )
    response = await serve_and_read([sys.executable, str(STAND_IN), str(FAILED)], tmp_path)
    assert response.status_code == 200
    assert "Bruker [fnr] ([redacted]) finnes ikke" in response.text
    assert FNR[:6] not in response.text and "ANS-1234" not in response.text


async def test_a_failing_commands_error_is_served_redacted(tmp_path: Path) -> None:
    script = f"import sys; sys.stderr.write('no access for {FNR}\\n'); sys.exit(5)"
    response = await serve_and_read([sys.executable, "-c", script], tmp_path)
    assert response.status_code == 502
    assert "no access for [fnr]" in response.json()["error"] and FNR not in response.text


def test_the_agents_event_viewer_readings_use_its_redactor(tmp_path: Path) -> None:
    settings = load_settings(
        require_slack=False,
        require_tenants=False,
        agent_token=TOKEN,
        agent_secret="agent-secret-0123456789",
        eadm_task_command=json.dumps([sys.executable, str(STAND_IN), str(FAILED)]),
        redact_patterns='["ANS-\\\\d{4}"]',
    )
    agent = Agent(settings)
    assert agent.events.redactor is settings.redactor
    assert agent.events.redactor("ANS-1234") == "[redacted]"
