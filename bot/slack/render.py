"""Rendering: alerts and cycles as Slack Block Kit, built with slack_sdk's models. Pure.

One rendering of a cycle (`cycle_lines`) serves the alert, `/eadm status` and the App Home.
Everything a person reads comes from the message catalogue (`bot.core.i18n`) and the playbook.
Imports no I/O: no Slack client, no store session.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core.domain import (
    TASK_STEP,
    Condition,
    Snapshot,
    StepState,
    TaskInfo,
    TaskState,
    snapshot_from_dict,
)
from bot.core.i18n import t
from bot.core.playbook import LINKS, Entry
from bot.core.task_rules import code32
from bot.slack import ids

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
    Condition.DISABLED: ":no_entry_sign:",
}
RESOLVED_ICON = ":white_check_mark:"


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
        if run.name == TASK_STEP and snapshot.task is not None:
            parts.append("· " + task_details(snapshot.task, lang, tz, now))
        line = " ".join(parts)
        if errors and run.message and run.state in (StepState.FAILED, StepState.STOPPED):
            line += f"\n      `{truncate(_one_line(run.message), 200, lang)}`"
        lines.append(line)
    return lines


def task_details(task: TaskInfo, lang: str, tz: tzinfo, now: datetime) -> str:
    """The sync task's row: last run, result, next run (as Task Scheduler lists them)."""
    parts = []
    if task.state is TaskState.DISABLED:
        parts.append(t(lang, "cycle.task_disabled"))
    if task.last_run_at:
        parts.append(t(lang, "cycle.task_last_run", time=fmt_time(task.last_run_at, tz, now)))
    else:
        parts.append(t(lang, "cycle.task_never_ran"))
    if task.last_result is not None:
        parts.append(t(lang, "cycle.task_result", code=f"0x{code32(task.last_result):X}"))
    if task.next_run_at:
        parts.append(t(lang, "cycle.task_next_run", time=fmt_time(task.next_run_at, tz, now)))
    elif task.last_run_at or task.state is TaskState.DISABLED:
        parts.append(t(lang, "cycle.task_no_next_run"))
    if task.missed_since_run:
        parts.append(t(lang, "cycle.task_missed", n=task.missed_since_run))
    return " · ".join(parts)


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
    portal_pages: Mapping[str, str] | None = None,
    mention: str | None = None,
) -> Message:
    """The alert message: header, state, error, advice, the cycle, and the allowed buttons.

    `portal_pages` are the exact addresses the admin gave for portal pages (by link name);
    without them the portal's address is linked and the page named by its menu path, since
    the portal's own URL paths are not documented. `mention` (Slack's markup, see
    `mention_markup`) leads the text of a new alert so the right people are notified; the
    caller leaves it out of updates."""
    resolved = alert.state == "resolved"
    lead = f"{mention} " if mention and not resolved else ""
    headline = title(alert.condition, alert.step, lang)
    icon = RESOLVED_ICON if resolved else CONDITION_ICONS[alert.condition]
    prefix = t(lang, "alert.resolved_prefix") + " " if resolved else ""
    header_text = truncate(f"{prefix}{headline} · {alert.tenant}", HEADER_MAX, lang)
    blocks: list[Block] = [HeaderBlock(text=header_text)]
    blocks.append(
        SectionBlock(
            text=MarkdownTextObject(text=f"{lead}{icon} {_status_line(alert, lang, tz, now)}")
        )
    )
    if alert.error:
        error = truncate(alert.error.strip(), ERROR_MAX, lang).replace("```", "'''")
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=f"*{t(lang, 'alert.error')}*\n```{error}```"))
        )
    if not resolved:
        blocks.extend(
            _advice_blocks(entry, lang, portal_url, portal_pages or {}, _rerun_shown(alert, entry))
        )
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
    fallback = f"{lead}{icon} {prefix}{headline} ({alert.tenant})"
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


def _rerun_shown(alert: AlertFacts, entry: Entry) -> bool:
    """Whether the alert shows Rerun sync: the guide's advice calls for it and a runner is set
    up. The advice text says "press Rerun sync here" on exactly the same terms."""
    return "rerun" in entry.actions and alert.rerun_target is not None


