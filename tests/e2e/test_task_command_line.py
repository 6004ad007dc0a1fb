"""The command line for the sync task: the demo's task source, the agent's refusals to start
without its secrets, and the shipped script."""

from __future__ import annotations

import time
from pathlib import Path

from testkit.e2e import eadm_bot, eadm_bot_running


def test_the_task_demo_plays_a_failed_run_in_the_terminal(tmp_path: Path) -> None:
    """A crashed run's alert, and in its thread what Event Viewer says of the crash."""
    seen: list[str] = []
    deadline = time.monotonic() + 55
    with eadm_bot_running("demo", "--source", "task", "--duration", "60", cwd=tmp_path) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if "event 201: The sync program ended" in line or time.monotonic() > deadline:
                break
    out = "".join(seen)
    assert "Sync task failed · demo-kommune" in out, out[-2000:]
    thread = out[out.index("Sync task failed · demo-kommune") :]
    assert "↳ What Event Viewer says" in thread, out[-2000:]
    assert "event 1026: The eAdm client stopped on an unhandled .NET exception" in thread
    assert "Traceback" not in out
    assert list(tmp_path.iterdir()) == [], "the demo leaves the working folder as it was"


def test_the_agent_will_not_start_without_its_token_and_secret(tmp_path: Path) -> None:
    result = eadm_bot("agent", cwd=tmp_path, EADM_TASK_COMMAND='["true"]')
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for name in ("AGENT_TOKEN", "AGENT_SECRET", "AGENT_START_COMMAND"):
        assert f"  - {name}: " in result.stderr, result.stderr


def test_task_script_prints_the_shipped_powershell(tmp_path: Path) -> None:
    result = eadm_bot("task-script", cwd=tmp_path)
    assert result.returncode == 0
    for word in ("Get-ScheduledTask", "Get-ScheduledTaskInfo", "ConvertTo-Json", "TaskName"):
        assert word in result.stdout
    events = eadm_bot("task-script", "--events", cwd=tmp_path)
    assert events.returncode == 0
    for word in ("Get-WinEvent", "OperationalLogEnabled", "-Since", "Event Log Readers"):
        assert word in events.stdout
    assert "Get-ScheduledTaskInfo" not in events.stdout
