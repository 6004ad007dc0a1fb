"""A poll job's world for the tests beside it: one status server over real HTTP whose answer a
test sets per tenant, a real store, a clock the test moves, and the poll job itself."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from bot.app.polling import Poller
from bot.core.domain import Snapshot, StepState
from bot.core.settings import Settings, load_settings
from bot.sources.api import CURRENT, EadmSource, status_client
from bot.store import Store
from testkit.e2e import serving
from tests.cycles import T0, cycle

INTERVAL = 60.0


def wire(snapshot: Snapshot) -> dict[str, Any]:
    """A snapshot as the status contract answers it."""

    def iso(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    return {
        "cycle_id": snapshot.cycle_id,
        "started_at": iso(snapshot.started_at),
        "finished_at": iso(snapshot.finished_at),
        "steps": [
            {
                "name": run.name,
                "state": run.state.value,
                "started_at": iso(run.started_at),
                "finished_at": iso(run.finished_at),
                "message": run.message,
            }
            for run in snapshot.steps
        ],
    }


def running(upto: int = 3, **kw: Any) -> Snapshot:
    """A cycle under way: `upto` steps done, the next one running."""
    from bot.core.domain import CORE_STEPS

    return cycle({CORE_STEPS[upto]: StepState.RUNNING}, upto=upto, **kw)


@dataclass
class Answers:
    """What the status server answers, per tenant (the path's first segment)."""

    current: dict[str, dict[str, Any]] = field(default_factory=dict)
    reads: dict[str, int] = field(default_factory=dict)

    def app(self) -> web.Application:
        async def current(request: web.Request) -> web.Response:
            tenant = request.match_info["tenant"]
            self.reads[tenant] = self.reads.get(tenant, 0) + 1
            return web.json_response(self.current[tenant])

        async def history(_request: web.Request) -> web.Response:
            return web.json_response({"cycles": []})

        app = web.Application()
        app.router.add_get("/{tenant}" + CURRENT, current)
        app.router.add_get("/{tenant}/api/v1/sync/cycles", history)
        return app


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def next_tick(self, seconds: float = INTERVAL) -> None:
        self.now += timedelta(seconds=seconds)


@contextlib.asynccontextmanager
async def status_server(answers: Answers) -> AsyncIterator[str]:
    async with serving(answers.app()) as url:
        yield url


def settings_for(
    tmp: Path, url: str, tenants: list[str], database_url: str, **env: Any
) -> Settings:
    config = tmp / "tenants.toml"
    config.write_text(
        "\n".join(
            f'[[tenants]]\nname = "{name}"\neadm_url = "{url}/{name}"\nchannel = "C{i:03d}"\n'
            for i, name in enumerate(tenants)
        ),
        encoding="utf-8",
    )
    return load_settings(
        require_slack=False,
        eadm_bot_config=config,
        poll_interval=INTERVAL,
        database_url=database_url,
        **env,
    )


@contextlib.asynccontextmanager
async def poller(
    settings: Settings, clock: Clock, owner: str = "a", grace: float = 0.05
) -> AsyncIterator[Poller]:
    """A poll job on its own store; `grace` is its leases' wait before asking for a group
    another job held (seconds, real time, whatever the clock says)."""
    store = Store(settings.database_url)
    store.migrate()
    http = status_client()
    sources = {t.name: EadmSource(t.eadm_url, t.name, client=http) for t in settings.tenants}
    job = Poller(
        settings,
        store,
        sources,  # type: ignore[arg-type]
        None,
        owner=owner,
        clock=clock,
        lease_grace=grace,
    )
    try:
        yield job
    finally:
        await job.aclose()
        await http.aclose()
        store.dispose()


@contextlib.asynccontextmanager
async def polling(tmp: Path, answers: Answers, clock: Clock, **env: Any) -> AsyncIterator[Poller]:
    """The poll job for the tenants `answers` answers for, on a SQLite store in `tmp`."""
    async with status_server(answers) as url:
        database = f"sqlite:///{tmp / 'bot.db'}"
        settings = settings_for(tmp, url, list(answers.current), database, **env)
        async with poller(settings, clock) as job:
            yield job


@contextlib.contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """Every SQL statement the store runs within the block, first words upper-cased."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    sa.event.listen(store.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", before)


START = T0 + timedelta(minutes=10)  # the clock at the first poll, just after T0's cycle began
