"""Which sources a tenant can read eAdm from, how they combine, and what each needs: the one
place both schemas (EADM_SOURCE and a tenant's `sources`) and the checks ask.
"""

from __future__ import annotations

import sys
from typing import Any, Literal, get_args

SourceKind = Literal["api", "task", "exporter"]
KINDS: tuple[SourceKind, ...] = get_args(SourceKind)
DEFAULT_SOURCE: SourceKind = "api"


def on_windows() -> bool:
    """Whether the bot runs on the eAdm client server itself, where it can run the shipped
    PowerShell script without a command of the admin's."""
    return sys.platform == "win32"


def parse_sources(value: Any) -> Any:
    """`api`, `task`, `exporter`, or a combination (`api,task`, ["api", "exporter"])."""
    if isinstance(value, str):
        value = [part.strip().lower() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        kinds = [str(v).lower() for v in value]
        if len(set(kinds)) != len(kinds) or not kinds:
            raise ValueError("must name each source once")
        if "task" in kinds and "exporter" in kinds:
            raise ValueError("combines task and exporter; use one of them (with api if wanted)")
        if len(kinds) > 1 and "api" not in kinds:
            raise ValueError("only api combines with task or exporter")
        return kinds
    return value


def unmet_sources(
    kinds: list[SourceKind],
    *,
    eadm_url: str | None,
    exporter_url: str | None,
    task_command: list[str] | None,
) -> list[SourceKind]:
    """The sources among `kinds` whose setting is missing, in the order api, exporter, task:
    api reads the status API's address, exporter windows_exporter's metrics address, and task
    a command that prints the sync task, except on Windows, where the bot runs the shipped
    PowerShell script by itself."""
    needs: dict[SourceKind, bool] = {
        "api": bool(eadm_url),
        "exporter": bool(exporter_url),
        "task": bool(task_command) or on_windows(),
    }
    return [kind for kind, met in needs.items() if kind in kinds and not met]
