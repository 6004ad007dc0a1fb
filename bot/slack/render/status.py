"""Status views: `/eadm status` (one tenant's cycle and what is open), `/eadm history` (one
line per cycle) and the App Home (every tenant's status and recent cycles in one view).

The facts are gathered from the store by the caller; this module only lays them out, within
Slack's limits for a message and for a Home view. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.domain import Condition, Snapshot, StepState
from bot.core.i18n import t, t_count
from bot.core.inputs import is_user_id, plain
from bot.core.lifecycle import AlertState
from bot.core.said import Said, Voice, as_said
from bot.slack import ids
from bot.slack.render.cycle import cycle_lines, outcome
from bot.slack.render.formatting import (
    HEADER_MAX,
    SECTION_MAX,
    TEXT_MAX,
    SlackMessage,
    escape,
    fmt_duration,
    fmt_span,
    fmt_time,
    fmt_until,
    link,
    one_line,
    outside,
    said_text,
    title,
    truncate,
)

ERROR_MAX = 500  # characters of a source's error in a status view
REASON_MAX = 300  # characters of a silence's reason


@dataclass(frozen=True, slots=True)
class AlertLink:
    """An open alert as a status view lists it."""

    step: str | None
    condition: Condition
    link: str | None
    state: AlertState  # open, acknowledged or snoozed: a status view lists the unresolved


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """What a status view shows of one tenant; gathered from the store by the caller."""

    tenant: str
    snapshot: Snapshot | None
    last_success: datetime | None = None
    alerts: tuple[AlertLink, ...] = ()
    source_error: Said | None = None  # why the status cannot be read, the bot's words
    failing_since: datetime | None = None
    silenced_until: datetime | None = None
    silenced_by: str | None = None
    silence_reason: str | None = None
    silenced_since: datetime | None = None  # ahead of now: a silence planned
    window_until: datetime | None = None  # in a maintenance window until then
    next_window: tuple[datetime, datetime] | None = None  # the next one, start and end

    def __post_init__(self) -> None:
        object.__setattr__(self, "source_error", as_said(self.source_error, Voice.BOT))


def _status_sections(facts: StatusFacts, lang: str, tz: tzinfo, now: datetime) -> list[str]:
    """The status of one tenant as markdown sections (each within a section's limit)."""
    sections: list[str] = []
    notes: list[str] = []
    if facts.source_error:
        since = fmt_time(facts.failing_since or now, tz, now)
        error = truncate(one_line(said_text(facts.source_error, lang)), ERROR_MAX, lang)
        notes.append(t(lang, "command.source_down", time=since, error=error))
    notes += _quiet_lines(facts, lang, tz, now)
    if notes:
        sections.append("\n".join(notes))
    if facts.snapshot is None or not facts.snapshot.steps:
        sections.append(t(lang, "command.no_cycle_yet"))
    else:
        label = t(lang, "alert.cycle", cycle=escape(facts.snapshot.cycle_id))
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
            line = f"• {escape(title(alert.condition, alert.step, lang))}"
            if alert.link:
                line += f" ({link(alert.link, t(lang, 'command.view'))})"
            if alert.state is not AlertState.OPEN:
                line += f" · {t(lang, f'state_word.{alert.state.value}')}"
            items.append(line)
        text = f"*{t(lang, 'command.open_alerts')}*\n" + "\n".join(items)
        sections.append(truncate(text, SECTION_MAX, lang))
    else:
        sections.append(t(lang, "command.no_alerts"))
    return sections


def _quiet_lines(facts: StatusFacts, lang: str, tz: tzinfo, now: datetime) -> list[str]:
    """The silence typed by hand (running or planned), the maintenance window the tenant is
    in, and the next one."""
    lines: list[str] = []
    # Typed by a person: escaped and cut; who silenced is a mention only of a user ID.
    reason = outside(one_line(facts.silence_reason or ""), REASON_MAX, lang)
    reason = f" ({reason})" if reason else ""
    user = facts.silenced_by if is_user_id(facts.silenced_by) else "?"
    if facts.silenced_until and facts.silenced_until > now:
        if facts.silenced_since and facts.silenced_since > now:
            span = fmt_span(facts.silenced_since, facts.silenced_until, tz, now)
            lines.append(t(lang, "window.planned_line", span=span, user=user, reason=reason))
        else:
            until = fmt_time(facts.silenced_until, tz, now)
            lines.append(t(lang, "command.silenced_line", until=until, user=user, reason=reason))
    if facts.window_until and facts.window_until > now:
        end = fmt_until(facts.window_until, tz, now)
        lines.append(t(lang, "window.status_line", end=end))
    if facts.next_window is not None:
        span = fmt_span(*facts.next_window, tz, now)
        lines.append(t(lang, "window.next_line", span=span))
    return lines


def render_status(facts: StatusFacts, lang: str, *, tz: tzinfo, now: datetime) -> SlackMessage:
    """`/eadm status`: the cycle as the eAdm cycle view shows it, and what is open."""
    header = truncate(plain(t(lang, "command.status_title", tenant=facts.tenant)), HEADER_MAX, lang)
    sections = _status_sections(facts, lang, tz, now)
    blocks: list[Block] = [HeaderBlock(text=header)]
    blocks += [SectionBlock(text=MarkdownTextObject(text=s)) for s in sections]
    icon, words = outcome(facts.snapshot, lang) if facts.snapshot else ("", "")
    fallback = f"{escape(header)}: {icon} {words}".strip()
    return SlackMessage(
        text=truncate(fallback, TEXT_MAX, lang), blocks=[b.to_dict() for b in blocks]
    )


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
) -> SlackMessage:
    """`/eadm history`: one line per cycle, newest first."""
    header = truncate(
        plain(t_count(lang, "command.history_title", len(cycles), tenant=tenant)),
        HEADER_MAX,
        lang,
    )
    body = "\n".join(history_lines(cycles, lang, tz, now)) or t(lang, "command.history_none")
    blocks: list[Block] = [
        HeaderBlock(text=header),
        SectionBlock(text=MarkdownTextObject(text=truncate(body, SECTION_MAX, lang))),
    ]
    return SlackMessage(text=escape(header), blocks=[b.to_dict() for b in blocks])


