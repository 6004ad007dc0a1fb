"""The signed requests Slack would never send, made up for the end-to-end tests of bad input:
payloads that are not objects or have no type, broken, deeply nested or not UTF-8 bodies,
view submissions without their fields, buttons with values no button carries, unknown
callback and action IDs, commands without their user, events nobody sends. A body may hold
the placeholder RESPONSE_URL, for the test to put its Slack double's response URL in."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

from bot.sim.signing import event_body, slash_command_body
from bot.slack import ids
from testkit.e2e import SIGNING_SECRET

ADMIN = "UADMIN"
CHANNEL = "CHOSTILE"


def form(payload: object) -> str:
    """An interactive payload as Slack posts it, whatever `payload` is."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return urlencode({"payload": text})


def action(action_id: str, value: Any = "1", **fields: Any) -> dict[str, Any]:
    body = {
        "type": "block_actions",
        "user": {"id": ADMIN, "username": "kari", "team_id": "T0DEMO"},
        "api_app_id": "A0EADM",
        "team": {"id": "T0DEMO", "domain": "demo"},
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": "1.1", "channel_id": CHANNEL},
        "channel": {"id": CHANNEL, "name": "hostile"},
        "response_url": "RESPONSE_URL",
        "actions": [{"action_id": action_id, "block_id": "b", "type": "button", "value": value}],
    }
    body.update(fields)
    return body


def submission(values: Any = None, **view: Any) -> dict[str, Any]:
    body = {
        "type": "view_submission",
        "team": {"id": "T0DEMO", "domain": "demo"},
        "user": {"id": ADMIN, "username": "kari", "team_id": "T0DEMO"},
        "api_app_id": "A0EADM",
        "trigger_id": "1.2.3",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": ids.VIEW_TICKET,
            "private_metadata": "1",
            "state": {"values": values if values is not None else {}},
        },
    }
    body["view"].update(view)
    return body


