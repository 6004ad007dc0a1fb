"""Sending one outbox row to Slack the way its kind asks: an alert's post, its redraw, a line
in its thread, a notice, a storm digest, an escalation's call. Slack's answers are told apart
by their error code, never their wording, and become the `DeliveryError`s delivery retries.

Every post goes through `_post_once`: it carries its outbox ID in Slack message metadata, so a
retry after a crash or a timeout first looks in the channel for the message it may already
have posted, and adopts it instead of posting twice. Only a message this bot posted is
adopted (its `bot_id`, from auth.test): anyone can post a message with the same metadata.
When to send, how fast and what to do when it fails is `delivery`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import metrics
from bot.core import storm as storm_rules
from bot.core.errors import DeliveryError, SlackMisconfigured, SlackRateLimited, SlackRefused
from bot.core.notify import OutboxKind
from bot.slack.compose import Composer
from bot.store.tables import Alert, AlertCopy, Digest, Outbox

log = logging.getLogger(__name__)

EVENT_TYPE = "eadm_bot_message"
MESSAGE_GONE = "message_not_found"  # chat.update's answer when someone deleted the message
# Errors that no retry soon will cure; the admin has to change something.
_CONFIG_ERRORS = {
    "invalid_auth": "Slack rejected the bot token; check SLACK_BOT_TOKEN",
    "not_authed": "no bot token reached Slack; check SLACK_BOT_TOKEN",
    "account_inactive": "the Slack app or its token was deactivated; reinstall the app",
    "token_revoked": "the bot token was revoked; reinstall the app and update SLACK_BOT_TOKEN",
    "channel_not_found": "the alert channel does not exist or is private; check ALERT_CHANNEL "
    "and invite the bot (/invite @eadm-bot)",
    "not_in_channel": "the bot is not in the alert channel; invite it with /invite @eadm-bot",
    "is_archived": "the alert channel is archived; unarchive it or change ALERT_CHANNEL",
    "missing_scope": "the Slack app lacks a scope; reinstall it from deploy/slack-app-manifest.yml",
}


@dataclass(frozen=True, slots=True)
class About:
    """What an outbox row is about: its alert, the alert's copy in the row's channel, and the
    storm digest (with its alerts) the row redraws or threads in."""

    alert: Alert | None
    copy: AlertCopy | None
    digest: Digest | None
    members: list[storm_rules.Member]


Landed = tuple[str | None, str | None]  # the Slack ts and channel ID a message landed under
NOTHING: Landed = (None, None)  # nothing to send: done, with no message of its own


class Sender:
    """Sends rows for one process: remembers what it learned of Slack on the way (the
    channels' IDs it answered, this bot's bot_id, the configuration problems already said)."""

    def __init__(
        self, client: AsyncWebClient, composer: Composer, clock: Callable[[], datetime]
    ) -> None:
        self.client = client
        self.composer = composer
        self.clock = clock
        self._said: set[str] = set()  # configuration problems already logged
        self._bot_id: str | None = None  # this bot's own, from auth.test, once needed
        self.by_kind: dict[OutboxKind, Callable[[Outbox, About, bool], Awaitable[Landed]]] = {
            OutboxKind.POST: self._post,
            OutboxKind.UPDATE: self._update,
            OutboxKind.REPLY: self._reply,
            OutboxKind.NOTICE: self._notice,
            OutboxKind.DIGEST: self._digest,
            OutboxKind.ESCALATION: self._escalation,
        }

    async def send(self, row: Outbox, about: About, *, retrying: bool) -> Landed:
        """Send one message the way its kind asks."""
        try:
            send = self.by_kind[OutboxKind(row.kind)]
        except ValueError:
            # A newer version's row, met during a rolling update: that version delivers it.
            raise DeliveryError(f"kind {row.kind!r} is not one this version sends") from None
        return await send(row, about, retrying)

    async def _post(self, row: Outbox, about: About, retrying: bool) -> Landed:
        """An alert's own message, the first time the channel hears of it."""
        alert = about.alert
        assert alert is not None
        message = self.composer.alert_message(alert, self.clock(), new=True)
        return await self._post_once(
            row,
            row.channel,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            retrying=retrying,
        )

    async def _update(self, row: Outbox, about: About, retrying: bool) -> Landed:
        """The alert's message in this row's channel redrawn as the alert is now."""
        alert = about.alert
        # Its copy in this channel, or (for alerts from before copies) the alert's own.
        where = about.copy or alert
        assert alert is not None and where is not None
        if not where.message_ts:
            return NOTHING  # never posted (opened in a maintenance window)
        message = self.composer.alert_message(alert, self.clock())
        try:
            return await self._redraw(
                where.channel, where.message_ts, text=message.text, blocks=message.blocks
            )
        except SlackRefused as exc:
            if exc.error != MESSAGE_GONE:
                raise
            log.warning(
                "[%s] alert %s message was deleted in Slack; not updating", row.tenant, alert.id
            )
            return NOTHING

    async def _reply(self, row: Outbox, about: About, retrying: bool) -> Landed:
        """A line in the alert's thread, or, for an alert told in a storm digest (a person's
        action on it), in the digest's thread."""
        alert = about.alert
        where = about.digest if about.digest is not None else about.copy or alert
        assert alert is not None and where is not None
        if not where.message_ts:
            return NOTHING
        return await self._post_once(
            row,
            where.channel,
            thread_ts=where.message_ts,
            text=self.composer.reply_text(row, alert, self.clock()),
            retrying=retrying,
        )

    async def _notice(self, row: Outbox, about: About, retrying: bool) -> Landed:
        """A message of its own, tied to no alert, written out in the row."""
        payload = row.payload or {}
        return await self._post_once(
            row,
            row.channel,
            text=payload.get("text", ""),
            blocks=payload.get("blocks"),
            retrying=retrying,
        )

    async def _digest(self, row: Outbox, about: About, retrying: bool) -> Landed:
        """A storm digest: posted the first time, redrawn in place after."""
        told = about.digest
        if told is None:
            return NOTHING
        message = self.composer.digest_message(told, about.members)
        if told.message_ts:
            return await self._redraw(
                told.channel, told.message_ts, text=message.text, blocks=message.blocks
            )
        return await self._post_once(
            row,
            told.channel,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            retrying=retrying,
        )

    async def _escalation(self, row: Outbox, about: About, retrying: bool) -> Landed:
        """The escalation channel's message: whom it calls, and a link to the alert's message
        (or to the storm digest that tells it), which it waits for."""
        alert = about.alert
        where = about.digest if about.digest is not None else about.copy or alert
        assert alert is not None and where is not None
        if not where.message_ts:
            raise DeliveryError("the alert's own message is not in Slack yet; waiting for it")
        response = await self._call(
            "chat.getPermalink", channel=where.channel, message_ts=where.message_ts
        )
        link = str(response.get("permalink") or "")
        return await self._post_once(
            row,
            row.channel,
            text=self.composer.escalation_text(row, alert, link, self.clock()),
            retrying=retrying,
        )

    async def _post_once(
        self,
        row: Outbox,
        channel: str,
        *,
        text: str,
        blocks: Any = None,
        thread_ts: str | None = None,
        unfurl_links: bool | None = None,
        retrying: bool,
    ) -> Landed:
        """Post the row's message, carrying its outbox ID in the message's metadata. A retry
        first looks for the message an earlier attempt may have posted (its answer lost to a
        timeout or a crash) and adopts it, so nothing is posted twice."""
        if retrying and (found := await self._find(row.tenant, channel, row.id, thread_ts)):
            return found
        response = await self._call(
            "chat.postMessage",
            channel=channel,
            thread_ts=thread_ts,
            text=text,
            blocks=blocks,
            metadata={
                "event_type": EVENT_TYPE,
                "event_payload": {"outbox_id": row.id, "alert_id": row.alert_id or 0},
            },
            unfurl_links=unfurl_links,
        )
        return response.get("ts"), response.get("channel")

    async def _redraw(self, channel: str, ts: str, *, text: str, blocks: Any) -> Landed:
        """A message already in Slack, drawn again: done twice, it still shows once."""
        await self._call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)
        return ts, channel

    async def _own_bot_id(self) -> str:
        """This bot's bot_id, as auth.test tells it (asked once per process)."""
        if self._bot_id is None:
            if not (bot_id := (await self._call("auth.test")).get("bot_id")):
                raise DeliveryError("auth.test did not say the bot's bot_id; is it a bot token?")
            self._bot_id = str(bot_id)
        return self._bot_id

    async def _find(
        self, tenant: str, channel: str, outbox_id: int | None, thread_ts: str | None = None
    ) -> tuple[str, str] | None:
        """The message an earlier attempt may have posted, found by its metadata and posted
        by this bot."""
        own = await self._own_bot_id()
        if thread_ts:
            response = await self._call(
                "conversations.replies",
                channel=channel,
                ts=thread_ts,
                include_all_metadata=True,
                limit=200,
            )
        else:
            response = await self._call(
                "conversations.history", channel=channel, include_all_metadata=True, limit=100
            )
        for message in response.get("messages") or []:
            meta = message.get("metadata") or {}
            said = (message.get("bot_id"), meta.get("event_type"), meta.get("event_payload"))
            if said[:2] == (own, EVENT_TYPE) and (said[2] or {}).get("outbox_id") == outbox_id:
                log.info(
                    "[%s] message %s was already in Slack (ts %s); not posting it again",
                    tenant,
                    outbox_id,
                    message.get("ts"),
                )
                return str(message.get("ts")), str(response.get("channel") or channel)
        return None

    async def _call(self, method: str, **params: Any) -> Any:
        try:
            call = getattr(self.client, method.replace(".", "_"))
            # Calls and errors are counted by the client itself (bot.runtime.slack_client).
            return await call(**{k: v for k, v in params.items() if v is not None})
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            if exc.response.status_code == 429:
                retry_after = float(exc.response.headers.get("Retry-After", 30))
                # The client already waited once; this wait is the message's, in the outbox.
                metrics.RATE_LIMIT_WAITS.inc()
                raise SlackRateLimited(
                    f"Slack rate-limited {method}", retry_after=retry_after
                ) from None
            if error in _CONFIG_ERRORS:
                if error not in self._said:
                    self._said.add(error)
                    log.error("Slack answered %s to %s: %s", error, method, _CONFIG_ERRORS[error])
                raise SlackMisconfigured(
                    f"{method}: {error}: {_CONFIG_ERRORS[error]}", method=method, error=error
                ) from None
            raise SlackRefused(
                f"{method}: Slack answered {error}", method=method, error=error
            ) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise DeliveryError(
                f"{method}: Slack could not be reached ({type(exc).__name__}: {exc})"
            ) from None
