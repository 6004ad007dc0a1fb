"""What lags first when many channels are busy at once: `--channels` channels (200), each with
one tenant whose alert resolves as its next one opens (a redraw and a thread reply owed for
the old alert, a post for the new), delivered by one deliverer with the default pacing
against a Slack double that keeps chat.postMessage's pace per channel and chat.update's Tier 3
budget per workspace. Prints when the last new alert, the last reply and the last redraw
reached Slack, counted from the moment they were owed; the baseline in the same run is the
same outbox delivered with no pacing against a double without limits.

In process (a SQLite store, the deliverer, the double over HTTP), without polls: the figure
is delivery's alone.

    python -m bench.storm_channels [--channels 200]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.registry import Adapters
from bot.core.budget import Rate
from bot.core.domain import Condition, Finding, Snapshot, StepRun, StepState
from bot.core.playbook import load_playbook
from bot.core.settings import load_settings
from bot.sim.slack import SlackDouble
from bot.slack.compose import Composer
from bot.slack.delivery import Deliverer
from bot.slack.pacing import ChannelPace
from bot.store import Store, Target, utcnow
from testkit.e2e import BOT_TOKEN, eventually


def fail(store: Store, index: int, cycle_id: str) -> None:
    """Tenant `index` fails at Export AD in `cycle_id`: a new alert in its channel, which
    resolves the alert of its cycle before."""
    now = utcnow()
    tenant = f"t{index:03d}"
    steps = (
        StepRun("Import HR", StepState.COMPLETED, now - timedelta(minutes=9), now),
        StepRun("Export AD", StepState.FAILED, now, now, message="LDAP error 52"),
    )
    snapshot = Snapshot(tenant, cycle_id, now - timedelta(minutes=9), None, steps)
    finding = Finding(tenant, cycle_id, "Export AD", Condition.FAILED, since=now, error="LDAP")
    target = Target(channel=f"C{index:03d}", language="en")
    store.apply_poll(tenant, target, [finding], snapshot, now=now, remind_after=7200)


async def run_case(channels: int, *, paced: bool) -> dict[str, float]:
    slack = SlackDouble(token=BOT_TOKEN)
    if paced:
        slack.limit_rate(per_second=1.0, burst=4)
        slack.limit_updates(per_minute=50, burst=8)
    await slack.start()
    settings = load_settings(require_slack=False, require_tenants=False)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url, timeout=10)
    composer = Composer(settings, load_playbook(), Adapters.resolve(settings.tenants))
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        store.migrate()
        deliverer = Deliverer(
            store,
            client,
            composer,
            owner="bench",
            pace=ChannelPace(1.0 if paced else 0, settings.slack_channel_burst),
            updates=Rate(settings.slack_update_rate / 60 if paced else 0, 5),
        )
        for i in range(channels):
            fail(store, i, "c1")
        deliverer.kick()
        await eventually(lambda: store.outbox_depth() == 0, timeout=120, what="the first alerts")
        await asyncio.sleep(3.5 if paced else 0)  # the channels' bursts come back
        slack.recorded.clear()
        for i in range(channels):
            fail(store, i, "c2")
        owed = time.time()
        deliverer.kick()
        await eventually(
            lambda: store.outbox_depth() == 0,
            timeout=channels * 2 + 60,
            interval=0.2,
            what="the storm delivered",
        )
        await deliverer.aclose()
        store.dispose()
    await slack.stop()
    posts = [c.at for c in slack.calls("chat.postMessage") if not c.params.get("thread_ts")]
    replies = [c.at for c in slack.calls("chat.postMessage") if c.params.get("thread_ts")]
    updates = [c.at for c in slack.calls("chat.update")]
    limited = len(slack.rate_limited("chat.postMessage")) + len(slack.rate_limited("chat.update"))
    return {
        "posts": len(posts),
        "last post": max(posts) - owed,
        "last reply": max(replies) - owed,
        "last redraw": max(updates) - owed,
        "redraws": len(updates),
        "429": limited,
    }


def _line(name: str, f: dict[str, float]) -> str:
    return (
        f"  {name:<34} last new alert {f['last post']:6.1f} s, last reply {f['last reply']:6.1f}"
        f" s, last redraw {f['last redraw']:6.1f} s; {f['posts']:.0f} posts,"
        f" {f['redraws']:.0f} redraws, {f['429']:.0f} x 429"
    )


async def main(channels: int) -> None:
    print(f"{channels} channels, each owed a new alert, a reply and a redraw at once")
    print(_line("default pacing", await run_case(channels, paced=True)), flush=True)
    print(_line("no pacing, no limits (baseline)", await run_case(channels, paced=False)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.channels))
