"""What the bot takes from outside, checked before anything else reads it: JSON of a bounded
depth that must be an object, a database ID in the range the store can hold, a Slack user ID,
and text without control characters. Pure.

Each check answers with the value or None (or raises `BadJson`, a ValueError, for JSON), so a
caller refuses an odd input in its own words instead of meeting it later as a crash deep in
the store (`int('9' * 400)` overflows SQLite's INTEGER) or in a library (`json.loads` of a
100,000-deep array exhausts the recursion limit). Imports nothing of the project.
"""

from __future__ import annotations

import json
import re
from typing import Any

SOURCE_MAX_BYTES = 4 * 1024 * 1024  # the default cap on a source's answer (SOURCE_MAX_BYTES)
MAX_DEPTH = 64  # nesting of JSON objects and arrays; Slack's deepest payloads use about 12
ID_MAX = 2**63 - 1  # the largest integer SQLite and PostgreSQL's BIGINT store
ID_DIGITS = 19
# Slack's IDs: an upper-case letter (U, W for people, B for bots) and upper-case letters and
# digits; workspace IDs are a dozen characters, enterprise ones somewhat longer.
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,31}")
# Control characters, and the bidirectional embeddings, overrides and isolates that make a
# text read in another order than it is written (a name that shows as "exe.txt").
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class BadJson(ValueError):
    """The text is not JSON, nests deeper than allowed, or is not the kind of value wanted."""


class TooDeep(BadJson):
    """The JSON nests deeper than allowed."""


def depth_of(value: Any) -> int:
    """How deeply objects and arrays nest in a parsed JSON value (a scalar is 0), without
    recursion, so a deep value cannot exhaust the stack while it is measured."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in item if isinstance(child, dict | list))
    return deepest


def parse_json(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """JSON text (or UTF-8 bytes) as Python values. Raises BadJson for text that is not JSON
    (NaN and Infinity included, which JSON does not have), for bytes that are not UTF-8, and
    for nesting deeper than `max_depth`."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise BadJson("the body is not UTF-8") from None
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise TooDeep(f"the JSON nests deeper than {max_depth} levels") from None
    except json.JSONDecodeError:
        raise BadJson("the body is not JSON") from None
    # Fewer brackets than the limit cannot nest past it: most answers need no walk at all.
    if text.count("[") + text.count("{") > max_depth and depth_of(value) > max_depth:
        raise TooDeep(f"the JSON nests deeper than {max_depth} levels")
    return value


def parse_json_object(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Like `parse_json`, for text that must hold one object."""
    value = parse_json(text, max_depth=max_depth)
    if not isinstance(value, dict):
        raise BadJson(f"the JSON is {json_kind(value)}, not an object")
    return value


def json_kind(value: Any) -> str:
    """A JSON value's kind as JSON names it, for a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _no_constant(name: str) -> Any:
    raise BadJson(f"the body is not JSON ({name} is not a number JSON has)")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)  # made once: json.loads makes one a call


def parse_id(value: Any) -> int | None:
    """A positive database ID written in ASCII digits, within what the store can hold; None
    for anything else (fullwidth or superscript digits, 400 digits, signs, spaces)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= ID_MAX else None
    if not isinstance(value, str) or not 0 < len(value) <= ID_DIGITS:
        return None
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 0 < number <= ID_MAX else None


def is_user_id(value: Any) -> bool:
    """Whether `value` is written like a Slack user ID (U... or W...)."""
    return isinstance(value, str) and _USER_ID.fullmatch(value) is not None


def plain(text: str) -> str:
    """`text` without control characters (but line breaks and tabs) and without the
    bidirectional controls that reorder what a reader sees; other characters, right-to-left
    scripts and marks included, stay as they are."""
    return _HIDDEN.sub("", text) if _HIDDEN.search(text) else text
