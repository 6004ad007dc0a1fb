"""Rerun runners: what the "Rerun sync" button actually starts.

Three kinds, chosen per tenant: a command run on this machine (`schtasks`, PowerShell, `ssh`),
a signed webhook for an automation runbook, and the simulator's run endpoint. A runner never
raises for an expected failure: it returns a RerunResult whose `words` tell the admin in Slack,
in their language, what happened and what to fix, because the button's answer is the only
place they see it.

The webhook signature (`bot.adapters.signing`, its names kept here too) is shared with the
ticket webhook and the agent, so one receiver can check them all the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx

from bot.adapters.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    post_signed,
    sign,
    signature_headers,
    verify,
)
from bot.core.credentials import mask_argv, mask_text, safe_url
from bot.core.errors import ConfigError
from bot.core.said import Param, Words
from bot.core.settings import Tenant

log = logging.getLogger(__name__)

SIMULATOR_RUN = "/api/v1/sync/run"
SIMULATOR_STATUS = "/api/v1/sync/cycles/current"

# Slack shows `detail` in a message; a whole console dump would bury the one line that matters.
DETAIL_LIMIT = 300
# After a kill, how long to wait for the pipes to close before giving up on the output.
_REAP_WAIT = 2.0


@dataclass(frozen=True, slots=True)
class RerunResult:
    ok: bool
    # Short and human: what happened, and on failure what to do, as the catalogue's words so
    # the admin reads it in their language.
    words: Words

    @classmethod
    def of(cls, ok: bool, key: str, **params: Param) -> RerunResult:
        return cls(ok, Words.of(key, **params))

    @property
    def detail(self) -> str:
        """In English, for the log and the audit."""
        return self.words.text("en")


class RerunRunner(Protocol):
    # What will be run, for Slack's confirm dialog, the thread, the audit and the log: an
    # address as its scheme and host, a command with its secret-looking arguments masked.
    describe: str
    timeout: float  # seconds a run may take before the runner gives up and answers

    async def run(self, *, tenant: str, requested_by: str, alert_id: int | None) -> RerunResult:
        """Start the sync once. Never raises for a failure the admin can fix."""
        ...

    async def check(self) -> tuple[bool, str]:
        """Whether the runner can be used at all, and if not, what to fix."""
        ...


# -- command ------------------------------------------------------------------------------------


def decode_output(data: bytes) -> str:
    """Console output as text, whatever code page wrote it.

    Windows console tools (schtasks, cmd) write the OEM code page, cp850 on Norwegian
    systems, while .NET and PowerShell output redirected to a file is often cp1252. Bytes in
    0x80-0x9F are letters in cp850 (æ is 0x91, ø 0x9B) but rare punctuation in cp1252, which
    tells the two apart well enough for a status line.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if any(0x80 <= byte <= 0x9F for byte in data):
        return data.decode("cp850", errors="replace")
    return data.decode("cp1252", errors="replace")


