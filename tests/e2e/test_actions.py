"""Acting from the alert, end to end: signed clicks and modal submissions sent to the running
`eadm-bot run` over HTTP, as Slack sends them; the Slack double records what the bot answers,
a real SMTP server on loopback receives the ticket, the simulator is the eAdm side."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import sys
import time
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from aiosmtpd.controller import Controller

from bot.adapters.runners import verify
from bot.core.domain import EXPORT_AD, IMPORT_AD, IMPORT_HIERARCHY, IMPORT_HR
from bot.sim.eadm import Fault, Scenario
from bot.sim.signing import block_actions_body, view_submission_body
from bot.slack import ids
from bot.store import Store
from testkit.e2e import eventually, free_port, send_signed, settled
from testkit.world import World
from tests import store_rows

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN = "UADMIN"
OTHER = "UOTHER"
USERS = {
    ADMIN: {"name": "kari", "real_name": "Kari Nordmann", "email": "kari@kommune.no"},
    OTHER: {"name": "ola", "real_name": "Ola Vanlig", "email": "ola@kommune.no"},
}
WEBHOOK_SECRET = "hook-secret"

# The rerun command: count the run, start a cycle on the simulator, then take its time: until
# the test lets it finish (a file appears), or for RUNNER_AT_MOST seconds.
RERUN_SCRIPT = """
import os, sys, time, urllib.request
with open(sys.argv[1], "a") as f:
    f.write("run\\n")
urllib.request.urlopen(urllib.request.Request(sys.argv[2] + "/api/v1/sync/run", method="POST"))
deadline = time.monotonic() + float(sys.argv[4])
while not os.path.exists(sys.argv[3]) and time.monotonic() < deadline:
    time.sleep(0.05)
"""
RUNNER_AT_MOST = 20.0

LOG_LINES = (
    "2026-11-26 05:00:01 INFO Starter synkronisering\n"
    "2026-11-26 05:00:02 ERROR Could not connect to Visma HRM: 500 Internal Server Error\n"
    "2026-11-26 05:00:03 INFO Avslutter\n"
)


class Inbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


class Actions(World):
    """A tenant per action, the SMTP server and webhook its ticket goes to, and the rerun
    command's files."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inbox = Inbox()
        self.hooks: list[tuple[dict[str, str], bytes]] = []
        self.counter = self.tmp / "runs.txt"  # a line for each run of the rerun command
        self.release = self.tmp / "release"  # the rerun command finishes once this file exists

    def channel_alert(self, channel: str) -> dict[str, Any]:
        (message,) = self.slack.messages(channel)
        return message

    def alert_id(self, channel: str) -> str:
        message = self.channel_alert(channel)
        return str(message["metadata"]["event_payload"]["alert_id"])

    def thread(self, channel: str) -> list[str]:
        message = self.channel_alert(channel)
        return [m["text"] for m in self.slack.thread(channel, message["ts"])]

    def answers(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.slack.responses if r["id"] == name]


