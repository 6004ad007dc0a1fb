"""What the Slack stand-in holds, and the Web API methods the bot calls that change it.

A workspace's channels with their threads, updates, metadata and members, the answers only one
person sees, modals and whose screen they opened on, App Home tabs, users and user groups. The
methods answer as Slack's documentation shows; `SlackDouble` serves them over HTTP and adds
the recording, the faults and the membership events tests ask for.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

# What the demo and the tests see of Slack's answers; shapes follow Slack's documentation.
TEAM = {"team": "Demo kommune", "team_id": "T0DEMO", "url": "https://demo-kommune.slack.com/"}
BOT = {"user": "eadm-bot", "user_id": "U0BOT", "bot_id": "B0BOT"}
SCOPES = (
    "chat:write,chat:write.public,channels:history,groups:history,channels:read,groups:read,"
    "commands,users:read,users:read.email,usergroups:read"
)  # channels:read and groups:read also read members: users.conversations, conversations.members


class Workspace:
    """One workspace's state. A method `_m_<method>` answers the Web API method of that name
    (dots as underscores) with the JSON Slack would send."""

    def __init__(
        self,
        *,
        users: dict[str, dict[str, Any]] | None = None,
        usergroups: dict[str, list[str]] | None = None,
        socket_url: str | None = None,
    ) -> None:
        self.users = users or {}
        self.usergroups = usergroups or {}
        self.socket_url = socket_url
        self.channels: dict[str, list[dict[str, Any]]] = {}
        # Who is in a channel, where it matters; a channel not named here has every user.
        self.members: dict[str, list[str]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        # What a person sees besides the channel: answers only they see (chat.postEphemeral
        # and ephemeral response_url posts), and whose screen a modal opened on.
        self.ephemeral: list[dict[str, Any]] = []
        self.response_targets: dict[str, dict[str, Any]] = {}  # response_url name -> context
        self.trigger_users: dict[str, str] = {}  # trigger_id -> the person who clicked
        self.view_users: dict[str, str] = {}  # view ID -> the person it was opened for
        self.closed_views: set[str] = set()
        self.posted_at: dict[str, float] = {}  # ts -> wall-clock time (the ts are made up)
        self.members: dict[str, set[str]] = {}  # channel ID -> who is in it
        self.names: dict[str, str] = {}  # channel ID -> its name, for channels given by name
        self._ts = itertools.count(1)

    # -- what a person sees --------------------------------------------------------------------

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages of a channel, oldest first, as they read now."""
        return [m for m in self.channels.get(channel, []) if "thread_ts" not in m]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        return [m for m in self.channels.get(channel, []) if m.get("thread_ts") == ts]

    def open_modals(self, user: str) -> list[dict[str, Any]]:
        return [
            view
            for view_id, view in self.views.items()
            if self.view_users.get(view_id) == user and view_id not in self.closed_views
        ]

    # -- the Web API ---------------------------------------------------------------------------

    def _next_ts(self) -> str:
        ts = f"{1764000000 + next(self._ts)}.000100"
        self.posted_at[ts] = time.time()
        return ts

    def channel_id(self, channel: str) -> str:
        """The ID Slack answers with for a channel, even when its name (`#eadm-alerts`) was
        given; a channel named so is known by that name from then on."""
        if not channel.startswith("#"):
            return channel
        channel_id = "C" + channel.lstrip("#").upper().replace("-", "")[:10]
        self.names.setdefault(channel_id, channel.lstrip("#").lower())
        return channel_id

    def add_member(self, channel: str, user: str) -> str:
        """Put a person in a channel (its ID or #name); returns the channel's ID."""
        channel_id = self.channel_id(channel)
        self.members.setdefault(channel_id, set()).add(user)
        return channel_id

    def remove_member(self, channel: str, user: str) -> str:
        channel_id = self.channel_id(channel)
        self.members.get(channel_id, set()).discard(user)
        return channel_id

    def _channel(self, channel_id: str) -> dict[str, Any]:
        name = self.names.get(channel_id, channel_id.lower())
        return {"id": channel_id, "name": name, "is_channel": True, "is_archived": False}

    def _m_users_conversations(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user", ""))
        found = [self._channel(c) for c, people in sorted(self.members.items()) if user in people]
        return {"ok": True, "channels": found, "response_metadata": {"next_cursor": ""}}

    def _m_conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_id(str(params.get("channel", "")))
        people = sorted(self.members.get(channel, set()))
        return {"ok": True, "members": people, "response_metadata": {"next_cursor": ""}}

    def _m_conversations_list(self, params: dict[str, Any]) -> dict[str, Any]:
        known = {*self.names, *self.members, *self.channels}
        found = [self._channel(c) for c in sorted(known)]
        return {"ok": True, "channels": found, "response_metadata": {"next_cursor": ""}}

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, **TEAM, **BOT}

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_id(str(params.get("channel", "")))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT["user_id"],
            "bot_id": BOT["bot_id"],
            "ts": self._next_ts(),
            "text": params.get("text", ""),
            "blocks": json_value(params.get("blocks")) or [],
        }
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        if params.get("metadata"):
            message["metadata"] = json_value(params["metadata"])
        self.channels.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_id(str(params.get("channel", "")))
        for message in self.channels.get(channel, []):
            if message["ts"] == params.get("ts"):
                message["text"] = params.get("text", message["text"])
                if "blocks" in params:
                    message["blocks"] = json_value(params["blocks"]) or []
                message["edited"] = {"user": BOT["user_id"], "ts": self._next_ts()}
                return {
                    "ok": True,
                    "channel": channel,
                    "ts": message["ts"],
                    "text": message["text"],
                }
        return {"ok": False, "error": "message_not_found"}

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_id(str(params.get("channel", "")))
        message = self._ephemeral(channel, str(params.get("user", "")), params)
        return {"ok": True, "message_ts": message["ts"]}

    def _ephemeral(self, channel: str, user: str, params: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "ephemeral",
            "channel": channel,
            "user": user,  # the one person who sees it
            "bot_id": BOT["bot_id"],
            "ts": self._next_ts(),
            "text": params.get("text", ""),
            "blocks": json_value(params.get("blocks")) or [],
        }
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        self.ephemeral.append(message)
        return message

    def _m_chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = str(params.get("message_ts", "")).replace(".", "")
        link = f"{TEAM['url']}archives/{params.get('channel')}/p{ts}"
        return {"ok": True, "channel": params.get("channel"), "permalink": link}

    def _m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_id(str(params.get("channel", "")))
        limit = int(params.get("limit", 100))
        messages = list(reversed(self.messages(channel)))[:limit]
        return {
            "ok": True,
            "messages": self._with_metadata(messages, params),
            "has_more": False,
            "channel": channel,
        }

    def _m_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_id(str(params.get("channel", "")))
        ts = str(params.get("ts", ""))
        parent = [m for m in self.channels.get(channel, []) if m["ts"] == ts]
        messages = parent + self.thread(channel, ts)
        return {
            "ok": True,
            "messages": self._with_metadata(messages, params),
            "has_more": False,
            "channel": channel,
        }

    @staticmethod
    def _with_metadata(messages: list[dict[str, Any]], params: dict[str, Any]) -> list[dict]:
        if truthy(params.get("include_all_metadata")):
            return messages
        return [{k: v for k, v in m.items() if k != "metadata"} for m in messages]

    def _m_conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_id(str(params.get("channel", "")))
        return {"ok": True, "channel": {**self._channel(channel), "is_member": True}}

    def _m_conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_id(str(params.get("channel", "")))
        found = self.members.get(channel, [BOT["user_id"], *self.users])
        return {"ok": True, "members": found, "response_metadata": {"next_cursor": ""}}

    def _m_conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._m_conversations_info(params)

    def _m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        view = {"id": f"V{len(self.views) + 1:04d}", **(json_value(params.get("view")) or {})}
        self.views[view["id"]] = view
        user = self.trigger_users.get(str(params.get("trigger_id", "")))
        if user:
            self.view_users[view["id"]] = user
        return {"ok": True, "view": view}

    def _m_views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = str(params.get("view_id", ""))
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        self.views[view_id] = {"id": view_id, **(json_value(params.get("view")) or {})}
        return {"ok": True, "view": self.views[view_id]}

    def _m_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = {"id": f"VHOME-{params.get('user_id')}", **(json_value(params.get("view")) or {})}
        self.views[view["id"]] = view
        return {"ok": True, "view": view}

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user", ""))
        user = self.users.get(user_id)
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        body = {
            "id": user_id,
            "name": user.get("name", user_id),
            "real_name": user.get("real_name", user.get("name", user_id)),
            "tz": user.get("tz", "Europe/Oslo"),
            "profile": {"email": user.get("email"), "real_name": user.get("real_name", "")},
        }
        if truthy(params.get("include_locale")):
            body["locale"] = user.get("locale", "en-US")
        return {"ok": True, "user": body}

    def _m_usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = str(params.get("usergroup", ""))
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": self.usergroups[group]}

    def _m_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.socket_url:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.socket_url}

    def _answer(self, target: dict[str, Any], body: dict[str, Any]) -> None:
        """What Slack does with a response_url post, as its documentation describes."""
        channel = str(target.get("channel", ""))
        original = target.get("message_ts")
        if truthy(body.get("delete_original")) and original:
            messages = self.channels.get(channel, [])
            self.channels[channel] = [m for m in messages if m["ts"] != original]
        elif truthy(body.get("replace_original")) and original:
            self._m_chat_update({"channel": channel, "ts": original, **body})
        elif body.get("response_type") == "in_channel":
            self._m_chat_postMessage({"channel": channel, **body})
        else:
            self._ephemeral(channel, str(target.get("user", "")), body)


def json_value(value: Any) -> Any:
    """A parameter the Web API takes as JSON text or as JSON itself (blocks, a view, metadata),
    decoded when it is text that parses."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def truthy(value: Any) -> bool:
    """A flag as form-encoded and JSON parameters write it."""
    return value in (True, 1, "1", "true", "True")