def _advice_blocks(
    entry: Entry,
    lang: str,
    portal_url: str | None,
    portal_pages: Mapping[str, str],
    rerun_shown: bool,
) -> list[Block]:
    advice = entry.advice(lang)
    hint = t(lang, "alert.rerun_here", button=t(lang, "button.rerun")) if rerun_shown else None
    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(advice.steps(hint), start=1))
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
    if line := portal_line(entry.links, lang, portal_url, portal_pages):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=line)]))
    return blocks


def portal_line(
    links: tuple[str, ...], lang: str, portal_url: str | None, portal_pages: Mapping[str, str]
) -> str | None:
    """Where in the portal to look: each page by its menu path, linked only to an address the
    admin configured for that page, after a link to the portal itself. None when no portal
    address is configured at all."""
    wanted = [link for link in LINKS if link in links]
    if not wanted or not (portal_url or any(portal_pages.get(link) for link in wanted)):
        return None
    named = []
    for link in wanted:
        words = t(lang, f"link.{link}")
        page = portal_pages.get(link)
        named.append(f"<{page}|{words}>" if page else words)
    pages = " · ".join(named)
    if portal_url:
        shown = re.sub(r"^https?://", "", portal_url).rstrip("/")
        return t(lang, "alert.portal_at", portal=f"<{portal_url}|{shown}>", links=pages)
    return t(lang, "alert.portal", links=pages)


def _buttons(alert: AlertFacts, entry: Entry, lang: str) -> list[Any]:
    value = str(alert.id)
    elements: list[Any] = []
    for action in entry.actions:
        if action == "rerun":
            if not _rerun_shown(alert, entry):
                continue  # no runner configured: the advice says how to do it by hand
            assert alert.rerun_target is not None
            elements.append(rerun_button(ids.ACTION_RERUN, value, alert.rerun_target, lang))
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


def rerun_button(action_id: str, value: str, target: str, lang: str) -> ButtonElement:
    """Rerun sync, behind Slack's own confirmation naming what will be started: the click that
    passes it starts the work, so there is no second dialog."""
    return ButtonElement(
        text=t(lang, "button.rerun"),
        action_id=action_id,
        value=value,
        style="primary",
        confirm=ConfirmObject(
            title=t(lang, "confirm.rerun.title"),
            text=MarkdownTextObject(text=_confirm_text(target, lang)),
            confirm=t(lang, "confirm.rerun.yes"),
            deny=t(lang, "confirm.no"),
        ),
    )


CONFIRM_TEXT_LIMIT = 300  # Slack's limit for a confirmation dialog's text


def _confirm_text(target: str, lang: str) -> str:
    """The rerun confirmation, with a long command shortened so the dialog stays valid."""
    room = CONFIRM_TEXT_LIMIT - len(t(lang, "confirm.rerun.text", target=""))
    if len(target) > room:
        target = target[: max(room - 1, 0)] + "…"
    return t(lang, "confirm.rerun.text", target=target)


def render_question(text: str, button: ButtonElement) -> Message:
    """A private question with the one button that answers it."""
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(elements=[button]),
    ]
    return Message(text=text, blocks=[b.to_dict() for b in blocks])


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


# -- /eadm status, /eadm history and the App Home -------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertLink:
    """An open alert as a status view lists it."""

    step: str | None
    condition: Condition
    link: str | None
    state: str  # open | acknowledged | snoozed


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """What a status view shows of one tenant; gathered from the store by the caller."""

    tenant: str
    snapshot: Snapshot | None
    last_success: datetime | None = None
    alerts: tuple[AlertLink, ...] = ()
    source_error: str | None = None
    failing_since: datetime | None = None
    silenced_until: datetime | None = None
    silenced_by: str | None = None
    silence_reason: str | None = None


def outcome(snapshot: Snapshot, lang: str) -> tuple[str, str]:
    """A cycle in one icon and a few words: completed, which step failed or where it is."""
    for run in snapshot.steps:
        name = step_name(run.name, lang)
        if run.state is StepState.FAILED:
            return STATE_ICONS[run.state], t(lang, "command.outcome_failed", step=name)
        if run.state is StepState.STOPPED:
            return STATE_ICONS[run.state], t(lang, "command.outcome_stopped", step=name)
        if run.state is StepState.RUNNING:
            return STATE_ICONS[run.state], t(lang, "command.outcome_running", step=name)
        if run.state in (StepState.QUEUED, StepState.PENDING):
            return STATE_ICONS[StepState.QUEUED], t(lang, "command.outcome_waiting", step=name)
    return STATE_ICONS[StepState.COMPLETED], t(lang, "command.outcome_ok")


