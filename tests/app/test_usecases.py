"""The use cases built in-process, as the running bot builds them: a real SQLite store, the
Slack double over HTTP through slack_sdk's real client, the simulator over HTTP for eAdm.
Who may act is asked by every action itself, so these call the use cases directly, the way
any new entry point would."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.registry import RERUN, TICKET, Adapters
from bot.app.context import Answer
from bot.app.usecases import UseCases
from bot.core.domain import EXPORT_AD, IMPORT_HR, Condition, Finding, StepState
from bot.core.rerun_guard import AlertFact, Refusal, Verdict
from bot.core.settings import Settings, load_settings
from bot.sim.eadm import Scenario, build_app
from bot.sim.slack import SlackDouble
from bot.slack import ids
from bot.sources.api import EadmSource
from bot.store import Store, Target, utcnow
from bot.store.tables import Alert
from testkit.e2e import eventually, serve_app
from tests import store_rows
from tests.cycles import at, cycle

ADMIN = "UADMIN"
OTHER = "UOTHER"
USERS = {
    ADMIN: {"name": "kari", "real_name": "Kari Nordmann", "email": "kari@kommune.no"},
    OTHER: {"name": "ola", "real_name": "Ola Vanlig", "locale": "nb-NO"},
}


@dataclass
class World:
    cases: UseCases
    store: Store
    slack: SlackDouble
    settings: Settings
    sim_url: str

    def alert(self, tenant: str, step: str, condition: Condition = Condition.FAILED) -> int:
        """Open an alert as a poll would, and return its ID."""
        finding = Finding(tenant, "c1", step, condition, since=utcnow(), error="boom")
        self.store.apply_poll(
            tenant,
            Target(channel=f"C{tenant.upper()}", language="en"),
            [finding],
            cycle(tenant=tenant),
            now=utcnow(),
            remind_after=7200,
        )
        (alert,) = [
            a for a in self.store.unresolved_alerts(tenant) if a.step == step and a.id is not None
        ]
        assert alert.id is not None
        return alert.id

    def posted(self, alert_id: int, ts: str) -> None:
        """As delivery records it once Slack took the alert's message."""
        with self.store.session() as session:
            alert = session.get(Alert, alert_id)
            assert alert is not None
            alert.message_ts = ts
            session.add(alert)
            session.commit()

    def audit(self) -> list[tuple[str, str, str, str | None, int | None]]:
        return [
            (e.action, e.result, e.user_id, e.tenant, e.alert_id)
            for e in reversed(store_rows.audit_log(self.store, 500))
        ]


def tenants_toml(sim_url: str, extra: str = "") -> str:
    return f"""
[[tenants]]
name = "north"
eadm_url = "{sim_url}"
channel = "CNORTH"
rerun = {{ kind = "simulator" }}

[[tenants]]
name = "south"
eadm_url = "{sim_url}"
channel = "CSOUTH"
{extra}
"""


@pytest_asyncio.fixture
async def world(tmp_path: Path, migrated_sqlite_url: str) -> AsyncIterator[World]:
    slack = SlackDouble(users=USERS)
    slack.add_member("CNORTH", OTHER)  # OTHER sees north (not south) and is no admin
    await slack.start()
    scenario = Scenario("healthy", (None,), more_cycles=False)
    runner, sim_url = await serve_app(build_app(scenario, speed=6000))
    config = tmp_path / "tenants.toml"
    config.write_text(tenants_toml(sim_url), encoding="utf-8")
    settings = load_settings(
        require_slack=False,
        eadm_bot_config=config,
        admin_users=ADMIN,
        database_url=migrated_sqlite_url,
        rerun_cooldown=0,
    )
    store = Store(settings.database_url)
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    sources = {t.name: EadmSource(t.eadm_url, t.name) for t in settings.tenants}
    cases = UseCases(settings, store, client, sources, Adapters.resolve(settings.tenants))
    try:
        yield World(cases, store, slack, settings, sim_url)
    finally:
        await cases.aclose()
        for source in sources.values():
            await source.aclose()
        store.dispose()
        await runner.cleanup()
        await slack.stop()


