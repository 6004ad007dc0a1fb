"""The rerun runners against real things: subprocesses, a local webhook, the simulator."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.adapters.runners import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    CommandRunner,
    SimulatorRunner,
    WebhookRunner,
    decode_output,
    runner_for,
    sign,
    verify,
)
from bot.core.errors import ConfigError
from bot.core.settings import RerunConfig, Tenant
from bot.sim.eadm import build_app
from testkit.e2e import serving

PY = sys.executable


def closed_port() -> int:
    """A port nothing listens on, so connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run(runner: Any) -> Any:
    return await runner.run(tenant="demo-kommune", requested_by="U123 (Kari)", alert_id=7)


# -- command ------------------------------------------------------------------------------------


async def test_command_exit_zero_is_ok() -> None:
    result = await run(CommandRunner([PY, "-c", "print('SUCCESS: Attempted to run')"]))
    assert result.ok
    assert result.detail == "exit code 0"


async def test_command_failure_reports_exit_code_and_last_lines() -> None:
    code = (
        "import sys; print('noise ' * 100); "
        "print('ERROR: The system cannot find the file'); sys.exit(1)"
    )
    result = await run(CommandRunner([PY, "-c", code]))
    assert not result.ok
    assert result.detail.startswith("exit code 1: ")
    assert result.detail.endswith("ERROR: The system cannot find the file")
    assert len(result.detail) <= len("exit code 1: ") + 300


async def test_command_stderr_is_captured() -> None:
    code = "import sys; sys.stderr.write('Tilgang nektet\\n'); sys.exit(5)"
    result = await run(CommandRunner([PY, "-c", code]))
    assert result.detail == "exit code 5: Tilgang nektet"


async def test_command_output_in_windows_code_pages_is_readable() -> None:
    for codec in ("cp850", "cp1252"):
        code = (
            "import sys; sys.stdout.buffer.write("
            f"'FEIL: Oppgaven ble ikke kjørt på serveren'.encode({codec!r})); sys.exit(2)"
        )
        result = await run(CommandRunner([PY, "-c", code]))
        assert result.detail == "exit code 2: FEIL: Oppgaven ble ikke kjørt på serveren", codec


def test_decode_output_prefers_utf8() -> None:
    assert decode_output("æøå ÆØÅ".encode()) == "æøå ÆØÅ"
    assert decode_output("æøå ÆØÅ".encode("cp850")) == "æøå ÆØÅ"
    assert decode_output("æøå ÆØÅ".encode("cp1252")) == "æøå ÆØÅ"


async def test_command_timeout_kills_it_and_its_children() -> None:
    # A child that starts a grandchild holding the same output pipe: killing only the child
    # would leave the pipe open and the button waiting.
    hang = "import threading; threading.Event().wait()"
    code = (
        "import os, subprocess, sys; "
        "print(os.getpid(), flush=True); "
        f"subprocess.Popen([sys.executable, '-c', {hang!r}]); "
        f"{hang}"
    )
    started = time.monotonic()
    result = await run(CommandRunner([PY, "-c", code], timeout=0.5))
    assert time.monotonic() - started < 3
    assert not result.ok
    assert "did not finish within 0.5 s" in result.detail
    pid = int(result.detail.split("last output: ")[1].split(".")[0])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_missing_executable_names_the_setting() -> None:
    runner = CommandRunner(["eadm-no-such-program-4711", "/Run"])
    result = await run(runner)
    assert not result.ok
    assert "RERUN_COMMAND" in result.detail
    assert "eadm-no-such-program-4711" in result.detail
    ok, message = await runner.check()
    assert not ok
    assert "RERUN_COMMAND" in message


async def test_check_finds_a_program_on_path() -> None:
    ok, message = await CommandRunner([PY, "-V"]).check()
    assert ok, message


def test_describe_uses_windows_quoting() -> None:
    runner = CommandRunner(["schtasks", "/Run", "/TN", "eAdm synkronisering"])
    assert runner.describe == 'schtasks /Run /TN "eAdm synkronisering"'


def test_empty_command_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="RERUN_COMMAND"):
        CommandRunner([])


# -- signatures ---------------------------------------------------------------------------------


