"""Where eAdm's text enters: each tenant's source, whatever its kind, comes out of `source_for`
redacted: its snapshots, its history and its errors, over real HTTP and a real command, with
identity numbers made here by the check-digit algorithm."""

from __future__ import annotations

import sys
from datetime import UTC
from typing import Any

import pytest
from aiohttp import web

from bot.core.domain import EXPORT_AD, IMPORT_HR
from bot.core.errors import NotStatusContract, SourceError
from bot.core.redact import FNR_MARK, REDACTED_MARK, Redactor
from bot.core.settings import Tenant
from bot.sources import source_for
from bot.sources.redacting import MESSAGE_LIMIT
from testkit.e2e import serving
from testkit.identity import spaced, synthetic_fnr

FNR = synthetic_fnr(3, 9, 1979)
D_NUMBER = synthetic_fnr(14, 2, 1991, d_number=True)
ORDER = "12345678901"  # eleven digits whose check digits are wrong: an order number stays


def eadm(answers: dict[str, Any]) -> web.Application:
    async def current(_: web.Request) -> web.Response:
        return web.json_response(answers["current"])

    async def cycles(_: web.Request) -> web.Response:
        return web.json_response(answers["cycles"])

    app = web.Application()
    app.router.add_get("/api/v1/sync/cycles/current", current)
    app.router.add_get("/api/v1/sync/cycles", cycles)
    return app


def step(name: str, state: str, message: str | None = None) -> dict[str, Any]:
    return {"name": name, "state": state, "message": message}


def cycle(cycle_id: str, *steps: dict[str, Any]) -> dict[str, Any]:
    return {"cycle_id": cycle_id, "started_at": "2026-11-24T21:00:00Z", "steps": list(steps)}


def tenant(url: str, **extra: Any) -> Tenant:
    return Tenant(name="voss", eadm_url=url, channel="C1", **extra)


async def test_a_snapshot_and_its_history_come_out_redacted() -> None:
    error = f"Ansatt {FNR} (D-nr {spaced(D_NUMBER, '.')}) mangler e-post; ordre {ORDER}; ANS-1234"
    current = cycle(
        f"c-{FNR}",
        step(IMPORT_HR, "completed"),
        step(EXPORT_AD, "failed", error),
        step(f"Export {FNR}", "frozen"),  # an integration in a state nobody knows
    )
    answers = {"current": current, "cycles": [current, cycle("c-0", step(IMPORT_HR, "ok"))]}
    async with serving(eadm(answers)) as url:
        source = source_for(tenant(url, redact_patterns=[r"ANS-\d{4}"]), UTC)
        snapshot = await source.current()
        history = await source.history(5)
        await source.aclose()
    message = snapshot.step(EXPORT_AD).message  # type: ignore[union-attr]
    assert message == (
        f"Ansatt {FNR_MARK} (D-nr {FNR_MARK}) mangler e-post; ordre {ORDER}; {REDACTED_MARK}"
    )
    assert snapshot.cycle_id == f"c-{FNR_MARK}"
    assert [s.name for s in snapshot.steps][2] == f"Export {FNR_MARK}"
    assert FNR not in repr(snapshot) and D_NUMBER not in repr(snapshot)
    assert FNR not in repr(history) and len(history) == 2
    assert history[1].cycle_id == "c-0"


async def test_a_long_message_is_cut_before_the_patterns_run() -> None:
    flood = "x" * (MESSAGE_LIMIT * 3) + FNR
    answers = {"current": cycle("c-1", step(EXPORT_AD, "failed", flood)), "cycles": []}
    async with serving(eadm(answers)) as url:
        source = source_for(tenant(url, redact_patterns=["x{5000}"]), UTC)
        snapshot = await source.current()
    message = snapshot.step(EXPORT_AD).message  # type: ignore[union-attr]
    assert message is not None and len(message) == MESSAGE_LIMIT and message.endswith("…")
    assert REDACTED_MARK not in message, "the pattern never saw the text past the cut"


async def test_an_error_keeps_its_kind_and_loses_its_numbers() -> None:
    answers = {"current": {"cycle_id": f"c-{FNR}", "steps": "none"}, "cycles": []}
    async with serving(eadm(answers)) as url:
        source = source_for(tenant(url), UTC)
        try:
            await source.current()
        except NotStatusContract as exc:
            error = str(exc)
        else:
            raise AssertionError("not the status contract, and no error")
    assert f"cycle c-{FNR_MARK} has no list of steps" in error and FNR not in error


async def test_a_redacted_error_still_says_its_words_in_either_language() -> None:
    answers = {"current": {"cycle_id": f"c-{FNR}", "steps": "none"}, "cycles": []}
    async with serving(eadm(answers)) as url:
        source = source_for(tenant(url), UTC)
        with pytest.raises(NotStatusContract) as caught:
            await source.current()
    nb = caught.value.words.text("nb")
    assert f"syklus c-{FNR_MARK} har ingen liste over steg" in nb and FNR not in nb
    assert caught.value.words.key == "source.api.not_contract"


async def test_the_task_commands_output_is_redacted_too() -> None:
    command = [
        sys.executable,
        "-c",
        f"import sys; sys.stderr.write('Access denied for {FNR}\\n'); sys.exit(3)",
    ]
    source = source_for(
        Tenant(name="voss", sources=["task"], task_command=command, channel="C1"), UTC
    )
    try:
        await source.current()
    except SourceError as exc:
        error = str(exc)
    else:
        raise AssertionError("the command failed, and no error")
    assert error == f"EADM_TASK_COMMAND exited with code 3: Access denied for {FNR_MARK}"


async def test_the_next_poll_redacts_only_what_is_new_and_keeps_one_answer() -> None:
    from bot.sources.redacting import _Remembered

    class Counting:
        """Redacts as the real one does, counting the texts it is given."""

        def __init__(self) -> None:
            self.texts: list[str] = []

        def within(self, text: str, limit: int) -> str:
            self.texts.append(text)
            return Redactor().within(text, limit)

    counting = Counting()
    remembered = _Remembered(counting)  # type: ignore[arg-type]
    for message in (f"feil for {FNR}", f"feil for {FNR}", "ny feil"):
        assert remembered(message, 100) in (f"feil for {FNR_MARK}", "ny feil")
        remembered.answered()
    assert counting.texts == [f"feil for {FNR}", "ny feil"], "the repeated text cost nothing"
    assert remembered(f"feil for {FNR}", 100) == f"feil for {FNR_MARK}"
    assert counting.texts[-1] == f"feil for {FNR}", "only the last answer's texts are kept"


def test_event_viewer_texts_pass_through_the_tenants_redactor() -> None:
    from bot.sources.events import events_redactor

    tenant = Tenant(name="voss", eadm_url="https://x.example.no", channel="C1")
    tenant.with_site_patterns(Redactor.from_patterns([r"EMP-\d{5}"]))
    text = f"Logon failure for {FNR} (EMP-12345)"
    assert events_redactor(tenant)(text) == f"Logon failure for {FNR_MARK} ({REDACTED_MARK})"
    assert events_redactor()(text) == f"Logon failure for {FNR_MARK} (EMP-12345)"