def text(reply: Any) -> str:
    assert isinstance(reply, Answer), reply
    return reply.text


# -- access ---------------------------------------------------------------------------------------


async def test_every_action_refuses_a_non_admin_and_audits_it(world: World) -> None:
    alert = world.alert("north", EXPORT_AD)
    refusals = [
        await world.cases.alerts.acknowledge(OTHER, str(alert)),
        await world.cases.alerts.snooze(OTHER, f"{alert}:1h"),
        await world.cases.reruns.from_alert(OTHER, str(alert)),
        await world.cases.reruns.for_tenant(OTHER, "north"),
        await world.cases.reruns.ask(OTHER, "north"),
        await world.cases.support.ticket_view(OTHER, str(alert)),
        (await world.cases.support.submit_ticket(OTHER, str(alert), "s", "d")).answer,
        await world.cases.silences.silence(OTHER, "north", 600, None),
        await world.cases.silences.unsilence(OTHER, "north"),
    ]
    for reply in refusals:
        # Ola's Slack speaks Norwegian: the refusal does too, and names who may act.
        assert "Bare eAdm-administratorer" in text(reply) and "<@UADMIN>" in text(reply)
    refused = [row for row in world.audit() if row[1] == "refused"]
    assert [row[0] for row in refused] == [
        "ack",
        "snooze",
        "rerun",
        "rerun",
        "rerun",
        "ticket",
        "ticket",
        "silence",
        "unsilence",
    ]
    assert all(row[2] == OTHER and row[3] == "north" for row in refused)
    assert [row[4] for row in refused if row[0] in ("ack", "snooze", "ticket")] == [alert] * 4
    alert_row = world.store.get_alert(alert)
    assert alert_row is not None and alert_row.state == "open"
    assert store_rows.reruns(world.store) == []


async def test_a_refused_ticket_submission_says_where_to_answer(world: World) -> None:
    alert = world.alert("north", EXPORT_AD)
    done = await world.cases.support.submit_ticket(OTHER, str(alert), "s", "d")
    assert done.channel == "CNORTH" and "Bare eAdm-administratorer" in done.answer.text


async def test_a_button_naming_no_alert_or_a_resolved_one(world: World) -> None:
    assert "out of date" in text(await world.cases.alerts.acknowledge(ADMIN, "x"))
    assert "no longer exists" in text(await world.cases.alerts.acknowledge(ADMIN, "999"))
    alert = world.alert("north", EXPORT_AD)
    world.store.apply_poll(
        "north", Target("CNORTH", "en"), [], cycle(tenant="north"), now=utcnow(), remind_after=1
    )
    assert "already resolved" in text(await world.cases.alerts.acknowledge(ADMIN, str(alert)))
    assert "no longer exists" in text(await world.cases.reruns.for_tenant(ADMIN, "nowhere"))


# -- alerts ---------------------------------------------------------------------------------------


async def test_acknowledge_once_then_say_who_did(world: World) -> None:
    alert = world.alert("north", EXPORT_AD)
    assert "reminders stop" in text(await world.cases.alerts.acknowledge(ADMIN, str(alert)))
    assert "<@UADMIN> has already" in text(await world.cases.alerts.acknowledge(ADMIN, str(alert)))
    row = world.store.get_alert(alert)
    assert row is not None and row.acked_by == ADMIN
    assert [r[:2] for r in world.audit()] == [("ack", "done"), ("ack", "already")]


async def test_snooze_for_an_hour_and_a_bad_choice(world: World) -> None:
    alert = world.alert("north", EXPORT_AD)
    assert "Snoozed until" in text(await world.cases.alerts.snooze(ADMIN, f"{alert}:1h"))
    row = world.store.get_alert(alert)
    assert row is not None and row.snoozed_by == ADMIN and row.snoozed_until is not None
    assert "out of date" in text(await world.cases.alerts.snooze(ADMIN, f"{alert}:forever"))


# -- reruns ---------------------------------------------------------------------------------------


