"""The alert message: what went wrong where, since when, who is on it, the guide's advice,
the cycle, and the buttons the advice calls for (Rerun sync behind Slack's own confirmation).

The advice comes from the playbook and says "press Rerun sync here" on exactly the terms the
button is shown, so no text points at a button the alert does not carry. Pure: no I/O.
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
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from bot.core.domain import Condition, Snapshot, snapshot_from_dict
from bot.core.i18n import t
from bot.core.inputs import plain
from bot.core.lifecycle import AlertState
from bot.core.playbook import LINKS, Entry
from bot.core.said import Said, as_said
from bot.slack import ids
from bot.slack.render.cycle import cycle_lines
from bot.slack.render.formatting import (
    CONDITION_ICONS,
    HEADER_MAX,
    RESOLVED_ICON,
    SECTION_MAX,
    TEXT_MAX,
    SlackMessage,
    clip,
    code,
    escape,
    fmt_duration,
    fmt_time,
    link,
    said_words,
    title,
    truncate,
)

ERROR_MAX = 1500  # leaves room in the section for the label and the note
REF_MAX = 200  # characters of a ticket's reference (a helpdesk's own words)
CONFIRM_TEXT_LIMIT = 300  # Slack's limit for a confirmation dialog's text


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What an alert message shows; built from the store's row by the caller."""

    id: int
    tenant: str
    step: str | None
    condition: Condition
    error: Said | None  # who said what; plain text is taken as eAdm's message
    since: datetime
    state: AlertState
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "error", as_said(self.error))

    def snapshot(self) -> Snapshot | None:
        """The cycle the alert was raised on, as it was last seen."""
        return snapshot_from_dict(self.cycle) if self.cycle else None


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
) -> SlackMessage:
    """The alert message: header, state, error, advice, the cycle, and the allowed buttons.

    `portal_pages` are the exact addresses the admin gave for portal pages (by link name);
    without them the portal's address is linked and the page named by its menu path, since
    the portal's own URL paths are not documented. `mention` (Slack's markup, see
    `mention_markup`) leads the text of a new alert so the right people are notified; the
    caller leaves it out of updates."""
    resolved = alert.state is AlertState.RESOLVED
    lead = f"{mention} " if mention and not resolved else ""
    headline = title(alert.condition, alert.step, lang)
    icon = RESOLVED_ICON if resolved else CONDITION_ICONS[alert.condition]
    prefix = t(lang, "alert.resolved_prefix") + " " if resolved else ""
    header_text = truncate(plain(f"{prefix}{headline} · {alert.tenant}"), HEADER_MAX, lang)
    blocks: list[Block] = [HeaderBlock(text=header_text)]
    status = truncate(f"{lead}{icon} {_status_line(alert, lang, tz, now)}", SECTION_MAX, lang)
    blocks.append(SectionBlock(text=MarkdownTextObject(text=status)))
    if alert.error:
        blocks.extend(
            SectionBlock(text=MarkdownTextObject(text=text))
            for text in said_sections(alert.error, lang)
        )
    snapshot = alert.snapshot()
    sees_steps = snapshot is None or snapshot.sees_steps
    if not resolved:
        blocks.extend(
            _advice_blocks(
                entry,
                lang,
                portal_url,
                portal_pages or {},
                rerun_shown=_rerun_shown(alert, entry),
                sees_steps=sees_steps,
            )
        )
    if snapshot is not None and snapshot.steps:
        lines = "\n".join(cycle_lines(snapshot, lang, tz, now))
        label = t(lang, "alert.cycle", cycle=escape(snapshot.cycle_id))
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=truncate(f"*{label}*\n{lines}", SECTION_MAX, lang))
            )
        )
    if not resolved:
        actions = _buttons(alert, entry, lang, sees_steps)
        if actions:
            blocks.append(ActionsBlock(block_id=f"alert-{alert.id}", elements=actions))
    # What a locked phone shows: tenant, step and condition, never eAdm's error text (it may
    # name an employee).
    fallback = f"{lead}{icon} {prefix}{escape(headline)} ({escape(alert.tenant)})"
    return SlackMessage(
        text=truncate(fallback, TEXT_MAX, lang), blocks=[b.to_dict() for b in blocks]
    )