def nested(depth: int, kind: str = "[") -> str:
    if kind == "[":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def hostile_bodies() -> Iterator[tuple[str, bytes, str]]:
    """(what, body, content type) for every signed request Slack would never send."""
    formed = "application/x-www-form-urlencoded"
    as_json = "application/json"

    def f(what: str, body: str) -> tuple[str, bytes, str]:
        return what, body.encode(), formed

    def j(what: str, body: str) -> tuple[str, bytes, str]:
        return what, body.encode(), as_json

    # Payloads that are not an object.
    for value in ("[]", "[1, 2]", '"text"', "42", "null", "true", "1e999", "-0"):
        yield f(f"payload {value}", form(value))
        yield j(f"JSON body {value}", value)
    # Objects without a type, or with one nobody sends.
    for body in (
        {},
        {"user": {"id": ADMIN}},
        {"actions": [{"action_id": ids.ACTION_ACK}]},
        {"type": None},
        {"type": 7},
        {"type": ["block_actions"]},
        {"type": "block_actions"},
        {"type": "no_such_type"},
    ):
        yield f(f"payload {json.dumps(body)[:40]}", form(body))
    yield j("event body without type", json.dumps({"event": {"type": "app_home_opened"}}))
    # Broken JSON.
    for text in (
        "{",
        '{"type": "block_actions", ',
        "{'type': 'x'}",
        '{"type": "x"} trailing',
        "[1,",
        '{"a": NaN}',
        '{"a": Infinity}',
        "\ufeff{}",
        '{"a": "\\ud800"}',
        "{]",
    ):
        yield f(f"broken payload {text[:20]!r}", form(text))
        yield j(f"broken JSON {text[:20]!r}", text)
    yield f("empty payload", "payload=")
    yield f("form without payload", "a=1&b=2&c")
    yield f("empty body", "")
    # Deeply nested JSON.
    for depth in (100, 1000, 10_000, 100_000):
        for kind in "[{":
            yield f(f"payload nested {depth} {kind}", form(nested(depth, kind)))
            yield j(f"JSON nested {depth} {kind}", nested(depth, kind))
    deep_action = action(ids.ACTION_ACK, value=json.loads(nested(200, "{")))
    yield f("a button value nested 200 deep", form(deep_action))
    # Not UTF-8.
    for raw in (
        b"\xff\xfe\x00",
        "payload=æøå".encode("latin-1"),
        b'{"type": "\x80"}',
        b"payload=%FF%FE",
        b"payload=" + json.dumps(action(ids.ACTION_ACK)).encode()[:-3] + b"\xc3",
    ):
        yield "not UTF-8 " + repr(raw[:16]), raw, formed
        yield "not UTF-8 JSON " + repr(raw[:16]), raw, as_json
    # View submissions without their fields.
    values_ok = {"subject": {"value": {"value": "s"}}, "description": {"value": {"value": "d"}}}
    for what, body in (
        ("no view", {k: v for k, v in submission().items() if k != "view"}),
        ("view null", {**submission(), "view": None}),
        ("view a list", {**submission(), "view": []}),
        ("no state", submission(state=None)),
        ("state a string", submission(state="x")),
        ("no values", submission()),
        ("values a list", submission(values=[1])),
        ("no subject", submission({"description": values_ok["description"]})),
        ("subject null", submission({**values_ok, "subject": None})),
        ("subject value a number", submission({**values_ok, "subject": {"value": 5}})),
        (
            "subject of 50,000 characters",
            submission({**values_ok, "subject": {"value": {"value": "<!here> " * 6250}}}),
        ),
        ("no private_metadata", submission(values_ok, private_metadata=None)),
        ("private_metadata of 400 digits", submission(values_ok, private_metadata="9" * 400)),
        ("private_metadata negative", submission(values_ok, private_metadata="-1")),
        ("private_metadata a number", submission(values_ok, private_metadata=12)),
        ("private_metadata not an alert", submission(values_ok, private_metadata="999999")),
        ("callback id unknown", submission(values_ok, callback_id="no.such.view")),
        ("callback id missing", submission(values_ok, callback_id=None)),
        ("no user", {k: v for k, v in submission(values_ok).items() if k != "user"}),
        ("user a string", {**submission(values_ok), "user": "UADMIN"}),
        ("user without id", {**submission(values_ok), "user": {}}),
    ):
        yield f(f"view submission: {what}", form(body))
    for kind in (
        "view_closed",
        "dialog_submission",
        "shortcut",
        "message_action",
        "interactive_message",
        "block_suggestion",
        "workflow_step_edit",
    ):
        yield f(
            f"{kind} nobody listens to",
            form({**submission(values_ok), "type": kind, "callback_id": "no.such"}),
        )
    # Buttons with values no button carries.
    buttons = (
        ids.ACTION_ACK,
        ids.ACTION_SNOOZE,
        ids.ACTION_RERUN,
        ids.ACTION_RERUN_TENANT,
        ids.ACTION_TICKET,
        ids.ACTION_TICKET_AGAIN,
        ids.ACTION_DIGEST_PICK,
        ids.ACTION_HOME_REFRESH,
    )
    for action_id in buttons:
        for value in (
            "9" * 400,
            "9" * 19,
            "-1",
            "0",
            "１２",
            "²",
            "1:" + "x" * 5000,
            "",
            None,
            {"a": 1},
        ):
            yield f(f"{action_id} value {str(value)[:12]!r}", form(action(action_id, value)))
    for what, body in (
        ("no actions", {k: v for k, v in action(ids.ACTION_ACK).items() if k != "actions"}),
        ("actions empty", action(ids.ACTION_ACK, actions=[])),
        ("actions a string", action(ids.ACTION_ACK, actions="x")),
        ("actions [null]", action(ids.ACTION_ACK, actions=[None])),
        ("action without id", action(ids.ACTION_ACK, actions=[{"value": "1"}])),
        ("unknown action id", action("no.such.action")),
        ("action id a number", action(ids.ACTION_ACK, actions=[{"action_id": 5}])),
        ("no user", {k: v for k, v in action(ids.ACTION_ACK).items() if k != "user"}),
        ("user null", action(ids.ACTION_ACK, user=None)),
        ("user id empty", action(ids.ACTION_ACK, user={"id": ""})),
        ("user id of 5,000 characters", action(ids.ACTION_ACK, user={"id": "U" * 5000})),
        ("user id a number", action(ids.ACTION_ACK, user={"id": 12})),
        (
            "no response_url",
            {k: v for k, v in action(ids.ACTION_ACK).items() if k != "response_url"},
        ),
        ("team a number", action(ids.ACTION_ACK, team=5)),
        ("container a string", action(ids.ACTION_ACK, container="x")),
        (
            "selected option null",
            action(
                ids.ACTION_SNOOZE,
                actions=[{"action_id": ids.ACTION_SNOOZE, "selected_option": None}],
            ),
        ),
        (
            "no trigger_id for a ticket",
            {k: v for k, v in action(ids.ACTION_TICKET).items() if k != "trigger_id"},
        ),
    ):
        yield f(f"block action: {what}", form(body))
    # Slash commands Slack would not send.
    command = dict(
        parse_qsl(
            slash_command_body(ids.COMMAND, "status", user_id=ADMIN, response_url="RESPONSE_URL")
        )
    )

    def slash(**changes: str | None) -> str:
        fields = {**command, **changes}
        return urlencode({k: v for k, v in fields.items() if v is not None})

    for what, body in (
        ("without user_id", slash(user_id=None)),
        ("user_id empty", slash(user_id="")),
        ("user_id of 5,000 characters", slash(user_id="U" * 5000)),
        ("without command", slash(command=None)),
        ("unknown command", slash(command="/other")),
        ("without text", slash(text=None)),
        ("text of 50,000 characters", slash(text="status " + "x" * 50_000)),
        ("control characters", slash(text="status\x00\x07\x1b[31m\u202e")),
        ("history ²", slash(text="history ²")),
        ("history of 5,000 digits", slash(text="history " + "9" * 5000)),
        ("silence ²", slash(text="silence ²")),
        ("silence of 5,000 digits", slash(text="silence " + "9" * 5000)),
        ("silence 10^30 minutes", slash(text="silence " + "9" * 30 + "m")),
        ("silence with a long reason", slash(text="silence 1m " + "<!here> `x` " * 400)),
        ("status with 5,000 words", slash(text="status " + "a " * 5000)),
        ("no response_url", slash(response_url=None)),
        ("no channel", slash(channel_id=None)),
    ):
        yield f(f"/eadm {what}", body)
    # Events Slack would not send.
    for what, event in (
        ("app_home_opened without user", {"type": "app_home_opened", "tab": "home"}),
        ("app_home_opened user a number", {"type": "app_home_opened", "user": 5}),
        ("app_home_opened user of 5,000", {"type": "app_home_opened", "user": "U" * 5000}),
        ("app_home_opened tab a list", {"type": "app_home_opened", "user": ADMIN, "tab": []}),
        ("unknown event", {"type": "reaction_added", "user": ADMIN}),
        ("event without type", {"user": ADMIN}),
    ):
        yield j(f"event: {what}", event_body(event))
    yield j(
        "event_callback without event", json.dumps({"type": "event_callback", "team_id": "T0DEMO"})
    )
    yield j("event a string", json.dumps({"type": "event_callback", "event": "x"}))
    yield j("url_verification without challenge", json.dumps({"type": "url_verification"}))
    yield j(
        "url_verification challenge a list",
        json.dumps({"type": "url_verification", "challenge": [1]}),
    )
    yield j("ssl_check", json.dumps({"type": "ssl_check", "ssl_check": "1"}))


def slack_signature(
    body: bytes, stamp: str | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    """Slack's v0 signature over the exact bytes, which need not be text."""
    stamp = stamp if stamp is not None else str(int(time.time()))
    mac = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={mac.hexdigest()}"}