async def test_rerun_asks_first_with_the_runner_named(world: World) -> None:
    await eventually(
        lambda: _cycle_done(world, "north"), timeout=15, what="the simulated cycle to complete"
    )
    reply = await world.cases.reruns.ask(ADMIN, "north")
    assert isinstance(reply, Answer) and reply.blocks
    assert ids.ACTION_RERUN_TENANT in json.dumps(reply.blocks)
    assert "No rerun is set up for south" in text(await world.cases.reruns.ask(ADMIN, "south"))


async def test_a_rerun_starts_the_sync_once_then_waits(world: World) -> None:
    await eventually(
        lambda: _cycle_done(world, "north"), timeout=15, what="the simulated cycle to complete"
    )
    # The simulator takes the run but starts no cycle: the rerun stays under way.
    async with httpx.AsyncClient() as client:
        await client.post(f"{world.sim_url}/_sim/api", json={"run_starts_cycle": False})
    reply = await world.cases.reruns.for_tenant(ADMIN, "north")
    assert "Sync started for north" in text(reply)
    assert "already under way" in text(await world.cases.reruns.for_tenant(ADMIN, "north"))
    assert [r[:2] for r in world.audit()] == [("rerun", "started"), ("rerun", "refused_pending")]
    (notice,) = store_rows.messages(world.store)
    assert "started the sync" in str(notice.payload)


async def test_the_timer_reads_the_reruns_under_way_once_and_ends_a_late_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await eventually(
        lambda: _cycle_done(world, "north"), timeout=15, what="the simulated cycle to complete"
    )
    async with httpx.AsyncClient() as client:
        await client.post(f"{world.sim_url}/_sim/api", json={"run_starts_cycle": False})
    assert "Sync started" in text(await world.cases.reruns.for_tenant(ADMIN, "north"))
    reads: list[int] = []
    read = world.store.reruns_awaiting_cycle
    monkeypatch.setattr(world.store, "reruns_awaiting_cycle", lambda: reads.append(1) or read())
    late = timedelta(seconds=world.settings.rerun_grace + 60)
    world.cases.reruns.clock = lambda: utcnow() + late
    await world.cases.tick()
    assert len(reads) == 1, "one read for both tenants"
    (rerun,) = store_rows.reruns(world.store, "north")
    assert rerun.status == "no_cycle"


async def test_a_failed_step_points_at_a_ticket_only_where_one_is_offered(world: World) -> None:
    north = world.settings.tenant("north")
    assert north is not None
    alert = world.alert("north", IMPORT_HR)
    fact = AlertFact(alert, IMPORT_HR, Condition.FAILED)
    offered = await world.cases.reruns.refusal(
        Verdict(Refusal.FAILED, IMPORT_HR, fact), north, "en", None
    )
    assert "Open the ticket below" in offered.text
    assert offered.blocks and ids.ACTION_TICKET in json.dumps(offered.blocks)
    # The poll that opens the step's alert has not come yet: no button, so no "below".
    early = await world.cases.reruns.refusal(Verdict(Refusal.FAILED, IMPORT_HR), north, "en", None)
    assert "Import HR failed" in early.text and "below" not in early.text
    assert "Contact Identum support" in early.text and early.blocks is None


async def _cycle_done(world: World, tenant: str) -> bool:
    snapshot = await world.cases.reruns.sources[tenant].current()
    return all(run.state.value == "completed" for run in snapshot.steps)


# -- support --------------------------------------------------------------------------------------


async def test_a_ticket_is_prepared_for_copying_without_a_target(world: World) -> None:
    alert = world.alert("north", IMPORT_HR)
    view = await world.cases.support.ticket_view(ADMIN, str(alert))
    assert isinstance(view, dict) and view["private_metadata"] == str(alert)
    assert "No ticket target is set up" in json.dumps(view)
    done = await world.cases.support.submit_ticket(ADMIN, str(alert), "subject", "what broke")
    assert done.channel == "CNORTH" and "Copy this" in done.answer.text
    assert "what broke" in done.answer.text
    assert ("ticket", "copied", ADMIN, "north", alert) in world.audit()


