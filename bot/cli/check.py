"""`eadm-bot check`: validate the settings and reach every configured endpoint, one verdict per
line, each failure with what to do about it.

Nothing here changes anything: the database is read, not migrated; Slack is asked, not posted
to; eAdm's status is read; rerun runners and ticket targets are probed, never fired.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.registry import RERUN, TICKET, Adapters, Misconfigured
from bot.core.domain import StepState
from bot.core.errors import ConfigError, SourceError
from bot.core.settings import Settings, Tenant, check_settings, load_settings
from bot.sources.api import EadmSource

if TYPE_CHECKING:
    from bot.adapters.runners import RerunRunner
    from bot.adapters.ticket_targets import TicketTarget

# The bot scopes of deploy/slack-app-manifest.yml, which is not installed with the package;
# tests/cli/test_check.py proves the two lists equal.
REQUIRED_SCOPES: tuple[str, ...] = (
    "chat:write",
    "chat:write.public",
    "channels:history",
    "groups:history",
    "channels:read",
    "groups:read",
    "commands",
    "users:read",
    "users:read.email",
    "usergroups:read",
)

ITEM_TIMEOUT = 30.0  # seconds any one item may take before it counts as failed
TENANTS_AT_ONCE = 8  # a provider's hundred tenants are checked in parallel, but not all at once
CHANNEL_PAGES = 20  # conversations.list pages read to find a channel by name (200 each)

_TOKEN_FIX = (
    "set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-...) from your Slack app's "
    "OAuth & Permissions page"
)
_APP_TOKEN_FIX = (
    "set SLACK_APP_TOKEN to an app-level token (xapp-...) with connections:write, from your "
    "Slack app's Basic Information page, and turn Socket Mode on under Settings, Socket Mode"
)
_INVITE_FIX = "invite the bot with /invite @eadm-bot in that channel"
_TOKEN_ERRORS = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    item: str
    ok: bool
    detail: str = ""
    fix: str | None = None
    skipped: bool = False  # not configured, or not checkable because something before failed

    @property
    def label(self) -> str:
        if self.skipped:
            return "skip"
        return "ok" if self.ok else "FAIL"

    def line(self) -> str:
        if self.ok and not self.skipped:
            text = self.item + (f" ({self.detail})" if self.detail else "")
        else:
            text = self.item + (f": {self.detail}" if self.detail else "")
            text += f" — {self.fix}" if self.fix else ""
        return f"  {self.label:<6}{text}"


def passed(item: str, detail: str = "") -> Verdict:
    return Verdict(item, True, detail)


def failed(item: str, detail: str, fix: str | None = None) -> Verdict:
    return Verdict(item, False, detail, fix)


def skipped(item: str, detail: str) -> Verdict:
    return Verdict(item, True, detail, skipped=True)


# -- the command ---------------------------------------------------------------------------------


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
    counted = len(verdicts) - skips
    note = f" ({skips} skipped)" if skips else ""
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
    for verdict in await _guarded(
        "database", asyncio.to_thread(check_database, settings.database_url)
    ):
        note(verdict)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=15)
    slack = await _guarded("Slack token", check_slack_token(client))
    for verdict in slack:
        note(verdict)
    slack_works = slack[0].ok
    for verdict in await _guarded("Slack app-level token", check_app_token(settings)):
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


async def _guarded(item: str, work: Awaitable[Verdict | list[Verdict]]) -> list[Verdict]:
    """Run one check; a hang or an unexpected error is a failed item, never a crashed check."""
    try:
        result = await asyncio.wait_for(work, ITEM_TIMEOUT)
    except TimeoutError:
        return [failed(item, f"no answer within {ITEM_TIMEOUT:.0f} s", "check the network path")]
    except Exception as exc:  # the admin needs a verdict, not a traceback
        return [failed(item, f"{type(exc).__name__}: {exc}")]
    return result if isinstance(result, list) else [result]


def _settings_verdict(settings: Settings) -> Verdict:
    names = [t.name for t in settings.tenants]
    shown = ", ".join(names[:5]) + (f", … ({len(names) - 5} more)" if len(names) > 5 else "")
    count = f"{len(names)} tenant{'s' if len(names) != 1 else ''}"
    mode = "Socket Mode" if settings.socket_mode else "HTTP mode"
    return passed("settings valid", f"{count}: {shown}; {mode}")


# -- database ------------------------------------------------------------------------------------


def check_database(url: str) -> Verdict:
    """Reachable, and at the newest migration. Reads only: an absent SQLite file stays absent."""
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import make_url

    from bot.store import Store
    from bot.store.repo import MIGRATIONS

    item = "database"
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    upgrade = "run eadm-bot db upgrade (eadm-bot run also does it on start)"
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path and path != ":memory:" and not path.startswith("file:"):
            file = Path(path).resolve()
            if not file.exists():
                return failed(item, f"the SQLite file {file} does not exist yet", upgrade)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    heads = set(script.get_heads())
    newest = ", ".join(sorted(heads))
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # A firewall that drops packets would otherwise hold the check for minutes.
        parsed = parsed.update_query_dict({"connect_timeout": "10"})
    store = Store(parsed.render_as_string(hide_password=False))
    try:
        with store.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except Exception as exc:  # any driver error means "not reachable", with its reason
        return failed(
            item,
            f"cannot connect to {shown} ({_db_error(exc)})",
            "check DATABASE_URL, and that the database server runs and lets this user in",
        )
    finally:
        store.dispose()
    if current in heads:
        return passed("database reachable and migrated", f"{shown}, revision {current}")
    if current is None:
        return failed(item, f"{shown} is reachable but has no eadm-bot tables yet", upgrade)
    try:
        known = script.get_revision(current) is not None
    except Exception:  # alembic raises several kinds for a revision it does not have
        known = False
    if not known:
        return failed(
            item,
            f"{shown} is at revision {current}, which this eadm-bot does not know (a newer "
            "version migrated it)",
            "run the eadm-bot version that migrated it, or point DATABASE_URL elsewhere",
        )
    return failed(item, f"{shown} is at revision {current}; the newest is {newest}", upgrade)


def _db_error(exc: Exception) -> str:
    reason = getattr(exc, "orig", None) or exc
    lines = str(reason).strip().splitlines()
    return f"{type(reason).__name__}: {lines[0] if lines else ''}".strip().rstrip(":")


# -- Slack ---------------------------------------------------------------------------------------


def _slack_error(exc: SlackApiError) -> str:
    error = exc.response.get("error") if exc.response is not None else None
    return str(error or exc)


def _network(exc: Exception) -> bool:
    # aiohttp's client errors do not all derive from OSError.
    return isinstance(exc, OSError | TimeoutError) or type(exc).__module__.startswith("aiohttp")


def _unreachable(what: str, base_url: str, exc: Exception) -> Verdict:
    return failed(
        what,
        f"cannot reach Slack at {base_url} ({type(exc).__name__}: {exc})",
        "allow outbound HTTPS to slack.com (set HTTPS_PROXY if a proxy is needed) or fix "
        "SLACK_API_URL",
    )


async def check_slack_token(client: AsyncWebClient) -> list[Verdict]:
    """The bot token works (auth.test), and carries every scope the manifest asks for."""
    item = "Slack token"
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        error = _slack_error(exc)
        fix = _TOKEN_FIX if error in _TOKEN_ERRORS else "check SLACK_BOT_TOKEN and SLACK_API_URL"
        return [failed(item, error, fix)]
    except Exception as exc:
        if _network(exc):
            return [_unreachable(item, client.base_url, exc)]
        raise
    who = f"bot @{response.get('user')} in {response.get('team')}"
    verdicts = [passed(item, who)]
    header = next(
        (v for k, v in (response.headers or {}).items() if k.lower() == "x-oauth-scopes"), None
    )
    if header is None:
        verdicts.append(skipped("Slack scopes", "Slack did not say which scopes the token has"))
        return verdicts
    granted = {s.strip() for s in str(header).split(",") if s.strip()}
    missing = [s for s in REQUIRED_SCOPES if s not in granted]
    if missing:
        verdicts.append(
            failed(
                "Slack scopes",
                f"missing {', '.join(missing)}",
                "add them under OAuth & Permissions, Bot Token Scopes (or paste "
                "deploy/slack-app-manifest.yml again) and reinstall the app after adding them",
            )
        )
    else:
        verdicts.append(passed("Slack scopes", f"all {len(REQUIRED_SCOPES)} the bot needs"))
    return verdicts


async def check_app_token(settings: Settings) -> Verdict:
    """Socket Mode: the app-level token may open a connection (apps.connections.open).

    The URL Slack hands out is used by nobody and expires by itself.
    """
    item = "Slack app-level token"
    if settings.slack_app_token is None:
        return skipped(
            item, "not set (HTTP mode), so Slack must reach this bot at POST /slack/events"
        )
    client = AsyncWebClient(base_url=settings.slack_api_url, timeout=15)
    try:
        await client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except SlackApiError as exc:
        error = _slack_error(exc)
        return failed(item, error, _APP_TOKEN_FIX)
    except Exception as exc:
        if _network(exc):
            return _unreachable(item, settings.slack_api_url, exc)
        raise
    return passed(item, "Socket Mode can connect")


async def check_channel(settings: Settings, tenant: Tenant, client: AsyncWebClient) -> Verdict:
    """The channel exists, is not archived, and the bot is in it (it reads its own messages
    back to never post twice, which needs membership)."""
    channel = tenant.channel
    item = f"[{tenant.name}] alert channel {channel}"
    setting = (
        f"channel of tenant {tenant.name} in EADM_BOT_CONFIG"
        if settings.eadm_bot_config
        else "ALERT_CHANNEL"
    )
    try:
        info = await _channel_info(client, channel)
    except SlackApiError as exc:
        error = _slack_error(exc)
        if error in ("channel_not_found", "not_in_channel"):
            fix = f"{_INVITE_FIX}, or fix {setting} (a channel ID like C0123... or #name)"
        elif error == "missing_scope":
            fix = "add channels:read and groups:read to the app and reinstall it"
        elif error in _TOKEN_ERRORS:
            fix = _TOKEN_FIX
        else:
            fix = f"check {setting}"
        return failed(item, error, fix)
    except Exception as exc:
        if _network(exc):
            return _unreachable(item, settings.slack_api_url, exc)
        raise
    found = f"{info.get('id')}" + (f", #{info['name']}" if info.get("name") else "")
    if info.get("is_archived"):
        return failed(item, f"{found} is archived", f"unarchive it or change {setting}")
    if info.get("is_member") is False:
        return failed(item, f"{found}: the bot is not a member", _INVITE_FIX)
    return passed(item, f"{found}, the bot is a member")


async def _channel_info(client: AsyncWebClient, channel: str) -> dict[str, Any]:
    """conversations.info, which wants an ID: a `#name` is looked up when Slack does not take
    it as it is."""
    try:
        response = await client.conversations_info(channel=channel)
        return dict(response.get("channel") or {})
    except SlackApiError as exc:
        if not channel.startswith("#") or _slack_error(exc) != "channel_not_found":
            raise
        first = exc
    name = channel.lstrip("#").lower()
    cursor: str | None = None
    try:
        for _ in range(CHANNEL_PAGES):
            page = await client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=False,
                limit=200,
                cursor=cursor,
            )
            for found in page.get("channels") or []:
                if str(found.get("name", "")).lower() == name:
                    response = await client.conversations_info(channel=found["id"])
                    return dict(response.get("channel") or {})
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except SlackApiError as exc:
        if _slack_error(exc) in _TOKEN_ERRORS | {"missing_scope"}:
            raise
    raise first


# -- eAdm, rerun, tickets ------------------------------------------------------------------------


async def check_eadm(tenant: Tenant) -> Verdict:
    item = f"[{tenant.name}] eAdm status API"
    token = tenant.eadm_api_token.get_secret_value() if tenant.eadm_api_token else None
    async with EadmSource(tenant.eadm_url, tenant.name, token) as source:
        try:
            snapshot = await source.current()
        except SourceError as exc:
            # The poller's wording promises a retry; here the admin has to act.
            message = str(exc).replace(" The bot tries again at the next poll.", "")
            message = message.replace("; the bot tries again at the next poll", "")
            return failed(item, message, _eadm_fix(message))
    done = sum(1 for s in snapshot.steps if s.state is StepState.COMPLETED)
    detail = f"{tenant.eadm_url}: cycle {snapshot.cycle_id}, {done} of {len(snapshot.steps)} "
    detail += "steps completed"
    if snapshot.problems:
        detail += f"; {len(snapshot.problems)} step(s) in a state the bot does not know"
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
        return failed(item, str(exc))
    finally:
        await reader.aclose()
    where = (
        " ".join(tenant.task_command or ["the shipped PowerShell script"])
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


def _eadm_fix(message: str) -> str | None:
    if "not the status contract" in message:
        return "point EADM_URL at a server that serves the README's status contract"
    return None  # the source's own messages already name what to check


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


async def check_tenant(
    settings: Settings, tenant: Tenant, client: AsyncWebClient, *, slack_works: bool
) -> list[Verdict]:
    channel_item = f"[{tenant.name}] alert channel {tenant.channel}"
    adapters = Adapters.resolve([tenant])  # exactly as the running bot resolves them
    checks: list[tuple[str, Awaitable[Verdict]]] = [
        ("rerun runner", check_rerun(tenant, adapters)),
        ("ticket target", check_ticket(tenant, adapters)),
    ]
    if tenant.task_source is not None:
        checks.insert(0, ("sync task", check_task(settings, tenant)))
    if "api" in tenant.sources:
        checks.insert(0, ("eAdm status API", check_eadm(tenant)))
    if slack_works:
        checks.insert(0, ("alert channel", check_channel(settings, tenant, client)))
    results = await asyncio.gather(
        *(_guarded(f"[{tenant.name}] {what}", work) for what, work in checks)
    )
    verdicts = [verdict for found in results for verdict in found]
    if not slack_works:
        verdicts.insert(0, skipped(channel_item, "not checked, the Slack token does not work"))
    return verdicts


__all__ = ["REQUIRED_SCOPES", "Verdict", "check_all", "run_check"]
