"""The checks the schema cannot make field by field: settings that only make sense together, and
what the agent on the eAdm client server needs beyond the defaults. Each returns the problems
as lines with their fix, so `load_settings`, `eadm-bot check` and `eadm-bot agent` tell them
alike.
"""

from __future__ import annotations

from bot.core.settings.environment import Settings
from bot.core.settings.problems import problem
from bot.core.settings.sources import SourceKind, on_windows

# What the environment is told when a source EADM_SOURCE names lacks its variable.
_NEEDS: dict[SourceKind, tuple[str, str]] = {
    "api": ("EADM_URL", "missing"),
    "exporter": ("EADM_EXPORTER_URL", "missing (needed for EADM_SOURCE=exporter)"),
    "task": (
        "EADM_TASK_COMMAND",
        "missing (needed for EADM_SOURCE=task where the bot does not run on the Windows server "
        "itself)",
    ),
}


def check_settings(
    settings: Settings, *, require_slack: bool = True, require_tenants: bool = True
) -> list[str]:
    """The problems pydantic cannot see alone: settings that only make sense together."""
    problems: list[str] = []
    if require_slack:
        problems += _slack_problems(settings)
    if require_tenants and not settings.eadm_bot_config:
        problems += [problem(*_NEEDS[kind]) for kind in settings.unmet_sources]
        if not settings.alert_channel:
            problems.append(problem("ALERT_CHANNEL", "missing"))
    if settings.ticket_email_to and settings.smtp_url is None:
        problems.append(problem("SMTP_URL", "missing while TICKET_EMAIL_TO is set"))
    problems += _escalation_problems(settings)
    return problems


def _escalation_problems(settings: Settings) -> list[str]:
    """Escalation after a while but nobody to escalate to: said once for the environment's
    ESCALATE_AFTER and ESCALATE_TO, and once for each tenant that set either itself."""
    problems: list[str] = []
    global_problem = problem(
        "ESCALATE_AFTER", f"is {settings.escalate_after:g} s but ESCALATE_TO names nobody"
    )
    if not settings.tenants and settings.escalate_after and settings.escalate_to in (None, "none"):
        problems.append(global_problem)
    for tenant in settings.tenants:
        after = settings.escalate_after if tenant.escalate_after is None else tenant.escalate_after
        to = tenant.escalate_to or settings.escalate_to
        if not after or to not in (None, "none"):
            continue
        if tenant.escalate_after is None and tenant.escalate_to is None:
            if global_problem not in problems:
                problems.append(global_problem)
            continue
        problems.append(
            f"tenant {tenant.name!r}: escalate_after is {after:g} s but nobody is named to "
            "escalate to; set its escalate_to (or ESCALATE_TO), or escalate_after = 0 to turn "
            "escalation off for it."
        )
    return problems


def _slack_problems(settings: Settings) -> list[str]:
    problems = []
    if settings.slack_bot_token is None:
        problems.append(problem("SLACK_BOT_TOKEN", "missing"))
    elif not settings.slack_bot_token.get_secret_value().startswith("xoxb-"):
        why = "does not look like a bot token (it should start with xoxb-)"
        problems.append(problem("SLACK_BOT_TOKEN", why))
    if settings.slack_app_token is not None:
        if not settings.slack_app_token.get_secret_value().startswith("xapp-"):
            problems.append(
                problem("SLACK_APP_TOKEN", "does not look like an app-level token (xapp-...)")
            )
    elif settings.slack_signing_secret is None:
        problems.append(problem("SLACK_SIGNING_SECRET", "missing (needed in HTTP mode)"))
    return problems


def check_agent_settings(settings: Settings) -> list[str]:
    """What `eadm-bot agent` needs beyond the defaults, one line per missing setting."""
    problems = []
    for name, value in (
        ("AGENT_TOKEN", settings.agent_token),
        ("AGENT_SECRET", settings.agent_secret),
    ):
        if value is None or len(value.get_secret_value()) < 16:
            why = "missing" if value is None else "shorter than 16 characters"
            problems.append(problem(name, why))
    if not settings.eadm_task_command and not on_windows():
        problems.append(
            problem(
                "EADM_TASK_COMMAND",
                "missing (the agent runs the shipped script by itself only on Windows)",
            )
        )
    if not settings.agent_start_command and not on_windows():
        why = "missing (the default, schtasks, exists only on Windows)"
        problems.append(problem("AGENT_START_COMMAND", why))
    return problems
