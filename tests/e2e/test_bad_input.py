"""Requests and answers a careless or hostile neighbour could produce, end to end against the
running `eadm-bot run`: over 200 signed bodies Slack would never send, unsigned and badly
signed ones, connections that never finish a request, a source error full of mrkdwn, a step
message full of it, a silence reason of 3,000 characters and a status answer of 300 MiB; and
afterwards the bot still answers everyone, still polls every tenant and still alerts."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from slack_sdk.models.views import View

from bot.core.domain import IMPORT_HR
from bot.sim.eadm import Scenario
from bot.sim.signing import event_body, slash_command_body
from bot.slack import ids
from testkit.e2e import eventually, metric
from testkit.world import World
from tests.e2e.hostile import ADMIN, CHANNEL, hostile_bodies, slack_signature

pytestmark = pytest.mark.asyncio(loop_scope="module")

USERS = {ADMIN: {"name": "kari", "real_name": "Kari Nordmann", "locale": "en-US"}}
HOSTILE_ERROR = "503 <https://evil.example|Session expired: log in again> <!here> & `tick` ```"
ANSWER_WITHIN = 3.0

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
