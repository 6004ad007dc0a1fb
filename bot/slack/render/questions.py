"""Private questions with the one button that answers them: a ticket is already open (open
another?), a refusal that offers the support ticket instead, and the question `/eadm rerun`
asks with its Rerun button; and the modal that answers a form the bot cannot take. Pure: no
I/O.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.i18n import DEFAULT, t
from bot.slack import ids
from bot.slack.render.formatting import SECTION_MAX, SlackMessage, escape, truncate


def render_question(text: str, button: ButtonElement, lang: str = DEFAULT) -> SlackMessage:
    """A private question (mrkdwn, its outside parts escaped by the caller) with the one
    button that answers it; a text too long for a section is cut, saying so in `lang`."""
    text = truncate(text, SECTION_MAX, lang) or "…"  # a section's text is never empty
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(elements=[button]),
    ]
    return SlackMessage(text=text, blocks=[b.to_dict() for b in blocks])


def ticket_again_question(alert_id: int, ref: str, lang: str) -> SlackMessage:
    """A ticket is already open for this alert: open another one anyway?"""
    button = ButtonElement(
        text=t(lang, "ticket.again"), action_id=ids.ACTION_TICKET_AGAIN, value=str(alert_id)
    )
    return render_question(t(lang, "ticket.exists", ref=escape(ref)), button, lang)


def ticket_offer(text: str, alert_id: int, lang: str) -> SlackMessage:
    """A refusal that offers the support ticket for the alert it names instead."""
    button = ButtonElement(
        text=t(lang, "button.ticket"), action_id=ids.ACTION_TICKET, value=str(alert_id)
    )
    return render_question(text, button, lang)


def notice_modal(text: str, lang: str) -> dict[str, Any]:
    """A modal that only says `text`, shown in place of a form the bot cannot take (one that
    expired, or one it does not know)."""
    return View(
        type="modal",
        title=t(lang, "refused.title"),
        close=t(lang, "refused.close"),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_MAX, lang) or "…"))
        ],
    ).to_dict()
