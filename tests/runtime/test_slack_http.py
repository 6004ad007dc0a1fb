"""`POST /slack/events` checked before Bolt reads it: the signature first (401), then the body as
Bolt reads it (400), then Bolt and its listeners; every refusal one line, and a listener's
error one line naming where, never a traceback. In-process: a real Bolt app behind the
endpoint on loopback, the Slack double for its auth.test."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.refusals import Refusals
from bot.core.inputs import parse_json_object
from bot.runtime.slack_http import PATH, SlackEndpoint, report_errors, signature_problem
from bot.sim.slack import SlackDouble
from testkit.e2e import eventually, serving

SECRET = "test-signing-secret"
NOW = 1_764_000_000


def signed(body: bytes, stamp: str | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = stamp if stamp is not None else str(int(time.time()))
    mac = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={mac.hexdigest()}"}


def headers_at(body: bytes, stamp: str, **changes: str) -> dict[str, str]:
    mac = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    found = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={mac.hexdigest()}"}
    found.update(changes)
    return found


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "not signed"),
        ({"X-Slack-Request-Timestamp": str(NOW)}, "not signed"),
        (headers_at(b"x", "abc"), "not a Unix time"),
        (headers_at(b"x", "1e9"), "not a Unix time"),
        (headers_at(b"x", "١٧٦٤٠٠٠٠٠٠"), "not a Unix time"),  # digits int() reads
        (headers_at(b"x", " " + str(NOW)), "not a Unix time"),
        (headers_at(b"x", "9" * 5000), "not a Unix time"),
        (headers_at(b"x", str(NOW - 301)), "more than five minutes ago"),
        (headers_at(b"x", str(NOW + 301)), "more than five minutes ago"),
        (headers_at(b"x", str(NOW), **{"X-Slack-Signature": "v0=00"}), "signature is wrong"),
        (headers_at(b"other", str(NOW)), "signature is wrong"),
    ],
)
def test_what_is_not_signed_by_slack(headers: dict[str, str], why: str) -> None:
    problem = signature_problem(SECRET.encode(), headers, b"x", now=NOW)
    assert problem is not None and why in problem


def test_a_signature_over_any_bytes_is_checked_as_bytes() -> None:
    body = b"\xff\xfe not UTF-8"
    assert signature_problem(SECRET.encode(), headers_at(body, str(NOW)), body, now=NOW) is None


class Rig:
    def __init__(self, url: str, refusals: Refusals, seen: list[str]) -> None:
        self.url = url
        self.refusals = refusals
        self.seen = seen

    async def post(
        self, body: bytes, *, content_type: str = "application/json", headers: Any = None
    ) -> httpx.Response:
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(
                self.url + PATH,
                content=body,
                headers={
                    "Content-Type": content_type,
                    **(signed(body) if headers is None else headers),
                },
            )


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    double = SlackDouble(token="xoxb-test")
    await double.start()
    seen: list[str] = []
    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-test", base_url=double.api_url),
        signing_secret=SECRET,
        process_before_response=False,
        raise_error_for_unhandled_request=True,
    )

    @bolt.command("/eadm")
    async def eadm(ack: Any, command: dict[str, Any]) -> None:
        await ack(text="heard")
        seen.append(str(command.get("text")))

    @bolt.command("/broken")
    async def broken(ack: Any) -> None:
        await ack()
        parse_json_object("[1]")  # a bug in the bot's own code, after the ack

    refusals = Refusals()
    report_errors(bolt, refusals)
    app = web.Application()
    app.router.add_post(PATH, SlackEndpoint(bolt, SECRET, refusals).handle)
    try:
        async with serving(app) as url:
            yield Rig(url, refusals, seen)
    finally:
        await double.stop()


def command(name: str = "/eadm", text: str = "status") -> bytes:
    fields = {"command": name, "text": text, "user_id": "U0ADMIN", "team_id": "T0DEMO"}
    return urlencode(fields).encode()


DEEP = b'{"a":' * 100_000 + b"1" + b"}" * 100_000


async def test_an_unsigned_request_is_refused_before_its_body_is_read(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for headers in ({}, headers_at(DEEP, "not-a-number"), headers_at(DEEP, "1")):
        response = await rig.post(DEEP, headers=headers)
        assert response.status_code == 401
    response = await rig.post(b"\xff\xfe", headers=signed(b"\xff\xfe", secret="not-ours"))
    assert response.status_code == 401
    assert rig.refusals.count("signature") == 3  # after its first line
    said = [r for r in caplog.records if r.name == "bot.requests"]
    assert len(said) == 1 and "not signed" in said[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xfe{}", "application/json"),
        (b"payload=%FF" + b"\xc3", "application/x-www-form-urlencoded"),
        (DEEP, "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"type": ', "application/json"),
        (urlencode({"payload": "[]"}).encode(), "application/x-www-form-urlencoded"),
        (urlencode({"payload": '{"type": 7}'}).encode(), "application/x-www-form-urlencoded"),
        (b'{"type": "event_callback", "event": "x"}', "application/json"),
        (b'{"type": "block_actions", "actions": []}', "application/json"),
        (b'{"type": "x", "user": 5}', "application/json"),  # Bolt's own reading fails
    ],
)
async def test_a_signed_body_that_cannot_be_read_is_a_400(
    rig: Rig, body: bytes, content_type: str
) -> None:
    response = await rig.post(body, content_type=content_type)
    assert response.status_code == 400, response.text


async def test_a_request_nothing_answers_is_told_it_arrived(rig: Rig) -> None:
    response = await rig.post(json.dumps({"type": "no_such_thing"}).encode())
    assert response.status_code == 200
    unanswered = await rig.post(command("/other"), content_type="application/x-www-form-urlencoded")
    assert unanswered.status_code == 200
    assert rig.refusals.count("unknown") == 1  # the second; the first had its line


async def test_a_good_request_reaches_its_listener(rig: Rig) -> None:
    response = await rig.post(command(), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.text == "heard"
    assert rig.seen == ["status"]


async def test_an_error_in_the_bots_code_is_one_line_naming_where(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = await rig.post(command("/broken"), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    lines = await eventually(
        lambda: [r for r in caplog.records if r.name == "bot.runtime.slack_http"],
        timeout=5,
        what="the failed listener's line",
    )
    (line,) = [r for r in lines if r.levelno == logging.ERROR]
    assert line.getMessage().startswith("a Slack request failed at bot/core/inputs.py:")
    assert "BadJson: the JSON is an array, not an object" in line.getMessage()
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.INFO)
