"""What the bot takes from outside, row by row: JSON of a bounded depth, database IDs, Slack user
IDs and text without hidden characters."""

from __future__ import annotations

import pytest

from bot.core.inputs import (
    ID_MAX,
    MAX_DEPTH,
    BadJson,
    depth_of,
    is_user_id,
    parse_id,
    parse_json,
    parse_json_object,
    plain,
)


def nested(depth: int, kind: str = "[") -> str:
    return "[" * depth + "]" * depth if kind == "[" else '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("{}", {}),
        ('{"a": [1, {"b": null}]}', {"a": [1, {"b": None}]}),
        (b'{"name": "\xc3\xa6"}', {"name": "æ"}),
        ("[]", []),
        ('"text"', "text"),
        # Brackets inside a string nest nothing.
        ('["' + "[" * 200 + '"]', ["[" * 200]),
    ],
)
def test_json_within_the_limits_is_read(text: str | bytes, value: object) -> None:
    assert parse_json(text) == value


def test_json_as_deep_as_the_limit_is_read() -> None:
    assert depth_of(parse_json(nested(MAX_DEPTH))) == MAX_DEPTH


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{", "not JSON"),
        ("{'a': 1}", "not JSON"),
        ('{"a": NaN}', "NaN"),
        ('{"a": -Infinity}', "Infinity"),
        ("\ufeff{}", "not JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"a": "\xc3"}', "not UTF-8"),
        (nested(MAX_DEPTH + 1), "deeper than 64"),
        (nested(MAX_DEPTH + 1, "{"), "deeper than 64"),
        (nested(100_000), "deeper than 64"),
        (nested(100_000, "{"), "deeper than 64"),
    ],
)
def test_json_past_the_limits_is_refused_in_words(text: str | bytes, why: str) -> None:
    with pytest.raises(BadJson, match=why):
        parse_json(text)


@pytest.mark.parametrize(
    ("text", "kind"), [("[]", "an array"), ("null", "null"), ("7", "a number")]
)
def test_an_object_is_asked_for_by_name(text: str, kind: str) -> None:
    with pytest.raises(BadJson, match=f"is {kind}, not an object"):
        parse_json_object(text)


def test_depth_is_measured_without_recursion() -> None:
    value: object = 1
    for _ in range(50_000):
        value = [value]
    assert depth_of(value) == 50_000
    assert depth_of({"a": [1, {"b": []}]}) == 4
    assert depth_of("text") == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("42", 42),
        (str(ID_MAX), ID_MAX),
        (7, 7),
        (str(ID_MAX + 1), None),
        ("9" * 19, None),
        ("9" * 400, None),
        ("0", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1.0", None),
        ("１２", None),  # fullwidth digits: int() reads them, the store must not get them
        ("²", None),  # a digit to str.isdigit, an error to int()
        ("٣", None),
        ("", None),
        (None, None),
        (True, None),
        (0, None),
        (ID_MAX + 1, None),
        (["1"], None),
    ],
)
def test_database_ids_are_ascii_digits_in_range(value: object, expected: int | None) -> None:
    assert parse_id(value) == expected


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("U0ADMIN", True),
        ("W012AB3CD", True),
        ("UADMIN", True),
        ("", False),
        ("U", False),
        ("u0admin", False),
        ("B0BOT", False),
        ("U" * 5000, False),
        ("U0AD MIN", False),
        ("<@U0ADMIN>", False),
        (12, False),
        (None, False),
    ],
)
def test_slack_user_ids(value: object, ok: bool) -> None:
    assert is_user_id(value) is ok


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain text", "plain text"),
        ("lines\nand\ttabs stay", "lines\nand\ttabs stay"),
        ("nul\x00 bell\x07 escape\x1b[31m", "nul bell escape[31m"),
        ("c1\x85\x9b controls", "c1 controls"),
        ("exe.\u202etxt", "exe.txt"),  # right-to-left override: reads as "exe.txt" reversed
        ("iso\u2066late\u2069", "isolate"),
        ("מערכת \u200f mark stays", "מערכת \u200f mark stays"),
        ("æøå ÆØÅ", "æøå ÆØÅ"),
    ],
)
def test_plain_drops_hidden_characters_only(text: str, expected: str) -> None:
    assert plain(text) == expected
