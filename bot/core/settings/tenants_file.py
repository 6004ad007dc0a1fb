"""EADM_BOT_CONFIG: the TOML file of `[[tenants]]` tables, read into tenants, and what an admin
is told when one of them is wrong: the tenant, the field, and the fix for that field.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from bot.core.settings.tenant import Tenant

# The error type the environment's problems recognise: its text already names the tenant, the
# field and the fix.
TENANT_SETTING = "tenant_setting"

# What to tell an admin for a tenant's own setting; the others point at the reference.
_MENTION_FIX = (
    "set it to a Slack user group ID (S0123ABCD), a user ID (U0123ABCD or "
    'W0123ABCD), "here", "channel", or "none" for nobody'
)
_FIXES: dict[str, str] = {
    "mention": _MENTION_FIX,
    "escalate_to": _MENTION_FIX,
    "maintenance": 'give a list of windows, e.g. maintenance = ["second tue 22:00-02:00"], or '
    "maintenance = [] for none (see docs/alerts.md)",
    "redact_patterns": 'set it to a list of Python regular expressions, e.g. ["EMP-\\\\d{5}"]',
}
_SEE = "see docs/tenants.md"


def tenants_from_file(path: Path, *, language: str, task_timeout: float) -> list[Tenant]:
    """Every tenant of the file, each with the environment's LANGUAGE and EADM_TASK_TIMEOUT
    unless it sets its own. Raises ValueError (a wrong file) or a tenant's own problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"is not valid TOML ({exc})") from None
    raw = data.get("tenants")
    if not isinstance(raw, list) or not raw:
        raise ValueError("has no [[tenants]] tables")
    tenants = []
    for entry in raw:
        entry = dict(entry)
        entry.setdefault("language", language)
        entry.setdefault("task_timeout", task_timeout)
        try:
            tenants.append(Tenant.model_validate(entry))
        except ValidationError as exc:
            raise _tenant_error(entry.get("name"), exc) from None
    names = [t.name for t in tenants]
    if len(set(names)) != len(names):
        raise ValueError("names a tenant twice; every tenant needs its own name")
    return tenants


def _tenant_error(name: object, exc: ValidationError) -> PydanticCustomError:
    """A tenant's wrong setting, named by tenant and field, with its own fix."""
    problems = []
    for err in exc.errors():
        field = ".".join(str(part) for part in err["loc"]) or "?"
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"tenant {name!r}, {field}: {message}; {_FIXES.get(field, _SEE)}")
    return PydanticCustomError(TENANT_SETTING, "{text}", {"text": ". ".join(problems)})
