"""The message catalogue: both languages complete, placeholders alike."""

from __future__ import annotations

import string

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