def _status_sections(facts: StatusFacts, lang: str, tz: tzinfo, now: datetime) -> list[str]:
    """The status of one tenant as markdown sections (each within a section's limit)."""
    sections: list[str] = []
    notes: list[str] = []
    if facts.source_error:
        since = fmt_time(facts.failing_since or now, tz, now)
        error = truncate(_one_line(facts.source_error), 500, lang)
        notes.append(t(lang, "command.source_down", time=since, error=error))
    if facts.silenced_until and facts.silenced_until > now:
        reason = f" ({facts.silence_reason})" if facts.silence_reason else ""
        notes.append(
            t(
                lang,
                "command.silenced_line",
                until=fmt_time(facts.silenced_until, tz, now),
                user=facts.silenced_by or "?",
                reason=reason,
            )
        )
    if notes:
        sections.append("\n".join(notes))
    if facts.snapshot is None or not facts.snapshot.steps:
        sections.append(t(lang, "command.no_cycle_yet"))
    else:
        label = t(lang, "alert.cycle", cycle=facts.snapshot.cycle_id)
        lines = "\n".join(cycle_lines(facts.snapshot, lang, tz, now, errors=True))
        sections.append(truncate(f"*{label}*\n{lines}", SECTION_MAX, lang))
    if facts.last_success:
        sections.append(
            t(
                lang,
                "command.last_success",
                time=fmt_time(facts.last_success, tz, now),
                ago=fmt_duration((now - facts.last_success).total_seconds(), lang),
            )
        )
    else:
        sections.append(t(lang, "command.no_success"))
    if facts.alerts:
        items = []
        for alert in facts.alerts:
            line = f"• {title(alert.condition, alert.step, lang)}"
            if alert.link:
                line += f" (<{alert.link}|{t(lang, 'command.view')}>)"
            if alert.state != "open":
                line += f" · {t(lang, f'state_word.{alert.state}')}"
            items.append(line)
        text = f"*{t(lang, 'command.open_alerts')}*\n" + "\n".join(items)
        sections.append(truncate(text, SECTION_MAX, lang))
    else:
        sections.append(t(lang, "command.no_alerts"))
    return sections


def render_status(facts: StatusFacts, lang: str, *, tz: tzinfo, now: datetime) -> Message:
    """`/eadm status`: the cycle as the eAdm cycle view shows it, and what is open."""
    header = truncate(t(lang, "command.status_title", tenant=facts.tenant), HEADER_MAX, lang)
    sections = _status_sections(facts, lang, tz, now)
    blocks: list[Block] = [HeaderBlock(text=header)]
    blocks += [SectionBlock(text=MarkdownTextObject(text=s)) for s in sections]
    icon, words = outcome(facts.snapshot, lang) if facts.snapshot else ("", "")
    fallback = f"{header}: {icon} {words}".strip()
    return Message(text=fallback[:TEXT_MAX], blocks=[b.to_dict() for b in blocks])


def history_lines(cycles: list[Snapshot], lang: str, tz: tzinfo, now: datetime) -> list[str]:
    lines = []
    for snap in cycles:
        icon, words = outcome(snap, lang)
        start = fmt_time(snap.started_at, tz, now) if snap.started_at else "?"
        line = f"{icon} {start} · {words}"
        end = snap.ended_at
        if end is None and any(r.state is StepState.FAILED for r in snap.steps):
            end = max((r.finished_at for r in snap.steps if r.finished_at), default=None)
        if snap.started_at and end:
            line += f" · {fmt_duration((end - snap.started_at).total_seconds(), lang)}"
        lines.append(line)
    return lines


def render_history(
    tenant: str, cycles: list[Snapshot], lang: str, *, tz: tzinfo, now: datetime
) -> Message:
    """`/eadm history`: one line per cycle, newest first."""
    header = truncate(
        t(lang, "command.history_title", n=len(cycles), tenant=tenant), HEADER_MAX, lang
    )
    body = "\n".join(history_lines(cycles, lang, tz, now)) or t(lang, "command.history_none")
    blocks: list[Block] = [
        HeaderBlock(text=header),
        SectionBlock(text=MarkdownTextObject(text=truncate(body, SECTION_MAX, lang))),
    ]
    return Message(text=header, blocks=[b.to_dict() for b in blocks])


