"""What the bot takes from a Slack request, row by row: the body as Bolt reads it, the fields
Bolt routes by, and who clicked, submitted, asked or opened what."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.kwargs_injection.async_utils import build_async_required_kwargs
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body

from bot.core.inputs import BadJson
from bot.slack import ids
from bot.slack.payloads import (
    COMMAND_TEXT_MAX,
    Click,
    Command,
    Refused,
    TicketForm,
    body_of,
    click,
    command,
    home_user,
    shape_problem,
    ticket_form,
)

USER = {"id": "U0ADMIN", "username": "kari"}


def form(payload: object) -> str:
    return urlencode({"payload": json.dumps(payload)})


@pytest.mark.parametrize(
    ("text", "content_type"),
    [
        ("", None),
        (form({"type": "block_actions", "user": USER}), "application/x-www-form-urlencoded"),
        ('{"type": "event_callback", "event": {"type": "app_home_opened"}}', "application/json"),
        ('{"type": "url_verification", "challenge": "x"}', None),
        ("command=%2Feadm&text=status&user_id=U0ADMIN", "application/x-www-form-urlencoded"),
        ("a=1&b", None),
    ],
)
def test_the_body_is_read_as_bolt_reads_it(text: str, content_type: str | None) -> None:
    assert body_of(text, content_type) == parse_body(text, content_type)


@pytest.mark.parametrize(
    ("text", "content_type", "why"),
    [
        ("[1, 2]", "application/json", "an array, not an object"),
        (form([]), None, "an array, not an object"),
        (urlencode({"payload": '"text"'}), None, "a string, not an object"),
        ("{", None, "not JSON"),
        ("payload=", None, "not JSON"),  # Bolt's json.loads("") would raise
        (urlencode({"payload": "{"}), None, "not JSON"),
        (urlencode({"payload": "[" * 5000 + "]" * 5000}), None, "deeper than 64"),
        ('{"a":' * 10_000 + "1" + "}" * 10_000, None, "deeper than 64"),
    ],
)
def test_a_body_bolt_cannot_read_is_refused_before_bolt_sees_it(
    text: str, content_type: str | None, why: str
) -> None:
    with pytest.raises(BadJson, match=why):
        body_of(text, content_type)


GOOD = [
    {},
    {"type": "block_actions", "user": USER, "actions": [{"action_id": ids.ACTION_ACK}]},
    {"type": "view_submission", "view": {"callback_id": ids.VIEW_TICKET, "type": "modal"}},
    {"type": "event_callback", "event": {"type": "app_home_opened", "user": "U0ADMIN"}},
    {"type": "event_callback", "event": {"user": "U0ADMIN"}},
    {"type": "url_verification", "challenge": "abc"},
    {"command": "/eadm", "text": "status", "user_id": "U0ADMIN"},
    {"type": "shortcut", "callback_id": "x"},
    {"type": "block_suggestion", "action_id": "x"},
    {"type": "no_such_type", "anything": [1, {"b": None}]},
    {"type": "view_submission"},  # no view: nothing routes it, and nothing breaks
]

BAD = [
    ({"type": 7}, "type is not text"),
    ({"type": ["block_actions"]}, "type is not text"),
    ({"command": ["/eadm"]}, "command is not text"),
    ({"type": "event_callback", "event": "x"}, "event is not an object"),
    ({"type": "event_callback", "event": {"type": 5}}, "event is not an object"),
    ({"type": "url_verification", "challenge": [1]}, "challenge is not text"),
    ({"type": "block_actions", "actions": []}, "no list of actions"),
    ({"type": "block_actions", "actions": "x"}, "no list of actions"),
    ({"type": "block_actions", "actions": [None]}, "an action is not an object"),
    ({"type": "block_actions", "actions": [{"value": "1"}]}, "no action_id"),
    ({"type": "block_actions", "actions": [{"action_id": 5}]}, "no action_id"),
    ({"type": "interactive_message", "callback_id": "x"}, "no list of actions"),
    ({"type": "shortcut", "callback_id": 5}, "callback_id is not text"),
    ({"type": "workflow_step_edit", "callback_id": "x"}, "no workflow_step"),
    ({"type": "block_suggestion", "action_id": 5}, "action_id is not text"),
    ({"type": "view_submission", "view": None}, "view is not an object"),
    ({"type": "view_submission", "view": []}, "view is not an object"),
    ({"type": "view_submission", "view": {"callback_id": None}}, "no callback_id and type"),
    ({"type": "view_closed", "view": {"callback_id": "x"}}, "no callback_id and type"),
    (
        {"type": "view_submission", "view": {"callback_id": "x", "type": "workflow_step"}},
        "no workflow_step",
    ),
]


@pytest.mark.parametrize("body", GOOD, ids=lambda b: json.dumps(b)[:40])
def test_bolt_can_route_every_payload_the_shape_check_lets_through(body: dict[str, Any]) -> None:
    assert shape_problem(body) is None
    request = AsyncBoltRequest(body=json.dumps(body), headers={"content-type": "application/json"})
    # What Bolt builds for every listener, matcher and error handler: none of it may raise.
    build_async_required_kwargs(
        logger=logging.getLogger("test"),
        required_arg_names=["body"],
        request=request,
        response=None,
        next_keys_required=False,
    )


@pytest.mark.parametrize(("body", "why"), BAD, ids=lambda b: json.dumps(b)[:40])
def test_a_payload_bolt_would_crash_on_is_named(body: dict[str, Any], why: str) -> None:
    problem = shape_problem(body)
    assert problem is not None and why in problem


def action(value: Any = "12", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "block_actions",
        "user": USER,
        "trigger_id": "1.2.3",
        "actions": [{"action_id": ids.ACTION_ACK, "value": value}],
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (action(), Click("U0ADMIN", "12", "1.2.3")),
        (
            action(
                actions=[{"action_id": ids.ACTION_SNOOZE, "selected_option": {"value": "1:1h"}}]
            ),
            Click("U0ADMIN", "1:1h", "1.2.3"),
        ),
        (action("9" * 400), Click("U0ADMIN", "9" * 400, "1.2.3")),  # the use case says no
        (action(trigger_id=None), Click("U0ADMIN", "12", None)),
    ],
)
def test_a_click_names_who_and_what(body: dict[str, Any], expected: Click) -> None:
    assert click(body) == expected


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (action(user=None), "without a Slack user ID"),
        (action(user={"id": ""}), "without a Slack user ID"),
        (action(user={"id": "U" * 5000}), "without a Slack user ID"),
        (action(user="U0ADMIN"), "without a Slack user ID"),
        (action(actions=[]), "without its action"),
        (action(actions=[None]), "without its action"),
        (action(None), "not a button's value"),
        (action({"a": 1}), "not a button's value"),
        (action("x" * 2001), "not a button's value"),
        (action(actions=[{"action_id": ids.ACTION_SNOOZE, "selected_option": None}]), "value"),
    ],
)
def test_a_click_slack_would_not_send_is_refused(body: dict[str, Any], detail: str) -> None:
    refused = click(body)
    assert isinstance(refused, Refused) and detail in refused.detail
    assert refused.answer == "refused.button"


def submission(values: Any, metadata: Any = "7", **view: Any) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "user": USER,
        "view": {"callback_id": ids.VIEW_TICKET, "private_metadata": metadata, **view}
        | ({"state": {"values": values}} if values is not ... else {}),
    }


FIELDS = {"subject": {"value": {"value": "Export AD"}}, "description": {"value": {"value": "x"}}}


def test_the_ticket_form_gives_its_fields() -> None:
    assert ticket_form(submission(FIELDS)) == TicketForm("U0ADMIN", "7", "Export AD", "x")
    empty = {"subject": {"value": {"value": None}}, "description": {"value": {}}}
    assert ticket_form(submission(empty)) == TicketForm("U0ADMIN", "7", "", "")


@pytest.mark.parametrize(
    "body",
    [
        submission(...),
        submission({}),
        submission([1]),
        submission({"description": FIELDS["description"]}),
        submission({**FIELDS, "subject": None}),
        submission({**FIELDS, "subject": {"value": 5}}),
        submission({**FIELDS, "subject": {"value": {"value": 5}}}),
        submission(FIELDS, metadata=None),
        submission(FIELDS, metadata=7),
        submission(FIELDS, metadata="9" * 400),
        submission(FIELDS, metadata="-1"),
        {**submission(FIELDS), "user": {}},
        {**submission(FIELDS), "view": None},
        {**submission(FIELDS), "view": {"state": "x"}},
    ],
)
def test_a_form_without_its_fields_has_expired(body: dict[str, Any]) -> None:
    refused = ticket_form(body)
    assert isinstance(refused, Refused) and refused.answer == "refused.form"


def test_the_ticket_form_drops_hidden_characters_and_cuts_the_outsized() -> None:
    values = {
        "subject": {"value": {"value": "Export\x00 AD\u202e"}},
        "description": {"value": {"value": "x" * 50_000}},
    }
    form = ticket_form(submission(values))
    assert isinstance(form, TicketForm)
    assert form.subject == "Export AD" and len(form.description) == 10_000


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"user_id": "U0ADMIN", "text": "status"}, Command("U0ADMIN", "status")),
        ({"user_id": "U0ADMIN"}, Command("U0ADMIN", "")),
        ({"user_id": "U0ADMIN", "text": "status\x00\x1b\u202e"}, Command("U0ADMIN", "status")),
        ({"text": "status"}, Refused("field", "a command without a Slack user ID", "refused.who")),
        (
            {"user_id": "", "text": "x"},
            Refused("field", "a command without a Slack user ID", "refused.who"),
        ),
        (
            {"user_id": "U0ADMIN", "text": "x" * (COMMAND_TEXT_MAX + 1)},
            Refused("field", "a command longer than any /eadm command", "refused.long", "U0ADMIN"),
        ),
    ],
)
def test_a_command_names_who_and_what(body: dict[str, Any], expected: object) -> None:
    assert command(body) == expected


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"type": "app_home_opened", "user": "U0ADMIN"}, "U0ADMIN"),
        ({"type": "app_home_opened"}, None),
        ({"type": "app_home_opened", "user": 5}, None),
        ({"type": "app_home_opened", "user": "U" * 5000}, None),
    ],
)
def test_who_opened_the_home_tab(event: dict[str, Any], expected: str | None) -> None:
    found = home_user(event)
    assert found == expected if expected else isinstance(found, Refused)
