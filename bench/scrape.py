"""What one /metrics scrape costs the bot at N tenants: CPU time and bytes, now and with the
per-tenant series the bot had before (a poll-time histogram per tenant, and a `_created`
series beside every counter and histogram), both filled as N tenants' polls fill them.

Measured in this process with prometheus_client's own generate_latest, best of 20 scrapes of
each; the earlier shape is rebuilt here in a registry of its own.

    python -m bench.scrape [--tenants 1000]
"""

from __future__ import annotations

import argparse
import time

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.core import metrics

ROUNDS = 20


def earlier(tenants: list[str]) -> CollectorRegistry:
    """The per-tenant series as they were, filled for `tenants`."""
    registry = CollectorRegistry()
    polls = Counter("eadm_bot_polls_total", "polls", ["tenant"], registry=registry)
    errors = Counter("eadm_bot_poll_errors_total", "errors", ["tenant"], registry=registry)
    latency = Histogram("eadm_bot_poll_seconds", "latency", ["tenant"], registry=registry)
    last = Gauge("eadm_bot_last_success_timestamp_seconds", "last", ["tenant"], registry=registry)
    for tenant in tenants:
        polls.labels(tenant=tenant).inc()
        errors.labels(tenant=tenant)
        latency.labels(tenant=tenant).observe(0.11)
        last.labels(tenant=tenant).set(time.time())
    return registry


def now(tenants: list[str]) -> CollectorRegistry:
    """The bot's own metrics, filled as its poller fills them for `tenants`."""
    for tenant in tenants:
        metrics.POLLS.labels(tenant=tenant).inc()
        metrics.POLL_ERRORS.labels(tenant=tenant)
        metrics.POLL_LATENCY.observe(0.11)
        metrics.LAST_POLL.labels(tenant=tenant).set(time.time())
    return prometheus_client.REGISTRY


def cost(registry: CollectorRegistry) -> tuple[float, int]:
    """The least CPU time of one scrape, in ms, and its size in bytes."""
    best, size = float("inf"), 0
    for _ in range(ROUNDS):
        started = time.process_time()
        body = generate_latest(registry)
        best = min(best, time.process_time() - started)
        size = len(body)
    return best * 1000, size


def print_scrapes(tenants: int) -> None:
    names = [f"t{i:04d}" for i in range(tenants)]
    prometheus_client.enable_created_metrics()
    before = cost(earlier(names))
    prometheus_client.disable_created_metrics()
    after = cost(now(names))
    print(f"\nmetrics: one /metrics scrape at {tenants} tenants (best of {ROUNDS})")
    print(f"  {'':>34} {'CPU ms':>7} {'KiB':>6}")
    print(f"  {'per-tenant histogram, _created':>34} {before[0]:7.1f} {before[1] / 1024:6.0f}")
    print(f"  {'the bot now':>34} {after[0]:7.1f} {after[1] / 1024:6.0f}")
    print(f"  {after[0] / before[0]:.2f} x the CPU, {after[1] / before[1]:.2f} x the bytes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    print_scrapes(parser.parse_args().tenants)
