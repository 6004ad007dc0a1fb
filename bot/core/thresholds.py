"""The clock limits of the guide's rules: how long a step may wait or run, how long a new cycle
may be due and how long the source may fail before each becomes an alert.

A plain value, so that the pure rules (`detect`, `task_rules`) take it without knowing where it
came from: the settings build it from NOT_STARTED_AFTER, STUCK_AFTER, STUCK_FACTOR,
CYCLE_DUE_AFTER and SOURCE_DOWN_AFTER, whose defaults are the ones written here. Imports
nothing of the project.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Thresholds:
    """In seconds, but for `stuck_factor`: a step is stuck after `stuck_after` or after
    `stuck_factor` times its normal run time, whichever is longer."""

    not_started_after: float = 900
    stuck_after: float = 3600
    stuck_factor: float = 3.0
    cycle_due_after: float = 7200
    source_down_after: float = 600
