"""No credential in what a runner or a ticket target says about itself: a webhook shows scheme
and host only, in its description and in every failure; a command its secret-looking
arguments masked, in its description and in what it printed back."""

from __future__ import annotations

import socket
import sys

from aiohttp import web

from bot.adapters.runners import CommandRunner, WebhookRunner, runner_for
from bot.adapters.ticket_targets import Ticket, WebhookTarget, ZendeskTarget, target_for
from bot.core.errors import ActionError
from bot.core.settings import RerunConfig, Tenant, TicketConfig
from testkit.e2e import serving

CODE = "c0de-Zm9vYmFy"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def refusing(status: int, body: str) -> web.Application:
    async def answer(_: web.Request) -> web.Response:
        return web.Response(status=status, text=body)

    app = web.Application()
    app.router.add_post("/{tail:.*}", answer)
    return app


async def test_a_webhook_runner_shows_scheme_and_host_everywhere() -> None:
    async with serving(refusing(403, f"bad code={CODE} for https://u:pw@x/")) as base:
        runner = WebhookRunner(f"{base}/runbook/start?code={CODE}&sig={CODE}")
        result = await runner.run(tenant="voss", requested_by="U1", alert_id=None)
        ok, checked = await runner.check()
    assert runner.describe == f"POST {base}"
    assert not result.ok and "403" in result.detail and ok
    for said in (runner.describe, result.detail, checked):
        assert CODE not in said and "/runbook" not in said and ":pw@" not in said
    gone = WebhookRunner(f"http://u:pw@127.0.0.1:{closed_port()}/x?code={CODE}", timeout=2)
    failed = await gone.run(tenant="voss", requested_by="U1", alert_id=None)
    assert "cannot reach the rerun webhook http://127.0.0.1:" in failed.detail
    assert CODE not in failed.detail and "pw" not in failed.detail


async def test_a_command_runner_masks_its_password_and_what_it_echoes() -> None:
    script = "import sys; print('logon failure with', sys.argv[2]); sys.exit(1)"
    runner = CommandRunner([sys.executable, "-c", script, "/P", "Hemmelig-42"])
    assert runner.describe.endswith("/P ***") and "Hemmelig-42" not in runner.describe
    result = await runner.run(tenant="voss", requested_by="U1", alert_id=None)
    assert not result.ok and "logon failure with ***" in result.detail
    assert "Hemmelig-42" not in result.detail


def test_what_the_settings_make_describes_itself_without_credentials() -> None:
    tenant = Tenant(
        name="voss",
        eadm_url="https://eadm.example.no",
        channel="C1",
        rerun=RerunConfig(kind="webhook", url=f"https://aa.example.no/w?code={CODE}"),
        ticket=TicketConfig(kind="webhook", url=f"https://bot:pw@help.example.no/in?key={CODE}"),
    )
    runner, target = runner_for(tenant), target_for(tenant)
    assert runner is not None and runner.describe == "POST https://aa.example.no"
    assert target is not None and target.describe == "webhook https://help.example.no"
    zendesk = ZendeskTarget("https://kommune.zendesk.com/agent/?x=1", "it@k.no", "tok")
    assert zendesk.describe == "Zendesk at https://kommune.zendesk.com"


async def test_a_ticket_webhook_failure_names_no_credential() -> None:
    ticket = Ticket("s", "d", "voss", 1, "Kari", None)
    async with serving(refusing(500, f"key={CODE} rejected")) as base:
        target = WebhookTarget(f"{base}/in?key={CODE}")
        try:
            await target.open(ticket)
        except ActionError as exc:
            said = str(exc)
        else:
            raise AssertionError("the receiver refused, and no error")
    assert said.startswith(f"the ticket webhook {base} answered 500") and CODE not in said
