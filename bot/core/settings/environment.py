"""The environment's schema: every variable the bot reads (and `.env`), its default and its own
check, and the tenants it makes: one from the variables, or those of EADM_BOT_CONFIG. Nothing
else in the package reads `os.environ`.

Defaults that a core value or a tenant also has (the thresholds, the storm rule, a tenant's
task timeout) are taken from there, so each is written once.
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.inputs import SOURCE_MAX_BYTES
from bot.core.maintenance import MaintenanceError, Window, parse_windows
from bot.core.notify import EscalationRule
from bot.core.redact import PatternError, Redactor, compile_patterns
from bot.core.retention import Retention
from bot.core.settings import sources
from bot.core.settings.sources import DEFAULT_SOURCE, KINDS, SourceKind, parse_sources
from bot.core.settings.tenant import (
    DEFAULT_LANGUAGE,
    DEFAULT_TASK_NAME,
    RERUN_TIMEOUT,
    TASK_TIMEOUT,
    Language,
    RerunConfig,
    Tenant,
    TicketConfig,
)
from bot.core.settings.tenants_file import tenants_from_file
from bot.core.settings.validators import Argv, BaseUrl, Mention, PageUrl, Url, Users
from bot.core.storm import StormRule
from bot.core.thresholds import Thresholds

POLL_DEADLINE_MAX = 30.0  # seconds, whatever POLL_INTERVAL is
_THRESHOLDS = Thresholds()
_STORM = StormRule()
_RETENTION = Retention()


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
    slack_api_url: BaseUrl = "https://slack.com/api/"
    port: int = Field(default=3000, ge=0, le=65535)
    host: str = "0.0.0.0"
    # /readyz and /metrics on a listener of their own (loopback unless OPS_HOST says else);
    # without OPS_PORT they stay on PORT.
    ops_port: int | None = Field(default=None, ge=0, le=65535)
    ops_host: str = "127.0.0.1"
    delivery_retry_cap: float = Field(default=300, gt=0)
    # Slack's pace per channel (messages per second after a short burst); 0 turns it off.
    slack_channel_rate: float = Field(default=1.0, ge=0)
    slack_channel_burst: int = Field(default=3, ge=1)
    # chat.update's pace for the whole workspace (Slack's Tier 3: 50+ a minute), shared by
    # every replica through the store; 0 turns it off.
    slack_update_rate: float = Field(default=50, ge=0)
    slack_update_burst: int = Field(default=5, ge=1)
    # More than STORM_AFTER new alerts for one channel within STORM_WINDOW s: one digest.
    storm_after: int = Field(default=_STORM.after, ge=1)
    storm_window: float = Field(default=_STORM.window, gt=0)
    alert_channel: str | None = None
    mention: Mention | None = None
    admin_users: Users = Field(default_factory=list)
    admin_group: str | None = None

    # eAdm
    eadm_url: Url | None = None
    eadm_api_token: SecretStr | None = None
    eadm_portal_url: Url | None = None
    # Exact page addresses, kept as given (a trailing slash or fragment may matter).
    eadm_portal_status_url: PageUrl | None = None
    eadm_portal_import_history_url: PageUrl | None = None
    eadm_log_dir: Path | None = None
    playbook_extra: Path | None = None
    tenant_name: str = "eadm"
    poll_interval: float = Field(default=60, gt=0)
    # The most bytes a source's answer may take (4 MiB: an agent's answer with its events and
    # log lines fits many times over); a larger one is a source error.
    source_max_bytes: int = Field(default=SOURCE_MAX_BYTES, ge=1024)
    eadm_source: str = DEFAULT_SOURCE
    eadm_task_name: str = DEFAULT_TASK_NAME
    eadm_task_command: Argv = None
    eadm_task_timeout: float = Field(default=TASK_TIMEOUT, gt=0)
    eadm_events_command: Argv = None
    eadm_exporter_url: Url | None = None

    # Detection and reminders
    not_started_after: float = Field(default=_THRESHOLDS.not_started_after, gt=0)
    stuck_after: float = Field(default=_THRESHOLDS.stuck_after, gt=0)
    stuck_factor: float = Field(default=_THRESHOLDS.stuck_factor, ge=1)
    cycle_due_after: float = Field(default=_THRESHOLDS.cycle_due_after, gt=0)
    source_down_after: float = Field(default=_THRESHOLDS.source_down_after, ge=0)
    remind_after: float = Field(default=7200, gt=0)

    # Maintenance windows and escalation
    maintenance: str | None = None  # windows in TIMEZONE, separated by commas
    escalate_after: float = Field(default=0, ge=0)  # 0: never
    escalate_to: Mention | None = None
    escalate_channel: str | None = None

    # Actions
    rerun_command: Argv = None
    rerun_webhook_url: Url | None = None
    rerun_webhook_secret: SecretStr | None = None
    rerun_grace: float = Field(default=600, gt=0)
    rerun_timeout: float = Field(default=RERUN_TIMEOUT, gt=0)
    rerun_cooldown: float = Field(default=900, ge=0)
    ticket_webhook_url: Url | None = None
    ticket_webhook_secret: SecretStr | None = None
    ticket_email_to: str | None = None
    ticket_email_from: str | None = None
    smtp_url: SecretStr | None = None
    zendesk_url: Url | None = None
    zendesk_email: str | None = None
    zendesk_token: SecretStr | None = None

    # The agent on the eAdm client server (`eadm-bot agent`)
    agent_port: int = Field(default=8731, ge=0, le=65535)
    agent_token: SecretStr | None = None
    agent_secret: SecretStr | None = None
    agent_start_command: Argv = None

    # Running
    language: Language = DEFAULT_LANGUAGE
    timezone: str = "Europe/Oslo"
    database_url: str = "sqlite:///eadm-bot.db"
    eadm_bot_config: Path | None = None
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"

    # Personal data: what is removed from text where it enters, and how long anything is kept
    redact_patterns: str | None = None  # a JSON list of regular expressions; matches go
    retention_days: int = Field(default=_RETENTION.days, ge=0)  # 0 keeps everything
    audit_retention_days: int = Field(default=_RETENTION.audit_days, ge=0)

    # Filled by the validator below from the variables above or the TOML file; not itself
    # read from the environment.
    _tenants: list[Tenant] = PrivateAttr(default_factory=list)
    _redactor: Redactor = PrivateAttr(default_factory=Redactor)
    _windows: tuple[Window, ...] = PrivateAttr(default=())

    @field_validator("eadm_source")
    @classmethod
    def _sources(cls, value: str) -> str:
        kinds = parse_sources(value)
        if bad := [k for k in kinds if k not in KINDS]:
            raise ValueError(f"names an unknown source {bad[0]!r}")
        return ",".join(kinds)

    @field_validator("redact_patterns")
    @classmethod
    def _patterns(cls, value: str | None) -> str | None:
        try:
            compile_patterns(value)
        except PatternError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone") from None
        return value

    @field_validator("maintenance")
    @classmethod
    def _maintenance(cls, value: str | None) -> str | None:
        try:
            parse_windows(value)
        except MaintenanceError as exc:
            raise ValueError(str(exc)) from None
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
        self._windows = tuple(parse_windows(self.maintenance))
        if self.eadm_bot_config:
            self._tenants = tenants_from_file(
                self.eadm_bot_config, language=self.language, task_timeout=self.eadm_task_timeout
            )
        elif self.alert_channel and not self.unmet_sources:
            self._tenants = [self._env_tenant()]
        self._redactor = Redactor.from_patterns(self.redact_patterns)
        for tenant in self._tenants:
            tenant.with_site_patterns(self._redactor)
        return self

    @property
    def redactor(self) -> Redactor:
        """Identity numbers and REDACT_PATTERNS: for text no tenant is known for yet (what a
        person types before the tenant is picked, the agent's status)."""
        return self._redactor

    def redactor_for(self, tenant: Tenant | str | None) -> Redactor:
        """The one place that says what removes personal data from a tenant's text: the
        tenant's own redactor (REDACT_PATTERNS, then its `redact_patterns`), or the site's."""
        if isinstance(tenant, str):
            tenant = self.tenant(tenant)
        return tenant.redactor if tenant is not None else self._redactor

    @property
    def retention(self) -> Retention:
        """How long the database keeps what (RETENTION_DAYS, AUDIT_RETENTION_DAYS)."""
        return Retention(self.retention_days, self.audit_retention_days)

    @property
    def source_kinds(self) -> list[SourceKind]:
        """EADM_SOURCE as a list: api, task, exporter, or api with one of the others."""
        return cast(list[SourceKind], self.eadm_source.split(","))

    @property
    def unmet_sources(self) -> list[SourceKind]:
        """The sources EADM_SOURCE names whose variable is missing (check_settings names
        them); the environment makes no tenant while there is one."""
        return sources.unmet_sources(
            self.source_kinds,
            eadm_url=self.eadm_url,
            exporter_url=self.eadm_exporter_url,
            task_command=self.eadm_task_command,
        )

    @property
    def tenants(self) -> list[Tenant]:
        """Every tenant watched: one from the variables above, or those of EADM_BOT_CONFIG."""
        return self._tenants

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
            events_command=self.eadm_events_command,
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
        """The clock limits the pure rules take, from the variables above."""
        return Thresholds(
            not_started_after=self.not_started_after,
            stuck_after=self.stuck_after,
            stuck_factor=self.stuck_factor,
            cycle_due_after=self.cycle_due_after,
            source_down_after=self.source_down_after,
        )

    def maintenance_windows(self, tenant: Tenant) -> tuple[Window, ...]:
        """A tenant's maintenance windows: its own `maintenance` (`[]` for none), else
        MAINTENANCE."""
        own = tenant.windows
        return own if own is not None else self._windows

    def escalation(self, tenant: Tenant) -> EscalationRule | None:
        """Whom a tenant's unacknowledged alerts escalate to and when, its own settings before
        the environment's; None when it does not escalate."""
        after = self.escalate_after if tenant.escalate_after is None else tenant.escalate_after
        to = tenant.escalate_to or self.escalate_to
        if not after or to is None or to == "none":
            return None
        return EscalationRule(after, to, tenant.escalate_channel or self.escalate_channel)

    @property
    def poll_deadline(self) -> float:
        """Seconds one poll may spend reading its source, all reads together: at most 80 % of
        POLL_INTERVAL (the lease's length) and never more than POLL_DEADLINE_MAX."""
        return min(0.8 * self.poll_interval, POLL_DEADLINE_MAX)

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