async def test_a_second_ticket_asks_first(world: World) -> None:
    alert = world.alert("north", IMPORT_HR)
    world.store.set_ticket(alert, "T-1", None, ADMIN, utcnow())
    reply = await world.cases.support.ticket_view(ADMIN, str(alert))
    assert isinstance(reply, Answer) and "T-1" in reply.text
    assert ids.ACTION_TICKET_AGAIN in json.dumps(reply.blocks)
    assert isinstance(await world.cases.support.ticket_view(ADMIN, str(alert), again=True), dict)


# -- silences, status, history, home, /eadm ------------------------------------------------------


async def test_silence_and_unsilence(world: World) -> None:
    reply = await world.cases.silences.silence(ADMIN, "north", 3600, "patching")
    assert "patching" in text(reply)
    state = world.store.tenant_state("north")
    assert state is not None and state.silenced_by == ADMIN
    assert "on again" in text(await world.cases.silences.unsilence(ADMIN, "north"))
    assert "not silenced" in text(await world.cases.silences.unsilence(ADMIN, "north"))
    kinds = [m.kind for m in store_rows.messages(world.store)]
    assert kinds == ["notice", "notice"], "the start and the summary go to the channel"


async def test_status_links_the_open_alerts(world: World) -> None:
    alert = world.alert("north", EXPORT_AD)
    world.posted(alert, "1700000000.000100")
    reply = await world.cases.dispatch.command("status north", OTHER)
    assert reply.blocks and "Export AD" in json.dumps(reply.blocks)
    assert "archives/CNORTH/p1700000000000100" in json.dumps(reply.blocks)
    assert ("status", "shown", OTHER, "north", None) in world.audit()


async def test_history_shows_the_recorded_cycles_newest_first(world: World) -> None:
    from bot.slack.render import render_history

    done = cycle(tenant="north", cycle_id="c1")
    failed = cycle(
        {EXPORT_AD: StepState.FAILED}, upto=5, tenant="north", cycle_id="c2", start=at(60)
    )
    world.store.record_history("north", [done, failed], utcnow())
    history = await world.cases.dispatch.command("history north 3", OTHER)
    # OTHER reads Bokmål; two cycles were recorded, and they are what the answer lists.
    shown = render_history("north", [failed, done], "nb", tz=world.settings.tz, now=utcnow())
    assert (history.text, history.blocks) == (shown.text, shown.blocks)
    assert history.text == "Siste 2 sykluser · north"
    assert ("history", "shown", OTHER, "north", None) in world.audit()


async def test_the_home_tab_is_published_and_refreshed_after_a_change(world: World) -> None:
    await world.cases.status.publish_home(ADMIN)
    (call,) = world.slack.calls("views.publish")
    assert call.params["user_id"] == ADMIN
    alert = world.alert("north", EXPORT_AD)
    await world.cases.alerts.acknowledge(ADMIN, str(alert))
    await world.slack.wait_for("views.publish", 2)


async def test_open_home_tabs_are_refreshed_from_one_read_of_the_tenants(world: World) -> None:
    alert = world.alert("north", EXPORT_AD)
    world.posted(alert, "1700000000.000100")
    await world.cases.status.publish_home(ADMIN)
    await world.cases.status.publish_home(OTHER)
    links = len(world.slack.calls("chat.getPermalink"))
    assert links == 2, "each opening reads the open alert's link"
    await world.cases.alerts.snooze(ADMIN, f"{alert}:1h")
    calls = await world.slack.wait_for("views.publish", 4)
    assert {c.params["user_id"] for c in calls[2:]} == {ADMIN, OTHER}
    assert len(world.slack.calls("chat.getPermalink")) == links + 1, "one read for both tabs"


