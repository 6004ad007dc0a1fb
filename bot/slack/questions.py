"""Private questions with one button, built from Slack's Block Kit models."""

from __future__ import annotations

from slack_sdk.models.blocks import ButtonElement

from bot.core.i18n import t
from bot.slack import ids
from bot.slack.render import Message, render_question


def ticket_again_question(alert_id: int, ref: str, lang: str) -> Message:
    """A ticket is already open for this alert: open another one anyway?"""
    button = ButtonElement(
        text=t(lang, "ticket.again"), action_id=ids.ACTION_TICKET_AGAIN, value=str(alert_id)
    )
    return render_question(t(lang, "ticket.exists", ref=ref), button)


def ticket_offer(text: str, alert_id: int, lang: str) -> Message:
    """A refusal that offers the support ticket for the alert it names instead."""
    button = ButtonElement(
        text=t(lang, "button.ticket"), action_id=ids.ACTION_TICKET, value=str(alert_id)
    )
    return render_question(text, button)
