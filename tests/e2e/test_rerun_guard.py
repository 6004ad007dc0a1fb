"""The rerun guard on every path, end to end: signed clicks and `/eadm rerun` sent to the running
`eadm-bot run` over HTTP, one simulated tenant per reason to refuse. Each entry point (the
alert's Rerun button, `/eadm rerun`, the button of its question) meets each refusal, starts
nothing, answers the person privately and leaves an audit row naming tenant and alert. Also:
a click on an alert whose condition changed since it was posted, admins per tenant, and a
refused ticket submission that is answered."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bot.core.domain import EXPORT_AD, IMPORT_HIERARCHY, IMPORT_HR, SYNCHRONIZATION
from bot.sim.eadm import Fault, Scenario, SimClock
from bot.sim.signing import block_actions_body, slash_command_body, view_submission_body
from bot.slack import ids
from bot.store import Store
from testkit.e2e import eventually, send_signed
from testkit.world import World
from tests import store_rows

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN = "UADMIN"  # global: every tenant
NORTH_ADMIN = "UNORTH"  # the tenant "north" alone
OTHER = "UOTHER"  # nobody's admin
USERS = {
    ADMIN: {"name": "kari", "real_name": "Kari Nordmann", "email": "kari@kommune.no"},
    NORTH_ADMIN: {"name": "nils", "real_name": "Nils Nord", "email": "nils@nord.no"},
    OTHER: {"name": "ola", "real_name": "Ola Vanlig"},
}

EXPORT_AD_FAILS = Scenario("t", (Fault(EXPORT_AD, "fail"),), more_cycles=False)
# What each tenant's next cycle does once its Export AD alert (where a rerun is advised) is up.
NEXT = {
    "running": Fault(IMPORT_HR, "stuck"),
    "queued": Fault(IMPORT_HR, "not_started"),
    "threshold": Fault(SYNCHRONIZATION, "safety_threshold"),
    "failed": Fault(IMPORT_HR, "fail"),
}
RERUN_TENANTS = ("running", "queued", "threshold", "failed", "unreadable", "pending", "cooldown")
ENTRY_POINTS = ("button", "command", "question")


class Guard(World):
    """A tenant for each reason to refuse, and each way a person asks for a rerun."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.counter = 0
        self.brought: set[str] = set()  # tenants already put into their state

    def alert(self, tenant: str, index: int = 0) -> dict[str, Any]:
        return self.slack.messages(f"C{tenant.upper()}")[index]

    def alert_id(self, tenant: str, index: int = 0) -> int:
        return int(self.alert(tenant, index)["metadata"]["event_payload"]["alert_id"])

    async def sim(self, tenant: str, path: str, body: dict[str, Any] | None = None) -> Any:
        async with httpx.AsyncClient() as client:
            if body is None:
                return (await client.get(f"{self.sims[tenant]}{path}")).json()
            response = await client.post(f"{self.sims[tenant]}{path}", json=body)
            response.raise_for_status()
            return response.json()

    async def send(self, body_for: Any) -> dict[str, Any]:
        """Send one signed request; return the private answer it got."""
        self.counter += 1
        name = f"a{self.counter}"
        response = await send_signed(self.bot.url, body_for(self.slack.response_url(name)))
        assert response.status_code == 200, response.text
        (answer,) = await eventually(
            lambda: [r for r in self.slack.responses if r["id"] == name], what=f"answer {name}"
        )
        assert answer["response_type"] == "ephemeral"
        return answer

    async def click(self, action_id: str, value: str, tenant: str, user: str = ADMIN) -> Any:
        return await self.send(
            lambda url: block_actions_body(
                action_id, value, user_id=user, channel_id=f"C{tenant.upper()}", response_url=url
            )
        )

    async def rerun(self, entry: str, tenant: str, user: str = ADMIN) -> dict[str, Any]:
        if entry == "button":
            return await self.click(ids.ACTION_RERUN, str(self.alert_id(tenant)), tenant, user)
        if entry == "question":
            return await self.click(ids.ACTION_RERUN_TENANT, tenant, tenant, user)
        return await self.send(
            lambda url: slash_command_body(
                ids.COMMAND, f"rerun {tenant}", user_id=user, response_url=url
            )
        )

    def audit(self) -> list[Any]:
        store = Store(self.db_url)
        try:
            return list(reversed(store_rows.audit_log(store, 1000)))
        finally:
            store.dispose()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Guard]:
    async with Guard.open(tmp_path_factory.mktemp("guard"), users=USERS) as world:
        scenarios = {name: EXPORT_AD_FAILS for name in (*RERUN_TENANTS, "norunner", "north")}
        scenarios["stale"] = Scenario("t", (Fault(IMPORT_HIERARCHY, "not_started"),), False)
        for name, scenario in scenarios.items():
            clock = SimClock()
            if name == "stale":
                clock.advance(-3600)  # its cycle began an hour ago: the step is long overdue
            toml = ""
            if name not in ("norunner", "north"):
                toml += 'rerun = { kind = "simulator" }\n'
            if name == "north":
                toml += f'admin_users = ["{NORTH_ADMIN}"]\n'
            await world.add_tenant(
                name,
                scenario,
                # The rerun's clean cycle must not get past Export AD (and resolve the alert
                # the button names) before the cool-down is tried: that tenant's eAdm runs
                # slower.
                speed=40 if name == "cooldown" else 600,
                clock=clock,
                channel=f"C{name.upper()}",
                toml=toml,
            )
        # Both see "norunner" (they are in its channel), and neither is an admin of it.
        for user in (NORTH_ADMIN, OTHER):
            world.slack.add_member("CNORUNNER", user)
        await world.start_bot(
            ADMIN_USERS=ADMIN,
            NOT_STARTED_AFTER="600",
            STUCK_AFTER="3600",
            CYCLE_DUE_AFTER="3600",
            RERUN_GRACE="600",
            RERUN_COOLDOWN="900",
        )
        await world.alerts_in(
            [f"C{name.upper()}" for name in scenarios], what="an alert for every tenant"
        )
        yield world


