"""Requests and answers a careless or hostile neighbour could produce, end to end against the
running `eadm-bot run`: over 200 signed bodies Slack would never send, unsigned and badly
signed ones, connections that never finish a request, a source error full of mrkdwn, a step
message full of it, a silence reason of 3,000 characters and a status answer of 300 MiB; and
afterwards the bot still answers everyone, still polls every tenant and still alerts."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from slack_sdk.models.views import View

from bot.core.domain import IMPORT_HR
from bot.sim.eadm import Scenario
from bot.sim.signing import event_body, slash_command_body
from bot.slack import ids
from testkit.e2e import SIGNING_SECRET, eventually, metric
from testkit.world import World

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN = "UADMIN"
USERS = {ADMIN: {"name": "kari", "real_name": "Kari Nordmann", "locale": "en-US"}}
CHANNEL = "CHOSTILE"
HOSTILE_ERROR = "503 <https://evil.example|Session expired: log in again> <!here> & `tick` ```"
ANSWER_WITHIN = 3.0

# -- the bodies -----------------------------------------------------------------------------------


def form(payload: object) -> str:
    """An interactive payload as Slack posts it, whatever `payload` is."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return urlencode({"payload": text})


def action(action_id: str, value: Any = "1", **fields: Any) -> dict[str, Any]:
    body = {
        "type": "block_actions",
        "user": {"id": ADMIN, "username": "kari", "team_id": "T0DEMO"},
        "api_app_id": "A0EADM",
        "team": {"id": "T0DEMO", "domain": "demo"},
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": "1.1", "channel_id": CHANNEL},
        "channel": {"id": CHANNEL, "name": "hostile"},
        "response_url": "RESPONSE_URL",
        "actions": [{"action_id": action_id, "block_id": "b", "type": "button", "value": value}],
    }
    body.update(fields)
    return body


def submission(values: Any = None, **view: Any) -> dict[str, Any]:
    body = {
        "type": "view_submission",
        "team": {"id": "T0DEMO", "domain": "demo"},
        "user": {"id": ADMIN, "username": "kari", "team_id": "T0DEMO"},
        "api_app_id": "A0EADM",
        "trigger_id": "1.2.3",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": ids.VIEW_TICKET,
            "private_metadata": "1",
            "state": {"values": values if values is not None else {}},
        },
    }
    body["view"].update(view)
    return body


