"""Settings: read once from the environment (and an optional TOML file of tenants), checked,
and passed in. Nothing else in the package reads `os.environ`.

A wrong or missing setting raises `ConfigError` with one line per problem: the variable, what
is wrong, and how to fix it.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from datetime import tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.errors import ConfigError
from bot.core.storm import StormRule
from bot.core.thresholds import Thresholds

Language = Literal["en", "nb"]
SourceKind = Literal["api", "task", "exporter"]
DEFAULT_TASK_NAME = "eAdm synkronisering"

# What to tell an admin for each setting that can be wrong.
_FIXES: dict[str, str] = {
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
    "POLL_INTERVAL": "set it to a number of seconds above 0 (default 60)",
    "PORT": "set it to a free TCP port between 1 and 65535 (default 3000; 0 picks any free port)",
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
    "EADM_PORTAL_STATUS_URL": "set it to the exact address of the portal's Synchronization "
    "Status page as your browser shows it, or leave it unset",
    "EADM_PORTAL_IMPORT_HISTORY_URL": "set it to the exact address of the portal's Import "
    "History page as your browser shows it, or leave it unset",
    "EADM_SOURCE": "set it to api, task or exporter, or to api,task or api,exporter to combine "
    "the status API with the sync task",
    "EADM_TASK_COMMAND": "set it to a JSON list that prints the sync task as JSON, e.g. "
    '["ssh", "eadm01", "powershell -NoProfile -File C:/eadm-bot/get-sync-task.ps1"] '
    '(see README, "Connect to your eAdm")',
    "EADM_TASK_TIMEOUT": "set it to a number of seconds above 0 (default 30)",
    "EADM_EXPORTER_URL": "set it to windows_exporter's metrics URL, e.g. "
    "http://eadm01:9182/metrics",
    "AGENT_START_COMMAND": "set it to a JSON list, e.g. "
    '["schtasks", "/Run", "/TN", "eAdm synkronisering"]',
    "AGENT_PORT": "set it to a free TCP port between 1 and 65535 (default 8731)",
    "AGENT_TOKEN": "set it to a long random string, and give the central bot the same as the "
    "tenant's eadm_api_token",
    "AGENT_SECRET": "set it to another long random string, and give the central bot the same "
    "as the tenant's rerun webhook secret",
}

_MENTION = re.compile(r"S[A-Z0-9]{2,}|[UW][A-Z0-9]{2,}|here|channel|none")


def normalize_mention(value: str | None) -> str | None:
    """Who a new alert notifies: a user group ID (S...), a user ID (U.../W...), here or channel
    (a leading @ or ! is forgiven), or "none" (a tenant's way to turn the global one off).
    Raises ValueError naming what is accepted."""
    if value is None:
        return None
    word = value.strip().lstrip("@!")
    if word.lower() in ("here", "channel", "none"):
        word = word.lower()
    if not _MENTION.fullmatch(word):
        raise ValueError(
            f"{value!r} is not a Slack user group ID (S...), a user ID (U... or W...), "
            "here or channel"
        )
    return word


def check_agent_settings(settings: Settings) -> list[str]:
    """What `eadm-bot agent` needs beyond the defaults, one line per missing setting."""
    problems = []
    for name, value in (
        ("AGENT_TOKEN", settings.agent_token),
        ("AGENT_SECRET", settings.agent_secret),
    ):
        if value is None or len(value.get_secret_value()) < 16:
            why = "missing" if value is None else "shorter than 16 characters"
            problems.append(f"{name}: {why}; {_FIXES[name]}.")
    if not settings.eadm_task_command and not on_windows():
        problems.append(
            "EADM_TASK_COMMAND: missing (the agent runs the shipped script by itself only on "
            f"Windows); {_FIXES['EADM_TASK_COMMAND']}."
        )
    if not settings.agent_start_command and not on_windows():
        problems.append(
            "AGENT_START_COMMAND: missing (the default, schtasks, exists only on Windows); "
            f"{_FIXES['AGENT_START_COMMAND']}."
        )
    return problems


def parse_argv(value: Any) -> Any:
    """A command given as a JSON list of strings (as the environment carries it)."""
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not valid JSON ({exc.msg})") from None
        if not isinstance(value, list) or not value or not all(isinstance(p, str) for p in value):
            raise ValueError("must be a non-empty JSON list of strings")
    return value


def parse_sources(value: Any) -> Any:
    """`api`, `task`, `exporter`, or a combination (`api,task`, ["api", "exporter"])."""
    if isinstance(value, str):
        value = [part.strip().lower() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        kinds = [str(v).lower() for v in value]
        if len(set(kinds)) != len(kinds) or not kinds:
            raise ValueError("must name each source once")
        if "task" in kinds and "exporter" in kinds:
            raise ValueError("combines task and exporter; use one of them (with api if wanted)")
        if len(kinds) > 1 and "api" not in kinds:
            raise ValueError("only api combines with task or exporter")
        return kinds
    return value


def on_windows() -> bool:
    return sys.platform == "win32"


class RerunConfig(BaseModel):
    """How a tenant's sync is started by hand. `none` hides the Rerun button."""

    kind: Literal["none", "command", "webhook", "simulator"] = "none"
    command: list[str] = Field(default_factory=list)
    url: str | None = None
    secret: SecretStr | None = None
    timeout: float = 60.0


class TicketConfig(BaseModel):
    """Where a support ticket goes. `none` still lets the admin copy the prepared text."""

    kind: Literal["none", "email", "webhook", "zendesk"] = "none"
    email_to: str | None = None
    email_from: str | None = None
    smtp_url: SecretStr | None = None
    url: str | None = None
    secret: SecretStr | None = None
    zendesk_email: str | None = None
    zendesk_token: SecretStr | None = None


class Tenant(BaseModel):
    """One eAdm installation being watched."""

    name: str
    eadm_url: str = ""  # needed when `sources` has api
    eadm_api_token: SecretStr | None = None
    sources: list[SourceKind] = Field(default_factory=lambda: ["api"])
    task_name: str = DEFAULT_TASK_NAME
    task_command: list[str] | None = None  # None: the shipped script, on Windows
    task_timeout: float = Field(default=30.0, gt=0)
    exporter_url: str | None = None
    channel: str
    language: Language = "en"
    portal_url: str | None = None
    # The exact addresses of portal pages, when the admin knows them; else the menu path is named.
    portal_status_url: str | None = None
    portal_import_history_url: str | None = None
    mention: str | None = None  # who a new alert notifies; None: the global MENTION
    log_dir: Path | None = None
    rerun: RerunConfig = Field(default_factory=RerunConfig)
    ticket: TicketConfig = Field(default_factory=TicketConfig)
    # Who may act on this tenant alone, beside the global ADMIN_USERS / ADMIN_GROUP.
    admin_users: list[str] = Field(default_factory=list)
    admin_group: str | None = None
    # More channels each alert goes to, beside `channel` (a provider's operations channel).
    channels: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _first_channel(cls, data: Any) -> Any:
        """`channels = [...]` alone names the first as `channel` and copies to the rest."""
        if isinstance(data, dict) and not data.get("channel") and data.get("channels"):
            first, *rest = list(data["channels"])
            data = {**data, "channel": first, "channels": rest}
        return data

    @property
    def all_channels(self) -> tuple[str, ...]:
        """Every channel an alert of this tenant goes to, `channel` first, each once."""
        return tuple(dict.fromkeys((self.channel, *self.channels)))

    @field_validator("admin_users", mode="before")
    @classmethod
    def _users(cls, value: Any) -> Any:
        return _user_list(value)

    @model_validator(mode="before")
    @classmethod
    def _source_word(cls, data: Any) -> Any:
        if isinstance(data, dict) and "source" in data:
            data = dict(data)
            data.setdefault("sources", data.pop("source"))
        return data

    _sources = field_validator("sources", mode="before")(lambda v: parse_sources(v))
    _command = field_validator("task_command", mode="before")(lambda v: parse_argv(v))

    @field_validator("eadm_url", "exporter_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _source_needs(self) -> Tenant:
        if "api" in self.sources and not self.eadm_url:
            raise ValueError(f"tenant {self.name}: source api needs eadm_url")
        if "exporter" in self.sources and not self.exporter_url:
            raise ValueError(f"tenant {self.name}: source exporter needs exporter_url")
        if "task" in self.sources and not self.task_command and not on_windows():
            raise ValueError(
                f"tenant {self.name}: source task needs task_command here (only on Windows "
                "does the bot run the shipped PowerShell script by itself)"
            )
        return self

    @property
    def task_source(self) -> SourceKind | None:
        """task or exporter, when the tenant watches the sync task."""
        return next((s for s in self.sources if s != "api"), None)

    @field_validator("portal_url", "portal_status_url", "portal_import_history_url")
    @classmethod
    def _page(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("mention")
    @classmethod
    def _mention(cls, value: str | None) -> str | None:
        return normalize_mention(value)

    @property
    def portal_pages(self) -> dict[str, str]:
        """The portal pages the admin gave exact addresses for, by playbook link name."""
        pages = {"status": self.portal_status_url, "import_history": self.portal_import_history_url}
        return {link: url for link, url in pages.items() if url}


def _user_list(value: Any) -> Any:
    """Slack user IDs as a list, or one string separated by commas or semicolons."""
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


_THRESHOLDS = Thresholds()
_STORM = StormRule()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
    )

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = Field(default=3000, ge=0, le=65535)
    host: str = "0.0.0.0"
    delivery_retry_cap: float = Field(default=300, gt=0)
    # Slack's pace per channel (messages per second after a short burst); 0 turns it off.
    slack_channel_rate: float = Field(default=1.0, ge=0)
    slack_channel_burst: int = Field(default=3, ge=1)
    # More than STORM_AFTER new alerts for one channel within STORM_WINDOW s: one digest.
    storm_after: int = Field(default=_STORM.after, ge=1)
    storm_window: float = Field(default=_STORM.window, gt=0)
    alert_channel: str | None = None
    mention: str | None = None
    admin_users: Annotated[list[str], NoDecode] = Field(default_factory=list)
    admin_group: str | None = None

    # eAdm
    eadm_url: str | None = None
    eadm_api_token: SecretStr | None = None
    eadm_portal_url: str | None = None
    eadm_portal_status_url: str | None = None
    eadm_portal_import_history_url: str | None = None
    eadm_log_dir: Path | None = None
    playbook_extra: Path | None = None
    tenant_name: str = "eadm"
    poll_interval: float = Field(default=60, gt=0)
    eadm_source: str = "api"
    eadm_task_name: str = DEFAULT_TASK_NAME
    eadm_task_command: Annotated[list[str] | None, NoDecode] = None
    eadm_task_timeout: float = Field(default=30, gt=0)
    eadm_exporter_url: str | None = None

    # Detection and reminders
    not_started_after: float = Field(default=_THRESHOLDS.not_started_after, gt=0)
    stuck_after: float = Field(default=_THRESHOLDS.stuck_after, gt=0)
    stuck_factor: float = Field(default=_THRESHOLDS.stuck_factor, ge=1)
    cycle_due_after: float = Field(default=_THRESHOLDS.cycle_due_after, gt=0)
    source_down_after: float = Field(default=_THRESHOLDS.source_down_after, ge=0)
    remind_after: float = Field(default=7200, gt=0)

    # Actions
    rerun_command: Annotated[list[str] | None, NoDecode] = None
    rerun_webhook_url: str | None = None
    rerun_webhook_secret: SecretStr | None = None
    rerun_grace: float = Field(default=600, gt=0)
    rerun_timeout: float = Field(default=60, gt=0)
    rerun_cooldown: float = Field(default=900, ge=0)
    ticket_webhook_url: str | None = None
    ticket_webhook_secret: SecretStr | None = None
    ticket_email_to: str | None = None
    ticket_email_from: str | None = None
    smtp_url: SecretStr | None = None
    zendesk_url: str | None = None
    zendesk_email: str | None = None
    zendesk_token: SecretStr | None = None

    # The agent on the eAdm client server (`eadm-bot agent`)
    agent_port: int = Field(default=8731, ge=0, le=65535)
    agent_token: SecretStr | None = None
    agent_secret: SecretStr | None = None
    agent_start_command: Annotated[list[str] | None, NoDecode] = None

    # Running
    language: Language = "en"
    timezone: str = "Europe/Oslo"
    database_url: str = "sqlite:///eadm-bot.db"
    eadm_bot_config: Path | None = None
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"

    # Filled by the validator below from the variables above or the TOML file; not itself
    # read from the environment.
    _tenants: list[Tenant] = PrivateAttr(default_factory=list)

    @field_validator("admin_users", mode="before")
    @classmethod
    def _split_users(cls, value: Any) -> Any:
        return _user_list(value)

    @field_validator("rerun_command", "eadm_task_command", "agent_start_command", mode="before")
    @classmethod
    def _argv(cls, value: Any) -> Any:
        return parse_argv(value)

    @field_validator("eadm_source")
    @classmethod
    def _sources(cls, value: str) -> str:
        kinds = parse_sources(value)
        if bad := [k for k in kinds if k not in ("api", "task", "exporter")]:
            raise ValueError(f"names an unknown source {bad[0]!r}")
        return ",".join(kinds)

    @property
    def source_kinds(self) -> list[SourceKind]:
        """EADM_SOURCE as a list: api, task, exporter, or api with one of the others."""
        return cast(list[SourceKind], self.eadm_source.split(","))

    @field_validator("mention")
    @classmethod
    def _mention(cls, value: str | None) -> str | None:
        return normalize_mention(value)

    @field_validator("eadm_portal_status_url", "eadm_portal_import_history_url")
    @classmethod
    def _portal_page(cls, value: str | None) -> str | None:
        # An exact page address, kept as given (a trailing slash or fragment may matter).
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value if value.endswith("/") else value + "/"

    @field_validator(
        "eadm_url",
        "eadm_portal_url",
        "rerun_webhook_url",
        "ticket_webhook_url",
        "zendesk_url",
        "eadm_exporter_url",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str) -> str:
        if value.startswith("postgresql://"):
            # psycopg 3 is the driver we ship; spare the admin the dialect suffix.
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if not value.startswith(("sqlite://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @model_validator(mode="after")
    def _read_tenants(self) -> Settings:
        if self.eadm_bot_config:
            self._tenants = _tenants_from_file(self.eadm_bot_config, self)
        elif self.alert_channel and self._env_source_complete():
            self._tenants = [self._env_tenant()]
        return self

    @property
    def tenants(self) -> list[Tenant]:
        """Every tenant watched: one from the variables above, or those of EADM_BOT_CONFIG."""
        return self._tenants

    def _env_source_complete(self) -> bool:
        """Whether the variables name every source EADM_SOURCE asks for (check_settings says
        which one is missing otherwise)."""
        kinds = self.source_kinds
        return not (
            ("api" in kinds and not self.eadm_url)
            or ("exporter" in kinds and not self.eadm_exporter_url)
            or ("task" in kinds and not self.eadm_task_command and not on_windows())
        )

    def _env_tenant(self) -> Tenant:
        if self.rerun_command:
            rerun = RerunConfig(
                kind="command", command=self.rerun_command, timeout=self.rerun_timeout
            )
        elif self.rerun_webhook_url:
            rerun = RerunConfig(
                kind="webhook",
                url=self.rerun_webhook_url,
                secret=self.rerun_webhook_secret,
                timeout=self.rerun_timeout,
            )
        else:
            rerun = RerunConfig()
        if self.zendesk_url:
            ticket = TicketConfig(
                kind="zendesk",
                url=self.zendesk_url,
                zendesk_email=self.zendesk_email,
                zendesk_token=self.zendesk_token,
            )
        elif self.ticket_email_to:
            ticket = TicketConfig(
                kind="email",
                email_to=self.ticket_email_to,
                email_from=self.ticket_email_from,
                smtp_url=self.smtp_url,
            )
        elif self.ticket_webhook_url:
            ticket = TicketConfig(
                kind="webhook", url=self.ticket_webhook_url, secret=self.ticket_webhook_secret
            )
        else:
            ticket = TicketConfig()
        return Tenant(
            name=self.tenant_name,
            eadm_url=self.eadm_url or "",
            eadm_api_token=self.eadm_api_token,
            sources=self.source_kinds,
            task_name=self.eadm_task_name,
            task_command=self.eadm_task_command,
            task_timeout=self.eadm_task_timeout,
            exporter_url=self.eadm_exporter_url,
            channel=self.alert_channel or "",
            language=self.language,
            portal_url=self.eadm_portal_url,
            portal_status_url=self.eadm_portal_status_url,
            portal_import_history_url=self.eadm_portal_import_history_url,
            log_dir=self.eadm_log_dir,
            rerun=rerun,
            ticket=ticket,
        )

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(
            not_started_after=self.not_started_after,
            stuck_after=self.stuck_after,
            stuck_factor=self.stuck_factor,
            cycle_due_after=self.cycle_due_after,
            source_down_after=self.source_down_after,
        )

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def tenant(self, name: str | None = None) -> Tenant | None:
        if name is None:
            return self.tenants[0] if len(self.tenants) == 1 else None
        return next((t for t in self.tenants if t.name == name), None)


def _tenants_from_file(path: Path, settings: Settings) -> list[Tenant]:
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
        entry.setdefault("language", settings.language)
        entry.setdefault("task_timeout", settings.eadm_task_timeout)
        try:
            tenants.append(Tenant.model_validate(entry))
        except ValidationError as exc:
            raise _tenant_error(entry.get("name"), exc) from None
    names = [t.name for t in tenants]
    if len(set(names)) != len(names):
        raise ValueError("names a tenant twice; every tenant needs its own name")
    return tenants


# What to tell an admin for a tenant's own setting in EADM_BOT_CONFIG.
_TENANT_FIXES: dict[str, str] = {
    "mention": "set it to a Slack user group ID (S0123ABCD), a user ID (U0123ABCD or "
    'W0123ABCD), "here", "channel", or "none" for nobody',
}


def _tenant_error(name: object, exc: ValidationError) -> PydanticCustomError:
    """A tenant's wrong setting, named by tenant and field, with its own fix."""
    problems = []
    for err in exc.errors():
        field = ".".join(str(part) for part in err["loc"]) or "?"
        message = err["msg"].removeprefix("Value error, ")
        fix = _TENANT_FIXES.get(field, "see the README's Many tenants section")
        problems.append(f"tenant {name!r}, {field}: {message}; {fix}")
    return PydanticCustomError("tenant_setting", "{text}", {"text": ". ".join(problems)})


def _env_name(loc: tuple[Any, ...]) -> str:
    if not loc:
        return "EADM_BOT_CONFIG"
    return str(loc[0]).upper()


def load_settings(
    *, require_slack: bool = True, require_tenants: bool = True, **overrides: Any
) -> Settings:
    """Read and check the settings. Raises ConfigError listing every problem with its fix."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = _env_name(err["loc"])
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "tenant_setting":  # names the tenant's field and its fix itself
                problems.append(f"{name}: {message}.")
                continue
            fix = _FIXES.get(name, "see .env.example for the expected form")
            problems.append(f"{name}: {message}; {fix}.")
        raise ConfigError(problems) from None
    problems = check_settings(
        settings, require_slack=require_slack, require_tenants=require_tenants
    )
    if problems:
        raise ConfigError(problems)
    return settings


def check_settings(
    settings: Settings, *, require_slack: bool = True, require_tenants: bool = True
) -> list[str]:
    """The problems pydantic cannot see alone: settings that only make sense together."""
    problems: list[str] = []

    def need(name: str, why: str) -> None:
        problems.append(f"{name}: {why}; {_FIXES[name]}.")

    if require_slack:
        if settings.slack_bot_token is None:
            need("SLACK_BOT_TOKEN", "missing")
        elif not settings.slack_bot_token.get_secret_value().startswith("xoxb-"):
            need("SLACK_BOT_TOKEN", "does not look like a bot token (it should start with xoxb-)")
        if settings.slack_app_token is not None:
            if not settings.slack_app_token.get_secret_value().startswith("xapp-"):
                need("SLACK_APP_TOKEN", "does not look like an app-level token (xapp-...)")
        elif settings.slack_signing_secret is None:
            need("SLACK_SIGNING_SECRET", "missing (needed in HTTP mode)")
    if require_tenants and not settings.eadm_bot_config:
        kinds = settings.source_kinds
        if "api" in kinds and not settings.eadm_url:
            need("EADM_URL", "missing")
        if "exporter" in kinds and not settings.eadm_exporter_url:
            need("EADM_EXPORTER_URL", "missing (needed for EADM_SOURCE=exporter)")
        if "task" in kinds and not settings.eadm_task_command and not on_windows():
            need(
                "EADM_TASK_COMMAND",
                "missing (needed for EADM_SOURCE=task where the bot does not run on the "
                "Windows server itself)",
            )
        if not settings.alert_channel:
            need("ALERT_CHANNEL", "missing")
    if settings.ticket_email_to and settings.smtp_url is None:
        need("SMTP_URL", "missing while TICKET_EMAIL_TO is set")
    return problems
