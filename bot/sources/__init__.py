"""Sources: where snapshots come from. `api` reads the status contract over HTTP, `task` the
sync script's scheduled task through a command, `exporter` windows_exporter's scheduled_task
metrics; `source_for` builds a tenant's source, combining api with one of the others, and
wraps it so that what it reads is redacted (`redacting`).

May import: the core only. Must not import Slack, the store, adapters or app.
"""

from bot.sources.api import EadmSource, parse_cycle, parse_cycles
from bot.sources.combined import CombinedSource, Source, source_for, task_reader
from bot.sources.exporter import ExporterSource
from bot.sources.redacting import RedactingSource, redact_snapshot
from bot.sources.task import TaskSource

__all__ = [
    "CombinedSource",
    "EadmSource",
    "ExporterSource",
    "RedactingSource",
    "Source",
    "TaskSource",
    "parse_cycle",
    "parse_cycles",
    "redact_snapshot",
    "source_for",
    "task_reader",
]
