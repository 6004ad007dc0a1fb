"""Bokmål all through: every surface a person can see, rendered with the project's own functions
in English and Bokmål (alerts for every step and condition, with and without a runner, with and
without eAdm's steps; tickets, replies, digests, status, history, the App Home, the questions,
every refusal of the rerun guard, the source errors real inputs raise, the runners' results,
the log excerpt's notes), and no English text of the catalogue in any Bokmål rendering. Outside
text (eAdm's own message, a log line, what a program printed) is quoted as it came and left
out of the comparison."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.i18n import LANGUAGES, catalogue
from bot.store import Store
from tests.renderings import OUTSIDE, every_rendering

# -- what is compared ---------------------------------------------------------------------------


# Texts that read the same in both languages: units, codes, eAdm's own step names as the
# Norwegian portal shows them, a word Bokmål shares. Every other key has a Bokmål text of its
# own (`test_every_key_has_a_bokmal_text_of_its_own`).
SAME_IN_BOTH = {
    "duration.min",
    "duration.s",
    "refused.title",  # the bot's name, the title of the modal for a form it cannot take
    "runner.http_ok",
    "runner.webhook_refused",
    "step.export_ad",
    "step.import_ad_results",
    "step.import_hr_future",
    "task.result",
    "ticket.condition",
    "ticket.subject_line",
    "ticket.submit",
}


def _english_fragments() -> tuple[list[str], list[str]]:
    """The English catalogue's own words: each text's pieces between its placeholders, of two
    words or more, and whole one-word texts; less what the Bokmål texts say too (product
    names, setting names, eAdm's and Windows' English names beside their Norwegian ones). A
    Bokmål text left in English does not count as Bokmål here, so its words are looked for."""
    en, nb = catalogue()["en"], catalogue()["nb"]
    bokmal = " ".join(text for key, text in nb.items() if text != en[key])
    bokmal += " ".join(
        " ".join((raw["nb"]["meaning"], *raw["nb"]["steps"])) for raw in _playbook_entries()
    )
    phrases, words = set(), set()
    for key, text in en.items():
        if key in SAME_IN_BOTH:
            continue
        for piece in re.split(r"\{[^}]*\}", text):
            piece = piece.strip(" .,;:()*_`'\"\n")
            if len(piece.split()) >= 2 and len(piece) >= 8 and piece not in bokmal:
                phrases.add(piece)
        if "{" not in text and re.fullmatch(r"[A-Za-z]{5,}", text) and text not in bokmal:
            words.add(text)
    return sorted(phrases), sorted(words)


def test_every_key_has_a_bokmal_text_of_its_own() -> None:
    en, nb = catalogue()["en"], catalogue()["nb"]
    assert set(en) == set(nb)
    same = {key for key in en if en[key] == nb[key]}
    assert same == SAME_IN_BOTH


def _playbook_entries() -> list[dict[str, Any]]:
    path = Path(__file__).parents[2] / "bot" / "core" / "data" / "playbook.toml"
    return list(tomllib.loads(path.read_text(encoding="utf-8"))["entry"])


PHRASES, WORDS = _english_fragments()


def english_in(text: str) -> list[str]:
    for outside in OUTSIDE:
        text = text.replace(outside, "")
    found = [phrase for phrase in PHRASES if phrase in text]
    found += [word for word in WORDS if re.search(rf"\b{word}\b", text)]
    return found


def texts_of(value: Any) -> Iterator[str]:
    """Every string in a rendering (a message's text and blocks, a view, a plain string)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from texts_of(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from texts_of(item)
    elif hasattr(value, "blocks"):
        yield value.text
        yield from texts_of(value.blocks)


@pytest.fixture
def store(migrated_sqlite_url: str) -> Iterator[Store]:
    """The refusals read the store only for the alert they link: SQLite is enough."""
    made = Store(migrated_sqlite_url)
    yield made
    made.dispose()


async def test_no_english_catalogue_text_in_any_bokmal_rendering(
    store: Store, tmp_path: Path
) -> None:
    assert PHRASES and WORDS, "the English catalogue's words to look for"
    counts = {}
    for lang in LANGUAGES:
        shown = await every_rendering(lang, store, tmp_path / lang)
        counts[lang] = len(shown)
        if lang != "nb":
            continue
        english = {
            where: found
            for where, rendering in shown
            for found in [sorted({w for text in texts_of(rendering) for w in english_in(text)})]
            if found
        }
        assert english == {}, english
    assert counts["en"] == counts["nb"] > 700, counts


async def test_the_check_finds_english_where_there_is_some(store: Store, tmp_path: Path) -> None:
    """The comparison is not empty-handed: the same renderings in English are full of it."""
    shown = await every_rendering("en", store, tmp_path)
    flagged = [
        where for where, rendering in shown if any(english_in(x) for x in texts_of(rendering))
    ]
    assert len(flagged) > 0.9 * len(shown)