TENANTS = {
    # name: (channel, scenario)
    "cmd": ("CCMD", Scenario("t", (Fault(IMPORT_AD, "not_started"),), more_cycles=False)),
    "nocycle": ("CNOCYCLE", Scenario("t", (Fault(IMPORT_AD, "not_started"),), more_cycles=False)),
    "tkt": ("CTKT", Scenario("t", (Fault(IMPORT_HR, "fail"),), more_cycles=False)),
    "hook": ("CHOOK", Scenario("t", (Fault(IMPORT_HIERARCHY, "fail"),), more_cycles=False)),
    "acks": ("CACKS", Scenario("t", (Fault(EXPORT_AD, "fail"),), more_cycles=False)),
    # Each test that needs an earlier action has a tenant of its own and takes that action
    # itself, so that every test passes alone and in any order.
    "cool": ("CCOOL", Scenario("t", (Fault(IMPORT_AD, "not_started"),), more_cycles=False)),
    "again": ("CAGAIN", Scenario("t", (Fault(IMPORT_HR, "fail"),), more_cycles=False)),
}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Actions]:
    async with Actions.open(tmp_path_factory.mktemp("actions"), users=USERS) as world:
        tmp = world.tmp
        sims = {name: await world.simulator(scenario) for name, (_, scenario) in TENANTS.items()}
        async with httpx.AsyncClient() as client:
            for name in ("nocycle", "cool"):
                await client.post(f"{sims[name]}/_sim/api", json={"run_starts_cycle": False})

        smtp = Controller(world.inbox, hostname="127.0.0.1", port=free_port())
        smtp.start()
        world.on_close(smtp.stop)

        async def receive(request: web.Request) -> web.Response:
            world.hooks.append((dict(request.headers), await request.read()))
            return web.json_response({"reference": "HOOK-17", "url": "https://help.example/17"})

        hook_app = web.Application()
        hook_app.router.add_post("/tickets", receive)
        hook_url = await world.serve(hook_app)

        logs = tmp / "logg"
        logs.mkdir()
        (logs / "eAdm-2026-11-26.log").write_text(LOG_LINES, encoding="utf-8")
        script = tmp / "rerun.py"
        script.write_text(RERUN_SCRIPT, encoding="utf-8")
        command = [
            sys.executable,
            str(script),
            str(world.counter),
            sims["cmd"],
            str(world.release),
            str(RUNNER_AT_MOST),
        ]
        hook = f'url = "{hook_url}/tickets", secret = "{WEBHOOK_SECRET}"'
        webhook = f'ticket = {{ kind = "webhook", {hook} }}'
        tables = {
            "cmd": f'rerun = {{ kind = "command", command = {json.dumps(command)}, timeout = 30 }}',
            "nocycle": 'rerun = { kind = "simulator" }',
            "tkt": f"""
log_dir = "{logs.as_posix()}"
ticket.kind = "email"
ticket.email_to = "support@identum.example"
ticket.email_from = "eadm-bot@kommune.no"
ticket.smtp_url = "smtp://127.0.0.1:{smtp.port}"
""",
            "hook": webhook,
            "acks": "",
            "cool": 'rerun = { kind = "simulator" }',
            "again": webhook,
        }
        for name, (channel, _) in TENANTS.items():
            await world.add_tenant(name, eadm_url=sims[name], channel=channel, toml=tables[name])
        world.slack.add_member("CACKS", OTHER)  # sees the tenant, and is no admin of it
        await world.start_bot(
            ADMIN_USERS=ADMIN,
            NOT_STARTED_AFTER="2",
            CYCLE_DUE_AFTER="600",
            RERUN_GRACE="4",
            RERUN_COOLDOWN="900",
        )
        await world.alerts_in(
            [channel for channel, _ in TENANTS.values()], what="an alert for every tenant"
        )
        yield world


async def click(
    world: Actions,
    action_id: str,
    value: str,
    *,
    user: str = ADMIN,
    channel: str,
    answer: str,
    selected: bool = False,
) -> float:
    """A signed click; returns how long the bot took to acknowledge it."""
    body = block_actions_body(
        action_id,
        value,
        user_id=user,
        channel_id=channel,
        response_url=world.slack.response_url(answer),
        selected=selected,
        trigger_id=f"trigger-{answer}",
    )
    started = time.monotonic()
    response = await send_signed(world.bot.url, body)
    took = time.monotonic() - started
    assert response.status_code == 200, response.text
    return took


def audit(world: Actions) -> list[Any]:
    store = Store(world.db_url)
    try:
        return store_rows.audit_log(store, 500)
    finally:
        store.dispose()


# -- who may act ------------------------------------------------------------------------------


async def test_a_non_admin_click_changes_nothing_and_is_audited(world: Actions) -> None:
    await settled(world.bot, polls_more=0)  # what earlier tests owed CACKS has been said
    alert_id = world.alert_id("CACKS")
    before = world.channel_alert("CACKS")["blocks"]
    await click(world, ids.ACTION_ACK, alert_id, user=OTHER, channel="CACKS", answer="nonadmin")
    (reply,) = await eventually(lambda: world.answers("nonadmin"), what="a private refusal")
    assert reply["response_type"] == "ephemeral"
    assert "<@UADMIN>" in reply["text"] and "Nothing was changed" in reply["text"]
    await settled(world.bot, polls_more=1)
    assert world.channel_alert("CACKS")["blocks"] == before
    refused = [e for e in audit(world) if e.user_id == OTHER]
    assert [(e.action, e.result, e.alert_id) for e in refused] == [
        ("ack", "refused", int(alert_id))
    ]


async def test_a_bad_signature_is_refused(world: Actions) -> None:
    body = block_actions_body(ids.ACTION_ACK, "1", user_id=ADMIN)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{world.bot.url}/slack/events",
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": str(int(time.time())),
                "X-Slack-Signature": "v0=forged",
            },
        )
    assert response.status_code == 401


# -- acknowledge and snooze ---------------------------------------------------------------------


async def test_acknowledge_shows_who_is_on_it(world: Actions) -> None:
    alert_id = world.alert_id("CACKS")
    took = await click(world, ids.ACTION_ACK, alert_id, channel="CACKS", answer="ack1")
    assert took < 3
    await eventually(
        lambda: "is on it" in str(world.channel_alert("CACKS")["blocks"]),
        what="the alert to show who is on it",
    )
    blocks = world.channel_alert("CACKS")["blocks"]
    assert "<@UADMIN> is on it" in str(blocks)
    assert ids.ACTION_ACK not in str(blocks), "no Acknowledge button once acknowledged"
    await eventually(
        lambda: any("acknowledged" in t for t in world.thread("CACKS")), what="a thread note"
    )
    (answer,) = await eventually(lambda: world.answers("ack1"), what="a private answer")
    assert "reminders stop" in answer["text"]
    done = [e for e in audit(world) if e.action == "ack" and e.result == "done"]
    assert done and done[0].user_id == ADMIN


