"""The support ticket modal's submission: ack (which closes the modal), then send the ticket
and tell the person how it went (or why it was refused), privately, in the alert's channel.

A form that comes without its fields is answered in the modal itself: it says the form has
expired."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app.usecases import UseCases
from bot.slack import ids, payloads

log = logging.getLogger(__name__)


def register(app: AsyncApp, cases: UseCases) -> None:
    @app.view(ids.VIEW_TICKET)
    async def ticket_submitted(ack: Any, body: dict[str, Any], client: Any) -> None:
        form = payloads.ticket_form(body)
        if isinstance(form, payloads.Refused):
            await ack(response_action="update", view=cases.refused_view(form))
            return
        await ack()
        done = await cases.support.submit_ticket(
            form.user, form.alert, form.subject, form.description
        )
        if done.channel is None:  # no alert of that ID: nowhere to tell the person
            detail = f"a ticket form for alert {form.alert}, which the bot does not know"
            cases.refused(payloads.Refused("field", detail, user=form.user))
            return
        try:
            await client.chat_postEphemeral(
                channel=done.channel,
                user=form.user,
                text=done.answer.text,
                thread_ts=done.thread_ts,
            )
        except Exception as exc:  # the ticket went out; a lost note must not hide that
            log.warning("could not tell %s how the ticket went: %s", form.user, exc)
