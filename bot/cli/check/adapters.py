"""The rerun runner and ticket target checks, each resolved exactly as the running bot resolves
it and asked if it can work: probed, never fired."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.adapters.registry import RERUN, TICKET, Adapters, Misconfigured
from bot.cli.check.verdict import Verdict, failed, skipped
from bot.core.settings import Tenant

if TYPE_CHECKING:
    from bot.adapters.runners import RerunRunner
    from bot.adapters.ticket_targets import TicketTarget


async def _check_pluggable(
    item: str, plugged: RerunRunner | TicketTarget | None, problem: Misconfigured | None, unset: str
) -> Verdict:
    """A rerun runner or ticket target as the bot resolves it at start-up, asked if it can
    work (probed, never fired)."""
    if problem is not None:
        return failed(item, "; ".join(problem.problems))
    if plugged is None:
        return skipped(item, unset)
    ok, detail = await plugged.check()
    return Verdict(item, ok, f"{plugged.describe}: {detail}")


async def check_rerun(tenant: Tenant, adapters: Adapters | None = None) -> Verdict:
    adapters = adapters or Adapters.resolve([tenant])
    return await _check_pluggable(
        f"[{tenant.name}] rerun runner",
        adapters.runner(tenant.name),
        adapters.problem(tenant.name, RERUN),
        "not configured, so no Rerun button (set RERUN_COMMAND or RERUN_WEBHOOK_URL, or `rerun` "
        "for this tenant in EADM_BOT_CONFIG, to offer it)",
    )


async def check_ticket(tenant: Tenant, adapters: Adapters | None = None) -> Verdict:
    adapters = adapters or Adapters.resolve([tenant])
    return await _check_pluggable(
        f"[{tenant.name}] ticket target",
        adapters.target(tenant.name),
        adapters.problem(tenant.name, TICKET),
        "not configured, so tickets are prepared for copying, not sent (set "
        "TICKET_EMAIL_TO, TICKET_WEBHOOK_URL or ZENDESK_URL, or `ticket` for this tenant in "
        "EADM_BOT_CONFIG, to send them)",
    )
