"""What an admin is told about a wrong or missing environment variable: one line per problem,
the variable, what is wrong, and how to fix it. The fix texts live here; the schema and the
checks say only what is wrong.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bot.core.settings.environment import Settings
from bot.core.settings.tenants_file import TENANT_SETTING


def _default(field: str) -> str:
    """A variable's default as its fix text quotes it, taken from the schema."""
    return f"{Settings.model_fields[field].default:g}"


# What to tell an admin for each setting that can be wrong.
FIXES: dict[str, str] = {
    "SLACK_BOT_TOKEN": "set it to the Bot User OAuth Token (xoxb-...) from your Slack app's "
    "OAuth & Permissions page",
    "SLACK_APP_TOKEN": "set it to an app-level token (xapp-...) with connections:write, or "
    "unset it to use HTTP mode",
    "SLACK_SIGNING_SECRET": "set it to the Signing Secret from your Slack app's Basic "
    "Information page, or set SLACK_APP_TOKEN to use Socket Mode",
    "SLACK_API_URL": "set it to a URL ending in /api/, e.g. https://slack.com/api/",
    "EADM_URL": "set it to the base URL of the eAdm status API, e.g. https://eadm.example.no",
    "ALERT_CHANNEL": "set it to the channel ID (C0123...) or name (#eadm-alerts) the bot "
    "should post to",
    "POLL_INTERVAL": f"set it to a number of seconds above 0 (default {_default('poll_interval')})",
    "PORT": "set it to a free TCP port between 1 and 65535 "
    f"(default {_default('port')}; 0 picks any free port)",
    "LANGUAGE": "set it to en or nb",
    "RERUN_COMMAND": "set it to a JSON list, e.g. "
    '["schtasks", "/Run", "/TN", "eAdm synkronisering"]',
    "TICKET_EMAIL_TO": "set it together with SMTP_URL, e.g. smtp://user:pass@mail.example.no:587",
    "SMTP_URL": "set it to smtp://[user:password@]host[:port] (STARTTLS is used when offered)",
    "TIMEZONE": "set it to an IANA time zone name, e.g. Europe/Oslo",
    "EADM_BOT_CONFIG": "point it at a readable TOML file with [[tenants]] tables, or unset it",
    "DATABASE_URL": "set it to sqlite:///path/to/eadm-bot.db or postgresql+psycopg://user@host/db",
    "MENTION": "set it to a Slack user group ID (S0123ABCD: the group's ID, not its @handle), "
    "a user ID (U0123ABCD or W0123ABCD), here or channel, or leave it unset",
    "ESCALATE_TO": "set it to a Slack user group ID (S0123ABCD: the group's ID, not its "
    "@handle), a user ID (U0123ABCD or W0123ABCD), here or channel",
    "ESCALATE_AFTER": "set ESCALATE_TO to whom an alert nobody acknowledged is escalated (a "
    "user group ID S0123ABCD, a user ID U0123ABCD, here or channel), or ESCALATE_AFTER=0 to "
    "turn escalation off",
    "MAINTENANCE": "separate windows with commas, e.g. "
    'MAINTENANCE="second tue 22:00-02:00, sun 06:00-08:00" (see docs/alerts.md)',
    "EADM_PORTAL_STATUS_URL": "set it to the exact address of the portal's Synchronization "
    "Status page as your browser shows it, or leave it unset",
    "EADM_PORTAL_IMPORT_HISTORY_URL": "set it to the exact address of the portal's Import "
    "History page as your browser shows it, or leave it unset",
    "EADM_SOURCE": "set it to api, task or exporter, or to api,task or api,exporter to combine "
    "the status API with the sync task",
    "EADM_TASK_COMMAND": "set it to a JSON list that prints the sync task as JSON, e.g. "
    '["ssh", "eadm01", "powershell -NoProfile -File C:/eadm-bot/get-sync-task.ps1"] '
    '(see docs/sources.md, "Connect to your eAdm")',
    "EADM_EVENTS_COMMAND": "set it to a JSON list that prints the task's events as JSON, e.g. "
    '["ssh", "eadm01", "powershell -NoProfile -File C:/eadm-bot/get-sync-events.ps1 '
    '-TaskName \\"{task}\\" -Since {since}"] (see docs/sources.md, "What Event Viewer says")',
    "EADM_TASK_TIMEOUT": "set it to a number of seconds above 0 "
    f"(default {_default('eadm_task_timeout')})",
    "EADM_EXPORTER_URL": "set it to windows_exporter's metrics URL, e.g. "
    "http://eadm01:9182/metrics",
    "AGENT_START_COMMAND": "set it to a JSON list, e.g. "
    '["schtasks", "/Run", "/TN", "eAdm synkronisering"]',
    "AGENT_PORT": "set it to a free TCP port between 1 and 65535 "
    f"(default {_default('agent_port')})",
    "AGENT_TOKEN": "set it to a long random string, and give the central bot the same as the "
    "tenant's eadm_api_token",
    "AGENT_SECRET": "set it to another long random string, and give the central bot the same "
    "as the tenant's rerun webhook secret",
    "REDACT_PATTERNS": "set it to a JSON list of Python regular expressions, e.g. "
    '["EMP-\\\\d{5}"], or unset it (identity numbers are removed either way)',
    "RETENTION_DAYS": "set it to a whole number of days "
    f"(default {_default('retention_days')}; 0 keeps everything)",
    "AUDIT_RETENTION_DAYS": "set it to a whole number of days "
    f"(default {_default('audit_retention_days')}; 0 keeps the audit log for ever)",
}
_SEE = "see .env.example for the expected form"


def problem(name: str, why: str) -> str:
    """One line for a variable that is wrong in a way its fix text answers."""
    return f"{name}: {why}; {FIXES[name]}."


def schema_problems(exc: ValidationError) -> list[str]:
    """The environment schema's errors as lines, each with its variable's fix."""
    problems = []
    for err in exc.errors():
        name = _env_name(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == TENANT_SETTING:  # names the tenant's field and its fix itself
            problems.append(f"{name}: {message}.")
            continue
        problems.append(f"{name}: {message}; {FIXES.get(name, _SEE)}.")
    return problems


def _env_name(loc: tuple[Any, ...]) -> str:
    # An error without a field comes from the model validator that reads EADM_BOT_CONFIG.
    if not loc:
        return "EADM_BOT_CONFIG"
    return str(loc[0]).upper()