def render_home(
    tenants: list[tuple[StatusFacts, list[Snapshot]]], lang: str, *, tz: tzinfo, now: datetime
) -> dict[str, Any]:
    """The App Home tab: every tenant's status and recent cycles, as one view."""
    blocks: list[Block] = [
        HeaderBlock(text=t(lang, "home.title")),
        ContextBlock(
            elements=[MarkdownTextObject(text=t(lang, "home.updated", time=fmt_time(now, tz, now)))]
        ),
    ]
    for facts, recent in tenants:
        blocks.append(DividerBlock())
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{facts.tenant}*")))
        blocks += [
            SectionBlock(text=MarkdownTextObject(text=s))
            for s in _status_sections(facts, lang, tz, now)
        ]
        if recent:
            lines = "\n".join(history_lines(recent, lang, tz, now))
            text = truncate(f"*{t(lang, 'home.recent')}*\n{lines}", SECTION_MAX, lang)
            blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=t(lang, "home.refresh"), action_id=ids.ACTION_HOME_REFRESH, value="home"
                )
            ]
        )
    )
    # A Home view holds at most 100 blocks; keep the header and the refresh button.
    if len(blocks) > 100:
        blocks = [*blocks[:99], blocks[-1]]
    return View(type="home", blocks=blocks).to_dict()


# -- the support ticket -------------------------------------------------------------------


def render_ticket(
    alert: AlertFacts,
    *,
    requester: str,
    requester_email: str | None,
    lang: str,
    tz: tzinfo,
    now: datetime,
) -> tuple[str, str]:
    """The ticket's subject and plain-text description, for Identum support to read."""
    headline = title(alert.condition, alert.step, lang)
    subject = t(lang, "ticket.subject_line", tenant=alert.tenant, title=headline)[:250]
    since = alert.since.astimezone(tz)
    fields = [
        (t(lang, "ticket.tenant"), alert.tenant),
        (t(lang, "ticket.step"), step_name(alert.step, lang) or "-"),
        (t(lang, "ticket.condition"), t(lang, f"condition.{alert.condition.value}.name")),
        (t(lang, "ticket.since"), since.strftime("%Y-%m-%d %H:%M %Z")),
        (t(lang, "ticket.for"), fmt_duration((now - alert.since).total_seconds(), lang)),
        (
            t(lang, "ticket.asked_by"),
            f"{requester} <{requester_email}>" if requester_email else requester,
        ),
    ]
    lines = [t(lang, "ticket.intro"), ""]
    lines += [f"{label}: {value}" for label, value in fields]
    if alert.error:
        lines += ["", f"{t(lang, 'ticket.error')}:", truncate(alert.error.strip(), 4000, lang)]
    snapshot = _snapshot(alert)
    if snapshot is not None and snapshot.steps:
        lines += ["", t(lang, "ticket.cycle", cycle=snapshot.cycle_id) + ":"]
        for line in cycle_lines(snapshot, lang, tz, now, errors=True):
            # The ticket is plain text: drop the emoji code and the bold marks.
            plain = line.split(" ", 1)[1].replace("*", "").replace("`", "")
            lines.append("  " + " ".join(plain.split()))
    return subject, "\n".join(lines)


def render_ticket_modal(
    alert_id: int, subject: str, description: str, *, goes_to: str, lang: str
) -> dict[str, Any]:
    """The modal that lets the admin edit the ticket before it is sent."""
    from slack_sdk.models.blocks import InputBlock, PlainTextInputElement

    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=goes_to)]),
        InputBlock(
            block_id="subject",
            label=t(lang, "ticket.subject"),
            element=PlainTextInputElement(
                action_id="value", initial_value=subject[:150], max_length=150
            ),
        ),
        InputBlock(
            block_id="description",
            label=t(lang, "ticket.description"),
            element=PlainTextInputElement(
                action_id="value",
                multiline=True,
                initial_value=description[:3000],
                max_length=3000,
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.VIEW_TICKET,
        private_metadata=str(alert_id),
        title=t(lang, "ticket.title")[:24],
        submit=t(lang, "ticket.submit"),
        close=t(lang, "ticket.cancel"),
        blocks=blocks,
    ).to_dict()
