"""The support ticket: its subject and plain-text description for Identum support, and the
modal in which the admin edits them before the ticket is sent.

The description is plain text because it leaves Slack (a helpdesk, an e-mail): the cycle is
the cycle view's lines without their emoji codes and bold marks. Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.core.i18n import t
from bot.core.inputs import plain
from bot.slack import ids
from bot.slack.render.alert import AlertFacts
from bot.slack.render.cycle import cycle_lines
from bot.slack.render.formatting import SECTION_MAX, fmt_duration, step_name, title, truncate

SUBJECT_MAX = 150  # characters the modal's subject may hold
DESCRIPTION_MAX = 3000  # and its description (Slack's limit for a text input)


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
        # Each voice under its own label, as the alert shows it: support reads eAdm's words
        # as eAdm's and Task Scheduler's as Task Scheduler's.
        for voice, parts in alert.error.groups():
            text = "\n".join(part.text(lang).strip() for part in parts if part.text(lang).strip())
            lines += ["", f"{t(lang, f'said.{voice.value}')}:", truncate(text, 4000, lang)]
    snapshot = alert.snapshot()
    if snapshot is not None and snapshot.steps:
        lines += ["", t(lang, "ticket.cycle", cycle=snapshot.cycle_id) + ":"]
        for line in cycle_lines(snapshot, lang, tz, now, errors=True, mrkdwn=False):
            # The ticket is plain text: drop the emoji code and the bold marks.
            plain = line.split(" ", 1)[1].replace("*", "").replace("`", "")
            lines.append("  " + " ".join(plain.split()))
    return subject, "\n".join(lines)


def render_ticket_modal(
    alert_id: int, subject: str, description: str, *, goes_to: str, lang: str
) -> dict[str, Any]:
    """The modal that lets the admin edit the ticket before it is sent. `goes_to` is mrkdwn,
    its outside parts escaped by the caller; the fields are plain text, cut to what they hold
    with a note that they were."""
    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=truncate(goes_to, SECTION_MAX, lang))]),
        InputBlock(
            block_id="subject",
            label=t(lang, "ticket.subject"),
            element=PlainTextInputElement(
                action_id="value",
                initial_value=truncate(plain(subject), SUBJECT_MAX, lang),
                max_length=SUBJECT_MAX,
            ),
        ),
        InputBlock(
            block_id="description",
            label=t(lang, "ticket.description"),
            element=PlainTextInputElement(
                action_id="value",
                multiline=True,
                initial_value=truncate(plain(description), DESCRIPTION_MAX, lang),
                max_length=DESCRIPTION_MAX,
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
