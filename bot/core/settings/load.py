"""Reading the settings once at start-up: the schema first, then the checks across fields, and
every problem of both in one ConfigError.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bot.core.errors import ConfigError
from bot.core.settings.checks import check_settings
from bot.core.settings.environment import Settings
from bot.core.settings.problems import schema_problems


def load_settings(
    *, require_slack: bool = True, require_tenants: bool = True, **overrides: Any
) -> Settings:
    """Read and check the settings. Raises ConfigError listing every problem with its fix."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(schema_problems(exc)) from None
    problems = check_settings(
        settings, require_slack=require_slack, require_tenants=require_tenants
    )
    if problems:
        raise ConfigError(problems)
    return settings
