"""The rerun guard against a real simulator over HTTP and a real store: what the vendor warns
against is refused, with the reason; a failed runner says why in the channel."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.registry import Adapters
from bot.app.access import Access
from bot.app.context import Context
from bot.app.reruns import Reruns
from bot.core.domain import IMPORT_AD, SYNCHRONIZATION, Snapshot, StepState
from bot.core.i18n import t as t_
from bot.core.playbook import load_playbook
from bot.core.settings import RerunConfig, Tenant, load_settings
from bot.sim.eadm import Scenario, build_app
from bot.slack.membership import Membership
from bot.slack.people import People
from bot.sources.api import EadmSource
from bot.sources.task import TaskSource
from bot.store import Store, utcnow
from testkit.e2e import eventually, serve_app
from tests import store_rows


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Callable[[str | Scenario], Any]]:
    runners: list[Any] = []

    async def start(scenario: str | Scenario) -> str:
        runner, url = await serve_app(build_app(scenario, speed=6000))
        runners.append(runner)
        return url

    yield start
    for runner in runners:
        await runner.cleanup()


# What each scenario's cycle shows once it has got there.
REACHED: dict[str, Callable[[Snapshot], bool]] = {
    "stuck:import-ad": lambda s: s.step(IMPORT_AD).state is StepState.RUNNING,
    "safety-threshold": lambda s: s.step(SYNCHRONIZATION).state is StepState.STOPPED,
    "completed": lambda s: all(run.state is StepState.COMPLETED for run in s.steps),
}
# One cycle that completes, and none after it: a rerun meets no cycle under way.
ONE_CYCLE = Scenario("one cycle that completes", (None,), more_cycles=False)


async def reached(url: str, scenario: str) -> None:
    """Wait until the simulated cycle shows what the scenario plays (api-down does at once)."""
    if scenario not in REACHED:
        return
    async with EadmSource(url, "t") as source:

        async def shown() -> bool:
            return REACHED[scenario](await source.current())

        await eventually(shown, timeout=15, what=f"the simulated cycle to reach {scenario}")


def reruns_for(store: Store, tenant: Tenant) -> Reruns:
    settings = load_settings(require_slack=False, require_tenants=False, rerun_cooldown=0)
    sources = {tenant.name: EadmSource(tenant.eadm_url, tenant.name)}
    ctx = Context(settings, store, Adapters.resolve([tenant]), utcnow)
    return Reruns(ctx, Access(ctx, None, None), sources, load_playbook())  # type: ignore[arg-type]


def tenant(url: str, rerun: RerunConfig | None = None) -> Tenant:
    return Tenant(
        name="t", eadm_url=url, channel="C1", rerun=rerun or RerunConfig(kind="simulator")
    )


@pytest.mark.parametrize(
    ("scenario", "result", "words"),
    [
        ("stuck:import-ad", "refused_running", "Import AD is running"),
        ("safety-threshold", "refused_threshold", "Import History"),
        ("api-down", "refused_unreadable", "cannot be read"),
    ],
)
async def test_what_the_vendor_warns_against_is_refused(
    sim: Any, store: Store, scenario: str, result: str, words: str
) -> None:
    url = await sim(scenario)
    await reached(url, scenario)
    reruns = reruns_for(store, tenant(url))
    got, answer = await reruns.start(tenant(url), user_id="U1", lang="en")
    assert (got, words in answer.text) == (result, True), answer
    assert store_rows.reruns(store) == []
    async with httpx.AsyncClient() as client:
        if scenario != "api-down":
            state = (await client.get(f"{url}/_sim/state")).json()
            assert state["runs"] == 0


async def test_no_runner_configured(sim: Any, store: Store) -> None:
    url = await sim(ONE_CYCLE)
    await reached(url, "completed")
    t = tenant(url, RerunConfig(kind="none"))
    got, answer = await reruns_for(store, t).start(t, user_id="U1", lang="nb")
    assert got == "not_configured" and "Oppgaveplanlegging" in answer.text
    assert "RERUN_COMMAND" in answer.text and "EADM_BOT_CONFIG" in answer.text, "where to set it"


@pytest.mark.parametrize(
    ("scenario", "result", "words"),
    [
        ("stuck:import-ad", "refused_running", "Importer AD kjører"),
        ("safety-threshold", "refused_threshold", "Importhistorikk"),
    ],
)
async def test_without_a_runner_the_guard_still_speaks_first(
    sim: Any, store: Store, scenario: str, result: str, words: str
) -> None:
    """The manual route is advised only where a rerun could go through; elsewhere the admin
    hears the guard's reason, not "start it in Task Scheduler"."""
    url = await sim(scenario)
    await reached(url, scenario)
    t = tenant(url, RerunConfig(kind="none"))
    got, answer = await reruns_for(store, t).start(t, user_id="U1", lang="nb")
    assert (got, words in answer.text) == (result, True), answer
    assert "RERUN_COMMAND" not in answer.text