def said_sections(said: Said, lang: str) -> list[str]:
    """One section per voice, under its own label: "eAdm says" over eAdm's words alone. The
    bot's words read as text, what came from outside in them escaped; outside text is quoted
    as it came, in a code block it cannot end."""
    sections = []
    for voice, parts in said.groups():
        lines = [f"*{t(lang, f'said.{voice.value}')}*"]
        for part in parts:
            if part.words is not None:
                lines.append(said_words(part.words, lang))
            elif part.quote and part.quote.strip():
                quote = truncate(code(part.quote.strip()), ERROR_MAX, lang)
                lines.append(f"```{quote}```")
        sections.append(truncate("\n".join(lines), SECTION_MAX, lang))
    return sections


def _status_line(alert: AlertFacts, lang: str, tz: tzinfo, now: datetime) -> str:
    since = t(
        lang,
        "alert.since",
        time=fmt_time(alert.since, tz, now),
        duration=fmt_duration((now - alert.since).total_seconds(), lang),
    )
    if alert.state is AlertState.RESOLVED and alert.resolved_at:
        took = fmt_duration((alert.resolved_at - alert.since).total_seconds(), lang)
        line = t(lang, f"alert.resolved.{alert.resolution or 'recovered'}", duration=took)
    elif alert.state is AlertState.ACKNOWLEDGED and alert.acked_by:
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
    elif alert.state is AlertState.SNOOZED and alert.snoozed_until:
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
        ref = link(alert.ticket_url, clip(alert.ticket_ref, REF_MAX))
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
    *,
    rerun_shown: bool,
    sees_steps: bool,
) -> list[Block]:
    advice = entry.advice(lang)
    hint = t(lang, "alert.rerun_here", button=t(lang, "button.rerun")) if rerun_shown else None
    todo = advice.steps(hint)
    if "rerun" in entry.actions and not sees_steps:
        # The vendor's pre-check, which the bot cannot make without eAdm's steps: the admin
        # makes it in the portal before any start, by the button or by hand.
        todo = (t(lang, "alert.precheck"), *todo)
    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(todo, start=1))
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
    for name in wanted:
        words = t(lang, f"link.{name}")
        page = portal_pages.get(name)
        named.append(link(page, words) if page else words)
    pages = " · ".join(named)
    if portal_url:
        shown = re.sub(r"^https?://", "", portal_url).rstrip("/")
        return t(lang, "alert.portal_at", portal=link(portal_url, shown), links=pages)
    return t(lang, "alert.portal", links=pages)


def _buttons(alert: AlertFacts, entry: Entry, lang: str, sees_steps: bool) -> list[Any]:
    value = str(alert.id)
    elements: list[Any] = []
    for action in entry.actions:
        if action == "rerun":
            if not _rerun_shown(alert, entry):
                continue  # no runner configured: the advice says how to do it by hand
            assert alert.rerun_target is not None
            elements.append(
                rerun_button(
                    ids.ACTION_RERUN, value, alert.rerun_target, lang, sees_steps=sees_steps
                )
            )
        elif action == "ticket":
            elements.append(
                ButtonElement(
                    text=t(lang, "button.ticket"), action_id=ids.ACTION_TICKET, value=value
                )
            )
        elif action == "ack" and alert.state is not AlertState.ACKNOWLEDGED:
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


def rerun_button(
    action_id: str, value: str, target: str, lang: str, *, sees_steps: bool = True
) -> ButtonElement:
    """Rerun sync, behind Slack's own confirmation naming what will be started: the click that
    passes it starts the work, so there is no second dialog. The confirmation promises only
    the checks the bot can make: where the status holds no eAdm steps (`sees_steps` false), it
    asks the admin to check Synchronization Status in the portal first."""
    return ButtonElement(
        text=t(lang, "button.rerun"),
        action_id=action_id,
        value=value,
        style="primary",
        confirm=ConfirmObject(
            title=t(lang, "confirm.rerun.title"),
            text=MarkdownTextObject(text=_confirm_text(target, lang, sees_steps)),
            confirm=t(lang, "confirm.rerun.yes"),
            deny=t(lang, "confirm.no"),
        ),
    )


def _confirm_text(target: str, lang: str, sees_steps: bool) -> str:
    """The rerun confirmation, with a long command shortened so the dialog stays valid."""
    key = "confirm.rerun.text" if sees_steps else "confirm.rerun.text_blind"
    room = CONFIRM_TEXT_LIMIT - len(t(lang, key, target=""))
    return t(lang, key, target=clip(code(target), room))