def nested(depth: int, kind: str = "[") -> str:
    if kind == "[":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def hostile_bodies() -> Iterator[tuple[str, bytes, str]]:
    """(what, body, content type) for every signed request Slack would never send."""
    formed = "application/x-www-form-urlencoded"
    as_json = "application/json"

    def f(what: str, body: str) -> tuple[str, bytes, str]:
        return what, body.encode(), formed

    def j(what: str, body: str) -> tuple[str, bytes, str]:
        return what, body.encode(), as_json

    # Payloads that are not an object.
    for value in ("[]", "[1, 2]", '"text"', "42", "null", "true", "1e999", "-0"):
        yield f(f"payload {value}", form(value))
        yield j(f"JSON body {value}", value)
    # Objects without a type, or with one nobody sends.
    for body in (
        {},
        {"user": {"id": ADMIN}},
        {"actions": [{"action_id": ids.ACTION_ACK}]},
        {"type": None},
        {"type": 7},
        {"type": ["block_actions"]},
        {"type": "block_actions"},
        {"type": "no_such_type"},
    ):
        yield f(f"payload {json.dumps(body)[:40]}", form(body))
    yield j("event body without type", json.dumps({"event": {"type": "app_home_opened"}}))
    # Broken JSON.
    for text in (
        "{",
        '{"type": "block_actions", ',
        "{'type': 'x'}",
        '{"type": "x"} trailing',
        "[1,",
        '{"a": NaN}',
        '{"a": Infinity}',
        "\ufeff{}",
        '{"a": "\\ud800"}',
        "{]",
    ):
        yield f(f"broken payload {text[:20]!r}", form(text))
        yield j(f"broken JSON {text[:20]!r}", text)
    yield f("empty payload", "payload=")
    yield f("form without payload", "a=1&b=2&c")
    yield f("empty body", "")
    # Deeply nested JSON.
    for depth in (100, 1000, 10_000, 100_000):
        for kind in "[{":
            yield f(f"payload nested {depth} {kind}", form(nested(depth, kind)))
            yield j(f"JSON nested {depth} {kind}", nested(depth, kind))
    deep_action = action(ids.ACTION_ACK, value=json.loads(nested(200, "{")))
    yield f("a button value nested 200 deep", form(deep_action))
    # Not UTF-8.
    for raw in (
        b"\xff\xfe\x00",
        "payload=æøå".encode("latin-1"),
        b'{"type": "\x80"}',
        b"payload=%FF%FE",
        b"payload=" + json.dumps(action(ids.ACTION_ACK)).encode()[:-3] + b"\xc3",
    ):
        yield "not UTF-8 " + repr(raw[:16]), raw, formed
        yield "not UTF-8 JSON " + repr(raw[:16]), raw, as_json
    # View submissions without their fields.
    values_ok = {"subject": {"value": {"value": "s"}}, "description": {"value": {"value": "d"}}}
    for what, body in (
        ("no view", {k: v for k, v in submission().items() if k != "view"}),
        ("view null", {**submission(), "view": None}),
        ("view a list", {**submission(), "view": []}),
        ("no state", submission(state=None)),
        ("state a string", submission(state="x")),
        ("no values", submission()),
        ("values a list", submission(values=[1])),
        ("no subject", submission({"description": values_ok["description"]})),
        ("subject null", submission({**values_ok, "subject": None})),
        ("subject value a number", submission({**values_ok, "subject": {"value": 5}})),
        (
            "subject of 50,000 characters",
            submission({**values_ok, "subject": {"value": {"value": "<!here> " * 6250}}}),
        ),
        ("no private_metadata", submission(values_ok, private_metadata=None)),
        ("private_metadata of 400 digits", submission(values_ok, private_metadata="9" * 400)),
        ("private_metadata negative", submission(values_ok, private_metadata="-1")),
        ("private_metadata a number", submission(values_ok, private_metadata=12)),
        ("private_metadata not an alert", submission(values_ok, private_metadata="999999")),
        ("callback id unknown", submission(values_ok, callback_id="no.such.view")),
        ("callback id missing", submission(values_ok, callback_id=None)),
        ("no user", {k: v for k, v in submission(values_ok).items() if k != "user"}),
        ("user a string", {**submission(values_ok), "user": "UADMIN"}),
        ("user without id", {**submission(values_ok), "user": {}}),
    ):
        yield f(f"view submission: {what}", form(body))
    for kind in (
        "view_closed",
        "dialog_submission",
        "shortcut",
        "message_action",
        "interactive_message",
        "block_suggestion",
        "workflow_step_edit",
    ):
        yield f(
            f"{kind} nobody listens to",
            form({**submission(values_ok), "type": kind, "callback_id": "no.such"}),
        )
    # Buttons with values no button carries.
    buttons = (
        ids.ACTION_ACK,
        ids.ACTION_SNOOZE,
        ids.ACTION_RERUN,
        ids.ACTION_RERUN_TENANT,
        ids.ACTION_TICKET,
        ids.ACTION_TICKET_AGAIN,
        ids.ACTION_DIGEST_PICK,
        ids.ACTION_HOME_REFRESH,
    )
    for action_id in buttons:
        for value in (
            "9" * 400,
            "9" * 19,
            "-1",
            "0",
            "１２",
            "²",
            "1:" + "x" * 5000,
            "",
            None,
            {"a": 1},
        ):
            yield f(f"{action_id} value {str(value)[:12]!r}", form(action(action_id, value)))
    for what, body in (
        ("no actions", {k: v for k, v in action(ids.ACTION_ACK).items() if k != "actions"}),
        ("actions empty", action(ids.ACTION_ACK, actions=[])),
        ("actions a string", action(ids.ACTION_ACK, actions="x")),
        ("actions [null]", action(ids.ACTION_ACK, actions=[None])),
        ("action without id", action(ids.ACTION_ACK, actions=[{"value": "1"}])),
        ("unknown action id", action("no.such.action")),
        ("action id a number", action(ids.ACTION_ACK, actions=[{"action_id": 5}])),
        ("no user", {k: v for k, v in action(ids.ACTION_ACK).items() if k != "user"}),
        ("user null", action(ids.ACTION_ACK, user=None)),
        ("user id empty", action(ids.ACTION_ACK, user={"id": ""})),
        ("user id of 5,000 characters", action(ids.ACTION_ACK, user={"id": "U" * 5000})),
        ("user id a number", action(ids.ACTION_ACK, user={"id": 12})),
        (
            "no response_url",
            {k: v for k, v in action(ids.ACTION_ACK).items() if k != "response_url"},
        ),
        ("team a number", action(ids.ACTION_ACK, team=5)),
        ("container a string", action(ids.ACTION_ACK, container="x")),
        (
            "selected option null",
            action(
                ids.ACTION_SNOOZE,
                actions=[{"action_id": ids.ACTION_SNOOZE, "selected_option": None}],
            ),
        ),
        (
            "no trigger_id for a ticket",
            {k: v for k, v in action(ids.ACTION_TICKET).items() if k != "trigger_id"},
        ),
    ):
        yield f(f"block action: {what}", form(body))
    # Slash commands Slack would not send.
    command = dict(
        parse_qsl(
            slash_command_body(ids.COMMAND, "status", user_id=ADMIN, response_url="RESPONSE_URL")
        )
    )

    def slash(**changes: str | None) -> str:
        fields = {**command, **changes}
        return urlencode({k: v for k, v in fields.items() if v is not None})

    for what, body in (
        ("without user_id", slash(user_id=None)),
        ("user_id empty", slash(user_id="")),
        ("user_id of 5,000 characters", slash(user_id="U" * 5000)),
        ("without command", slash(command=None)),
        ("unknown command", slash(command="/other")),
        ("without text", slash(text=None)),
        ("text of 50,000 characters", slash(text="status " + "x" * 50_000)),
        ("control characters", slash(text="status\x00\x07\x1b[31m\u202e")),
        ("history ²", slash(text="history ²")),
        ("history of 5,000 digits", slash(text="history " + "9" * 5000)),
        ("silence ²", slash(text="silence ²")),
        ("silence of 5,000 digits", slash(text="silence " + "9" * 5000)),
        ("silence 10^30 minutes", slash(text="silence " + "9" * 30 + "m")),
        ("silence with a long reason", slash(text="silence 1m " + "<!here> `x` " * 400)),
        ("status with 5,000 words", slash(text="status " + "a " * 5000)),
        ("no response_url", slash(response_url=None)),
        ("no channel", slash(channel_id=None)),
    ):
        yield f(f"/eadm {what}", body)
    # Events Slack would not send.
    for what, event in (
        ("app_home_opened without user", {"type": "app_home_opened", "tab": "home"}),
        ("app_home_opened user a number", {"type": "app_home_opened", "user": 5}),
        ("app_home_opened user of 5,000", {"type": "app_home_opened", "user": "U" * 5000}),
        ("app_home_opened tab a list", {"type": "app_home_opened", "user": ADMIN, "tab": []}),
        ("unknown event", {"type": "reaction_added", "user": ADMIN}),
        ("event without type", {"user": ADMIN}),
    ):
        yield j(f"event: {what}", event_body(event))
    yield j(
        "event_callback without event", json.dumps({"type": "event_callback", "team_id": "T0DEMO"})
    )
    yield j("event a string", json.dumps({"type": "event_callback", "event": "x"}))
    yield j("url_verification without challenge", json.dumps({"type": "url_verification"}))
    yield j(
        "url_verification challenge a list",
        json.dumps({"type": "url_verification", "challenge": [1]}),
    )
    yield j("ssl_check", json.dumps({"type": "ssl_check", "ssl_check": "1"}))


