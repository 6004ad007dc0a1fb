"""Rendering: alerts and cycles as Slack Block Kit, built with slack_sdk's models. Pure.

One rendering of a cycle (`cycle_lines`) serves the alert, `/eadm status` and the App Home.
Everything a person reads comes from the message catalogue (`bot.i18n`) and the playbook.
Imports no I/O: no Slack client, no store session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from bot import ids
from bot.domain import Condition, Snapshot, StepState, snapshot_from_dict
from bot.i18n import t
from bot.playbook import Entry

# Slack's limits (https://api.slack.com/reference/block-kit/blocks).
HEADER_MAX = 150
SECTION_MAX = 3000
ERROR_MAX = 1500  # leaves room in the section for the label and the note
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
}
RESOLVED_ICON = ":white_check_mark:"

# The portal pages a playbook entry may link to, relative to EADM_PORTAL_URL.
PORTAL_PAGES = {"status": "/synchronization/status", "import_history": "/synchronization/history"}


@dataclass(frozen=True, slots=True)
class Message:
    """What chat.postMessage / chat.update take: fallback text and blocks."""

    text: str
    blocks: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What an alert message shows; built from the store's row by the caller."""

    id: int
    tenant: str
    step: str | None
    condition: Condition
    error: str | None
    since: datetime
    state: str  # open | acknowledged | snoozed | resolved
    cycle: dict[str, Any] | None = None
    acked_by: str | None = None
    acked_at: datetime | None = None
    snoozed_until: datetime | None = None
    snoozed_by: str | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    ticket_ref: str | None = None
    ticket_url: str | None = None
    rerun_target: str | None = None  # "server / task" for the rerun confirmation


# -- small formatters ----------------------------------------------------------------------


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


def title(condition: Condition, step: str | None, lang: str) -> str:
    return t(lang, f"condition.{condition.value}.title", step=step_name(step, lang))


# -- the cycle ------------------------------------------------------------------------------


def cycle_lines(
    snapshot: Snapshot, lang: str, tz: tzinfo, now: datetime, *, errors: bool = False
) -> list[str]:
    """One line per step as the eAdm cycle view shows it: icon, name, state, start, duration."""
    lines = []
    for run in snapshot.steps:
        parts = [
            STATE_ICONS[run.state],
            f"*{step_name(run.name, lang)}*",
            t(lang, f"state.{run.state.value}"),
        ]
        if run.started_at:
            parts.append(t(lang, "cycle.started", time=fmt_time(run.started_at, tz, now)))
            end = run.finished_at or (now if run.state is StepState.RUNNING else None)
            if end:
                parts.append(f"({fmt_duration((end - run.started_at).total_seconds(), lang)})")
        line = " ".join(parts)
        if errors and run.message and run.state in (StepState.FAILED, StepState.STOPPED):
            line += f"\n      `{truncate(_one_line(run.message), 200, lang)}`"
        lines.append(line)
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- the alert ------------------------------------------------------------------------------


def render_alert(
    alert: AlertFacts,
    entry: Entry,
    lang: str,
    *,
    tz: tzinfo,
    now: datetime,
    portal_url: str | None = None,
) -> Message:
    """The alert message: header, state, error, advice, the cycle, and the allowed buttons."""
    resolved = alert.state == "resolved"
    headline = title(alert.condition, alert.step, lang)
    icon = RESOLVED_ICON if resolved else CONDITION_ICONS[alert.condition]
    prefix = t(lang, "alert.resolved_prefix") + " " if resolved else ""
    header_text = truncate(f"{prefix}{headline} · {alert.tenant}", HEADER_MAX, lang)
    blocks: list[Block] = [HeaderBlock(text=header_text)]
    blocks.append(
        SectionBlock(text=MarkdownTextObject(text=f"{icon} {_status_line(alert, lang, tz, now)}"))
    )
    if alert.error:
        error = truncate(alert.error.strip(), ERROR_MAX, lang).replace("```", "'''")
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=f"*{t(lang, 'alert.error')}*\n```{error}```"))
        )
    if not resolved:
        blocks.extend(_advice_blocks(entry, lang, portal_url))
    snapshot = _snapshot(alert)
    if snapshot is not None and snapshot.steps:
        lines = "\n".join(cycle_lines(snapshot, lang, tz, now))
        label = t(lang, "alert.cycle", cycle=snapshot.cycle_id)
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=truncate(f"*{label}*\n{lines}", SECTION_MAX, lang))
            )
        )
    if not resolved:
        actions = _buttons(alert, entry, lang)
        if actions:
            blocks.append(ActionsBlock(block_id=f"alert-{alert.id}", elements=actions))
    fallback = f"{icon} {prefix}{headline} ({alert.tenant})"
    if alert.error:
        fallback += ": " + _one_line(alert.error)[:300]
    return Message(text=fallback[:TEXT_MAX], blocks=[b.to_dict() for b in blocks])


