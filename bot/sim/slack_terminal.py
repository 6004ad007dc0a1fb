"""The Slack stand-in's messages as plain text in a terminal, for `eadm-bot demo`."""

from __future__ import annotations

import re

from bot.sim.slack import Call
from bot.sim.slack_workspace import json_value

# -- the terminal, for the demo -----------------------------------------------------------------


EMOJI = {
    ":white_check_mark:": "✅",
    ":x:": "❌",
    ":arrows_counterclockwise:": "🔄",
    ":white_circle:": "⚪",
    ":octagonal_sign:": "🛑",
    ":hourglass:": "⌛",
    ":zzz:": "💤",
    ":electric_plug:": "🔌",
    ":warning:": "⚠️",
    ":wrench:": "🔧",
}


def _mrkdwn(text: str) -> str:
    for code, char in EMOJI.items():
        text = text.replace(code, char)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = re.sub(r"<@([A-Z0-9]+)>", r"@\1", text)
    return text.replace("*", "").replace("```", "").replace("`", "'")


def render_terminal(call: Call) -> str:
    """A readable plain-text rendering of a posted, updated or published message."""
    params = call.params
    blocks = (
        json_value(params.get("blocks"))
        or (json_value(params.get("view")) or {}).get("blocks")
        or []
    )
    head = {
        "chat.postMessage": "new message" if not params.get("thread_ts") else "thread reply",
        "chat.update": "message updated",
        "chat.postEphemeral": "visible only to you",
        "views.publish": "App Home",
        "views.open": "dialog",
        "respond": "answer",
    }.get(call.method, call.method)
    indent = "    ↳ " if params.get("thread_ts") else ""
    lines = [f"── {head} " + "─" * max(0, 60 - len(head))]
    if not blocks:
        lines.append(indent + _mrkdwn(str(params.get("text", ""))))
    for block in blocks:
        kind = block.get("type")
        text = (block.get("text") or {}).get("text", "")
        if kind == "header":
            lines += [text, "=" * min(len(text), 78)]
        elif kind == "section":
            lines += [indent + line for line in _mrkdwn(text).splitlines()]
            for f in block.get("fields") or []:
                lines.append(indent + _mrkdwn(f.get("text", "")))
        elif kind == "context":
            lines.append(indent + " ".join(_mrkdwn(e.get("text", "")) for e in block["elements"]))
        elif kind == "divider":
            lines.append(indent + "-" * 40)
        elif kind == "actions":
            labels = []
            for element in block.get("elements", []):
                label = (element.get("text") or element.get("placeholder") or {}).get("text", "")
                labels.append(f"[{label}]")
            lines.append(indent + " ".join(labels))
    return "\n".join(lines)
