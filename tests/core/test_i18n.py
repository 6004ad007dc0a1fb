"""The message catalogue: both languages complete, placeholders alike."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from bot.core.i18n import catalogue, keys, language, t


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_every_key() -> None:
    assert keys("en") == keys("nb")


@pytest.mark.parametrize("key", sorted(keys("en")))
def test_placeholders_match(key: str) -> None:
    texts = catalogue()
    assert placeholders(texts["en"][key]) == placeholders(texts["nb"][key]), key
    assert texts["nb"][key].strip()


def test_formatting_and_fallback() -> None:
    assert t("nb", "condition.failed.title", step="Export AD") == "Export AD feilet"
    assert t("sv", "button.ack") == "Acknowledge"
    with pytest.raises(KeyError):
        t("en", "no.such.key")


@pytest.mark.parametrize(
    "locale,lang",
    [
        ("nb-NO", "nb"),
        ("no", "nb"),
        ("nn-NO", "nb"),
        ("en-GB", "en"),
        ("de-DE", "en"),
        (None, "en"),
    ],
)
def test_slack_locales(locale: str | None, lang: str) -> None:
    assert language(locale) == lang


# -- every key the code names, with the parameters it gives ----------------------------------

BOT = Path(__file__).parents[2] / "bot"
# Calls whose first string argument (second for these) is a catalogue key.
KEY_FIRST = {"SourceError", "NotStatusContract", "of"}  # Words.of, and RerunResult.of below
KEY_SECOND = {"t", "t_count"}


def named_keys() -> list[tuple[str, str, set[str] | None]]:
    """(where, key, the keyword parameters given, or None when they are spread with **)."""
    found = []
    for path in sorted(BOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            args = [a for a in node.args if not isinstance(a, ast.Starred)]
            if name == "of" and isinstance(func, ast.Attribute):
                owner = getattr(func.value, "id", "")
                index = {"Words": 0, "RerunResult": 1}.get(owner)
            elif name in KEY_FIRST:
                index = 0
            elif name in KEY_SECOND:
                index = 1
            else:
                continue
            if index is None or len(args) <= index:
                continue
            key = args[index]
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue  # a key built at run time: its own tests cover every value
            spread = any(k.arg is None for k in node.keywords)
            given = None if spread else {k.arg for k in node.keywords if k.arg}
            if name == "t_count" and given is not None:
                given |= {"n"}
            where = f"{path.relative_to(BOT.parent)}:{node.lineno}"
            found.append((where, key.value, given))
    return found


NAMED = named_keys()


def test_the_code_names_keys_at_all() -> None:
    # The scan must see the calls it checks: a change in how they are written would
    # otherwise make the test below pass on nothing.
    keys_named = {key for _, key, _ in NAMED}
    assert {"source.task.exit", "runner.exit_said", "rerun.ask", "task.failed"} <= keys_named
    assert len(NAMED) > 200


@pytest.mark.parametrize(("where", "key", "given"), NAMED, ids=[w for w, _, _ in NAMED])
def test_every_key_the_code_names_is_in_both_languages_with_its_parameters(
    where: str, key: str, given: set[str] | None
) -> None:
    texts = catalogue()
    for lang in ("en", "nb"):
        if key.endswith((".one", ".many")) or f"{key}.one" in texts[lang]:
            variants = [f"{key}.one", f"{key}.many"] if f"{key}.one" in texts[lang] else [key]
        else:
            variants = [key]
        for variant in variants:
            assert variant in texts[lang], f"{where}: {variant} has no {lang} text"
            if given is not None:
                wanted = placeholders(texts[lang][variant])
                assert wanted <= given | {"n"}, f"{where}: {variant} needs {wanted - given}"
                assert given <= wanted | {"n"}, f"{where}: {variant} takes no {given - wanted}"