async def test_snooze_until_tomorrow_morning(world: Actions) -> None:
    alert_id = world.alert_id("CACKS")
    await click(
        world,
        ids.ACTION_SNOOZE,
        f"{alert_id}:tomorrow",
        channel="CACKS",
        answer="snooze1",
        selected=True,
    )
    (answer,) = await eventually(lambda: world.answers("snooze1"), what="a private answer")
    assert "08:00" in answer["text"]
    await eventually(
        lambda: "snoozed by <@UADMIN>" in str(world.channel_alert("CACKS")["blocks"]),
        what="the alert to show the snooze",
    )


# -- rerun -----------------------------------------------------------------------------------


async def test_a_double_click_runs_the_command_once_and_each_ack_is_fast(world: Actions) -> None:
    alert_id = world.alert_id("CCMD")
    first, second = await asyncio.gather(
        click(world, ids.ACTION_RERUN, alert_id, channel="CCMD", answer="rerun1"),
        click(world, ids.ACTION_RERUN, alert_id, channel="CCMD", answer="rerun2"),
    )
    # The runner is still at work; Slack's three-second limit must hold regardless.
    assert first < 3 and second < 3
    refusal = await eventually(
        lambda: world.answers("rerun1") or world.answers("rerun2"), what="one answer"
    )
    assert "already under way" in refusal[0]["text"]
    assert not world.answers("rerun1") or not world.answers("rerun2"), "the runner is at work"
    world.release.touch()
    await eventually(
        lambda: any("started the sync" in t for t in world.thread("CCMD")),
        timeout=20,
        what="the thread to say who started it",
    )
    assert world.counter.read_text().count("run") == 1
    answers = world.answers("rerun1") + world.answers("rerun2")
    assert any("Sync started" in a["text"] for a in answers)
    await eventually(
        lambda: any("The new cycle" in t for t in world.thread("CCMD")),
        timeout=15,
        what="the thread to say the new cycle began",
    )
    results = sorted(e.result for e in audit(world) if e.action == "rerun" and e.tenant == "cmd")
    assert results == ["refused_pending", "started"]


async def test_a_rerun_is_refused_within_the_cool_down(world: Actions) -> None:
    # A sync that really started (the simulator took it, though no cycle followed) ...
    await click(world, ids.ACTION_RERUN_TENANT, "cool", channel="CCOOL", answer="cool1")
    (started,) = await eventually(lambda: world.answers("cool1"), what="the first answer")
    assert "Sync started" in started["text"]
    await eventually(
        lambda: any("No new cycle started" in m["text"] for m in world.slack.messages("CCOOL")),
        timeout=20,
        what="the first rerun to be over",
    )
    # ... and a second click from the tenant's own rerun button (from `/eadm rerun`).
    await click(world, ids.ACTION_RERUN_TENANT, "cool", channel="CCOOL", answer="cool2")
    (answer,) = await eventually(lambda: world.answers("cool2"), what="an answer")
    assert "less than 15 min ago" in answer["text"]
    async with httpx.AsyncClient() as client:
        state = (await client.get(f"{world.sims['cool']}/_sim/state")).json()
    assert state["runs"] == 1
    results = [e.result for e in audit(world) if e.action == "rerun" and e.tenant == "cool"]
    assert results == ["refused_cooldown", "started"]


async def test_a_rerun_that_starts_no_cycle_is_reported(world: Actions) -> None:
    alert_id = world.alert_id("CNOCYCLE")
    await click(world, ids.ACTION_RERUN, alert_id, channel="CNOCYCLE", answer="nocycle")
    await eventually(
        lambda: any("No new cycle started" in t for t in world.thread("CNOCYCLE")),
        timeout=20,
        what="the thread to report that no cycle began",
    )
    (text,) = [t for t in world.thread("CNOCYCLE") if "No new cycle" in t]
    assert "Event Viewer" in text and "c:/eadm/logg" in text


# -- tickets --------------------------------------------------------------------------------


