"""The message catalogue: every string a person reads, in English and Norwegian Bokmål.

`t(lang, key, **params)` looks a key up in `bot/core/data/messages.toml`. An unknown language falls
back to English; a missing key raises KeyError, and a test proves both languages have every
key with the same placeholders, so a missing text is a failing test, not a surprise in Slack.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "nb")
DEFAULT = "en"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    text = resources.files("bot.core").joinpath("data/messages.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return {lang: _flatten(data.get(lang, {})) for lang in LANGUAGES}


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


def language(lang: str | None) -> str:
    """A supported language for a Slack locale ('nb-NO', 'no', 'nn-NO') or a setting."""
    if not lang:
        return DEFAULT
    code = lang.lower().replace("_", "-").split("-")[0]
    if code in ("nb", "no", "nn"):
        return "nb"
    return code if code in LANGUAGES else DEFAULT


def t(lang: str, key: str, **params: object) -> str:
    texts = catalogue()[language(lang)]
    template = texts[key]
    return template.format(**params) if params else template


def t_count(lang: str, key: str, n: int, **params: object) -> str:
    """A text that counts: `key.one` for exactly one, `key.many` otherwise (English and Bokmål
    inflect alike), with `n` among its parameters."""
    return t(lang, f"{key}.{'one' if n == 1 else 'many'}", n=n, **params)


def keys(lang: str) -> set[str]:
    return set(catalogue()[language(lang)])
