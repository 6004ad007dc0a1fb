"""`eadm-bot check` itself: every verdict in order, printed as it is known, and the summary
line with the exit code."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.registry import Adapters
from bot.cli.check.adapters import check_rerun, check_ticket
from bot.cli.check.database import check_database
from bot.cli.check.eadm import check_eadm, check_task
from bot.cli.check.events import check_events
from bot.cli.check.slack import (
    check_app_token,
    check_channel,
    check_slack_token,
    membership_events,
)
from bot.cli.check.verdict import Verdict, guarded, passed, skipped
from bot.cli.check.windows import check_escalation, check_windows
from bot.core.errors import ConfigError
from bot.core.settings import Settings, Tenant, check_settings, load_settings
from bot.sources.events import events_command

TENANTS_AT_ONCE = 8  # a provider's hundred tenants are checked in parallel, but not all at once


def run_check(settings: Settings | None = None, out: TextIO = sys.stdout) -> int:
    """Print one verdict per line. 0: all passed, 1: something failed, 2: settings invalid."""
    try:
        if settings is None:
            settings = load_settings()
        else:
            problems = check_settings(settings)
            if problems:
                raise ConfigError(problems)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"  {'FAIL':<6}{problem}", file=out)
        print(
            "The settings are not valid, so nothing else was checked. Fix the lines above "
            "(in the environment or .env) and run eadm-bot check again.",
            file=out,
        )
        return 2
    verdicts = asyncio.run(check_all(settings, report=lambda v: print(v.line(), file=out)))
    failures = [v for v in verdicts if not v.ok]
    skips = sum(v.skipped for v in verdicts)
    warnings = sum(v.warning for v in verdicts)
    counted = len(verdicts) - skips
    notes = [f"{skips} skipped"] if skips else []
    notes += [f"{warnings} warning{'s' if warnings != 1 else ''}"] if warnings else []
    note = f" ({', '.join(notes)})" if notes else ""
    if failures:
        print(
            f"{len(failures)} of {counted} checks failed{note}; fix them and run eadm-bot check "
            "again.",
            file=out,
        )
        return 1
    print(f"All {counted} checks passed{note}.", file=out)
    return 0


async def check_all(
    settings: Settings, *, report: Callable[[Verdict], None] | None = None
) -> list[Verdict]:
    """Every verdict, in order. `report` sees each as soon as it and those before it are known,
    so a slow item does not leave the admin looking at an empty screen."""
    verdicts: list[Verdict] = []

    def note(verdict: Verdict) -> None:
        verdicts.append(verdict)
        if report is not None:
            report(verdict)

    note(_settings_verdict(settings))
    for verdict in await guarded(
        "database", asyncio.to_thread(check_database, settings.database_url)
    ):
        note(verdict)
    note(passed("data kept", settings.retention.describe()))
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=15)
    slack = await guarded("Slack token", check_slack_token(client))
    for verdict in slack:
        note(verdict)
    slack_works = slack[0].ok
    if slack_works and len(settings.tenants) > 1:
        note(membership_events())
    for verdict in await guarded("Slack app-level token", check_app_token(settings)):
        note(verdict)

    gate = asyncio.Semaphore(TENANTS_AT_ONCE)

    async def tenant_checks(tenant: Tenant) -> list[Verdict]:
        async with gate:
            return await check_tenant(settings, tenant, client, slack_works=slack_works)

    tasks = [asyncio.ensure_future(tenant_checks(t)) for t in settings.tenants]
    for task in tasks:  # in the settings' order, whichever finishes first
        for verdict in await task:
            note(verdict)
    return verdicts


def _settings_verdict(settings: Settings) -> Verdict:
    names = [t.name for t in settings.tenants]
    shown = ", ".join(names[:5]) + (f", … ({len(names) - 5} more)" if len(names) > 5 else "")
    count = f"{len(names)} tenant{'s' if len(names) != 1 else ''}"
    mode = "Socket Mode" if settings.socket_mode else "HTTP mode"
    return passed("settings valid", f"{count}: {shown}; {mode}")


async def check_tenant(
    settings: Settings, tenant: Tenant, client: AsyncWebClient, *, slack_works: bool
) -> list[Verdict]:
    channel_item = f"[{tenant.name}] alert channel {tenant.channel}"
    adapters = Adapters.resolve([tenant])  # exactly as the running bot resolves them
    checks: list[tuple[str, Awaitable[Verdict | list[Verdict]]]] = [
        ("rerun runner", check_rerun(tenant, adapters)),
        ("ticket target", check_ticket(tenant, adapters)),
    ]
    if events_command(tenant) is not None:
        checks.insert(0, ("Event Viewer", check_events(settings, tenant)))
    if tenant.task_source is not None:
        checks.insert(0, ("sync task", check_task(settings, tenant)))
    if "api" in tenant.sources:
        checks.insert(
            0, ("eAdm status API", check_eadm(tenant, max_bytes=settings.source_max_bytes))
        )
    if slack_works:
        checks.insert(0, ("alert channel", check_channel(settings, tenant, client)))
    if slack_works and settings.escalation(tenant) is not None:
        checks.append(("escalation", _optional(check_escalation(settings, tenant, client))))
    results = await asyncio.gather(
        *(guarded(f"[{tenant.name}] {what}", work) for what, work in checks)
    )
    verdicts = [verdict for found in results for verdict in found]
    if not slack_works:
        verdicts.insert(0, skipped(channel_item, "not checked, the Slack token does not work"))
    if settings.maintenance_windows(tenant):
        verdicts.append(check_windows(settings, tenant))
    return verdicts


async def _optional(check: Awaitable[Verdict | None]) -> list[Verdict]:
    found = await check
    return [found] if found is not None else []
