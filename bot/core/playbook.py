"""The playbook: the troubleshooting guide as data, looked up by step and condition.

The entries live in `bot/core/data/playbook.toml` (English and Norwegian Bokmål). An admin may add
lines of their own (runbook links, phone numbers) from a file named by PLAYBOOK_EXTRA. This
module only reads and checks that data; it decides nothing about alerts. One check ties it to
the rerun guard: an entry offers Rerun exactly where the guard can let a rerun through.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast, get_args

from bot.core.domain import GUIDE_STEPS, Condition, guide_step
from bot.core.errors import ConfigError
from bot.core.i18n import LANGUAGES, language
from bot.core.rerun_guard import can_allow_rerun

Action = Literal["rerun", "ticket", "ack", "snooze"]
ACTIONS: tuple[str, ...] = get_args(Action)
LINKS = ("status", "import_history")
ANY_STEP = "*"
# Where a step's text may point at the Rerun button; see `Advice.steps`.
RERUN_MARK = "{rerun}"


@dataclass(frozen=True, slots=True)
class Advice:
    meaning: str
    steps_to_take: tuple[str, ...]
    extra: tuple[str, ...] = ()

    def steps(self, rerun_hint: str | None) -> tuple[str, ...]:
        """The steps as a person reads them: the rerun mark becomes `rerun_hint` when the
        alert shows the Rerun button, and disappears when it does not (no runner set up),
        leaving the manual Task Scheduler route alone."""
        return tuple(
            " ".join(line.replace(RERUN_MARK, rerun_hint or "").split())
            for line in self.steps_to_take
        )


@dataclass(frozen=True, slots=True)
class Entry:
    step: str  # a guide step, or "*" for a general entry
    condition: Condition
    admin_can_fix: bool
    actions: tuple[Action, ...]
    links: tuple[str, ...]
    text: Mapping[str, Advice]

    def advice(self, lang: str) -> Advice:
        return self.text[language(lang)]


class Playbook:
    def __init__(self, entries: list[Entry]) -> None:
        """Raises ConfigError naming every entry whose Rerun action disagrees with the rerun
        guard; every playbook is built here, the admin's extra lines included."""
        self._entries = {(e.step, e.condition): e for e in entries}
        missing = [c.value for c in Condition if (ANY_STEP, c) not in self._entries]
        if missing:
            raise ValueError(f'playbook: no general entry (step = "*") for {", ".join(missing)}')
        if problems := rerun_disagreements(self):
            raise ConfigError(problems)

    def entry(self, step: str | None, condition: Condition) -> Entry:
        """The advice for a step eAdm reports (integrations map to Other Integrations), or
        the general entry for the condition. Never fails for a valid condition."""
        if step is not None:
            found = self._entries.get((guide_step(step), condition))
            if found is not None:
                return found
        return self._entries[(ANY_STEP, condition)]

    def with_extra(self, lines: list[dict[str, Any]]) -> Playbook:
        """A copy with the admin's own lines appended where they belong."""
        entries = list(self._entries.values())
        for index, line in enumerate(lines, start=1):
            where = f"extra line {index}"
            step = str(line.get("step", ANY_STEP))
            condition = line.get("condition")
            if condition is not None and condition not in Condition.__members__.values():
                raise ValueError(f"playbook extra, {where}: unknown condition {condition!r}")
            if step != ANY_STEP and step not in GUIDE_STEPS:
                raise ValueError(
                    f"playbook extra, {where}: unknown step {step!r}; use one of "
                    f'{", ".join(GUIDE_STEPS)} or "*"'
                )
            texts = {lang: line.get(lang) for lang in LANGUAGES}
            if not any(texts.values()):
                raise ValueError(f'playbook extra, {where}: give the line as en = "..."')
            for i, entry in enumerate(entries):
                if condition is not None and entry.condition.value != condition:
                    continue
                if step != ANY_STEP and entry.step not in (step, ANY_STEP):
                    continue
                text = {
                    lang: replace(
                        advice,
                        extra=(*advice.extra, str(texts[lang] or texts["en"] or "")),
                    )
                    for lang, advice in entry.text.items()
                }
                entries[i] = replace(entry, text=text)
        return Playbook(entries)


