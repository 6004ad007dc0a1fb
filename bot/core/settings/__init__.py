"""Settings: read once from the environment (and an optional TOML file of tenants), checked,
and passed in. Nothing else in the package reads `os.environ`.

A wrong or missing setting raises `ConfigError` with one line per problem: the variable, what
is wrong, and how to fix it. One job per module:

- `environment`: the environment's schema (`Settings`) and the tenant it makes;
- `tenant`: a tenant's schema, and the defaults the environment's follow;
- `tenants_file`: EADM_BOT_CONFIG's `[[tenants]]`, and a wrong tenant's problem;
- `sources`: which sources there are, how they combine, and what each needs;
- `validators`: the value rules both schemas share (one for every web address);
- `problems`: the fix texts, and the schema's errors as problem lines;
- `checks`: the checks across fields, and the agent's;
- `load`: `load_settings`, which runs the schema and the checks.

The clock limits of the guide's rules are a core value of their own (`bot.core.thresholds`),
which `Settings.thresholds` builds and the pure rules take without importing this package.
"""

from bot.core.settings.checks import check_agent_settings, check_settings
from bot.core.settings.environment import Settings
from bot.core.settings.load import load_settings
from bot.core.settings.tenant import RerunConfig, Tenant, TicketConfig
from bot.core.settings.validators import normalize_mention
from bot.core.thresholds import Thresholds

__all__ = [
    "RerunConfig",
    "Settings",
    "Tenant",
    "Thresholds",
    "TicketConfig",
    "check_agent_settings",
    "check_settings",
    "load_settings",
    "normalize_mention",
]
