"""What the bot takes from a Slack request, checked: the body as Bolt will read it, who clicked
and the value they clicked, the ticket form's fields, who sent a command and its text, who
opened the App Home. Pure.

Slack sends these in known shapes; anything else (a payload that is not an object, a button
value of 400 digits, a form without its fields, a command without `user_id`) is `Refused`,
with a short word for the log's count, what was wrong, and the catalogue key of the short
answer the person behind it (if any) is given. Nothing here trusts a payload for more than
naming what was clicked: who may act, and on what, is decided by the use cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from bot.core.inputs import is_user_id, parse_id, parse_json_object, plain

VALUE_MAX = 2000  # Slack's limit for a button's or an option's value
COMMAND_TEXT_MAX = 4000  # far more than any /eadm command; Slack caps what a person types
FIELD_MAX = 10_000  # a modal's text input, whose own limit the form sets lower
CHANNEL_MAX = 40  # a channel ID is a dozen characters


@dataclass(frozen=True, slots=True)
class Refused:
    """A request the bot will not act on: `kind` (a short word, counted), `detail` (for the
    log), `answer` (the catalogue key of what the person is told) and who sent it, if known."""

    kind: str
    detail: str
    answer: str = "refused.button"
    user: str | None = None


@dataclass(frozen=True, slots=True)
class Click:
    user: str
    value: str
    trigger_id: str | None
    channel: str = ""  # the channel and ts of the message clicked on ("" for a view's)
    message_ts: str = ""


@dataclass(frozen=True, slots=True)
class TicketForm:
    user: str
    alert: str  # the modal's private metadata: the alert's ID as text, checked by the use case
    subject: str
    description: str


@dataclass(frozen=True, slots=True)
class Command:
    user: str
    text: str
    channel: str | None = None  # where it was typed, when Slack says


def body_of(text: str, content_type: str | None) -> dict[str, Any]:
    """The request body as Bolt will read it (the same rules, in the same order), checked:
    raises `bot.core.inputs.BadJson` when Bolt's reading would fail or not give an object."""
    if not text:
        return {}
    if content_type == "application/json" or text.startswith("{"):
        return parse_json_object(text)
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        return {} if payload is None else parse_json_object(payload)
    return dict(parse_qsl(text, keep_blank_values=True))


# Payload types whose `callback_id` Bolt routes by.
_BY_CALLBACK = (
    "interactive_message",
    "dialog_submission",
    "dialog_cancellation",
    "dialog_suggestion",
    "workflow_step_edit",
    "shortcut",
    "message_action",
)


def shape_problem(body: dict[str, Any]) -> str | None:
    """What in a payload's routing fields Bolt cannot read (it indexes them without looking),
    or None. Bolt routes by a payload's type and, by type, its event, actions, view, command
    or callback ID; each must be what Slack sends where it is present at all."""
    kind = body.get("type")
    if kind is not None and not isinstance(kind, str):
        return "its type is not text"
    if "command" in body and not isinstance(body["command"], str):
        return "its command is not text"
    if kind == "event_callback" and "event" in body:
        event = body["event"]
        if not isinstance(event, dict) or not isinstance(event.get("type", ""), str):
            return "its event is not an object with a type"
    if kind == "url_verification" and not isinstance(body.get("challenge"), str):
        return "its challenge is not text"
    if (kind == "block_actions" and "actions" in body) or (
        kind == "interactive_message" and "callback_id" in body
    ):
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            return "it has no list of actions"
        if not all(isinstance(a, dict) for a in actions):
            return "an action is not an object"
        if kind == "block_actions" and not isinstance(actions[0].get("action_id"), str):
            return "its action has no action_id"
    if kind in _BY_CALLBACK and "callback_id" in body:
        if not isinstance(body["callback_id"], str):
            return "its callback_id is not text"
        if kind == "workflow_step_edit" and "workflow_step" not in body:
            return "it has no workflow_step"
    if kind == "block_suggestion" and not isinstance(body.get("action_id", ""), str):
        return "its action_id is not text"
    if kind in ("view_submission", "view_closed") and "view" in body:
        view = body["view"]
        if not isinstance(view, dict):
            return "its view is not an object"
        if "callback_id" in view:
            if not isinstance(view["callback_id"], str) or "type" not in view:
                return "its view has no callback_id and type"
            if view["type"] == "workflow_step" and "workflow_step" not in body:
                return "it has no workflow_step"
    return None