def rerun_disagreements(playbook: Playbook) -> list[str]:
    """One line per entry whose actions and the rerun guard disagree, saying what to change.

    Offering Rerun where the guard always refuses shows a button that never works; leaving it
    out where the guard allows hides the advice. Judged for every step x condition an alert can
    have (None: the cycle as a whole), by the entry that answers it, so a general entry is
    judged for each step it stands in for."""
    wrong: dict[tuple[str, Condition], tuple[Entry, list[str | None]]] = {}
    for condition in Condition:
        for step in (*GUIDE_STEPS, None):
            entry = playbook.entry(step, condition)
            if ("rerun" in entry.actions) is not can_allow_rerun(step, condition):
                wrong.setdefault((entry.step, entry.condition), (entry, []))[1].append(step)
    return [_disagreement(entry, steps) for entry, steps in wrong.values()]


def _disagreement(entry: Entry, steps: list[str | None]) -> str:
    offers = "rerun" in entry.actions
    where = f"playbook entry {entry.step!r} x {entry.condition.value!r}"
    if entry.step == ANY_STEP:
        where += f" (the advice for {', '.join(s or 'the cycle as a whole' for s in steps)})"
    if entry.step == ANY_STEP and None not in steps:
        # The general entry is right for the steps it still stands in for.
        fix = f"give {', '.join(map(str, steps))} an entry of its own"
        fix += ' without "rerun"' if offers else ' with "rerun"'
    else:
        fix = 'take "rerun" out of its actions' if offers else 'add "rerun" to its actions'
    guard = "can_allow_rerun in bot/core/rerun_guard.py"
    if offers:
        return (
            f'{where}: its actions offer "rerun", but the rerun guard never lets a rerun '
            f"through there, so the Rerun button would always be refused; {fix}, or change "
            f"{guard} if the guide now advises a rerun there"
        )
    return (
        f'{where}: the rerun guard lets a rerun through there, but its actions have no "rerun", '
        f"so the alert would not offer it; {fix}, or change {guard} if the guide advises no "
        "rerun there"
    )


def parse_entries(data: dict[str, Any]) -> list[Entry]:
    entries = []
    for index, raw in enumerate(data.get("entry", []), start=1):
        where = f"entry {index} ({raw.get('step')!r} x {raw.get('condition')!r})"
        step = raw.get("step")
        if step != ANY_STEP and step not in GUIDE_STEPS:
            raise ValueError(f"playbook {where}: unknown step")
        try:
            condition = Condition(raw.get("condition"))
        except ValueError:
            raise ValueError(f"playbook {where}: unknown condition") from None
        actions = tuple(raw.get("actions", ()))
        if bad := [a for a in actions if a not in ACTIONS]:
            raise ValueError(f"playbook {where}: unknown action(s) {bad}")
        if bad := [link for link in raw.get("links", ()) if link not in LINKS]:
            raise ValueError(f"playbook {where}: unknown link(s) {bad}")
        if not isinstance(raw.get("admin_can_fix"), bool):
            raise ValueError(f"playbook {where}: admin_can_fix must be true or false")
        text = {}
        for lang in LANGUAGES:
            block = raw.get(lang)
            if not isinstance(block, dict) or not block.get("meaning") or not block.get("steps"):
                raise ValueError(f"playbook {where}: needs [{lang}] with meaning and steps")
            text[lang] = Advice(meaning=block["meaning"], steps_to_take=tuple(block["steps"]))
            marked = RERUN_MARK in block["meaning"] or any(
                RERUN_MARK in line for line in block["steps"]
            )
            if marked and "rerun" not in actions:
                raise ValueError(
                    f"playbook {where}: [{lang}] points at the Rerun button ({RERUN_MARK}), "
                    'but its actions have no "rerun"'
                )
        entries.append(
            Entry(
                step=step,
                condition=condition,
                admin_can_fix=raw["admin_can_fix"],
                actions=cast(tuple[Action, ...], actions),
                links=tuple(raw.get("links", ())),
                text=text,
            )
        )
    return entries


@cache
def _packaged() -> Playbook:
    text = resources.files("bot.core").joinpath("data/playbook.toml").read_text(encoding="utf-8")
    return Playbook(parse_entries(tomllib.loads(text)))


def load_playbook(extra_path: Path | None = None) -> Playbook:
    """The packaged playbook, with the admin's extra lines when a file is named."""
    playbook = _packaged()
    if extra_path is None:
        return playbook
    try:
        data = tomllib.loads(Path(extra_path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"PLAYBOOK_EXTRA: cannot read {extra_path} ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"PLAYBOOK_EXTRA: {extra_path} is not valid TOML ({exc})") from None
    return playbook.with_extra(list(data.get("extra", [])))