def _status_line(alert: AlertFacts, lang: str, tz: tzinfo, now: datetime) -> str:
    since = t(
        lang,
        "alert.since",
        time=fmt_time(alert.since, tz, now),
        duration=fmt_duration((now - alert.since).total_seconds(), lang),
    )
    if alert.state == "resolved" and alert.resolved_at:
        took = fmt_duration((alert.resolved_at - alert.since).total_seconds(), lang)
        line = t(lang, f"alert.resolved.{alert.resolution or 'recovered'}", duration=took)
    elif alert.state == "acknowledged" and alert.acked_by:
        line = (
            since
            + " · "
            + t(
                lang,
                "alert.acknowledged_by",
                user=alert.acked_by,
                time=fmt_time(alert.acked_at or now, tz, now),
            )
        )
    elif alert.state == "snoozed" and alert.snoozed_until:
        line = (
            since
            + " · "
            + t(
                lang,
                "alert.snoozed_until",
                user=alert.snoozed_by or "?",
                time=fmt_time(alert.snoozed_until, tz, now),
            )
        )
    else:
        line = since
    if alert.ticket_ref:
        ref = f"<{alert.ticket_url}|{alert.ticket_ref}>" if alert.ticket_url else alert.ticket_ref
        line += " · " + t(lang, "alert.ticket", ref=ref)
    return line


def _advice_blocks(entry: Entry, lang: str, portal_url: str | None) -> list[Block]:
    advice = entry.advice(lang)
    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(advice.steps_to_take, start=1))
    extra = "\n".join(f"• {line}" for line in advice.extra)
    who = t(lang, "alert.admin_can_fix" if entry.admin_can_fix else "alert.contact_support")
    text = (
        f"*{t(lang, 'alert.meaning')}*\n{advice.meaning}\n\n"
        f"*{t(lang, 'alert.what_to_do')}* ({who})\n{steps}"
    )
    if extra:
        text += "\n" + extra
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_MAX, lang)))
    ]
    if portal_url and entry.links:
        links = " · ".join(
            f"<{portal_url.rstrip('/')}{PORTAL_PAGES[link]}|{t(lang, f'link.{link}')}>"
            for link in entry.links
            if link in PORTAL_PAGES
        )
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=t(lang, "alert.portal", links=links))])
        )
    return blocks


def _buttons(alert: AlertFacts, entry: Entry, lang: str) -> list[Any]:
    value = str(alert.id)
    elements: list[Any] = []
    for action in entry.actions:
        if action == "rerun":
            if alert.rerun_target is None:
                continue  # no runner configured: the advice still says how to do it by hand
            elements.append(
                ButtonElement(
                    text=t(lang, "button.rerun"),
                    action_id=ids.ACTION_RERUN,
                    value=value,
                    style="primary",
                    confirm=ConfirmObject(
                        title=t(lang, "confirm.rerun.title"),
                        text=MarkdownTextObject(
                            text=t(lang, "confirm.rerun.text", target=alert.rerun_target)
                        ),
                        confirm=t(lang, "confirm.rerun.yes"),
                        deny=t(lang, "confirm.no"),
                    ),
                )
            )
        elif action == "ticket":
            elements.append(
                ButtonElement(
                    text=t(lang, "button.ticket"), action_id=ids.ACTION_TICKET, value=value
                )
            )
        elif action == "ack" and alert.state != "acknowledged":
            elements.append(
                ButtonElement(text=t(lang, "button.ack"), action_id=ids.ACTION_ACK, value=value)
            )
        elif action == "snooze":
            elements.append(
                StaticSelectElement(
                    placeholder=t(lang, "button.snooze"),
                    action_id=ids.ACTION_SNOOZE,
                    options=[
                        Option(text=t(lang, f"snooze.{choice}"), value=f"{value}:{choice}")
                        for choice in ids.SNOOZE_CHOICES
                    ],
                )
            )
    return elements


def _snapshot(alert: AlertFacts) -> Snapshot | None:
    return snapshot_from_dict(alert.cycle) if alert.cycle else None


# -- thread replies and notices ------------------------------------------------------------


def render_reply(key: str, params: dict[str, Any], lang: str, *, tz: tzinfo, now: datetime) -> str:
    """A thread reply owed by a lifecycle change; params were frozen when it was owed."""
    values = dict(params)
    if "until" in values:
        values["until"] = fmt_time(datetime.fromisoformat(str(values["until"])), tz, now)
    if "seconds" in values:
        values["duration"] = fmt_duration(float(values.pop("seconds")), lang)
    for name in ("condition", "previous"):
        if name in values:
            values[name] = t(lang, f"condition.{values[name]}.name")
    if key == "reply.resolved":
        key = f"reply.resolved.{values.pop('resolution', 'recovered')}"
    return t(lang, key, **values)
