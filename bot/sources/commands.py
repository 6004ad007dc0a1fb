"""Running a source's command (EADM_TASK_COMMAND, EADM_EVENTS_COMMAND): without a shell, with a
deadline and a cap on what it prints, killed with its children when it overruns either; and
the argv that runs one of the PowerShell scripts shipped in `data/` on the server itself.

Errors are one `SourceError` that names the setting and what to change. Imports only the core.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from importlib import resources
from pathlib import Path

from bot.core.errors import SourceError
from bot.core.said import Param, Words

TASK_COMMAND = "EADM_TASK_COMMAND"
TIMEOUT_SETTING = "EADM_TASK_TIMEOUT"
ONE_TASK = Words.of("source.command.one_task")  # what the task command should print


def shipped_script(name: str) -> Path:
    """A PowerShell script shipped with the package."""
    return Path(str(resources.files("bot.sources").joinpath(f"data/{name}")))


def powershell_script(name: str, *parameters: str) -> list[str]:
    """The argv that runs a shipped script locally with Windows PowerShell 5.1, which every
    Windows Server has, without a profile and without asking."""
    return [
        "powershell.exe",
        "-NoProfile",
        "-NonInteractive",
        "-ExecutionPolicy",
        "Bypass",
        "-File",
        str(shipped_script(name)),
        *parameters,
    ]


async def run_command(
    argv: list[str],
    *,
    seconds: float,
    max_output: int,
    setting: str = TASK_COMMAND,
    expects: Param = ONE_TASK,
) -> tuple[int, bytes, bytes]:
    """Run argv without a shell; (exit code, stdout, stderr). Raises SourceError when it cannot
    start, runs past `seconds` or prints more than `max_output` bytes (it is killed then).
    `setting` names the command in what an admin is told; `expects` what it should print."""
    program = argv[0]
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=os.name == "posix",
        )
    except FileNotFoundError:
        raise SourceError(
            "source.command.not_found", setting=setting, program=repr(program)
        ) from None
    except OSError as exc:
        raise SourceError(
            "source.command.cannot_run",
            setting=setting,
            program=repr(program),
            error=str(exc.strerror or exc),
        ) from None
    assert proc.stdout is not None and proc.stderr is not None

    async def read_capped(stream: asyncio.StreamReader) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while chunk := await stream.read(65536):
            size += len(chunk)
            if size > max_output:
                raise _TooMuch
            chunks.append(chunk)
        return b"".join(chunks)

    reads = [
        asyncio.ensure_future(read_capped(proc.stdout)),
        asyncio.ensure_future(read_capped(proc.stderr)),
    ]
    try:
        async with asyncio.timeout(seconds):
            out, err = await asyncio.gather(*reads)
            code = await proc.wait()
    except TimeoutError:
        await _kill(proc, reads)
        raise SourceError(
            "source.command.timeout",
            setting=setting,
            program=program,
            seconds=f"{seconds:.0f}",
            timeout_setting=TIMEOUT_SETTING,
        ) from None
    except asyncio.CancelledError:
        await _kill(proc, reads)  # a stopping bot leaves no command of its own behind
        raise
    except _TooMuch:
        await _kill(proc, reads)
        raise SourceError(
            "source.command.flood",
            setting=setting,
            program=program,
            kb=max_output // 1000,
            expects=expects,
        ) from None
    return code, out, err


class _TooMuch(Exception):
    pass


async def _kill(proc: asyncio.subprocess.Process, reads: list[asyncio.Future[bytes]]) -> None:
    for read in reads:
        read.cancel()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)  # the command's children too (ssh, pwsh)
        else:  # pragma: no cover - Windows
            proc.kill()
    # Drain what is left in the pipes, so the process and its pipes are closed for good.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(proc.communicate(), 5)
