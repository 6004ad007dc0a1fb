"""Where eAdm's text enters the bot: a source wrapped so that every snapshot, every cycle of its
history and every SourceError it raises has its national identity numbers (and the site's and
the tenant's patterns) removed before anyone stores, renders, sends or logs it.

`source_for` wraps each tenant's source once, where sources are built, so the poll job, the
rerun guard and `eadm-bot check` all read the same clean text and no source needs to know.
Each text is cut to its limit first: a site's pattern never runs long on a flood.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Protocol

from bot.core.domain import GUIDE_STEPS, Snapshot, StepRun
from bot.core.errors import SourceError
from bot.core.redact import Redactor

# A step's message is stored and told up to this many characters (an alert shows 1,500 of
# them, a ticket more); an error of the source itself up to the other.
MESSAGE_LIMIT = 4000
ERROR_LIMIT = 2000
NAME_LIMIT = 200


Within = Callable[[str, int], str]  # a text and its limit -> the text cut and redacted


def redact_snapshot(snapshot: Snapshot, redactor: Redactor | Within) -> Snapshot:
    """The snapshot with eAdm's own texts redacted: each step's message and name (the seven
    steps' names are the guide's own words), the parse problems and the cycle's ID."""
    within = redactor.within if isinstance(redactor, Redactor) else redactor
    steps = tuple(_step(run, within) for run in snapshot.steps)
    problems = tuple(
        (_name(name, within), within(text, MESSAGE_LIMIT)) for name, text in snapshot.problems
    )
    cycle_id = within(snapshot.cycle_id, NAME_LIMIT)
    if steps == snapshot.steps and problems == snapshot.problems and cycle_id == snapshot.cycle_id:
        return snapshot
    return dataclasses.replace(snapshot, cycle_id=cycle_id, steps=steps, problems=problems)


def _name(name: str, within: Within) -> str:
    return name if name in GUIDE_STEPS else within(name, NAME_LIMIT)


def _step(run: StepRun, within: Within) -> StepRun:
    name = _name(run.name, within)
    message = within(run.message, MESSAGE_LIMIT) if run.message else run.message
    if name == run.name and message == run.message:
        return run
    return dataclasses.replace(run, name=name, message=message)


class _Remembered:
    """The texts of the last answer and what they became. eAdm says the same things poll after
    poll (a failed step's error stays for hours), so a text seen last time costs a look-up;
    only the last answer's texts are kept, so the memory stays as small as one answer."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._last: dict[tuple[str, int], str] = {}
        self._now: dict[tuple[str, int], str] = {}

    def __call__(self, text: str, limit: int) -> str:
        key = (text, limit)
        done = self._now.get(key)
        if done is None:
            done = self._last.get(key)
            if done is None:
                done = self.redactor.within(text, limit)
            self._now[key] = done
        return done

    def answered(self) -> None:
        self._last, self._now = self._now, {}


def redact_error(exc: SourceError, redactor: Redactor) -> SourceError:
    """The same kind of error (a caller tells NotStatusContract apart by type) saying the same
    catalogue words, each text it quotes (an address, what a command printed, a cycle's ID)
    redacted and cut; the catalogue's own text is the bot's."""
    words = exc.words.mapped(lambda text: redactor.within(text, ERROR_LIMIT))
    try:
        return type(exc)(words.key, **dict(words.params))
    except TypeError:  # a kind that takes more than its words
        return SourceError(words.key, **dict(words.params))


class _Readable(Protocol):
    """What is wrapped: the `Source` protocol of `bot.sources.combined`, whose module builds
    the wrapper and so cannot be imported here."""

    async def current(self) -> Snapshot: ...

    async def history(self, limit: int = 20) -> list[Snapshot]: ...

    async def aclose(self) -> None: ...


class RedactingSource:
    """A tenant's source, whatever kind, whose answers and errors come out redacted."""

    def __init__(self, source: _Readable, redactor: Redactor) -> None:
        self.source = source
        self.redactor = redactor
        self._remembered = _Remembered(redactor)

    async def current(self) -> Snapshot:
        try:
            snapshot = await self.source.current()
        except SourceError as exc:
            raise redact_error(exc, self.redactor) from None
        clean = redact_snapshot(snapshot, self._remembered)
        self._remembered.answered()
        return clean

    async def history(self, limit: int = 20) -> list[Snapshot]:
        try:
            cycles = await self.source.history(limit)
        except SourceError as exc:
            raise redact_error(exc, self.redactor) from None
        return [redact_snapshot(cycle, self.redactor) for cycle in cycles]

    async def aclose(self) -> None:
        await self.source.aclose()
