"""What the bot tells a person about a finding, part by part, each part with who says it.

An alert's error is told by several voices: eAdm's own message, quoted as it came; what Task
Scheduler reports of the sync task; the lines of the eAdm client's log folder, after the bot's
note on what it picked; and the bot's own words (a status it cannot read, a state word it does
not know). A message labels each voice as its own, so "eAdm says" stands only over eAdm's words.
The bot's words are kept as the catalogue's key and parameters (`Words`), never as a finished
sentence, so they are rendered in the reader's language when the message is; outside text is
shown as it came, in whatever language it was written.

Stored as JSON (`to_json`, `from_json`) beside the English text (`english`), which logs and
the audit keep. Imports only the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Union

from bot.core.i18n import t

Param = Union[str, int, float, "Words"]


@dataclass(frozen=True, slots=True)
class Words:
    """A catalogue text: its key and parameters. A parameter may be `Words` too (a code's
    meaning inside a sentence), rendered in the same language."""

    key: str
    params: tuple[tuple[str, Param], ...] = ()

    @classmethod
    def of(cls, key: str, **params: Param) -> Words:
        return cls(key, tuple(params.items()))

    def text(self, lang: str) -> str:
        values = {
            name: value.text(lang) if isinstance(value, Words) else value
            for name, value in self.params
        }
        return t(lang, self.key, **values)

    def __str__(self) -> str:
        return self.text("en")

    def mapped(self, change: Callable[[str], str]) -> Words:
        """The same words with each text parameter changed (redacted, say), however deep:
        the parameters are what came from outside, the catalogue's text is the bot's own."""
        return Words(
            self.key,
            tuple(
                (
                    name,
                    value.mapped(change)
                    if isinstance(value, Words)
                    else change(value)
                    if isinstance(value, str)
                    else value,
                )
                for name, value in self.params
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "params": {
                name: value.to_json() if isinstance(value, Words) else value
                for name, value in self.params
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Words:
        params = data.get("params") or {}
        return cls(
            str(data["key"]),
            tuple(
                (str(name), cls.from_json(value) if isinstance(value, Mapping) else value)
                for name, value in params.items()
            ),
        )


class Voice(StrEnum):
    """Who says a part; the value names its label in the catalogue (`said.<voice>`)."""

    EADM = "eadm"  # eAdm's own message for a step, quoted
    TASK_SCHEDULER = "task_scheduler"  # what Task Scheduler reports of the sync task
    LOG = "log"  # the eAdm client's log folder: the bot's note, then the lines, quoted
    BOT = "bot"  # the bot's own words


@dataclass(frozen=True, slots=True)
class Part:
    """One thing said: the bot's `words`, or outside text `quote`d as it came."""

    voice: Voice
    words: Words | None = None
    quote: str | None = None

    def text(self, lang: str) -> str:
        return self.words.text(lang) if self.words is not None else self.quote or ""


@dataclass(frozen=True, slots=True)
class Said:
    parts: tuple[Part, ...] = ()

    @classmethod
    def quote(cls, voice: Voice, text: str | None) -> Said:
        return cls((Part(voice, quote=text),)) if text else cls()

    @classmethod
    def words(cls, voice: Voice, words: Words) -> Said:
        return cls((Part(voice, words=words),))

    def __add__(self, other: Said) -> Said:
        return Said(self.parts + other.parts)

    def __bool__(self) -> bool:
        return bool(self.parts)

    def groups(self) -> Iterator[tuple[Voice, tuple[Part, ...]]]:
        """The parts in order, those of one voice in a row together: each is shown under its
        voice's label."""
        run: list[Part] = []
        for part in self.parts:
            if run and part.voice is not run[0].voice:
                yield run[0].voice, tuple(run)
                run = []
            run.append(part)
        if run:
            yield run[0].voice, tuple(run)

    def text(self, lang: str) -> str:
        """Plain text, without the labels: a voice's parts line by line, voices apart."""
        return "\n\n".join(
            "\n".join(part.text(lang) for part in parts) for _, parts in self.groups()
        )

    @property
    def english(self) -> str:
        return self.text("en")

    def quotes(self) -> tuple[str, ...]:
        """The outside text in it, as it came."""
        return tuple(part.quote for part in self.parts if part.quote)

    def to_json(self) -> dict[str, Any]:
        return {
            "parts": [
                {"voice": part.voice.value, "words": part.words.to_json()}
                if part.words is not None
                else {"voice": part.voice.value, "quote": part.quote}
                for part in self.parts
            ]
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Said | None:
        if not data:
            return None
        parts = []
        for raw in data.get("parts") or ():
            words = raw.get("words")
            parts.append(
                Part(
                    Voice(raw["voice"]),
                    words=Words.from_json(words) if words else None,
                    quote=raw.get("quote"),
                )
            )
        return cls(tuple(parts))


def kept(
    data: Mapping[str, Any] | None, text: str | None, voice: Voice = Voice.EADM
) -> Said | None:
    """What the store kept: the parts when they were stored, else the plain text of a row
    from before they were (an alert's: eAdm's message; a source's: the bot's words)."""
    return Said.from_json(data) or as_said(text, voice)


def as_said(value: Said | str | None, voice: Voice = Voice.EADM) -> Said | None:
    """A finding's error as `Said`: plain text is outside text (eAdm's message, by default),
    as every error was before the bot kept its own words apart."""
    if value is None or isinstance(value, Said):
        return value or None
    return Said.quote(voice, value) or None
