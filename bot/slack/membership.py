"""Which channels a person is in, and which channel IDs the configured channel names stand for:
the facts who sees a tenant is decided by (`bot.core.visibility`).

A person's channels are read with `users.conversations` and kept for a few minutes, changed
at once by Slack's `member_joined_channel` and `member_left_channel` events, and read again at
most once a minute when they would refuse the person something. Configured names (`#eadm`)
are resolved to IDs once with `conversations.list`, and again only for a name not found.

When Slack does not answer, the read is refused (`MembershipUnknown`): nobody is shown a
tenant for want of an answer. That is logged once, until a read works again.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0  # how long a person's channels are believed without an event
RECHECK_SECONDS = 60.0  # a refused person's channels are read again at most this often
PAGES = 20  # pages of 200 read from conversations.list and users.conversations at most
TYPES = "public_channel,private_channel"
_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
# An error answer, or none at all (the network, a timeout).
_SLACK_DID_NOT_ANSWER = (SlackApiError, OSError, TimeoutError, aiohttp.ClientError)


class MembershipUnknown(Exception):
    """Slack did not say which channels a person is in; nothing is shown by default."""


class Membership:
    def __init__(self, client: AsyncWebClient, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.clock = clock
        self._of: dict[str, tuple[float, set[str]]] = {}  # user -> (read at, channel IDs)
        self._names: dict[str, str] = {}  # channel name -> ID
        self._listed_at: float | None = None
        self._failing = False

    # -- channels as configured --------------------------------------------------------------

    async def channel_ids(self, configured: Iterable[str]) -> frozenset[str]:
        """The IDs of channels given as IDs (C0123...) or names (#eadm-alerts, eadm-alerts);
        a name Slack does not know stands for no channel."""
        found = set()
        for channel in configured:
            channel_id = await self.channel_id(channel)
            if channel_id is not None:
                found.add(channel_id)
        return frozenset(found)

    async def channel_id(self, channel: str) -> str | None:
        if _ID.fullmatch(channel):
            return channel
        name = channel.lstrip("#").lower()
        stale = self._listed_at is None or self.clock() - self._listed_at > CACHE_SECONDS
        if name not in self._names and stale:
            await self._list_channels()
        return self._names.get(name)

    async def _list_channels(self) -> None:
        names: dict[str, str] = {}
        cursor: str | None = None
        try:
            for _ in range(PAGES):
                page = await self.client.conversations_list(
                    types=TYPES, exclude_archived=True, limit=200, cursor=cursor
                )
                for channel in page.get("channels") or []:
                    if channel.get("name") and channel.get("id"):
                        names[str(channel["name"]).lower()] = str(channel["id"])
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except _SLACK_DID_NOT_ANSWER as exc:
            self._failed("the workspace's channels (conversations.list)", exc)
            return  # not remembered: the next look-up asks again
        self._names.update(names)
        self._listed_at = self.clock()
        self._recovered()

    # -- a person's channels -----------------------------------------------------------------

    async def of(self, user_id: str, *, recheck: bool = False) -> frozenset[str]:
        """The IDs of the channels a person is in. `recheck`: read them again (at most once a
        minute per person) because they are about to be refused something. Raises
        MembershipUnknown when Slack does not answer."""
        cached = self._of.get(user_id)
        if cached is not None:
            age = self.clock() - cached[0]
            if age < (RECHECK_SECONDS if recheck else CACHE_SECONDS):
                return frozenset(cached[1])
        channels = await self._read(user_id)
        self._of[user_id] = (self.clock(), channels)
        return frozenset(channels)

    async def _read(self, user_id: str) -> set[str]:
        channels: set[str] = set()
        cursor: str | None = None
        try:
            for _ in range(PAGES):
                page = await self.client.users_conversations(
                    user=user_id, types=TYPES, exclude_archived=True, limit=200, cursor=cursor
                )
                channels.update(str(c["id"]) for c in page.get("channels") or [] if c.get("id"))
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except _SLACK_DID_NOT_ANSWER as exc:
            self._failed("which channels a person is in (users.conversations)", exc)
            raise MembershipUnknown(str(exc)) from None
        self._recovered()
        return channels

    def joined(self, user_id: str, channel: str) -> None:
        """Slack's member_joined_channel: believed at once, without a read."""
        if user_id in self._of:
            self._of[user_id][1].add(channel)

    def left(self, user_id: str, channel: str) -> None:
        """Slack's member_left_channel."""
        if user_id in self._of:
            self._of[user_id][1].discard(channel)

    # -- said once ---------------------------------------------------------------------------

    def _failed(self, what: str, exc: Exception) -> None:
        if self._failing:
            log.debug("still cannot read %s from Slack: %s", what, exc)
            return
        self._failing = True
        log.warning(
            "cannot read %s from Slack (%s); nobody is shown a tenant they are not an admin of "
            "until Slack answers (check the channels:read and groups:read scopes)",
            what,
            exc,
        )

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            log.info("Slack says again which channels people are in")