async def bring_about(world: Guard, tenant: str) -> None:
    """Put the tenant's eAdm into the state its name says, and wait until the bot saw it.
    Once per tenant, whichever test asks first: a second fault would start another cycle."""
    if tenant in world.brought:
        return
    world.brought.add(tenant)
    if tenant in NEXT:
        fault = NEXT[tenant]
        await world.sim(tenant, "/_sim/fault", {"step": fault.step, "kind": fault.kind})
    if tenant in ("threshold", "failed"):  # the bot has posted the new trouble too
        await eventually(
            lambda: len(world.slack.messages(f"C{tenant.upper()}")) == 2,
            timeout=20,
            what=f"the second alert of {tenant}",
        )
    if tenant == "unreadable":
        await world.sim(tenant, "/_sim/api", {"mode": "down"})
    if tenant in ("pending", "cooldown"):
        await world.sim(tenant, "/_sim/api", {"run_starts_cycle": tenant == "cooldown"})
        first = await world.rerun("button", tenant)
        assert "Sync started" in first["text"]
    if tenant == "cooldown":
        await eventually(
            lambda: any(
                "The new cycle" in m["text"]
                for m in world.slack.thread("CCOOLDOWN", world.alert("cooldown")["ts"])
            ),
            timeout=20,
            what="the rerun's new cycle",
        )


@pytest.mark.parametrize(
    ("tenant", "result", "words"),
    [
        ("running", "refused_running", "Import HR is running"),
        ("queued", "refused_queued", "Import HR is queued"),
        ("threshold", "refused_threshold", "Synchronization"),
        ("failed", "refused_failed", "Import HR failed"),
        ("unreadable", "refused_unreadable", "cannot be read"),
        ("pending", "refused_pending", "already under way"),
        ("cooldown", "refused_cooldown", "less than 15 min ago"),
        ("norunner", "not_configured", "No rerun is set up for norunner"),
    ],
)
async def test_every_entry_point_meets_every_refusal(
    world: Guard, tenant: str, result: str, words: str
) -> None:
    await bring_about(world, tenant)
    runs_before = (await world.sim(tenant, "/_sim/state"))["runs"] if tenant != "unreadable" else 0
    seen = len(world.audit())
    for entry in ENTRY_POINTS:
        answer = await world.rerun(entry, tenant)
        assert words in answer["text"], (entry, answer["text"])
    rows = [(e.action, e.result, e.tenant, e.alert_id) for e in world.audit()[seen:]]
    alert_id = world.alert_id(tenant)
    assert rows == [
        ("rerun", result, tenant, alert_id),
        ("rerun", result, tenant, None),
        ("rerun", result, tenant, None),
    ]
    if tenant != "unreadable":
        state = await world.sim(tenant, "/_sim/state")
        assert state["runs"] == runs_before, "nothing was started"