async def submit_ticket(world: Actions, channel: str, answer: str) -> dict[str, Any]:
    alert_id = world.alert_id(channel)
    views_before = len(world.slack.calls("views.open"))
    took = await click(world, ids.ACTION_TICKET, alert_id, channel=channel, answer=answer)
    assert took < 3
    await eventually(
        lambda: len(world.slack.calls("views.open")) > views_before, what="the ticket modal"
    )
    call = world.slack.calls("views.open")[-1]
    assert call.params["trigger_id"] == f"trigger-{answer}"
    view = (
        json.loads(call.params["view"])
        if isinstance(call.params["view"], str)
        else call.params["view"]
    )
    assert view["private_metadata"] == alert_id
    subject = view["blocks"][1]["element"]["initial_value"]
    description = view["blocks"][2]["element"]["initial_value"]
    values = {
        "subject": {"value": {"type": "plain_text_input", "value": subject + " (urgent)"}},
        "description": {
            "value": {"type": "plain_text_input", "value": description + "\nCalled the HR team."}
        },
    }
    body = view_submission_body(ids.VIEW_TICKET, values, user_id=ADMIN, private_metadata=alert_id)
    started = time.monotonic()
    response = await send_signed(world.bot.url, body)
    assert response.status_code == 200 and time.monotonic() - started < 3
    return view


async def test_a_ticket_arrives_by_mail_with_every_field(world: Actions) -> None:
    view = await submit_ticket(world, "CTKT", "tkt1")
    text = str(view["blocks"])
    assert "support@identum.example" in text
    (mail,) = await eventually(lambda: world.inbox.messages, what="the ticket e-mail")
    assert mail["To"] == "support@identum.example"
    assert mail["Subject"] == "eAdm tkt: Import HR failed (urgent)"
    assert (
        mail["Reply-To"] == "Kari Nordmann <kari@kommune.no>"
        or "kari@kommune.no" in mail["Reply-To"]
    )
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    for fact in (
        "tkt",
        "Import HR",
        "failed",
        "Visma HRM Enterprise answered 500",
        "Kari Nordmann <kari@kommune.no>",
        "Broken for",
        "Called the HR team.",
    ):
        assert fact in body, fact
    assert "Import HR failed" in body and "Import HR Future not started" in body
    attachments = list(mail.iter_attachments())
    assert attachments and "Could not connect to Visma HRM" in attachments[0].get_content()
    ref = mail["Message-ID"].strip("<>")
    await eventually(
        lambda: "ticket" in str(world.channel_alert("CTKT")["blocks"]),
        what="the alert to show its ticket",
    )
    await eventually(
        lambda: any("opened support ticket" in t for t in world.thread("CTKT")),
        what="the ticket's reference in the thread",
    )
    await eventually(
        lambda: any("Could not connect to Visma HRM" in t for t in world.thread("CTKT")),
        what="the log excerpt in the thread",
    )
    assert any(f"ticket {ref} " in t for t in world.thread("CTKT")), world.thread("CTKT")
    note = await eventually(
        lambda: [c for c in world.slack.calls("chat.postEphemeral") if c.params["user"] == ADMIN],
        what="a private note that the ticket was opened",
    )
    assert "opened" in note[-1].params["text"]


async def test_a_second_ticket_needs_a_deliberate_click(world: Actions) -> None:
    await submit_ticket(world, "CAGAIN", "again1")
    await eventually(
        lambda: any("HOOK-17" in t for t in world.thread("CAGAIN")), what="the first ticket"
    )
    alert_id = world.alert_id("CAGAIN")
    views = len(world.slack.calls("views.open"))
    await click(world, ids.ACTION_TICKET, alert_id, channel="CAGAIN", answer="again2")
    (answer,) = await eventually(lambda: world.answers("again2"), what="a question")
    assert "already open" in answer["text"]
    assert ids.ACTION_TICKET_AGAIN in json.dumps(answer["blocks"])
    assert len(world.slack.calls("views.open")) == views, "the question came instead of a form"
    await click(world, ids.ACTION_TICKET_AGAIN, alert_id, channel="CAGAIN", answer="again3")
    await eventually(lambda: len(world.slack.calls("views.open")) > views, what="the modal")


async def test_the_webhook_target_gets_valid_json_and_a_valid_signature(world: Actions) -> None:
    await submit_ticket(world, "CHOOK", "hook1")
    (headers, raw) = (
        await eventually(
            lambda: [h for h in world.hooks if json.loads(h[1])["tenant"] == "hook"],
            what="the webhook",
        )
    )[0]
    assert verify(
        WEBHOOK_SECRET.encode(),
        headers["X-Eadm-Timestamp"],
        raw,
        headers["X-Eadm-Signature"],
    )
    data = json.loads(raw)
    assert data["tenant"] == "hook" and data["subject"].startswith("eAdm hook: Import Hierarchy")
    assert data["requester_email"] == "kari@kommune.no"
    await eventually(
        lambda: any("HOOK-17" in t for t in world.thread("CHOOK")),
        what="the reference in the thread",
    )
    await eventually(  # the redraw need not come before the thread's line
        lambda: "https://help.example/17" in str(world.channel_alert("CHOOK")["blocks"]),
        what="the link on the alert",
    )
