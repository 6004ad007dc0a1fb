"""What every surface shares: Slack's limits, the icons, the shape of a rendered message, and
the small formatters (durations, times, truncation, step names, titles, mentions), and the one
way outside text is put into mrkdwn.

Words come from the message catalogue, so a surface that formats a duration or names a step
says it the way every other surface does. Pure: no I/O.

Outside text (eAdm's messages and step names, source and runner errors, what people type,
ticket references, tenant names) never reaches mrkdwn raw: `escape` turns Slack's three
control characters into entities, so `<!here>` or `<https://evil|log in>` shows as written
instead of notifying a channel or hiding a link, and drops control and bidirectional
characters; `code` and `code_block` also keep a backtick from ending the span; `link` links
only an address that cannot break out of its brackets. `truncate` cuts to a limit with a note
that it cut, never inside an entity or a link. Plain-text fields (headers, buttons, options,
inputs) need no entities: Slack shows them as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from bot.core.domain import Condition, StepState
from bot.core.i18n import t
from bot.core.inputs import plain
from bot.core.said import Said, Words

# Slack's limits (https://api.slack.com/reference/block-kit/blocks).
HEADER_MAX = 150
SECTION_MAX = 3000
TEXT_MAX = 3000  # fallback `text` of a message; Slack truncates at 40k, notifications far sooner

STATE_ICONS: dict[StepState, str] = {
    StepState.COMPLETED: ":white_check_mark:",
    StepState.FAILED: ":x:",
    StepState.STOPPED: ":octagonal_sign:",
    StepState.RUNNING: ":arrows_counterclockwise:",
    StepState.QUEUED: ":arrows_counterclockwise:",
    StepState.PENDING: ":white_circle:",
}
CONDITION_ICONS: dict[Condition, str] = {
    Condition.FAILED: ":x:",
    Condition.SAFETY_THRESHOLD: ":octagonal_sign:",
    Condition.NOT_STARTED: ":hourglass:",
    Condition.STUCK: ":hourglass:",
    Condition.NO_NEW_CYCLE: ":zzz:",
    Condition.SOURCE_UNREACHABLE: ":electric_plug:",
    Condition.DISABLED: ":no_entry_sign:",
    Condition.CANNOT_START: ":no_entry_sign:",
}
RESOLVED_ICON = ":white_check_mark:"


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """What chat.postMessage / chat.update take: fallback text and blocks."""

    text: str
    blocks: list[dict[str, Any]]


def mention_markup(mention: str | None) -> str | None:
    """A checked MENTION value (see `bot.core.settings.normalize_mention`) as Slack's message
    syntax writes it: a user group, a person, or @here / @channel. None for nobody."""
    if not mention or mention == "none":
        return None
    if mention in ("here", "channel"):
        return f"<!{mention}>"
    if mention.startswith("S"):
        return f"<!subteam^{mention}>"
    return f"<@{mention}>"


def fmt_duration(seconds: float, lang: str) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return t(lang, "duration.s", s=seconds)
    minutes = seconds // 60
    if minutes < 60:
        return t(lang, "duration.min", min=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return t(lang, "duration.h_min", h=hours, min=minutes)
    days, hours = divmod(hours, 24)
    return t(lang, "duration.d_h", d=days, h=hours)


def fmt_time(value: datetime, tz: tzinfo, now: datetime) -> str:
    local = value.astimezone(tz)
    if local.date() == now.astimezone(tz).date():
        return local.strftime("%H:%M")
    return local.strftime("%d.%m %H:%M")


def fmt_until(value: datetime, tz: tzinfo, now: datetime) -> str:
    """`02:00` for a time within a day from now (tonight's window ends at 02:00), else with
    its date as `fmt_time` writes it."""
    if timedelta(0) <= value - now < timedelta(days=1):
        return value.astimezone(tz).strftime("%H:%M")
    return fmt_time(value, tz, now)


def fmt_span(start: datetime, end: datetime, tz: tzinfo, now: datetime) -> str:
    """`22:00–02:00`, `12.01 22:00–02:00`: a stretch of time whose end needs no date of its
    own when it falls within a day of its start."""
    close = end - start <= timedelta(days=1)
    last = end.astimezone(tz).strftime("%H:%M") if close else fmt_time(end, tz, now)
    return f"{fmt_time(start, tz, now)}–{last}"


def step_name(name: str | None, lang: str) -> str:
    """A step as the portal names it in this language (integrations keep eAdm's name)."""
    if name is None:
        return ""
    slug = name.lower().replace(" ", "_")
    try:
        return t(lang, f"step.{slug}")
    except KeyError:
        return name


# A backtick in a code span or block ends it; this modifier letter looks the same and does not.
BACKTICK_STANDIN = "\u02cb"
_LINKABLE = re.compile(r"https?://[^\s<>|`]+")


def escape(text: str) -> str:
    """Outside text as mrkdwn shows it literally: &, < and > as Slack's entities (so nothing
    in it becomes a link, a mention or a channel-wide ping), without control characters or
    the bidirectional controls that make it read in another order than it is written."""
    text = plain(text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    return text.replace("<", "&lt;").replace(">", "&gt;") if "<" in text or ">" in text else text


def code(text: str) -> str:
    """Outside text for inside a `code span` or a ```code block```: escaped, and with its
    backticks replaced so that it cannot end the span and go on as mrkdwn."""
    return escape(text).replace("`", BACKTICK_STANDIN)


def said_words(words: Words, lang: str) -> str:
    """The bot's own words for mrkdwn: the catalogue's text as written, and what came from
    outside in its parameters (an address, a server's answer) escaped, never able to end a
    code span the text puts it in."""
    return words.mapped(code).text(lang)


def said_text(said: Said, lang: str) -> str:
    """What a `Said` holds as mrkdwn, without its voices' labels: the bot's words as
    `said_words` gives them, outside text escaped; voices apart by a blank line."""
    return "\n\n".join(
        "\n".join(
            said_words(part.words, lang) if part.words is not None else escape(part.quote or "")
            for part in parts
        )
        for _, parts in said.groups()
    )


def link(url: str | None, label: str | None = None) -> str:
    """`label` linked to `url` when `url` is a plain http(s) address that cannot break out of
    Slack's link brackets; else the escaped label with the escaped address after it. Without
    a label, the address itself."""
    if not url:
        return escape(label or "")
    if _LINKABLE.fullmatch(url):
        target = url.replace("&", "&amp;")
        return f"<{target}|{escape(label).replace('|', '/')}>" if label else f"<{target}>"
    return f"{escape(label)} ({escape(url)})" if label else escape(url)


def truncate(text: str, limit: int, lang: str) -> str:
    """`text` within `limit` characters; when it is cut, a note says how much. The cut never
    falls inside an entity (`&amp;`) or a link or mention (`<...>`), which would break it."""
    if len(text) <= limit:
        return text
    note = t(lang, "alert.truncated", n=len(text) - limit)
    cut = _whole(text[: max(0, limit - len(note) - 2)])
    return cut.rstrip() + "… " + note


def clip(text: str, limit: int) -> str:
    """`text` within `limit` characters, ending in "…" when cut (where there is no room for a
    note), never inside an entity or a link."""
    if len(text) <= limit:
        return text
    return _whole(text[: max(0, limit - 1)]) + "…"


def _whole(cut: str) -> str:
    """A cut text without the half of an entity or of a `<...>` it may end with."""
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    lt = cut.rfind("<")
    if lt != -1 and ">" not in cut[lt:]:
        cut = cut[:lt]
    return cut


def outside(text: str, limit: int, lang: str) -> str:
    """Outside text for mrkdwn: escaped, then cut to `limit` with the note."""
    return truncate(escape(text), limit, lang)


def one_line(text: str) -> str:
    """A multi-line message (an error, a stack trace) flattened for a line of its own."""
    return " ".join(text.split())


def title(condition: Condition, step: str | None, lang: str) -> str:
    return t(lang, f"condition.{condition.value}.title", step=step_name(step, lang))
