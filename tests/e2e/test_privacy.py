"""No identity number leaves the server, end to end: `eadm-bot run` as a process watches two
tenants whose eAdm step errors and client log lines carry fødselsnummer and D-numbers (made
here by the check-digit algorithm, never a real person's) and a site identifier; admins read
status, history and the Home tab, silence a tenant and send tickets to a real SMTP server on
loopback and to a webhook. Not one of the numbers is found afterwards in any call the Slack
double recorded, any answer, either ticket, the bot's log or any row of its database, while
their markers are.

And who sees which tenant, through Slack's own membership events sent to the bot's real,
signed HTTP endpoint.
"""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import closing
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiosmtpd.controller import Controller

from bot.core.domain import EXPORT_AD
from bot.sim.eadm import Fault, Scenario
from bot.sim.signing import event_body, slash_command_body, view_submission_body
from bot.slack import ids
from testkit.e2e import SIGNING_SECRET, eventually, free_port, send_signed, settled
from testkit.identity import spaced, synthetic_fnr
from testkit.world import World

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN, NEWCOMER = "UADMIN", "UNEWCOMER"
USERS = {
    ADMIN: {"name": "kari", "real_name": "Kari Nordmann", "email": "kari@kommune.no"},
    NEWCOMER: {"name": "nils", "real_name": "Nils Ny", "locale": "en-US"},
}
FNR = synthetic_fnr(12, 3, 1968)
D_NUMBER = synthetic_fnr(30, 6, 1990, d_number=True)
IN_LOG = synthetic_fnr(7, 7, 1977, 400)
TYPED = synthetic_fnr(1, 2, 2003, 600)
EMPLOYEE = "EMP-48213"  # the site's own identifier, removed by REDACT_PATTERNS
PLANTED = [
    *(n for number in (FNR, D_NUMBER, IN_LOG, TYPED) for n in (number, spaced(number, " "))),
    spaced(FNR, "."),
    EMPLOYEE,
]
STEP_ERROR = (
    f"Bruker med fødselsnummer {FNR} og D-nummer {spaced(D_NUMBER, '.')} ({EMPLOYEE}) "
    "mangler e-postadresse; eksport til AD stoppet"
)
LOG = (
    "2026-11-26 05:00:01 INFO Starter synkronisering\n"
    f"2026-11-26 05:00:02 ERROR Eksport feilet for {spaced(IN_LOG)} ({EMPLOYEE}): 500\n"
    f"2026-11-26 05:00:03 WARN Ansatt {FNR} har to stillinger\n"
    "2026-11-26 05:00:04 INFO Avslutter\n"
)
FAILED_TASK = Path(__file__).parents[1] / "fixtures" / "task" / "ps7-failed-terminated.json"
STAND_IN = Path(__file__).parents[1] / "doubles" / "task_command.py"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


class Privacy(World):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inbox = Inbox()
        self.hooks: list[bytes] = []
        self.counter = 0

    async def command(self, text: str, user: str = ADMIN, channel: str = "CVOSS") -> str:
        self.counter += 1
        name = f"cmd{self.counter}"
        body = slash_command_body(
            ids.COMMAND,
            text,
            user_id=user,
            channel_id=channel,
            response_url=self.slack.response_url(name),
        )
        assert (await send_signed(self.bot.url, body)).status_code == 200
        (answer,) = await eventually(
            lambda: [r for r in self.slack.responses if r["id"] == name], what=f"/eadm {text}"
        )
        return str(answer["text"]) + json.dumps(answer.get("blocks") or [], ensure_ascii=False)

    def alert_id(self, channel: str) -> str:
        message = next(m for m in self.slack.messages(channel) if m.get("metadata"))
        return str(message["metadata"]["event_payload"]["alert_id"])

    async def ticket(self, channel: str, description: str) -> None:
        values = {
            "subject": {"value": {"type": "plain_text_input", "value": f"Hjelp {TYPED}"}},
            "description": {"value": {"type": "plain_text_input", "value": description}},
        }
        body = view_submission_body(
            ids.VIEW_TICKET, values, user_id=ADMIN, private_metadata=self.alert_id(channel)
        )
        assert (await send_signed(self.bot.url, body)).status_code == 200

    def everything_said(self) -> str:
        """Every call Slack got, every answer, both tickets whole, the log and the database."""
        parts = [json.dumps([(c.method, c.params) for c in self.slack.recorded])]
        parts.append(json.dumps(self.slack.responses))
        for message in self.inbox.messages:
            parts.append(message.as_string())
            parts += [str(part.get_content()) for part in message.walk() if not part.is_multipart()]
        parts += [hook.decode() for hook in self.hooks]
        parts.append(self.bot.log())
        parts.append(database_rows(self.db_url))
        return "\n".join(parts)


