"""Who sees which tenant, on every surface, with the use cases built as the running bot builds
them: a real store, the Slack double over HTTP through slack_sdk's real client (its channels
and their members), the simulator for eAdm. A tenant a person may not see is never named to
them, nor are its admins; every refusal is audited."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.registry import Adapters
from bot.app.context import Answer
from bot.app.usecases import UseCases
from bot.core.domain import EXPORT_AD, Condition, Finding
from bot.core.settings import Settings, load_settings
from bot.sim.eadm import Scenario, build_app
from bot.sim.slack import SlackDouble
from bot.sources import source_for
from bot.store import Store, Target, utcnow
from bot.store.tables import AlertCopy, Digest
from testkit.e2e import serve_app
from tests import store_rows
from tests.cycles import cycle

ADMIN = "UADMIN"  # global
BERGEN_ADMIN = "UBERGENADM"  # bergen's own admin, in none of its channels
VOSS = "UVOSS"  # in voss's channel
SHARED = "USHARED"  # in the channel voss and bergen share (a provider's operations channel)
OS = "UOS"  # in os's channel, which the tenants file names by its name
NOBODY = "UNOBODY"  # in no tenant's channel
USERS = {user: {"name": user.lower(), "locale": "en-US"} for user in (ADMIN, VOSS, SHARED, OS)}
USERS.update({BERGEN_ADMIN: {"name": "b"}, NOBODY: {"name": "n"}})


def tenants_toml(url: str) -> str:
    return f"""
[[tenants]]
name = "voss"
eadm_url = "{url}"
channels = ["CVOSS", "CSHARED"]
rerun = {{ kind = "simulator" }}

[[tenants]]
name = "bergen"
eadm_url = "{url}"
channels = ["CBERGEN", "CSHARED"]
admin_users = ["{BERGEN_ADMIN}"]
rerun = {{ kind = "simulator" }}

