"""The daily purge on a year of history: how long it takes, how much smaller the database gets,
and what polls and `/eadm status` take before it and while it runs.

Ten tenants (a provider's or a county's) polled against the simulator over HTTP, a cycle an
hour each, two resolved alerts a day each with their copies and messages, thirty audit rows a
day: a year of that is written into a fresh database, then the purge runs with its defaults
(RETENTION_DAYS=90, AUDIT_RETENTION_DAYS=365, 500-row batches) while the tenants are polled
and asked about one after the other.

    python -m bench.retention [--tenants 10] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.registry import Adapters
from bot.app.polling import Poller
from bot.app.retention import Purge
from bot.app.usecases import UseCases
from bot.core.settings import load_settings
from bot.sim.eadm import Scenario, build_app
from bot.sim.slack import SlackDouble
from bot.sources import source_for
from bot.store import Store, utcnow
from testkit.e2e import serve_app
from testkit.history import Year, row_counts, used_bytes

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def summary(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"{name}: median {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms ({len(ordered)})"
    )


async def timed(work: object) -> float:
    started = time.perf_counter()
    await work  # type: ignore[misc]
    return time.perf_counter() - started


async def run(tenants: int, url: str, folder: Path) -> None:
    slack = SlackDouble(users={"UADMIN": {"name": "kari"}})
    await slack.start()
    runner, eadm = await serve_app(build_app(Scenario("ok", (None,)), speed=60))
    names = [f"t{n:02d}" for n in range(tenants)]
    config = folder / "tenants.toml"
    config.write_text(
        "".join(
            f'[[tenants]]\nname = "{n}"\neadm_url = "{eadm}"\nchannel = "C{n.upper()}"\n'
            for n in names
        ),
        encoding="utf-8",
    )
    settings = load_settings(
        require_slack=False,
        eadm_bot_config=config,
        admin_users="UADMIN",
        database_url=url,
        poll_interval=0.01,
    )
    store = Store(settings.database_url)
    store.migrate()
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    sources = {t.name: source_for(t, settings.tz) for t in settings.tenants}
    cases = UseCases(settings, store, client, sources, Adapters.resolve(settings.tenants))
    poller = Poller(settings, store, sources, None, owner="bench")
    now = utcnow()
    started = time.perf_counter()
    Year(tuple(names), now, cycle_every=timedelta(hours=1), audit_a_day=30).write(store)
    print(f"wrote a year in {time.perf_counter() - started:.1f} s")

    async def rounds(count: int | None, until: asyncio.Task[object] | None = None) -> tuple:
        polls, asked = [], []
        index = 0
        while (count is not None and index < count) or (until is not None and not until.done()):
            tenant = settings.tenants[index % len(settings.tenants)]
            polls.append(await timed(poller.poll(tenant)))
            asked.append(await timed(cases.dispatch.command(f"status {tenant.name}", "UADMIN")))
            index += 1
            await asyncio.sleep(0.01)
        return polls, asked

    polls_before, status_before = await rounds(40)
    size_before, rows_before = used_bytes(store), row_counts(store)
    purge = asyncio.create_task(Purge(settings, store, owner="bench", clock=lambda: now).run())
    polls_during, status_during = await rounds(None, purge)
    purged = purge.result()
    size_after, rows_after = used_bytes(store), row_counts(store)
    assert purged is not None
    print(f"purge: {purged.seconds:.1f} s in {purged.batches} batches, {purged.total} rows")
    print(f"in use: {size_before / 1e6:.1f} MB before, {size_after / 1e6:.1f} MB after")
    print(f"rows before: {rows_before}")
    print(f"rows after:  {rows_after}")
    print(summary("poll before", polls_before), "|", summary("during", polls_during))
    print(summary("status before", status_before), "|", summary("during", status_during))
    await poller.aclose()
    await cases.aclose()
    for source in sources.values():
        await source.aclose()
    store.dispose()
    await runner.cleanup()
    await slack.stop()


async def main(tenants: int, database: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if database == "sqlite":
            await run(tenants, f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp))
            return
        name = f"eadm_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            await run(tenants, PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", Path(tmp))
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.tenants, arguments.database))
