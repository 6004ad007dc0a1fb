"""The eAdm checks: the status API answers with the status contract, and the sync task can be
read through the tenant's task or exporter source. Both are read, never started."""

from __future__ import annotations

import contextlib

from bot.cli.check.events import found
from bot.cli.check.verdict import Verdict, failed, passed
from bot.core.credentials import mask_argv
from bot.core.domain import StepState
from bot.core.errors import NotStatusContract, SourceError
from bot.core.inputs import SOURCE_MAX_BYTES
from bot.core.settings import Settings, Tenant
from bot.sources.api import EadmSource
from bot.sources.redacting import RedactingSource, redact_error

_CONTRACT_FIX = "point EADM_URL at a server that serves the status contract (docs/sources.md)"


async def check_eadm(tenant: Tenant, *, max_bytes: int = SOURCE_MAX_BYTES) -> Verdict:
    item = f"[{tenant.name}] eAdm status API"
    token = tenant.eadm_api_token.get_secret_value() if tenant.eadm_api_token else None
    # Read as the bot reads it: what eAdm says comes out redacted, here too.
    api = EadmSource(tenant.eadm_url, tenant.name, token, max_bytes=max_bytes)
    source = RedactingSource(api, tenant.redactor)
    async with contextlib.aclosing(source):
        try:
            snapshot = await source.current()
        except SourceError as exc:
            # The poller's wording promises a retry; here the admin has to act.
            message = str(exc).replace(" The bot tries again at the next poll.", "")
            message = message.replace("; the bot tries again at the next poll", "")
            # The source's own messages already name what to check, but for this one.
            fix = _CONTRACT_FIX if isinstance(exc, NotStatusContract) else None
            return failed(item, message, fix)
        if api.from_agent and api.reported_tenant != tenant.name:
            # The agent starts its task only for a request that names its own TENANT_NAME.
            named = tenant.redactor.within(str(api.reported_tenant), 200)
            return failed(
                item,
                f"{tenant.eadm_url} is eadm-bot agent for tenant {named!r}, "
                f"not {tenant.name!r}, so it would refuse this tenant's Rerun sync",
                f"set TENANT_NAME={tenant.name} for the agent on that server and restart it "
                "(or rename the tenant here)",
            )
    done = sum(1 for s in snapshot.steps if s.state is StepState.COMPLETED)
    detail = f"{tenant.eadm_url}: cycle {snapshot.cycle_id}, {done} of {len(snapshot.steps)} "
    detail += "steps completed"
    if snapshot.problems:
        detail += f"; {len(snapshot.problems)} step(s) in a state the bot does not know"
    if snapshot.task is not None and snapshot.task.events is not None:
        detail += "; with the last run, Event Viewer: "
        detail += found(snapshot.task.events, tenant.task_name)
    return passed(item, detail)


async def check_task(settings: Settings, tenant: Tenant) -> Verdict:
    """The sync task, read once through the tenant's task or exporter source."""
    from bot.core.task_rules import describe_result
    from bot.sources import task_reader

    kind = tenant.task_source
    item = f"[{tenant.name}] sync task ({kind})"
    try:
        reader = task_reader(tenant, settings.tz)
    except ValueError as exc:
        return failed(item, str(exc), "set EADM_TASK_COMMAND")
    assert reader is not None
    try:
        task = await reader.read()
    except SourceError as exc:
        return failed(item, str(redact_error(exc, tenant.redactor)))
    finally:
        await reader.aclose()
    where = (
        " ".join(mask_argv(tenant.task_command).argv)
        if kind == "task" and tenant.task_command
        else "the shipped PowerShell script"
        if kind == "task"
        else tenant.exporter_url
    )
    parts = [f'"{task.path}{task.name}" is {task.state.value}']
    if task.last_run_at:
        parts.append(f"last run {task.last_run_at.astimezone(settings.tz):%Y-%m-%d %H:%M}")
    elif kind == "task":
        parts.append("it has not run yet")
    if task.last_result is not None:
        parts.append(f"result {describe_result(task.last_result)}")
    elif task.last_ok is not None:
        parts.append("last run " + ("succeeded" if task.last_ok else "did not succeed"))
    if task.next_run_at:
        parts.append(f"next run {task.next_run_at.astimezone(settings.tz):%Y-%m-%d %H:%M}")
    if task.missed_runs:
        parts.append(f"{task.missed_runs} missed run(s)")
    return passed(item, f"{where}: " + "; ".join(parts))