def test_sign_and_verify() -> None:
    body = b'{"action": "rerun"}'
    now = int(time.time())
    signature = sign(b"s3cret", str(now), body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify(b"s3cret", str(now), body, signature)
    assert not verify(b"other", str(now), body, signature)
    assert not verify(b"s3cret", str(now), body + b" ", signature)
    assert not verify(b"s3cret", str(now + 1), body, signature)
    # An old request captured on the wire is refused even with a valid signature.
    old = str(now - 3600)
    assert not verify(b"s3cret", old, body, sign(b"s3cret", old, body))
    assert verify(b"s3cret", old, body, sign(b"s3cret", old, body), max_age=None)
    assert not verify(b"s3cret", "not-a-number", body, signature)


# -- webhook ------------------------------------------------------------------------------------


def webhook_app(
    secret: bytes | None, seen: list[dict[str, Any]], status: int = 202
) -> web.Application:
    async def hook(request: web.Request) -> web.Response:
        raw = await request.read()
        if secret is not None:
            good = verify(
                secret,
                request.headers.get(TIMESTAMP_HEADER, ""),
                raw,
                request.headers.get(SIGNATURE_HEADER, ""),
            )
            if not good:
                return web.json_response({"error": "bad signature"}, status=401)
        assert request.content_type == "application/json"
        seen.append(json.loads(raw))
        return web.json_response({"accepted": True}, status=status)

    app = web.Application()
    app.router.add_post("/hooks/eadm-rerun", hook)
    return app


async def test_webhook_posts_signed_json() -> None:
    seen: list[dict[str, Any]] = []
    async with serving(webhook_app(b"hemmelig", seen)) as base:
        runner = WebhookRunner(f"{base}/hooks/eadm-rerun", "hemmelig", timeout=5)
        assert runner.describe == f"POST {base}"  # scheme and host only
        result = await run(runner)
        assert (await runner.check())[0]
    assert result.ok and result.detail == "HTTP 202"
    [payload] = seen
    assert payload["action"] == "rerun"
    assert payload["tenant"] == "demo-kommune"
    assert payload["requested_by"] == "U123 (Kari)"
    assert payload["alert_id"] == 7
    assert payload["requested_at"].endswith("Z")


async def test_webhook_with_the_wrong_secret_is_refused() -> None:
    seen: list[dict[str, Any]] = []
    async with serving(webhook_app(b"the-receivers-secret", seen)) as base:
        wrong = await run(WebhookRunner(f"{base}/hooks/eadm-rerun", "a-different-secret"))
        unsigned = await run(WebhookRunner(f"{base}/hooks/eadm-rerun", None))
    assert seen == []
    for result in (wrong, unsigned):
        assert not result.ok
        assert result.detail.startswith("HTTP 401")
        assert "RERUN_WEBHOOK_SECRET" in result.detail


async def test_webhook_error_status_and_unreachable() -> None:
    async with serving(webhook_app(None, [], status=500)) as base:
        failed = await run(WebhookRunner(f"{base}/hooks/eadm-rerun"))
        missing = await run(WebhookRunner(f"{base}/no-such-hook"))
    assert not failed.ok and failed.detail.startswith("HTTP 500")
    assert not missing.ok and "RERUN_WEBHOOK_URL" in missing.detail
    runner = WebhookRunner(f"http://127.0.0.1:{closed_port()}/hook", timeout=2)
    result = await run(runner)
    assert not result.ok
    assert "cannot reach" in result.detail and "RERUN_WEBHOOK_URL" in result.detail
    ok, message = await runner.check()
    assert not ok and "RERUN_WEBHOOK_URL" in message


# -- simulator ----------------------------------------------------------------------------------


async def test_simulator_refuses_while_a_step_runs_then_starts_a_cycle() -> None:
    async with serving(build_app("healthy", speed=60)) as base:
        runner = SimulatorRunner(base)
        assert (await runner.check())[0]
        # The first cycle has just started: Import HR is running.
        busy = await run(runner)
        assert not busy.ok
        assert "a step is still running" in busy.detail
        # Past the end of that cycle, before the scheduler's next one.
        async with httpx.AsyncClient() as client:
            await client.post(f"{base}/_sim/advance", json={"seconds": 20})
            started = await run(runner)
            state = (await client.get(f"{base}/_sim/state")).json()
    assert started.ok and started.detail == "HTTP 202"
    assert state["runs"] == 1


async def test_simulator_token_is_sent_and_checked() -> None:
    async with serving(build_app("healthy", speed=60, token="t0ken")) as base:
        wrong = SimulatorRunner(base, "nope")
        result = await run(wrong)
        ok, message = await wrong.check()
        assert (await SimulatorRunner(base, "t0ken").check())[0]
    assert not result.ok and "EADM_API_TOKEN" in result.detail
    assert not ok and "EADM_API_TOKEN" in message


async def test_simulator_unreachable() -> None:
    runner = SimulatorRunner(f"http://127.0.0.1:{closed_port()}", timeout=2)
    result = await run(runner)
    assert not result.ok and "EADM_URL" in result.detail
    assert not (await runner.check())[0]


# -- choosing -----------------------------------------------------------------------------------


def tenant(**rerun: Any) -> Tenant:
    return Tenant(
        name="demo-kommune",
        eadm_url="http://127.0.0.1:9/",
        channel="C0123",
        rerun=RerunConfig(**rerun),
    )


def test_runner_for_each_kind() -> None:
    assert runner_for(tenant()) is None
    command = runner_for(tenant(kind="command", command=["schtasks", "/Run", "/TN", "x"]))
    assert isinstance(command, CommandRunner)
    webhook = runner_for(tenant(kind="webhook", url="https://runbook.example/h", secret="s"))
    assert isinstance(webhook, WebhookRunner) and webhook.secret == "s"
    simulator = runner_for(tenant(kind="simulator"))
    assert isinstance(simulator, SimulatorRunner)
    assert simulator.describe == "POST http://127.0.0.1:9/api/v1/sync/run"
    with pytest.raises(ConfigError, match="RERUN_WEBHOOK_URL"):
        runner_for(tenant(kind="webhook"))