def tail(text: str, limit: int = DETAIL_LIMIT) -> str:
    """The last non-empty lines of `text`, joined, at most `limit` characters."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    picked: list[str] = []
    size = 0
    for line in reversed(lines):
        extra = len(line) + (3 if picked else 0)
        if size + extra > limit:
            if not picked:
                picked.append("…" + line[-(limit - 1) :])
            break
        picked.append(line)
        size += extra
    return " | ".join(reversed(picked))


class CommandRunner:
    """Runs an argv list on this machine, without a shell.

    No shell means no quoting surprises with task names like "eAdm synkronisering" and no
    injection through anything a Slack user typed: the argv comes from RERUN_COMMAND only.
    """

    def __init__(self, argv: Sequence[str], timeout: float = 60.0) -> None:
        if not argv or not argv[0]:
            raise ConfigError(["RERUN_COMMAND: is empty; set it to a non-empty JSON list"])
        self.argv = tuple(argv)
        self.timeout = timeout
        shown = mask_argv(self.argv)
        self._hidden = shown.hidden  # never in a detail either, should the command echo them
        # Windows' own quoting rules, so the dialog shows the line an admin would type there.
        self.describe = subprocess.list2cmdline(shown.argv)

    async def run(self, *, tenant: str, requested_by: str, alert_id: int | None) -> RerunResult:
        log.info(
            "[%s] rerun for alert %s requested by %s: %s",
            tenant,
            alert_id,
            requested_by,
            self.describe,
        )
        posix = os.name == "posix"
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                # Its own process group, so a timeout also stops what it started.
                start_new_session=posix,
            )
        except FileNotFoundError:
            return RerunResult(False, self._not_found())
        except PermissionError:
            return RerunResult.of(False, "runner.not_executable", program=repr(self.argv[0]))
        except OSError as exc:
            return RerunResult.of(
                False, "runner.cannot_start", program=repr(self.argv[0]), error=str(exc)
            )
        output = asyncio.ensure_future(proc.communicate())
        try:
            done, _ = await asyncio.wait({output}, timeout=self.timeout)
        except asyncio.CancelledError:
            # The bot is shutting down: leave no sync half-started in the background.
            self._kill(proc, posix)
            output.cancel()
            raise
        if not done:
            self._kill(proc, posix)
            text = await self._leftover(output, proc)
            seen = mask_text(tail(text, 150), self._hidden)
            output: Param = Words.of("runner.last_output", text=seen) if seen else ""
            return RerunResult.of(
                False, "runner.timeout", seconds=f"{self.timeout:g}", output=output
            )
        stdout, _ = output.result()
        code = proc.returncode
        if code == 0:
            return RerunResult.of(True, "runner.exit_ok")
        text = mask_text(tail(decode_output(stdout or b"")), self._hidden)
        if text:
            return RerunResult.of(False, "runner.exit_said", code=str(code), text=text)
        return RerunResult.of(False, "runner.exit", code=str(code))

    @staticmethod
    def _kill(proc: asyncio.subprocess.Process, posix: bool) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if posix:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()

    @staticmethod
    async def _leftover(
        output: asyncio.Future[tuple[bytes, bytes]], proc: asyncio.subprocess.Process
    ) -> str:
        """Whatever the killed command had printed; a grandchild holding the pipe (Windows
        does not kill those) must not hold the button's answer up."""
        try:
            stdout, _ = await asyncio.wait_for(output, _REAP_WAIT)
        except TimeoutError:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), _REAP_WAIT)
            return ""
        return decode_output(stdout or b"")

    def _not_found(self) -> Words:
        return Words.of("runner.not_found", program=repr(self.argv[0]))

    async def check(self) -> tuple[bool, str]:
        program = self.argv[0]
        found = shutil.which(program)
        if found is None:
            return False, self._not_found().text("en")
        return True, f"{program} found at {found}"


