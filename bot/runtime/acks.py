"""Acks first: Slack hears `ack()` at once, and the work a listener does after it takes turns.

Bolt answers Slack's HTTP request (or Socket Mode envelope) when a listener calls `ack()`, and
the listener then goes on with its work on the same event loop. Under fifty clicks at once,
that work (database reads, rendering, answers to Slack) ran alongside the acks still to be
sent and made them wait. `AckFirst` is a global Bolt middleware that gives every request:

- an `ack` which, once Slack's answer is set, lets the listener go on only when no request
  is still waiting for its own answer and none came in for a moment (or after
  `YIELD_AT_MOST` seconds, so a steady stream
  of clicks cannot starve the work), and then in one of a few turns, given back when the
  listener is done. Acks never wait for work.
- a `respond` that posts to the response URL over the bot's one HTTP session, where Bolt's
  own opens and closes a connection (and, against Slack, a TLS handshake) per answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient, WebhookResponse

TURNS = 2  # listeners working after their ack at once
YIELD_AT_MOST = 1.0  # seconds work after an ack gives way to requests still unanswered
QUIET = 0.05  # seconds without a new request before work after an ack goes on


class _Waiting:
    """How many requests are still waiting for their answer, and a signal when none is."""

    def __init__(self) -> None:
        self.count = 0
        self.none = asyncio.Event()
        self.none.set()
        self.last = 0.0  # when the newest request came in (monotonic)

    def enter(self) -> None:
        self.count += 1
        self.last = time.monotonic()
        self.none.clear()

    async def quiet(self) -> None:
        """Until no request waits for its answer and none came in for QUIET seconds: clicks
        come in bursts, and the work should not start between two of them."""
        while True:
            await self.none.wait()
            calm = self.last + QUIET - time.monotonic()
            if calm <= 0 and self.none.is_set():
                return
            await asyncio.sleep(max(calm, 0.005))

    def leave(self) -> None:
        self.count -= 1
        if self.count <= 0:
            self.count = 0
            self.none.set()


class _TakeTurnAck(AsyncAck):
    def __init__(self, turns: asyncio.Semaphore, waiting: _Waiting) -> None:
        super().__init__()
        self._turns = turns
        self._waiting = waiting
        self._holding = False

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = await super().__call__(*args, **kwargs)
        if not self._holding:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._waiting.quiet(), YIELD_AT_MOST)
            await self._turns.acquire()
            self._holding = True
            task = asyncio.current_task()
            if task is None:  # pragma: no cover - ack() always runs in a task
                self._turns.release()
            else:
                task.add_done_callback(lambda _task: self._turns.release())
        return response


class _SharedSessionRespond(AsyncRespond):
    def __init__(self, response_url: str | None, session: Callable[[], Any]) -> None:
        super().__init__(response_url=response_url)
        self._session = session

    async def __call__(  # type: ignore[override]
        self, text: str | dict[str, Any] = "", **fields: Any
    ) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        body = dict(text) if isinstance(text, dict) else {"text": text, **fields}
        client = AsyncWebhookClient(url=self.response_url, session=self._session())
        return await client.send_dict(body)


class AckFirst(AsyncMiddleware):
    """`app.use(AckFirst(session))`: see the module's docstring. `session` gives the shared
    aiohttp session (None until the bot has started: then Bolt's own way is used)."""

    def __init__(self, session: Callable[[], Any], turns: int = TURNS) -> None:
        self._turns = asyncio.Semaphore(turns)
        self._session = session
        self._waiting: _Waiting | None = None  # made in the event loop, on the first request

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        waiting = self._waiting = self._waiting or _Waiting()
        req.context["ack"] = _TakeTurnAck(self._turns, waiting)
        if req.context.response_url and self._session() is not None:
            req.context["respond"] = _SharedSessionRespond(req.context.response_url, self._session)
        waiting.enter()
        try:
            return await next()  # returns once the listener has acked: Slack has its answer
        finally:
            waiting.leave()
