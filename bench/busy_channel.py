"""Latency of a new alert in a busy channel: one tenant failing at a new step about every
1.5 s, each new failure also resolving the alert before it (a redraw and a thread reply), so
that the channel always has older news pending when the next alert is owed.

One `eadm-bot run` process with POLL_INTERVAL=1 watches one simulated eAdm whose cycles fail
at Import HR, Import HR Future, ... in turn, a cycle about every 1.5 s. The figure is the time
from each failed step's `finished_at` (the red cross) to that alert's `chat.postMessage`
reaching the Slack double, for `--samples` alerts, with the default pacing against a Slack
double that keeps chat.postMessage's limit per channel and chat.update's per workspace
(answering 429 beyond them) and, as the baseline in the same run, with no pacing at all
(SLACK_CHANNEL_RATE=0, SLACK_UPDATE_RATE=0) against a double without limits: what detection
alone costs. Each run also checks that nothing was lost, told twice, answered 429 or
reordered within one alert (its post before its thread and its redraws).

    python -m bench.busy_channel [--samples 20] [--only default,unpaced]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from sqlmodel import select

from bot.sim.eadm import STEP_PLAN, STEPS, Fault, Scenario
from bot.sim.scenarios import GAP
from bot.sim.slack import Call, SlackDouble
from bot.store import Store
from bot.store.tables import Alert, Outbox
from testkit.e2e import BOT_TOKEN, eventually, settled
from testkit.world import World

CHANNEL = "C0BUSY"
EVERY = 1.5  # real seconds between one failure and the next, on average
# Simulated seconds from a cycle's start to its red step, for a cycle failing at each step.
_TO_RED = [sum(d for _, d in STEP_PLAN[:i]) + STEP_PLAN[i][1] / 2 for i in range(len(STEPS))]
SPEED = (GAP + statistics.mean(_TO_RED)) / EVERY


@dataclass
class Figures:
    latencies: list[float]
    posts: int
    replies: int
    updates: int
    rate_limited: int
    problems: list[str] = field(default_factory=list)


def _top_posts(slack: SlackDouble) -> list[Call]:
    return [
        c
        for c in slack.calls("chat.postMessage")
        if not c.params.get("thread_ts") and c.fault is None
    ]


def _metadata_id(call: Call) -> int | None:
    meta = call.params.get("metadata") or {}
    if isinstance(meta, str):
        meta = json.loads(meta)
    return (meta.get("event_payload") or {}).get("outbox_id")


async def run_case(samples: int, env: dict[str, str], *, limited: bool) -> Figures:
    slack = SlackDouble(token=BOT_TOKEN)
    if limited:
        slack.limit_rate(per_second=1.0, burst=4)
        slack.limit_updates(per_minute=50, burst=8)
    scenario = Scenario("busy", tuple(Fault(step, "fail") for step in STEPS))
    with tempfile.TemporaryDirectory() as tmp:
        async with World.open(Path(tmp), slack=slack) as world:
            url = await world.add_tenant("t0", scenario, speed=SPEED, channel=CHANNEL)
            assert url is not None
            bot = await world.start_bot(POLL_INTERVAL="1", LOG_LEVEL="WARNING", **env)
            ready = time.time()
            await eventually(
                lambda: len(_top_posts(slack)) >= samples + 2,
                timeout=EVERY * samples * 3 + 30,
                what=f"{samples} alerts",
            )
            async with httpx.AsyncClient() as client:
                # No more failures: the last alert turns green, and the outbox empties.
                await client.post(f"{url}/_sim/scenario", json={"name": "healthy"})
                await settled(bot, polls_more=3, timeout=180)
                cycles = (await client.get(f"{url}/api/v1/sync/cycles?limit=100")).json()
            store = Store(world.db_url)
            with store.session() as s:
                alerts = list(s.exec(select(Alert)).all())
                rows = list(s.exec(select(Outbox)).all())
            store.dispose()
    red_at: dict[str, float] = {}
    for cycle in cycles:
        for step in cycle["steps"]:
            if step["state"] == "failed":
                stamp = step["finished_at"].replace("Z", "+00:00")
                red_at[cycle["cycle_id"]] = datetime.fromisoformat(stamp).timestamp()
    by_outbox = {row.id: row for row in rows}
    posts = _top_posts(slack)
    figures = Figures(
        [],
        len(posts),
        len([c for c in slack.calls("chat.postMessage") if c.params.get("thread_ts")]),
        len(slack.calls("chat.update")),
        len(slack.rate_limited("chat.postMessage")) + len(slack.rate_limited("chat.update")),
    )
    alert_of_ts: dict[str, Alert] = {}
    posted_at: dict[str, float] = {}
    seen: set[int] = set()
    for call in posts:
        row = by_outbox.get(_metadata_id(call) or -1)
        if row is None or row.alert_id is None:
            continue
        if row.alert_id in seen:
            figures.problems.append(f"alert {row.alert_id} posted twice")
        seen.add(row.alert_id)
        alert = next(a for a in alerts if a.id == row.alert_id)
        alert_of_ts[str(alert.message_ts)] = alert
        posted_at[str(alert.message_ts)] = call.at
        red = red_at.get(alert.cycle_id or "")
        if red is not None and red > ready + 1.0 and len(figures.latencies) < samples:
            figures.latencies.append(call.at - red)
    for call in slack.calls("chat.postMessage") + slack.calls("chat.update"):
        if call.fault is not None:
            continue
        ts = call.params.get("thread_ts") or (
            call.params.get("ts") if call.method == "chat.update" else None
        )
        if ts and ts in posted_at and call.at < posted_at[ts]:
            figures.problems.append(f"{call.method} before the post of {ts}")
    replies = [c for c in slack.calls("chat.postMessage") if c.params.get("thread_ts")]
    for ts in alert_of_ts:
        ids = [_metadata_id(c) for c in replies if c.params["thread_ts"] == ts and not c.fault]
        if ids != sorted(ids):
            figures.problems.append(f"the thread of {ts} out of order: {ids}")
        if len(set(ids)) != len(ids):
            figures.problems.append(f"a reply told twice in the thread of {ts}")
    owed = [r for r in rows if r.kind in ("post", "reply")]
    told = {_metadata_id(c) for c in slack.calls("chat.postMessage") if not c.fault}
    lost = [r.id for r in owed if r.id not in told and r.result_ts is not None]
    undelivered = [r.id for r in rows if r.delivered_at is None]
    if lost or undelivered:
        figures.problems.append(f"lost: {lost}, undelivered: {undelivered}")
    if len(figures.latencies) < samples:
        figures.problems.append(f"only {len(figures.latencies)} samples")
    return figures


def _line(name: str, f: Figures) -> str:
    lat = sorted(f.latencies)
    return (
        f"  {name:<28} median {statistics.median(lat):.2f} s, worst {lat[-1]:.2f} s; "
        f"{f.posts} posts, {f.replies} replies, {f.updates} updates, {f.rate_limited} x 429"
        + (f"; PROBLEMS: {'; '.join(f.problems)}" if f.problems else "; none lost or reordered")
    )


async def main(samples: int, only: set[str]) -> None:
    print(
        f"red step -> new alert in Slack, one tenant failing every {EVERY:g} s, "
        f"POLL_INTERVAL=1, {samples} samples"
    )
    cases = {"default": {}, "unpaced": {"SLACK_CHANNEL_RATE": "0", "SLACK_UPDATE_RATE": "0"}}
    results = {}
    for name, env in cases.items():
        if name in only:
            results[name] = await run_case(samples, env, limited=name == "default")
            label = "default pacing" if name == "default" else "no pacing, no limits (baseline)"
            print(_line(label, results[name]), flush=True)
            print("    all " + " ".join(f"{x:.2f}" for x in results[name].latencies))
    if len(results) == 2:
        a, b = results["default"].latencies, results["unpaced"].latencies
        print(
            f"  ratio default/baseline: median {statistics.median(a) / statistics.median(b):.2f}, "
            f"worst {max(a) / max(b):.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--only", default="default,unpaced")
    args = parser.parse_args()
    asyncio.run(main(args.samples, set(args.only.split(","))))