def database_rows(url: str) -> str:
    """Every row of every table of the bot's SQLite database, as text."""
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(
            f"{table}: {row!r}"
            for table in tables
            for row in db.execute(f'SELECT * FROM "{table}"')
        )


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Privacy]:
    async with Privacy.open(tmp_path_factory.mktemp("privacy"), users=USERS) as world:
        smtp = Controller(world.inbox, hostname="127.0.0.1", port=free_port())
        smtp.start()
        world.on_close(smtp.stop)

        async def receive(request: web.Request) -> web.Response:
            world.hooks.append(await request.read())
            return web.json_response({"reference": "HOOK-1"})

        hooks = web.Application()
        hooks.router.add_post("/tickets", receive)
        hook_url = await world.serve(hooks)
        logs = world.tmp / "logg"
        logs.mkdir()
        (logs / "eAdm-2026-11-26.log").write_text(LOG, encoding="utf-8")
        failing = Scenario("t", (Fault(EXPORT_AD, "fail", STEP_ERROR),), more_cycles=False)
        await world.add_tenant(
            "voss",
            failing,
            channel="CVOSS",
            toml=f"""log_dir = "{logs.as_posix()}"
ticket.kind = "email"
ticket.email_to = "support@identum.example"
ticket.smtp_url = "smtp://127.0.0.1:{smtp.port}"
""",
        )
        command = json.dumps([sys.executable, str(STAND_IN), str(FAILED_TASK)])
        await world.add_tenant(
            "bergen",
            channel="CBERGEN",
            toml=f"""sources = ["task"]
task_command = {command}
log_dir = "{logs.as_posix()}"
ticket = {{ kind = "webhook", url = "{hook_url}/tickets?code=hook-credential" }}
""",
        )
        await world.start_bot(
            ADMIN_USERS=ADMIN,
            REDACT_PATTERNS='["EMP-\\\\d{5}"]',
            LOG_LEVEL="DEBUG",
            CYCLE_DUE_AFTER="600",
        )
        await world.alerts_in(["CVOSS", "CBERGEN"], timeout=30, what="both tenants' alerts")
        yield world


async def test_no_identity_number_leaves_the_server(world: Privacy) -> None:
    # Everything a person reads, and every way text comes in.
    assert "[fnr]" in await world.command("status voss")
    await world.command("history voss")
    home = event_body({"type": "app_home_opened", "user": ADMIN, "tab": "home", "channel": "D1"})
    assert (await send_signed(world.bot.url, home, json_body=True)).status_code == 200
    await world.command(f"silence 10m voss vedlikehold etter melding fra {TYPED}")
    await world.command("unsilence voss")
    await world.ticket("CVOSS", f"Gjelder {TYPED} og {spaced(FNR)}, {EMPLOYEE}")
    await world.ticket("CBERGEN", f"Se {spaced(TYPED, '.')}")
    await eventually(lambda: world.inbox.messages and world.hooks, timeout=20, what="tickets")
    await eventually(lambda: world.slack.calls("views.publish"), what="the Home tab")
    await settled(world.bot)

    said = world.everything_said()
    for planted in PLANTED:
        assert planted not in said, f"{planted} left the server"
    assert "hook-credential" not in said.replace(world.tenants_file.read_text(), "")
    # What the numbers were is still told, by their markers, wherever they went.
    alert = json.dumps(world.slack.messages("CVOSS")[0]["blocks"], ensure_ascii=False)
    assert "fødselsnummer [fnr] og D-nummer [fnr] ([redacted])" in alert
    bergen = json.dumps(world.slack.messages("CBERGEN")[0]["blocks"], ensure_ascii=False)
    assert "Eksport feilet for [fnr] ([redacted])" in bergen, "the log lines on the alert"
    (mail,) = world.inbox.messages
    assert "[fnr]" in mail["Subject"] and "Gjelder [fnr] og [fnr], [redacted]" in said
    assert "[fnr]" in world.hooks[0].decode()
    assert (
        "the database keeps cycles, resolved alerts, closed digests and finished reruns for 90"
        in (world.bot.log())
    ), "what is kept, said at start"
    # The notification (what a locked phone shows) carries no error text at all.
    assert world.slack.messages("CVOSS")[0]["text"] == ":x: Export AD failed (voss)"


async def test_membership_events_through_the_signed_endpoint(world: Privacy) -> None:
    assert "No tenant you can see is called `voss`" in await world.command(
        "status voss", NEWCOMER, "D0NEW"
    )
    reads = len(world.slack.calls("users.conversations"))
    await world.slack.join("CVOSS", NEWCOMER, bot_url=world.bot.url, secret=SIGNING_SECRET)
    assert "eAdm status · voss" in await eventually(
        lambda: _seen(world), timeout=10, what="the newcomer to see voss"
    )
    assert "No tenant you can see is called `bergen`" in await world.command(
        "status bergen", NEWCOMER, "D0NEW"
    )
    await world.slack.leave("CVOSS", NEWCOMER, bot_url=world.bot.url, secret=SIGNING_SECRET)
    await eventually(lambda: _hidden(world), timeout=10, what="voss hidden from the newcomer again")
    assert len(world.slack.calls("users.conversations")) == reads, "told by events, not reads"


async def _seen(world: Privacy) -> str | None:
    answer = await world.command("status voss", NEWCOMER, "D0NEW")
    return answer if "eAdm status · voss" in answer else None


async def _hidden(world: Privacy) -> bool:
    return "No tenant you can see" in await world.command("status voss", NEWCOMER, "D0NEW")