def render_home(
    tenants: list[tuple[StatusFacts, list[Snapshot]]],
    lang: str,
    *,
    tz: tzinfo,
    now: datetime,
    note: str | None = None,
    failed: Callable[[str, Exception], None] | None = None,
) -> dict[str, Any]:
    """The App Home tab: the status and recent cycles of each tenant the viewer may see, as
    one view; `note` says why there is none. A tenant whose part cannot be drawn says so in
    its place, and `failed(tenant, error)` is told why; the others are drawn as ever."""
    blocks: list[dict[str, Any]] = [
        HeaderBlock(text=t(lang, "home.title")).to_dict(),
        ContextBlock(
            elements=[MarkdownTextObject(text=t(lang, "home.updated", time=fmt_time(now, tz, now)))]
        ).to_dict(),
    ]
    if note:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=note)).to_dict())
    for facts, recent in tenants:
        try:
            part = _home_part(facts, recent, lang, tz, now)
        except Exception as exc:  # one tenant's part, not the whole tab for everybody
            if failed is not None:
                failed(facts.tenant, exc)
            part = _unshown_part(facts.tenant, lang)
        blocks += part
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=t(lang, "home.refresh"), action_id=ids.ACTION_HOME_REFRESH, value="home"
                )
            ]
        ).to_dict()
    )
    # A Home view holds at most 100 blocks; keep the header and the refresh button.
    if len(blocks) > 100:
        blocks = [*blocks[:99], blocks[-1]]
    return View(type="home", blocks=blocks).to_dict()


def _home_part(
    facts: StatusFacts, recent: list[Snapshot], lang: str, tz: tzinfo, now: datetime
) -> list[dict[str, Any]]:
    """One tenant on the Home tab: its name, its status, its recent cycles; each block checked
    against Slack's limits as it is made."""
    name = outside(facts.tenant, SECTION_MAX - 2, lang)
    blocks: list[Block] = [
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text=f"*{name}*")),
    ]
    blocks += [
        SectionBlock(text=MarkdownTextObject(text=s))
        for s in _status_sections(facts, lang, tz, now)
    ]
    if recent:
        lines = "\n".join(history_lines(recent, lang, tz, now))
        text = truncate(f"*{t(lang, 'home.recent')}*\n{lines}", SECTION_MAX, lang)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    return [block.to_dict() for block in blocks]


def _unshown_part(tenant: str, lang: str) -> list[dict[str, Any]]:
    name = outside(tenant, SECTION_MAX - 2, lang)
    text = f"*{name}*\n{t(lang, 'view.part_failed')}"
    return [DividerBlock().to_dict(), SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]