# -- HTTP runners -------------------------------------------------------------------------------


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _excerpt(response: httpx.Response, limit: int = 150) -> str:
    text = mask_text(" ".join(response.text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class WebhookRunner:
    """POSTs a signed JSON request to an automation runbook (Azure Automation, a Logic App,
    a small service next to the eAdm client server) that starts the sync there."""

    def __init__(self, url: str, secret: str | bytes | None = None, timeout: float = 30.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.shown = safe_url(url)  # the address carries the credential for some services
        self.describe = f"POST {self.shown}"

    async def run(self, *, tenant: str, requested_by: str, alert_id: int | None) -> RerunResult:
        payload = {
            "action": "rerun",
            "tenant": tenant,
            "requested_by": requested_by,
            "alert_id": alert_id,
            "requested_at": _now_iso(),
        }
        try:
            response = await post_signed(self.url, payload, self.secret, self.timeout)
        except httpx.TimeoutException:
            return RerunResult.of(
                False, "runner.webhook_timeout", url=self.shown, seconds=f"{self.timeout:g}"
            )
        except httpx.HTTPError as exc:
            return RerunResult.of(
                False, "runner.webhook_unreachable", url=self.shown, error=type(exc).__name__
            )
        status = response.status_code
        if 200 <= status < 300:
            return RerunResult.of(True, "runner.http_ok", status=status)
        hint = "runner.hint_log"
        if status in (401, 403):
            hint = "runner.hint_secret"
        elif status == 404:
            hint = "runner.hint_url"
        body_text = _excerpt(response)
        return RerunResult.of(
            False,
            "runner.webhook_refused",
            status=f"{status} {response.reason_phrase}",
            body=f" ({body_text})" if body_text else "",
            hint=Words.of(hint),
        )

    async def check(self) -> tuple[bool, str]:
        return await probe(self.url, "RERUN_WEBHOOK_URL", seconds=min(self.timeout, 10.0))


async def probe(url: str, setting: str, *, seconds: float = 10.0) -> tuple[bool, str]:
    """Any HTTP answer proves the address is right; only the real request proves the rest."""
    shown = safe_url(url)
    try:
        async with httpx.AsyncClient(timeout=seconds) as client:
            response = await client.head(url, headers={"User-Agent": "eadm-bot"})
    except httpx.HTTPError as exc:
        return False, f"cannot reach {shown} ({type(exc).__name__}); check {setting}"
    return True, f"{shown} answers (HTTP {response.status_code})"


class SimulatorRunner:
    """Starts a cycle on the eAdm simulator, which has the run endpoint the real API lacks."""

    def __init__(self, eadm_url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = eadm_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.shown = f"{safe_url(self.base_url)}{SIMULATOR_RUN}"
        self.describe = f"POST {self.shown}"

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "eadm-bot"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def run(self, *, tenant: str, requested_by: str, alert_id: int | None) -> RerunResult:
        url = f"{self.base_url}{SIMULATOR_RUN}"
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(url, headers=self._headers())
        except httpx.TimeoutException:
            return RerunResult.of(
                False, "runner.sim_timeout", url=self.shown, seconds=f"{self.timeout:g}"
            )
        except httpx.HTTPError as exc:
            return RerunResult.of(
                False, "runner.sim_unreachable", url=self.shown, error=type(exc).__name__
            )
        status = response.status_code
        if 200 <= status < 300:
            return RerunResult.of(True, "runner.http_ok", status=status)
        answered = f"{status} {response.reason_phrase}"
        if status == 409:
            return RerunResult.of(False, "runner.sim_running", error=_error_text(response))
        if status in (401, 403):
            return RerunResult.of(False, "runner.sim_refused", status=answered)
        if status == 404:
            return RerunResult.of(False, "runner.sim_not_found", url=self.shown)
        return RerunResult.of(
            False, "runner.sim_failed", status=answered, error=_error_text(response)
        )

    async def check(self) -> tuple[bool, str]:
        url = f"{self.base_url}{SIMULATOR_STATUS}"
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(url, headers=self._headers())
        except httpx.HTTPError as exc:
            return False, f"cannot reach {safe_url(url)} ({type(exc).__name__}); check EADM_URL"
        if response.status_code in (401, 403):
            return False, f"{safe_url(url)} answered {response.status_code}; check EADM_API_TOKEN"
        return True, f"{safe_url(url)} answers (HTTP {response.status_code})"


def _error_text(response: httpx.Response) -> str:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _excerpt(response)
    if isinstance(data, dict) and (data.get("error") or data.get("message")):
        return mask_text(str(data.get("error") or data.get("message"))[:DETAIL_LIMIT])
    return _excerpt(response)


def runner_for(tenant: Tenant) -> RerunRunner | None:
    """The tenant's runner, or None when the Rerun button is not offered."""
    rerun = tenant.rerun
    secret = rerun.secret.get_secret_value() if rerun.secret else None
    if rerun.kind == "none":
        return None
    if rerun.kind == "command":
        return CommandRunner(rerun.command, rerun.timeout)
    if rerun.kind == "webhook":
        if not rerun.url:
            raise ConfigError(
                [f"RERUN_WEBHOOK_URL: missing for tenant {tenant.name}; set the runbook's URL"]
            )
        return WebhookRunner(rerun.url, secret, rerun.timeout)
    token = tenant.eadm_api_token.get_secret_value() if tenant.eadm_api_token else None
    return SimulatorRunner(rerun.url or tenant.eadm_url, token, min(rerun.timeout, 30.0))


__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "CommandRunner",
    "RerunResult",
    "RerunRunner",
    "SimulatorRunner",
    "WebhookRunner",
    "decode_output",
    "probe",
    "runner_for",
    "sign",
    "signature_headers",
    "verify",
]