async def test_the_refresh_button_rereads_once_per_person_in_ten_seconds(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.app import status

    now = [1000.0]
    monkeypatch.setattr(status.time, "monotonic", lambda: now[0])
    for _ in range(5):  # a person clicking Refresh over and over
        await world.cases.status.refresh_home(ADMIN)
    await world.cases.status.refresh_home(OTHER)  # another person is not held up by it
    assert [c.params["user_id"] for c in world.slack.calls("views.publish")] == [ADMIN, OTHER]
    now[0] += status.REFRESH_EVERY
    await world.cases.status.refresh_home(ADMIN)
    assert len(world.slack.calls("views.publish")) == 3


async def test_the_command_needs_a_tenant_and_explains_itself(world: World) -> None:
    assert "north, south" in text(await world.cases.dispatch.command("status", ADMIN))
    assert "/eadm" in text(await world.cases.dispatch.command("help", ADMIN))
    assert "/eadm" in text(await world.cases.dispatch.command("frobnicate", ADMIN))


# -- the adapters' registry -----------------------------------------------------------------------


def test_a_misconfigured_adapter_is_named_once_with_its_fix(tmp_path: Path) -> None:
    config = tmp_path / "tenants.toml"
    extra = 'rerun = { kind = "webhook" }\nticket = { kind = "email", email_to = "s@x.no" }'
    config.write_text(tenants_toml("http://127.0.0.1:9", extra), encoding="utf-8")
    settings = load_settings(require_slack=False, eadm_bot_config=config)
    adapters = Adapters.resolve(settings.tenants)
    assert adapters.runner("north") is not None and adapters.runner("south") is None
    assert adapters.target("south") is None
    problems = {(m.tenant, m.item): m.line() for m in adapters.misconfigured}
    assert set(problems) == {("south", RERUN), ("south", TICKET)}
    assert "RERUN_WEBHOOK_URL" in problems["south", RERUN]
    assert "no Rerun button" in problems["south", RERUN]
    assert "SMTP_URL" in problems["south", TICKET]


@pytest.mark.parametrize("tenant", ["north"])
async def test_the_runner_is_built_once(world: World, tenant: str) -> None:
    first = world.cases.reruns.runner(world.settings.tenant(tenant))  # type: ignore[arg-type]
    again = world.cases.reruns.runner(world.settings.tenant(tenant))  # type: ignore[arg-type]
    assert first is again is not None


def test_the_running_bot_says_once_at_start_up_what_is_misconfigured(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.runtime.wiring import Bot

    config = tmp_path / "tenants.toml"
    config.write_text(
        tenants_toml("http://127.0.0.1:9", 'rerun = { kind = "webhook" }'), encoding="utf-8"
    )
    settings = load_settings(
        require_slack=False,
        eadm_bot_config=config,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        slack_bot_token="xoxb-test",
        slack_signing_secret="secret",
    )
    with caplog.at_level("ERROR", logger="bot.runtime.wiring"):
        bot = Bot(settings)
    bot.store.dispose()
    (line,) = [r.getMessage() for r in caplog.records if "misconfigured" in r.getMessage()]
    assert line.startswith("[south] the rerun runner is misconfigured")
    assert "RERUN_WEBHOOK_URL" in line and "set the runbook's URL" in line
    assert bot.adapters.runner("south") is None
    assert bot.composer.adapters is bot.adapters


def test_a_tenants_admins_are_read_from_the_file(tmp_path: Path) -> None:
    config = tmp_path / "tenants.toml"
    extra = 'admin_users = "U1, U2"\nadmin_group = "S9"'
    config.write_text(tenants_toml("http://127.0.0.1:9", extra), encoding="utf-8")
    settings = load_settings(require_slack=False, eadm_bot_config=config, admin_users="U0")
    south, north = settings.tenant("south"), settings.tenant("north")
    assert south is not None and (south.admin_users, south.admin_group) == (["U1", "U2"], "S9")
    assert north is not None and (north.admin_users, north.admin_group) == ([], None)
    assert settings.admin_users == ["U0"]


@pytest.mark.parametrize("sees_steps", [True, False])
@pytest.mark.parametrize("lang", ["en", "nb"])
def test_a_long_rerun_command_still_fits_the_confirmation(lang: str, sees_steps: bool) -> None:
    from bot.slack.render import rerun_button

    target = "schtasks /Run /S eadm01 " + "x" * 400
    button = rerun_button(ids.ACTION_RERUN, "1", target, lang, sees_steps=sees_steps)
    text = button.to_dict()["confirm"]["text"]["text"]
    assert len(text) <= 300 and "schtasks /Run /S eadm01" in text and "…" in text