async def test_a_failed_step_links_its_alert_and_offers_the_ticket(world: Guard) -> None:
    if len(world.slack.messages("CFAILED")) < 2:
        await bring_about(world, "failed")
    answer = await world.rerun("button", "failed")
    failed_alert = world.alert_id("failed", 1)
    assert "archives/CFAILED/p" in answer["text"], "a link to the Import HR alert"
    buttons = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        (ids.ACTION_TICKET, str(failed_alert))
    ]


async def test_a_stale_click_on_an_alert_whose_advice_changed_runs_nothing(world: Guard) -> None:
    alert_id = world.alert_id("stale")
    assert "Import Hierarchy did not start" in world.alert("stale")["text"] or ids.ACTION_RERUN in (
        json.dumps(world.alert("stale")["blocks"])
    )
    # Import Hierarchy now fails in the same cycle: the same alert, a new condition.
    await world.sim("stale", "/_sim/fault", {"step": IMPORT_HIERARCHY, "kind": "fail"})

    def condition() -> str | None:
        store = Store(world.db_url)
        try:
            alert = store.get_alert(alert_id)
            return alert.condition if alert else None
        finally:
            store.dispose()

    await eventually(lambda: condition() == "failed", timeout=20, what="the alert to change")
    answer = await world.click(ids.ACTION_RERUN, str(alert_id), "stale")
    assert "Nothing was started" in answer["text"]
    assert ids.ACTION_TICKET in json.dumps(answer["blocks"])
    assert (await world.sim("stale", "/_sim/state"))["runs"] == 0
    (row,) = [e for e in world.audit() if e.tenant == "stale"]
    assert (row.result, row.alert_id) == ("refused_advice", alert_id)


async def test_a_tenants_admin_acts_on_it_alone_and_a_global_admin_everywhere(
    world: Guard,
) -> None:
    north, other = str(world.alert_id("north")), str(world.alert_id("norunner"))
    done = await world.click(ids.ACTION_ACK, north, "north", user=NORTH_ADMIN)
    assert "reminders stop" in done["text"]
    refused = await world.click(ids.ACTION_ACK, other, "norunner", user=NORTH_ADMIN)
    assert "Only eAdm admins" in refused["text"] and "<@UADMIN>" in refused["text"]
    assert "<@UNORTH>" not in refused["text"]
    command = await world.rerun("command", "norunner", user=NORTH_ADMIN)
    assert "Only eAdm admins" in command["text"]
    for tenant, alert in (("north", north), ("norunner", other)):
        snoozed = await world.click(ids.ACTION_SNOOZE, f"{alert}:1h", tenant, user=ADMIN)
        assert "Snoozed until" in snoozed["text"]
    rows = [(e.user_id, e.action, e.result, e.tenant) for e in world.audit()]
    assert (NORTH_ADMIN, "ack", "done", "north") in rows
    assert (NORTH_ADMIN, "ack", "refused", "norunner") in rows
    assert (NORTH_ADMIN, "rerun", "refused", "norunner") in rows


async def test_a_refused_ticket_submission_is_answered(world: Guard) -> None:
    alert_id = str(world.alert_id("norunner"))
    values = {
        "subject": {"value": {"type": "plain_text_input", "value": "help"}},
        "description": {"value": {"type": "plain_text_input", "value": "please"}},
    }
    body = view_submission_body(ids.VIEW_TICKET, values, user_id=OTHER, private_metadata=alert_id)
    started = time.monotonic()
    response = await send_signed(world.bot.url, body)
    assert response.status_code == 200 and time.monotonic() - started < 3
    (note,) = await eventually(
        lambda: [c for c in world.slack.calls("chat.postEphemeral") if c.params["user"] == OTHER],
        what="a private answer to the refused submission",
    )
    assert note.params["channel"] == "CNORUNNER" and "Only eAdm admins" in note.params["text"]
    rows = [(e.action, e.result, e.tenant, e.alert_id) for e in world.audit() if e.user_id == OTHER]
    assert ("ticket", "refused", "norunner", int(alert_id)) in rows
