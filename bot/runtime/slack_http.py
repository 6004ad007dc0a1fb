"""`POST /slack/events` in HTTP mode: every request checked before Bolt reads it, and every one
answered without a server error.

Bolt's own aiohttp adapter decodes and parses the body before it checks the signature, so
anyone who can reach the port can make it raise (a non-numeric timestamp, bytes that are not
UTF-8, JSON nested 100,000 deep) and fill the log with tracebacks. Here, in this order:

1. the signature (Slack's v0 HMAC over the exact bytes, a timestamp of at most five minutes):
   401, before anything else reads the body;
2. the body as Bolt will read it (`bot.slack.payloads.body_of`): UTF-8, JSON of a bounded
   depth, an object: 400 otherwise;
3. Bolt, which verifies the signature once more and routes the request to the listeners.
   A payload whose fields are so far from Slack's shapes that Bolt itself cannot route it
   gets 400 as well; the listeners answer the rest (odd values, unknown IDs) with 200.

Each refusal is one line in the log, and a repeat only a count (`bot.app.refusals`). An error
in a listener is one line too, naming where it happened; its traceback is logged at DEBUG.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.app.refusals import Refusals
from bot.core.inputs import BadJson
from bot.slack.payloads import body_of, shape_problem

log = logging.getLogger(__name__)

PATH = "/slack/events"
MAX_AGE = 300  # seconds a signed request stays valid, as Slack's documentation asks
TIMESTAMP_DIGITS = 12
# The project's own code, for telling its errors from Bolt's trouble reading a payload.
_ROOT = Path(__file__).parents[2]
_OURS = tuple(f"{_ROOT / package}{os.sep}" for package in ("bot", "handlers"))


def signature_problem(
    secret: bytes, headers: Mapping[str, str], body: bytes, *, now: float
) -> str | None:
    """Why a request is not signed by Slack with `secret`, or None when it is. Reads the body
    only as bytes, for the MAC."""
    stamp = headers.get("X-Slack-Request-Timestamp", "")
    given = headers.get("X-Slack-Signature", "")
    if not stamp or not given:
        return "the request is not signed (no X-Slack-Request-Timestamp or X-Slack-Signature)"
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= TIMESTAMP_DIGITS):
        return "the request's X-Slack-Request-Timestamp is not a Unix time"
    if abs(now - int(stamp)) > MAX_AGE:
        return "the request was signed more than five minutes ago (or its clock is off)"
    mac = hmac.new(secret, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    if not hmac.compare_digest(f"v0={mac.hexdigest()}", given):
        return "the request's signature is wrong; check SLACK_SIGNING_SECRET"
    return None


def ours(error: BaseException) -> str | None:
    """Where in the project's own code `error` was raised ("handlers/views.py:31"), or None
    when it came from a library alone."""
    where = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.startswith(_OURS):
            where = f"{Path(frame.filename).relative_to(_ROOT).as_posix()}:{frame.lineno}"
    return where


class SlackEndpoint:
    """The route's handler: `app.router.add_post(PATH, SlackEndpoint(...).handle)`."""

    def __init__(
        self,
        bolt: AsyncApp,
        signing_secret: str,
        refusals: Refusals,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bolt = bolt
        self.secret = signing_secret.encode()
        self.refusals = refusals
        self.clock = clock

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        who = request.remote
        problem = signature_problem(self.secret, request.headers, body, now=self.clock())
        if problem is not None:
            self.refusals.refuse("signature", problem, who=who)
            return web.json_response({"error": "invalid signature"}, status=401)
        try:
            text = body.decode("utf-8")
            payload = body_of(text, request.content_type)
        except UnicodeDecodeError:
            return self._bad_request("body", "a signed body that is not UTF-8", who)
        except BadJson as exc:
            return self._bad_request("body", f"a signed body Bolt cannot read: {exc}", who)
        if (shape := shape_problem(payload)) is not None:
            return self._bad_request("shape", f"a payload Slack would not send: {shape}", who)
        try:
            bolt_request = AsyncBoltRequest(
                body=text, query=request.query_string, headers=dict(request.headers)
            )
        except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
            detail = f"a payload whose fields are not Slack's ({type(exc).__name__}: {exc})"
            return self._bad_request("shape", detail, who)
        response = await self.bolt.async_dispatch(bolt_request)
        if response.status == 404:
            # Nothing answers this kind of request; Slack is told it arrived.
            kind = bolt_request.body.get("type") or "untyped"
            self.refusals.refuse("unknown", f"a request nothing answers ({str(kind)[:40]})")
            return web.Response(status=200)
        return await to_aiohttp_response(response)

    def _bad_request(self, kind: str, detail: str, who: str | None) -> web.Response:
        self.refusals.refuse(kind, detail, who=who)
        return web.json_response({"error": detail.split(":", 1)[0]}, status=400)


def report_errors(bolt: AsyncApp, refusals: Refusals) -> None:
    """Bolt's global error handler, in HTTP mode and Socket Mode alike: one line, never a
    traceback (that goes to DEBUG)."""

    async def failed(
        error: Exception, request: AsyncBoltRequest, response: BoltResponse | None
    ) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            return None  # answered by `SlackEndpoint` as a request nothing answers
        where = ours(error)
        if where is None:
            # Bolt could not read the payload's fields: a request Slack would not send.
            detail = f"a payload whose fields are not Slack's ({type(error).__name__}: {error})"
            refusals.refuse("shape", detail[:300])
            if response is None:  # after the ack: Slack has its answer already
                return None
            return BoltResponse(status=400, body={"error": "not a Slack payload"})
        log.error(
            "a Slack request failed at %s: %s: %s", where, type(error).__name__, str(error)[:300]
        )
        log.debug("the failed request's traceback", exc_info=error)
        return None

    bolt.error(failed)
