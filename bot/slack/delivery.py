"""Delivery: the outbox, sent to Slack until Slack has accepted every message, once, the
newest trouble first.

Each pass reads every message still owed and lets `bot.core.outbox_order` say the order to
try them in: notices, then new alerts, then thread replies, then redraws, and per message in
Slack only its oldest row, so one alert's own messages keep their order; a redraw that a newer
one makes needless is marked done without a call. A message is claimed (one process at a
time), sent by `sending.Sender`, and marked delivered. A failed send is tried again later with
backoff, honouring Slack's Retry-After.

Each kind goes at its Slack method's own pace. Posts and thread replies (chat.postMessage)
take their channel's turn (`ChannelPace`, about one a second per channel with short bursts),
and a reply leaves one turn of the burst to the alerts that may follow it. Redraws
(chat.update, a Tier 3 method: 50+ a minute per workspace) take a turn of the workspace's
budget, kept in the store so that every replica shares it. A pass never waits long for a
turn: what has none now waits for a timer at the moment it comes (or the next sweep), so a
new alert owed meanwhile is never queued behind older news. Channels are delivered side by
side, so one busy channel does not hold up the others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.core import metrics, outbox_order
from bot.core.budget import Rate
from bot.core.errors import DeliveryError, SlackMisconfigured, SlackRateLimited
from bot.core.outbox_order import Lane
from bot.slack.compose import Composer
from bot.slack.pacing import ChannelPace
from bot.slack.sending import About, Sender
from bot.store import Store, utcnow
from bot.store.tables import Outbox

log = logging.getLogger(__name__)

CLAIM_TTL = 60.0
SENDERS = 8  # messages in flight at once, across channels
TURN_WAIT = 0.05  # seconds a pass waits for a turn at most; one further off is a timer's
PASS_LIMIT = 200  # rows a round reads whole and tries, in their order
ROUNDS = 5  # rounds a pass makes while rows behind delivered ones of their message come free
UPDATES = "chat.update"  # the workspace budget redraws take turns of
# Turns of a channel's burst a message leaves to the lanes before it: a reply keeps one for
# a new alert.
KEEP = {Lane.NOTICE: 0, Lane.POST: 0, Lane.REPLY: 1}


def backoff(attempts: int, cap: float) -> float:
    """Seconds to wait after the n-th failed attempt: 2, 4, 8, ... up to the cap."""
    return float(min(cap, 2 ** max(1, attempts)))


class Deliverer:
    def __init__(
        self,
        store: Store,
        client: AsyncWebClient,
        composer: Composer,
        *,
        owner: str,
        retry_cap: float = 300.0,
        clock: Callable[[], datetime] = utcnow,
        pace: ChannelPace | None = None,
        updates: Rate | None = None,
    ) -> None:
        self.store = store
        self.sender = Sender(client, composer, clock)
        self.owner = owner
        self.retry_cap = retry_cap
        self.clock = clock
        self.pace = pace or ChannelPace(rate=0, burst=1)
        self.updates = updates or Rate(0)  # chat.update's budget per workspace; 0: none
        self._lock = asyncio.Lock()
        self._senders = asyncio.Semaphore(SENDERS)
        self._ids: dict[str, str] = {}  # channel names as given -> the IDs Slack answered
        self._again = False
        self._drain: asyncio.Task[None] | None = None
        self._wake: asyncio.TimerHandle | None = None  # the next pass, when a turn comes
        self._wake_at = 0.0
        self._no_updates = False  # this pass found the workspace's update budget spent

    def kick(self) -> None:
        """Deliver what was just owed soon, without waiting for it: a pass starts now, or
        the running one goes round once more."""
        self._again = True
        if self._drain is None or self._drain.done():
            self._drain = asyncio.ensure_future(self._drain_all())

    async def _drain_all(self) -> None:
        while self._again:
            self._again = False
            try:
                await self.run_once()
            except Exception:
                log.exception("delivery pass failed; the next sweep tries again")

    async def aclose(self, grace: float = 10.0) -> None:
        """Let a pass that was kicked finish; no pass starts for a turn after."""
        if self._wake is not None:
            self._wake.cancel()
        if self._drain is not None and not self._drain.done():
            await asyncio.wait({self._drain}, timeout=grace)

    async def run_once(self) -> int:
        """Deliver every message that is due and has its turn, and those behind them in their
        message's order as they come free. Returns how many Slack accepted."""
        async with self._lock:  # one pass at a time in this process; claims guard the rest
            total = 0
            for _ in range(ROUNDS):
                delivered, behind = await self._round()
                total += delivered
                if not (delivered and behind):
                    break
            metrics.OUTBOX_DEPTH.set(await asyncio.to_thread(self.store.outbox_depth))
            return total

    async def _round(self) -> tuple[int, bool]:
        """One look at the outbox: what it delivered, and whether rows waited behind others
        of their message (which may go now)."""
        now = self.clock()
        pending = await asyncio.to_thread(self.store.pending_messages, now)
        planned = outbox_order.plan(pending)
        if planned.superseded:
            await asyncio.to_thread(self.store.supersede, planned.superseded, now)
        turns = planned.turns[:PASS_LIMIT]
        rows = await asyncio.to_thread(self.store.messages, [t.row.id for t in turns])
        whole = {row.id: row for row in rows}
        by_channel: dict[str, list[tuple[Lane, Outbox]]] = {}
        for turn in turns:
            if (row := whole.get(turn.row.id)) is not None:
                by_channel.setdefault(self._paced(row.channel), []).append((turn.lane, row))
        self._no_updates = False
        counts = await asyncio.gather(
            *(self._deliver_channel(key, queue) for key, queue in by_channel.items())
        )
        tried = {t.row.id for t in turns} | set(planned.superseded)
        behind = any(p.due and p.id not in tried for p in pending)
        return sum(counts), behind

    def _paced(self, channel: str) -> str:
        return self._ids.get(channel, channel)

    async def _deliver_channel(self, channel: str, rows: list[tuple[Lane, Outbox]]) -> int:
        """One channel's due messages in their order, each kind at its method's pace; one
        without a turn now is left for the pass its turn wakes."""
        delivered = 0
        for lane, row in rows:
            wait = await self._turn(channel, lane)
            if wait is None:
                continue
            if wait:
                await asyncio.sleep(wait)
            async with self._senders:
                if await self._deliver(row, lane):
                    delivered += 1
        return delivered

    async def _turn(self, channel: str, lane: Lane) -> float | None:
        """Take a turn for a message of `lane` to `channel`: the seconds to wait for it, or
        None when it is further off (a pass is then set for when it comes)."""
        if lane is Lane.REDRAW:
            if self._no_updates:
                return None
            got = await asyncio.to_thread(
                self.store.take_turn, UPDATES, self.updates, self.clock().timestamp(), TURN_WAIT
            )
            self._no_updates = not got.taken
        else:
            got = self.pace.turn(channel, TURN_WAIT, keep=KEEP.get(lane, 0))
        if got.taken:
            return got.wait
        self._wake_in(got.wait)
        return None

    def _wake_in(self, seconds: float) -> None:
        """A pass in `seconds`, unless one is set for sooner."""
        loop = asyncio.get_running_loop()
        at = loop.time() + seconds
        if self._wake is not None and not self._wake.cancelled() and loop.time() < self._wake_at:
            if self._wake_at <= at:
                return
            self._wake.cancel()
        self._wake_at = at
        self._wake = loop.call_later(seconds, self.kick)

    async def _deliver(self, row: Outbox, lane: Lane) -> bool:
        assert row.id is not None
        now = self.clock()
        if not await asyncio.to_thread(
            self.store.claim_message, row.id, self.owner, now, CLAIM_TTL
        ):
            return False  # another process has it
        attempts = row.attempts + 1
        started = time.perf_counter()
        try:
            ts, channel = await self.sender.send(row, await self._about(row), retrying=attempts > 1)
        except DeliveryError as exc:
            wait = backoff(attempts, self.retry_cap)
            if isinstance(exc, SlackRateLimited) and exc.retry_after:
                wait = exc.retry_after
                if lane is Lane.REDRAW:  # chat.update's limit is the workspace's
                    self._no_updates = True
                    until = self.clock().timestamp() + exc.retry_after
                    await asyncio.to_thread(self.store.hold_turns, UPDATES, self.updates, until)
                else:
                    self.pace.hold(self._paced(row.channel), exc.retry_after)
            # A configuration problem was already said once, loudly; repeats add nothing.
            quiet = isinstance(exc, SlackMisconfigured)
            if quiet:
                wait = max(wait, self.retry_cap)
            retry_at = self.clock() + timedelta(seconds=wait)
            await asyncio.to_thread(self.store.delivery_failed, row.id, str(exc), retry_at)
            log.log(
                logging.DEBUG if quiet else logging.WARNING,
                "[%s] message %s (%s) not delivered, attempt %d: %s; next try in %.0f s",
                row.tenant,
                row.id,
                row.kind,
                attempts,
                exc,
                wait,
            )
            return False
        if channel and channel != row.channel:
            self._ids[row.channel] = channel  # pace a channel's name and its ID as one
        await asyncio.to_thread(self.store.delivered, row.id, ts, channel, self.clock())
        metrics.DELIVERY_LATENCY.observe(time.perf_counter() - started)
        if row.created_at:
            metrics.OUTBOX_AGE.observe((self.clock() - row.created_at).total_seconds())
        return True

    async def _about(self, row: Outbox) -> About:
        """What a row is about, read as it is now."""

        def read() -> About:
            alert = self.store.get_alert(row.alert_id) if row.alert_id else None
            copy = self.store.copy(row.copy_id) if row.copy_id else None
            told = self.store.digest(row.digest_id) if row.digest_id else None
            return About(alert, copy, told[0] if told else None, told[1] if told else [])

        return await asyncio.to_thread(read)
