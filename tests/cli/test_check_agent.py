"""`eadm-bot check` and `eadm-bot agent`: a tenant's name against the name its agent reports,
since the agent starts the sync only for a request that names its own TENANT_NAME."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiohttp import web

from bot.cli.check.eadm import check_eadm
from bot.core.domain import TaskInfo, TaskState, snapshot_to_dict
from bot.core.settings import load_settings
from bot.core.task_rules import task_snapshot
from testkit.e2e import serving


def agent_answering_for(tenant: str) -> web.Application:
    """What `eadm-bot agent` serves: a cycle of the sync task, the task itself, its tenant."""
    now = datetime.now(UTC)
    task = TaskInfo(name="eAdm synkronisering", state=TaskState.READY, last_run_at=now)
    answer = snapshot_to_dict(task_snapshot(tenant, task, now))

    async def current(_request: web.Request) -> web.Response:
        return web.json_response(answer)

    app = web.Application()
    app.router.add_get("/api/v1/sync/cycles/current", current)
    return app


@pytest.mark.parametrize(("agent_says", "ok"), [("voss", True), ("eadm", False)])
async def test_an_agent_answering_for_another_tenant_is_found(agent_says: str, ok: bool) -> None:
    async with serving(agent_answering_for(agent_says)) as url:
        settings = load_settings(
            require_slack=False, tenant_name="voss", eadm_url=url, alert_channel="C1"
        )
        verdict = await check_eadm(settings.tenants[0])
    assert verdict.item == "[voss] eAdm status API"
    assert verdict.ok is ok, verdict.detail
    if not ok:
        assert "eadm-bot agent for tenant 'eadm', not 'voss'" in verdict.detail
        assert verdict.fix and verdict.fix.startswith("set TENANT_NAME=voss for the agent")


async def test_the_simulator_is_no_agent_whatever_tenant_it_names() -> None:
    from bot.sim.eadm import Scenario, build_app

    async with serving(build_app(Scenario("t", (None,), more_cycles=False))) as url:
        settings = load_settings(
            require_slack=False, tenant_name="voss", eadm_url=url, alert_channel="C1"
        )
        verdict = await check_eadm(settings.tenants[0])
    assert verdict.ok, verdict.detail
