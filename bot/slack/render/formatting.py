"""What every surface shares: Slack's limits, the icons, the shape of a rendered message, and
the small formatters (durations, times, truncation, step names, titles, mentions).

Words come from the message catalogue, so a surface that formats a duration or names a step
says it the way every other surface does. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from bot.core.domain import Condition, StepState
from bot.core.i18n import t

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


def truncate(text: str, limit: int, lang: str) -> str:
    if len(text) <= limit:
        return text
    note = t(lang, "alert.truncated", n=len(text) - limit)
    return text[: limit - len(note) - 2].rstrip() + "… " + note


def one_line(text: str) -> str:
    """A multi-line message (an error, a stack trace) flattened for a line of its own."""
    return " ".join(text.split())


def title(condition: Condition, step: str | None, lang: str) -> str:
    return t(lang, f"condition.{condition.value}.title", step=step_name(step, lang))
