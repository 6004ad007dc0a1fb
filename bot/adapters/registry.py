"""Each tenant's rerun runner and ticket target, built once from the settings at start-up.

Use cases and rendering read them here instead of building them again on every click. A
tenant whose runner or target is set up wrong has none (no Rerun button; a ticket is prepared
for copying), and the problem is kept, with the setting and its fix, for the start-up log and
`eadm-bot check` to report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from bot.adapters.runners import RerunRunner, runner_for
from bot.adapters.ticket_targets import TicketTarget, target_for
from bot.core.errors import ConfigError
from bot.core.settings import Tenant

RERUN = "rerun runner"
TICKET = "ticket target"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Misconfigured:
    """One adapter that could not be built: whose, which, and the settings to fix."""

    tenant: str
    item: str  # RERUN or TICKET
    problems: tuple[str, ...]

    def line(self) -> str:
        consequence = (
            "no Rerun button is offered"
            if self.item == RERUN
            else "tickets are prepared for copying, not sent"
        )
        return (
            f"[{self.tenant}] the {self.item} is misconfigured, so {consequence} until it is "
            f"fixed: {'; '.join(self.problems)}"
        )


@dataclass
class Adapters:
    runners: dict[str, RerunRunner | None] = field(default_factory=dict)
    targets: dict[str, TicketTarget | None] = field(default_factory=dict)
    misconfigured: list[Misconfigured] = field(default_factory=list)

    @classmethod
    def resolve(cls, tenants: Iterable[Tenant]) -> Adapters:
        adapters = cls()
        for tenant in tenants:
            adapters.runners[tenant.name] = adapters._build(tenant, RERUN, runner_for)
            adapters.targets[tenant.name] = adapters._build(tenant, TICKET, target_for)
        return adapters

    def _build(self, tenant: Tenant, item: str, make: Callable[[Tenant], T | None]) -> T | None:
        try:
            return make(tenant)
        except ConfigError as exc:
            self.misconfigured.append(Misconfigured(tenant.name, item, tuple(exc.problems)))
            return None

    def runner(self, tenant: str) -> RerunRunner | None:
        return self.runners.get(tenant)

    def target(self, tenant: str) -> TicketTarget | None:
        return self.targets.get(tenant)

    def problem(self, tenant: str, item: str) -> Misconfigured | None:
        return next((m for m in self.misconfigured if m.tenant == tenant and m.item == item), None)


__all__ = ["RERUN", "TICKET", "Adapters", "Misconfigured"]