async def test_a_failing_command_says_why_in_the_channel(sim: Any, store: Store) -> None:
    url = await sim(ONE_CYCLE)
    await reached(url, "completed")
    argv = [
        sys.executable,
        "-c",
        "import sys; print('ERROR: The system cannot find the file'); sys.exit(1)",
    ]
    t = tenant(url, RerunConfig(kind="command", command=argv, timeout=10))
    got, answer = await reruns_for(store, t).start(t, user_id="U1", lang="en")
    assert got == "failed" and "cannot find the file" in answer.text
    (rerun,) = store_rows.reruns(store)
    assert rerun.status == "failed"
    (notice,) = store_rows.messages(store)
    assert notice.kind == "notice" and "did not start" in notice.payload["text"]  # type: ignore[index]


FIXTURES = Path(__file__).parents[1] / "fixtures" / "task"


def task_tenant_reruns(store: Store, fixture: str, runner: list[str] | None) -> Reruns:
    """A tenant read through the task source alone: the bot sees the task, not eAdm's steps."""
    command = [sys.executable, "-m", "tests.doubles.task_command", str(FIXTURES / fixture)]
    settings = load_settings(
        require_slack=False,
        tenant_name="t",
        alert_channel="C1",
        eadm_source="task",
        eadm_task_command=command,
        rerun_command=runner,
        rerun_cooldown=0,
        admin_users="UADMIN",
    )
    (t,) = settings.tenants
    sources = {"t": TaskSource("t", command, task_name="eAdm synkronisering")}
    ctx = Context(settings, store, Adapters.resolve([t]), utcnow)
    # Slack cannot be reached here: each person gets the defaults, as when Slack is silent.
    slack = AsyncWebClient(token="xoxb-test", base_url="http://127.0.0.1:9/")
    access = Access(ctx, People(settings, slack), Membership(slack))
    return Reruns(ctx, access, sources, load_playbook())  # type: ignore[arg-type]


async def test_without_eadms_steps_the_question_asks_for_the_portal_check(store: Store) -> None:
    reruns = task_tenant_reruns(store, "ps7-ready.json", ["schtasks", "/Run", "/TN", "eAdm"])
    answer = await reruns.ask("UADMIN", "t")
    (button,) = [e for b in answer.blocks or [] if b["type"] == "actions" for e in b["elements"]]
    assert "Synchronization Status" in button["confirm"]["text"]["text"]
    assert "import filter" not in button["confirm"]["text"]["text"]


async def test_without_eadms_steps_the_manual_route_follows_the_portal_check(store: Store) -> None:
    reruns = task_tenant_reruns(store, "ps7-ready.json", None)
    got, answer = await reruns.start(reruns.settings.tenants[0], user_id="U1", lang="nb")
    assert got == "not_configured"
    precheck = t_("nb", "alert.precheck")
    assert answer.text.startswith(precheck) and "Oppgaveplanlegging" in answer.text


async def test_a_running_task_is_refused_as_running(store: Store) -> None:
    reruns = task_tenant_reruns(store, "ps7-running.json", None)
    got, answer = await reruns.start(reruns.settings.tenants[0], user_id="U1", lang="en")
    assert (got, "Sync task is running" in answer.text) == ("refused_running", True), answer


@pytest.mark.parametrize(("seconds_ago", "result"), [(200, "started"), (20, "refused_pending")])
async def test_a_rerun_whose_process_died_before_its_runner_answered_lapses(
    sim: Any, store: Store, seconds_ago: int, result: str
) -> None:
    """A process that stopped between recording a rerun and its runner's answer leaves it
    "requested": past the runner's timeout (10 s here) and the margin it lapses, and the
    tenant's reruns go through again; before that it is still under way."""
    url = await sim(ONE_CYCLE)
    await reached(url, "completed")
    t = tenant(url, RerunConfig(kind="simulator", timeout=10))
    died = store.record_rerun(
        "t",
        alert_id=None,
        user_id="U0",
        runner="POST ...",
        cycle_before="c0",
        now=utcnow() - timedelta(seconds=seconds_ago),
        grace=600,
    )
    assert died is not None
    got, answer = await reruns_for(store, t).start(t, user_id="U1", lang="en")
    assert got == result, answer
    statuses = {r.id: r.status for r in store_rows.reruns(store)}
    assert statuses[died.id] == ("lapsed" if result == "started" else "requested")


async def test_a_source_that_trickles_its_answer_is_unreadable_within_a_polls_deadline(
    store: Store,
) -> None:
    """The guard reads the status afresh: a server that sends a byte a tenth of a second
    must not hold the person's answer for longer than a poll may take."""
    from aiohttp import web

    from testkit.e2e import serving

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for _ in range(10_000):
            await response.write(b" ")
            await asyncio.sleep(0.1)
        return response

    app = web.Application()
    app.router.add_get("/api/v1/sync/cycles/current", trickle)
    async with serving(app) as url:
        t = tenant(url)
        settings = load_settings(require_slack=False, require_tenants=False, poll_interval=1.5)
        ctx = Context(settings, store, Adapters.resolve([t]), utcnow)
        source = EadmSource(t.eadm_url, t.name, timeout=5)
        reruns = Reruns(ctx, Access(ctx, None, None), {t.name: source}, load_playbook())  # type: ignore[arg-type]
        started = time.monotonic()
        try:
            got, answer = await reruns.start(t, user_id="U1", lang="en")
        finally:
            await source.aclose()
    assert got == "refused_unreadable" and "deadline of 1.2 s" in answer.text
    assert time.monotonic() - started < 3