def user_of(body: dict[str, Any]) -> str | None:
    """The Slack user ID an interactive payload names, if it is written like one."""
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, dict) else None
    return user_id if is_user_id(user_id) else None


def click(body: dict[str, Any]) -> Click | Refused:
    """Who clicked a button (or chose an option), and its value."""
    user = user_of(body)
    if user is None:
        return Refused("field", "a click without a Slack user ID")
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else None
    if not isinstance(action, dict):
        return Refused("field", "a click without its action", user=user)
    value = action.get("value")
    if value is None and isinstance(action.get("selected_option"), dict):
        value = action["selected_option"].get("value")
    if not isinstance(value, str) or len(value) > VALUE_MAX:
        return Refused("field", "a click whose value is not a button's value", user=user)
    trigger = body.get("trigger_id")
    channel, ts = _message(body)
    return Click(
        user, value, trigger if isinstance(trigger, str) and trigger else None, channel, ts
    )


def _message(body: dict[str, Any]) -> tuple[str, str]:
    """The channel and ts of the message a click was on, where the payload says."""
    container = body.get("container")
    container = container if isinstance(container, dict) else {}
    channel = body.get("channel")
    found = container.get("channel_id") or (channel.get("id") if isinstance(channel, dict) else "")
    ts = container.get("message_ts")
    return (
        found if isinstance(found, str) else "",
        ts if isinstance(ts, str) else "",
    )


def ticket_form(body: dict[str, Any]) -> TicketForm | Refused:
    """The ticket modal as submitted: who sent it, its alert, subject and description."""
    user = user_of(body)
    if user is None:
        return Refused("field", "a form without a Slack user ID", answer="refused.form")
    view = body.get("view")
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(view, dict) or not isinstance(values, dict):
        return Refused("field", "a ticket form without its fields", "refused.form", user)
    fields = {name: _input(values, name) for name in ("subject", "description")}
    alert = view.get("private_metadata")
    if any(value is None for value in fields.values()) or not isinstance(alert, str):
        return Refused("field", "a ticket form without its fields", "refused.form", user)
    if parse_id(alert) is None:
        return Refused("field", "a ticket form for no alert's ID", "refused.form", user)
    return TicketForm(user, alert, fields["subject"] or "", fields["description"] or "")


def _input(values: dict[str, Any], block: str) -> str | None:
    """A plain text input's value (empty when the person left it empty); None when the block
    is missing or not a text input's."""
    element = values.get(block)
    element = element.get("value") if isinstance(element, dict) else None
    if not isinstance(element, dict):
        return None
    value = element.get("value")
    if value is None:
        return ""
    if not isinstance(value, str):
        return None
    return plain(value[:FIELD_MAX])


def command(body: dict[str, Any]) -> Command | Refused:
    """Who sent `/eadm`, and what they typed after it."""
    user = body.get("user_id")
    if not is_user_id(user):
        return Refused("field", "a command without a Slack user ID", answer="refused.who")
    text = body.get("text") or ""
    if not isinstance(text, str) or len(text) > COMMAND_TEXT_MAX:
        return Refused("field", "a command longer than any /eadm command", "refused.long", user)
    channel = body.get("channel_id")
    known = isinstance(channel, str) and 0 < len(channel) <= CHANNEL_MAX
    return Command(user, plain(text), channel if known else None)


def home_user(event: dict[str, Any]) -> str | Refused:
    """Who opened the App Home."""
    user = event.get("user")
    return user if is_user_id(user) else Refused("field", "an App Home without a Slack user ID")