def slack_signature(
    body: bytes, stamp: str | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    """Slack's v0 signature over the exact bytes, which need not be text."""
    stamp = stamp if stamp is not None else str(int(time.time()))
    mac = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={mac.hexdigest()}"}


# -- the world ------------------------------------------------------------------------------------

MiB = 1024 * 1024
HUGE = 300 * MiB
CHUNK = b"x" * (256 * 1024)


class Hostile(World):
    huge_sent: list[int]  # bytes the 300 MiB server wrote, per request

    async def post(
        self, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> tuple[int, float]:
        """POST `body` signed (unless `headers` are given); (status, seconds to the answer)."""
        if headers is None:
            headers = slack_signature(body)
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(
                f"{self.bot.url}/slack/events",
                content=body,
                headers={"Content-Type": content_type, **headers},
            )
        return response.status_code, time.monotonic() - started

    async def command(self, text: str, name: str) -> dict[str, Any]:
        """`/eadm <text>` as ADMIN; the answer the response URL got."""
        body = slash_command_body(
            ids.COMMAND, text, user_id=ADMIN, response_url=self.slack.response_url(name)
        )
        status, took = await self.post(body.encode(), "application/x-www-form-urlencoded")
        assert status == 200 and took < ANSWER_WITHIN
        answers = await eventually(
            lambda: [r for r in self.slack.responses if r["id"] == name], what=f"/eadm {text}"
        )
        return answers[0]

    def rss(self) -> int:
        """The bot's resident memory, in bytes."""
        assert self.bot.proc is not None
        status = Path(f"/proc/{self.bot.proc.pid}/status").read_text()
        kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(kib) * 1024

    async def polls(self, tenant: str) -> float:
        return (await metric(self.bot.url, "eadm_bot_polls_total")).get(tenant, 0.0)

    async def fault(self, step: str, message: str) -> None:
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{self.sims['hostile']}/_sim/fault",
                json={"step": step, "kind": "fail", "message": message},
            )
            response.raise_for_status()


def evil_app() -> web.Application:
    """An eAdm that answers 503 with a reason phrase written to trick Slack's readers."""

    async def current(_request: web.Request) -> web.Response:
        return web.json_response({}, status=503, reason=HOSTILE_ERROR.split(" ", 1)[1][:70])

    app = web.Application()
    app.router.add_get("/api/v1/sync/cycles/current", current)
    return app


def huge_app(sent: list[int]) -> web.Application:
    """An eAdm whose status answer is 300 MiB long, streamed as fast as it is read."""

    async def current(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        written = 0
        try:
            while written < HUGE:
                await response.write(CHUNK)
                written += len(CHUNK)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            sent.append(written)
        return response

    app = web.Application()
    app.router.add_get("/api/v1/sync/cycles/current", current)
    return app


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Hostile]:
    async with Hostile.open(tmp_path_factory.mktemp("hostile"), users=USERS) as world:
        world.huge_sent = []
        await world.add_tenant(
            "hostile", Scenario("t", (None,), more_cycles=False), channel=CHANNEL
        )
        await world.add_tenant("evil", eadm_url=await world.serve(evil_app()), channel="CEVIL")
        huge = await world.serve(huge_app(world.huge_sent))
        await world.add_tenant("huge", eadm_url=huge, channel="CHUGE")
        await world.start_bot(ADMIN_USERS=ADMIN, CYCLE_DUE_AFTER="600", SOURCE_DOWN_AFTER="2")
        yield world


# -- the tests ------------------------------------------------------------------------------------


async def test_every_garbage_request_is_answered_without_a_server_error(world: Hostile) -> None:
    bodies = list(hostile_bodies())
    assert len(bodies) >= 160
    before = len(world.bot.log().splitlines())
    statuses: Counter[int] = Counter()
    slow: list[str] = []
    errors: list[str] = []
    for what, body, content_type in bodies:
        body = body.replace(b"RESPONSE_URL", world.slack.response_url("garbage").encode())
        status, took = await world.post(body, content_type)
        statuses[status] += 1
        if status >= 500:
            errors.append(f"{what}: {status}")
        if took > ANSWER_WITHIN:
            slow.append(f"{what}: {took:.1f} s")
    print(f"{len(bodies)} garbage requests answered: {dict(sorted(statuses.items()))}")
    assert not errors, errors
    assert not slow, slow
    # Where a person is behind a request, they are told something short.
    told = [r for r in world.slack.responses if r["id"] == "garbage"]
    long = [r["text"][:200] for r in told if len(r.get("text", "")) >= 1000]
    assert told and not long, long
    # The log: no traceback through the bot's code or its handlers, one line per kind.
    log = world.bot.log().splitlines()[before:]
    assert not [ln for ln in log if "Traceback" in ln or 'File "' in ln], "\n".join(log)
    refused = [ln for ln in log if "refused a request" in ln]
    assert 0 < len(refused) <= 10, refused
    print(f"{len(log)} log lines for them, {len(refused)} of them refusals")
    # And afterwards: the status, the App Home and a new failure, as ever.
    status = await world.command("status hostile", "after-garbage")
    assert "eAdm status · hostile" in status["text"]
    await home_is_published(world)
    await world.fault(IMPORT_HR, "Visma <!here> said `no` ```" + "<https://evil.example|again>")
    (alert,) = await eventually(
        lambda: [m for m in world.slack.messages(CHANNEL) if "Import HR" in json.dumps(m)],
        timeout=20,
        what="the new failure's alert",
    )
    shown = json.dumps(alert["blocks"])
    assert "&lt;!here&gt;" in shown and "<!here>" not in shown and "<https://evil" not in shown


async def home_is_published(world: Hostile) -> None:
    before = len(world.slack.calls("views.publish"))
    event = event_body({"type": "app_home_opened", "user": ADMIN, "tab": "home"})
    status, _took = await world.post(event.encode(), "application/json")
    assert status == 200
    calls = await world.slack.wait_for("views.publish", before + 1, timeout=10)
    view = calls[-1].params["view"]
    View(**(json.loads(view) if isinstance(view, str) else view)).validate_json()


async def test_unsigned_and_badly_signed_requests_are_401_before_their_body_is_read(
    world: Hostile,
) -> None:
    before = len(world.bot.log().splitlines())
    deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    cases = [{}, {"X-Slack-Signature": "v0=00"}]
    cases += [slack_signature(deep, stamp) for stamp in ("abc", "1e10", "", "+1", "1.5", "9" * 40)]
    cases += [slack_signature(deep, str(int(time.time()) - 3600))]
    cases += [slack_signature(deep, secret="not-the-signing-secret")]
    statuses: Counter[int] = Counter()
    for _ in range(20):
        for headers in cases:
            status, took = await world.post(deep, "application/json", headers=headers)
            statuses[status] += 1
            assert took < ANSWER_WITHIN
    assert statuses == {401: 20 * len(cases)}
    log = world.bot.log().splitlines()[before:]
    assert "Traceback" not in "\n".join(log)
    assert len([ln for ln in log if "refused a request" in ln]) <= 1, log
    print(f"{sum(statuses.values())} badly signed requests: all 401, {len(log)} log line(s)")


async def test_a_source_error_full_of_mrkdwn_reaches_slack_escaped(world: Hostile) -> None:
    (alert,) = await eventually(
        lambda: world.slack.messages("CEVIL"), timeout=30, what="evil's source alert"
    )
    shown = json.dumps(alert["blocks"]) + alert["text"]
    assert "&lt;https://evil.example|Session expired: log in again&gt;" in shown
    assert "<https://evil" not in shown and "<!here>" not in shown
    status = await world.command("status evil", "evil-status")
    text = json.dumps(status)
    assert "&lt;!here&gt;" in text and "<!here>" not in text


async def test_a_3000_character_silence_reason_leaves_the_app_home_to_everyone(
    world: Hostile,
) -> None:
    reason = ("<!channel> `quoted` " * 200)[:3000]
    answer = await world.command(f"silence 2h hostile {reason}", "long-silence")
    try:
        assert "silenced alerts for hostile" in answer["text"]
        assert "<!channel>" not in answer["text"] and len(answer["text"]) < 1000
        notice = await eventually(
            lambda: [m for m in world.slack.messages(CHANNEL) if "silenced" in m["text"]],
            what="the silence told in the channel",
        )
        assert "<!channel>" not in notice[-1]["text"]
        await home_is_published(world)
    finally:
        await world.command("unsilence hostile", "long-silence-end")


async def test_a_300_mib_answer_leaves_the_bot_small_and_the_others_polled(
    world: Hostile,
) -> None:
    await eventually(lambda: len(world.huge_sent) >= 2, timeout=20, what="two huge answers")
    counted = await world.polls("hostile")
    started = time.monotonic()
    peak = world.rss()
    while time.monotonic() - started < 8:  # eight poll intervals of huge answers
        peak = max(peak, world.rss())
        await asyncio.sleep(0.1)
    polled = await world.polls("hostile") - counted
    took = time.monotonic() - started
    read = max(world.huge_sent) / MiB
    print(
        f"300 MiB answers: {len(world.huge_sent)} begun, at most {read:.0f} MiB each written "
        f"before the bot hung up; bot RSS peak {peak / MiB:.0f} MiB; hostile polled "
        f"{polled:.0f} times in {took:.1f} s"
    )
    assert peak < 200 * MiB
    assert polled >= took * 0.6  # about once a second, the huge tenant notwithstanding
    errors = world.bot.log()
    assert "the answer was larger than 4 MiB (SOURCE_MAX_BYTES)" in errors


async def test_connections_that_never_finish_a_request_do_not_keep_slack_out(
    world: Hostile,
) -> None:
    before = len(world.bot.log().splitlines())
    held = []
    for _ in range(300):
        _reader, writer = await asyncio.open_connection("127.0.0.1", world.bot.port)
        writer.write(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Slack-Signature: v0=")
        held.append(writer)
    try:
        started = time.monotonic()
        answer = await world.command("status hostile", "behind-slow-clients")
        took = time.monotonic() - started
        assert "eAdm status · hostile" in answer["text"]
        print(f"300 held connections: /eadm status answered in {took:.2f} s")
    finally:
        for writer in held:
            writer.close()
    log = world.bot.log().splitlines()[before:]
    assert len([ln for ln in log if "slow clients" in ln]) <= 1, log
