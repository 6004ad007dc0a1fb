"""Requests as Slack sends them to an app's `POST /slack/events`, signed with the app's secret.

Shapes follow Slack's documentation of slash commands, block_actions and view_submission
payloads; the signature is Slack's v0 HMAC-SHA256 over `v0:{timestamp}:{body}`. The demo's
page sends its clicks through these, and the tests build their requests with them too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

TEAM = {"id": "T0DEMO", "domain": "demo-kommune"}


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def form_headers(secret: str, body: str) -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded", **sign(secret, body)}


def json_headers(secret: str, body: str) -> dict[str, str]:
    return {"Content-Type": "application/json", **sign(secret, body)}


def slash_command_body(
    command: str,
    text: str,
    *,
    user_id: str,
    channel_id: str = "C0ALERTS",
    response_url: str = "https://hooks.slack.com/commands/T0DEMO/1/x",
    trigger_id: str = "1337.42.abcd",
    user_name: str = "admin",
) -> str:
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": TEAM["id"],
            "team_domain": TEAM["domain"],
            "channel_id": channel_id,
            "channel_name": "eadm-alerts",
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": "A0EADM",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def block_actions_body(
    action_id: str,
    value: str,
    *,
    user_id: str,
    channel_id: str = "C0ALERTS",
    message_ts: str = "1764000001.000100",
    response_url: str = "https://hooks.slack.com/actions/T0DEMO/1/x",
    selected: bool = False,
    trigger_id: str = "1337.42.abcd",
    block_id: str = "alert",
    label: str = "x",
    view: dict[str, Any] | None = None,
    is_ephemeral: bool = False,
) -> str:
    """A click on a button (or a choice in a static select, `selected=True`) in a message,
    or, when `view` is given, in that view (the App Home tab)."""
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "action_ts": f"{time.time():.6f}",
    }
    if selected:
        action.update(type="static_select", selected_option={"value": value})
    else:
        action.update(type="button", value=value, text={"type": "plain_text", "text": label})
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": "admin", "team_id": TEAM["id"]},
        "api_app_id": "A0EADM",
        "token": "deprecated-verification-token",
        "trigger_id": trigger_id,
        "team": TEAM,
        "actions": [action],
    }
    if view is not None:
        payload.update(container={"type": "view", "view_id": view.get("id", "")}, view=view)
    else:
        payload.update(
            container={
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": is_ephemeral,
            },
            channel={"id": channel_id, "name": "eadm-alerts"},
            message={"type": "message", "ts": message_ts, "text": ""},
            response_url=response_url,
        )
    return urlencode({"payload": json.dumps(payload)})


def view_submission_body(
    callback_id: str,
    values: dict[str, dict[str, Any]],
    *,
    user_id: str,
    private_metadata: str = "",
    view_id: str = "V0001",
) -> str:
    payload = {
        "type": "view_submission",
        "team": TEAM,
        "user": {"id": user_id, "username": "admin", "team_id": TEAM["id"]},
        "api_app_id": "A0EADM",
        "token": "deprecated-verification-token",
        "trigger_id": "1337.42.abcd",
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
            "hash": "1764000000.abcd",
        },
        "response_urls": [],
    }
    return urlencode({"payload": json.dumps(payload)})


def event_body(event: dict[str, Any]) -> str:
    return json.dumps(
        {
            "token": "deprecated-verification-token",
            "team_id": TEAM["id"],
            "api_app_id": "A0EADM",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{int(time.time() * 1000)}",
            "event_time": int(time.time()),
        }
    )