[[tenants]]
name = "os"
eadm_url = "{url}"
channel = "#os-drift"
"""


@dataclass
class World:
    cases: UseCases
    store: Store
    slack: SlackDouble
    settings: Settings

    async def command(self, text: str, user: str, channel: str = "D0DIRECT") -> Answer:
        return await self.cases.dispatch.command(text, user, channel)

    def alert(self, tenant: str) -> int:
        finding = Finding(tenant, "c1", EXPORT_AD, Condition.FAILED, since=utcnow(), error="x")
        self.store.apply_poll(
            tenant,
            Target("C" + tenant.upper(), "en"),
            [finding],
            cycle(tenant=tenant),
            now=utcnow(),
            remind_after=7200,
        )
        (alert,) = store_rows.alerts(self.store, tenant)
        assert alert.id is not None
        return alert.id

    def audit(self) -> list[tuple[str, str, str | None, str | None]]:
        return [
            (e.action, e.result, e.user_id, e.tenant)
            for e in reversed(store_rows.audit_log(self.store, 500))
        ]

    def home(self, user: str) -> str:
        views = [c for c in self.slack.calls("views.publish") if c.params["user_id"] == user]
        view = views[-1].params["view"]
        return json.dumps(json.loads(view) if isinstance(view, str) else view)


@pytest_asyncio.fixture
async def world(tmp_path: Path, migrated_sqlite_url: str) -> AsyncIterator[World]:
    slack = SlackDouble(users=USERS)
    for channel, user in (("CVOSS", VOSS), ("CSHARED", SHARED), ("#os-drift", OS)):
        slack.add_member(channel, user)
    slack.add_member("CBERGEN", "USOMEONE")  # bergen's channel has members, none of these
    await slack.start()
    runner, url = await serve_app(build_app(Scenario("ok", (None,), more_cycles=False)))
    config = tmp_path / "tenants.toml"
    config.write_text(tenants_toml(url), encoding="utf-8")
    settings = load_settings(
        require_slack=False,
        eadm_bot_config=config,
        admin_users=ADMIN,
        database_url=migrated_sqlite_url,
    )
    store = Store(settings.database_url)
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    sources = {t.name: source_for(t, settings.tz) for t in settings.tenants}
    cases = UseCases(settings, store, client, sources, Adapters.resolve(settings.tenants))
    try:
        yield World(cases, store, slack, settings)
    finally:
        await cases.aclose()
        for source in sources.values():
            await source.aclose()
        store.dispose()
        await runner.cleanup()
        await slack.stop()


def said(reply: Any) -> str:
    assert isinstance(reply, Answer), reply
    return reply.text + json.dumps(reply.blocks or [], ensure_ascii=False)


# -- /eadm status and history ---------------------------------------------------------------------


@pytest.mark.parametrize("command", ["status bergen", "history bergen", "status public bergen"])
async def test_a_tenant_not_seen_is_answered_as_a_name_nobody_watches(
    world: World, command: str
) -> None:
    hidden = said(await world.command(command, VOSS))
    unknown = said(await world.command(command.replace("bergen", "nowhere"), VOSS))
    assert hidden.replace("bergen", "nowhere") == unknown, "nothing tells the two apart"
    assert "No tenant you can see is called `bergen`. You can see: voss." in hidden
    assert hidden.split("You can see: ")[1].split(".")[0] == "voss"
    assert "<@" not in hidden, "no admins named"
    assert (command.split()[0], "refused_hidden", VOSS, "bergen") in world.audit()


async def test_without_a_name_the_channels_tenant_else_the_only_one_seen(world: World) -> None:
    assert "eAdm status · voss" in said(await world.command("status", VOSS, "CVOSS"))
    assert "eAdm status · voss" in said(await world.command("status", VOSS, "D0DIRECT"))
    assert "cycles · voss" in said(await world.command("history", VOSS, "CSHARED"))
    assert "eAdm status · bergen" in said(await world.command("status", ADMIN, "CBERGEN"))
    both = said(await world.command("status", SHARED, "CSHARED"))
    assert "name one: voss, bergen." in both, "a shared channel lists the tenants seen"
    everything = said(await world.command("status", ADMIN, "CNOTATENANT"))
    assert "name one: voss, bergen, os." in everything
    assert "eAdm status · os" in said(await world.command("status", OS)), "by channel name"
    assert [r for r in world.audit() if r[1].startswith("refused")] == []


async def test_someone_in_no_tenants_channel_sees_nothing_and_is_told_so(world: World) -> None:
    for command in ("status", "history", "status voss"):
        reply = said(await world.command(command, NOBODY))
        assert "bergen" not in reply and "<@" not in reply
        assert "voss" not in reply.replace("`voss`", ""), "only the name typed is repeated"
    assert "none of the channels" in said(await world.command("status", NOBODY))
    assert "You see a tenant by being in one of its channels" in said(
        await world.command("status voss", NOBODY)
    )
    refused = [r[1] for r in world.audit() if r[2] == NOBODY]
    loop = ["refused_none", "refused_none", "refused_hidden"]
    assert refused == [*loop, "refused_none", "refused_hidden"]


async def test_status_public_goes_only_into_the_tenants_own_channels(world: World) -> None:
    elsewhere = await world.command("status public voss", ADMIN, "CBERGEN")
    assert not elsewhere.public and "only in one of voss's own channels" in elsewhere.text
    assert ("status", "refused_public_elsewhere", ADMIN, "voss") in world.audit()
    shown = await world.command("status public voss", VOSS, "CSHARED")
    assert shown.public and "eAdm status · voss" in said(shown)


async def test_usage_lists_only_the_tenants_seen(world: World) -> None:
    assert "You can see: voss, bergen." in said(await world.command("status oslo", SHARED))
    needed = said(await world.command("rerun", BERGEN_ADMIN))
    assert "name one: bergen." in needed


# -- acting, and the refusals' words --------------------------------------------------------------


async def test_a_refusal_names_neither_other_tenants_nor_their_admins(world: World) -> None:
    bergen, voss = world.alert("bergen"), world.alert("voss")
    hidden = said(await world.cases.alerts.acknowledge(VOSS, str(bergen)))
    assert "not shown to you" in hidden and "bergen" not in hidden and "<@" not in hidden
    rerun = said(await world.command("rerun bergen", VOSS))
    assert "No tenant you can see is called `bergen`" in rerun and BERGEN_ADMIN not in rerun
    seen = said(await world.cases.alerts.acknowledge(VOSS, str(voss)))
    assert "Only eAdm admins" in seen and "<@UADMIN>" in seen and BERGEN_ADMIN not in seen
    guarded = said(await world.command("rerun bergen", BERGEN_ADMIN))
    assert "Start the eAdm sync for *bergen*" in guarded or "Not starting the sync" in guarded
    assert "not shown to you" in said(await world.cases.alerts.snooze(BERGEN_ADMIN, f"{voss}:1h"))
    rows = world.audit()
    assert ("ack", "refused_hidden", VOSS, "bergen") in rows
    assert ("rerun", "refused_hidden", VOSS, "bergen") in rows
    assert ("ack", "refused", VOSS, "voss") in rows
    assert ("snooze", "refused_hidden", BERGEN_ADMIN, "voss") in rows
    assert store_rows.alerts(world.store, "bergen")[0].state == "open"


# -- the App Home --------------------------------------------------------------------------------


async def test_each_home_shows_its_viewers_tenants_and_refreshes_only_for_them(
    world: World,
) -> None:
    for user in (VOSS, BERGEN_ADMIN, ADMIN):
        await world.cases.status.publish_home(user)
    assert "*voss*" in world.home(VOSS) and "bergen" not in world.home(VOSS)
    assert "*bergen*" in world.home(BERGEN_ADMIN) and "voss" not in world.home(BERGEN_ADMIN)
    assert all(f"*{name}*" in world.home(ADMIN) for name in ("voss", "bergen", "os"))
    await world.cases.status.publish_home(NOBODY)
    assert "none of the channels" in world.home(NOBODY) and "voss" not in world.home(NOBODY)
    before = {u: world.home(u) for u in (VOSS, BERGEN_ADMIN)}
    published = len(world.slack.calls("views.publish"))
    alert = world.alert("bergen")
    await world.cases.alerts.acknowledge(ADMIN, str(alert))
    calls = await world.slack.wait_for("views.publish", published + 2)
    refreshed = {c.params["user_id"] for c in calls[published:]}
    assert refreshed == {BERGEN_ADMIN, ADMIN}, "voss's viewer sees nothing of bergen's change"
    assert world.home(VOSS) == before[VOSS]


# -- the storm digest's picker ------------------------------------------------------------------


async def test_the_digest_picker_opens_only_the_alerts_of_the_digest_clicked(world: World) -> None:
    told, other = world.alert("voss"), world.alert("bergen")
    with world.store.session() as s:
        digest = Digest(
            target="CSHARED", channel="CSHARED", message_ts="1764.0001", opened_at=utcnow()
        )
        s.add(digest)
        s.flush()
        s.add(AlertCopy(alert_id=told, target="CSHARED", channel="CSHARED", digest_id=digest.id))
        s.commit()
    opened = await world.cases.alerts.details(SHARED, str(told), "CSHARED", "1764.0001")
    assert opened.blocks and "Export AD failed · voss" in said(opened)
    for value, ts in ((str(other), "1764.0001"), (str(told), "1764.9999")):
        refused = await world.cases.alerts.details(SHARED, value, "CSHARED", ts)
        assert refused.blocks is None and "out of date" in refused.text
    rows = world.audit()
    assert ("details", "refused_not_in_digest", SHARED, "bergen") in rows
    assert ("details", "refused_not_in_digest", SHARED, "voss") in rows


# -- membership: events, re-reads, Slack errors, one tenant ---------------------------------------


async def test_joining_a_channel_is_believed_at_once(world: World) -> None:
    assert "No tenant you can see" in said(await world.command("status bergen", NOBODY))
    reads = len(world.slack.calls("users.conversations"))
    world.slack.add_member("CBERGEN", NOBODY)
    world.cases.member_joined(NOBODY, "CBERGEN")
    assert "eAdm status · bergen" in said(await world.command("status bergen", NOBODY))
    world.cases.member_left(NOBODY, "CBERGEN")
    assert "No tenant you can see" in said(await world.command("status bergen", NOBODY))
    assert len(world.slack.calls("users.conversations")) == reads, "the events, not a read"


async def test_a_slack_error_refuses_and_is_logged_once(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    alert = world.alert("voss")
    world.slack.fail("users.conversations", "internal_error", times=None)
    caplog.set_level(logging.INFO, logger="bot.slack.membership")
    for _ in range(3):
        reply = said(await world.command("status voss", VOSS))
        assert "Slack did not say which channels you are in" in reply and "Try again" in reply
    await world.cases.status.publish_home(VOSS)
    assert "Slack did not say" in world.home(VOSS) and "*voss*" not in world.home(VOSS)
    assert "Slack did not say" in said(await world.cases.alerts.acknowledge(VOSS, str(alert)))
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert ("status", "refused_unknown", VOSS, None) in world.audit()
    world.slack.clear_faults()
    assert "eAdm status · voss" in said(await world.command("status voss", VOSS))
    assert "Slack says again" in caplog.text


async def test_with_one_tenant_everyone_sees_it(tmp_path: Path, migrated_sqlite_url: str) -> None:
    slack = SlackDouble(users=USERS)
    await slack.start()
    runner, url = await serve_app(build_app(Scenario("ok", (None,), more_cycles=False)))
    settings = load_settings(
        require_slack=False, eadm_url=url, alert_channel="CONE", database_url=migrated_sqlite_url
    )
    store = Store(settings.database_url)
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    sources = {t.name: source_for(t, settings.tz) for t in settings.tenants}
    cases = UseCases(settings, store, client, sources, Adapters.resolve(settings.tenants))
    try:
        reply = await cases.dispatch.command("status", NOBODY, "CELSEWHERE")
        assert "eAdm status · eadm" in reply.text
        public = await cases.dispatch.command("status public", NOBODY, "CELSEWHERE")
        assert public.public, "anywhere, as before"
        await cases.status.publish_home(NOBODY)
        assert slack.calls("users.conversations") == [], "nobody's channels are read"
    finally:
        await cases.aclose()
        store.dispose()
        await runner.cleanup()
        await slack.stop()
