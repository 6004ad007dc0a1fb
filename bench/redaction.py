"""What redaction adds to one poll: a status answer of about 3 KB (nine steps, a failed one with
a long error text, and a step message carrying an identity number) parsed as the poll parses
it, then redacted as each tenant's source redacts it, with no site patterns and with three.

    python -m bench.redaction [--runs 20000]

The figure is the best of five timings of `runs` calls each, per call: what the machine can
do, without the noise of whatever else shares it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bot.core.domain import CORE_STEPS
from bot.core.redact import Redactor
from bot.sources.api import parse_cycle
from bot.sources.redacting import RedactingSource, redact_snapshot
from testkit.identity import synthetic_fnr

NOW = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
SITE = ["EMP-\\d{5}", "ANS\\d{6}", "(?i)personalnummer:? *\\d+"]


def status_answer() -> dict[str, object]:
    """About 3 KB of the status contract, as a busy installation answers it."""
    steps: list[dict[str, object]] = []
    for index, name in enumerate((*CORE_STEPS, "Export Azure", "Export eFeide")):
        steps.append(
            {
                "name": name,
                "state": "failed" if name == "Export AD" else "completed",
                "started_at": f"2026-11-24T21:{index * 4:02d}:02Z",
                "finished_at": f"2026-11-24T21:{index * 4 + 3:02d}:10Z",
                "message": None,
            }
        )
    steps[5]["message"] = (
        "LDAP error 52 (server unavailable) while exporting 4 users to OU=Ansatte,DC=kommune,"
        "DC=no; 2026-11-24 21:23:07 user kari.nordmann: 0000052D: SvcErr: DSID-031A1236, "
        "problem 5003 (WILL_NOT_PERFORM), data 0; retries 3 of 3 at 21:23:09, 21:23:13, "
        "21:23:21; the next cycle tries again. " * 6
    )
    steps[2]["message"] = f"Advarsel: leder mangler for ansatt {synthetic_fnr(1, 1, 1990)}"
    return {
        "cycle_id": "c-2026-11-24T21:00:00Z",
        "started_at": "2026-11-24T21:00:00Z",
        "finished_at": None,
        "steps": steps,
    }


def per_call(work: Callable[[], object], runs: int) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(runs):
            work()
        best = min(best, (time.perf_counter() - started) / runs)
    return best


def main(runs: int) -> None:
    answer = status_answer()
    size = len(json.dumps(answer))
    snapshot = parse_cycle(answer, tenant="t", fetched_at=NOW)
    plain, site = Redactor(), Redactor.from_patterns(SITE)
    parse = per_call(lambda: parse_cycle(answer, tenant="t", fetched_at=NOW), runs)
    fnr_only = per_call(lambda: redact_snapshot(snapshot, plain), runs)
    with_site = per_call(lambda: redact_snapshot(snapshot, site), runs)
    print(f"status answer: {size} bytes, {len(snapshot.steps)} steps")
    print(f"parse it (what a poll does anyway): {parse * 1e6:.1f} µs")
    print(f"redact it, identity numbers only: {fnr_only * 1e6:.1f} µs")
    print(f"redact it, with {len(SITE)} site patterns: {with_site * 1e6:.1f} µs")
    # A tenant's source remembers the last answer's texts: the next poll's are mostly the same.
    again = RedactingSource(None, site)  # type: ignore[arg-type]
    remembered = again._remembered

    def poll_again() -> None:
        redact_snapshot(snapshot, remembered)
        remembered.answered()

    repeat = per_call(poll_again, runs)
    print(f"redact it again on the next poll, as a tenant's source does: {repeat * 1e6:.1f} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20000)
    main(parser.parse_args().runs)
