"""A tenant's schema: one eAdm installation being watched, where its alerts go, and how its sync
is rerun and its tickets opened. The environment makes one tenant, EADM_BOT_CONFIG many; both
end up here, so a tenant's defaults are written here and the environment's follow them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, SecretStr, field_validator, model_validator

from bot.core.maintenance import MaintenanceError, Window, parse_windows
from bot.core.redact import PatternError, Redactor, compile_patterns
from bot.core.settings.sources import DEFAULT_SOURCE, SourceKind, parse_sources, unmet_sources
from bot.core.settings.validators import Argv, Mention, PageUrl, UrlOrEmpty, Users

Language = Literal["en", "nb"]
DEFAULT_LANGUAGE: Language = "en"
DEFAULT_TASK_NAME = "eAdm synkronisering"
TASK_TIMEOUT = 30.0  # seconds the command that prints the sync task may take
RERUN_TIMEOUT = 60.0  # seconds a rerun runner may take to start the sync

# What a tenant is told when a source it names lacks its setting.
_NEEDS: dict[SourceKind, str] = {
    "api": "source api needs eadm_url",
    "exporter": "source exporter needs exporter_url",
    "task": "source task needs task_command here (only on Windows does the bot run the shipped "
    "PowerShell script by itself)",
}


class RerunConfig(BaseModel):
    """How a tenant's sync is started by hand. `none` hides the Rerun button."""

    kind: Literal["none", "command", "webhook", "simulator"] = "none"
    command: list[str] = Field(default_factory=list)
    url: str | None = None
    secret: SecretStr | None = None
    timeout: float = RERUN_TIMEOUT


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
    eadm_url: UrlOrEmpty = ""  # needed when `sources` has api
    eadm_api_token: SecretStr | None = None
    sources: list[SourceKind] = Field(default_factory=lambda: [DEFAULT_SOURCE])
    task_name: str = DEFAULT_TASK_NAME
    task_command: Argv = None  # None: the shipped script, on Windows
    task_timeout: float = Field(default=TASK_TIMEOUT, gt=0)
    # Prints the task's events as JSON; None: the shipped script where the task's is run.
    events_command: Argv = None
    exporter_url: UrlOrEmpty | None = None
    channel: str
    language: Language = DEFAULT_LANGUAGE
    portal_url: PageUrl | None = None
    # The exact addresses of portal pages, when the admin knows them; else the menu path is named.
    portal_status_url: PageUrl | None = None
    portal_import_history_url: PageUrl | None = None
    mention: Mention | None = None  # who a new alert notifies; None: the global MENTION
    log_dir: Path | None = None
    rerun: RerunConfig = Field(default_factory=RerunConfig)
    ticket: TicketConfig = Field(default_factory=TicketConfig)
    # Who may act on this tenant alone, beside the global ADMIN_USERS / ADMIN_GROUP.
    admin_users: Users = Field(default_factory=list)
    admin_group: str | None = None
    # More channels each alert goes to, beside `channel` (a provider's operations channel).
    channels: list[str] = Field(default_factory=list)
    # This tenant's own identifiers to remove, after REDACT_PATTERNS (regular expressions).
    redact_patterns: list[str] = Field(default_factory=list)
    # Its own maintenance windows in place of MAINTENANCE (None: those; []: none at all).
    maintenance: list[str] | None = None
    # Its own escalation, in place of ESCALATE_AFTER / ESCALATE_TO / ESCALATE_CHANNEL.
    escalate_after: float | None = Field(default=None, ge=0)  # 0: this tenant never
    escalate_to: Mention | None = None
    escalate_channel: str | None = None

    # Identity numbers and the patterns, compiled once: the settings give it REDACT_PATTERNS too.
    _redactor: Redactor = PrivateAttr(default_factory=Redactor)
    _windows: tuple[Window, ...] | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _first_channel(cls, data: Any) -> Any:
        """`channels = [...]` alone names the first as `channel` and copies to the rest."""
        if isinstance(data, dict) and not data.get("channel") and data.get("channels"):
            first, *rest = list(data["channels"])
            data = {**data, "channel": first, "channels": rest}
        return data

    @model_validator(mode="before")
    @classmethod
    def _source_word(cls, data: Any) -> Any:
        if isinstance(data, dict) and "source" in data:
            data = dict(data)
            data.setdefault("sources", data.pop("source"))
        return data

    _sources = field_validator("sources", mode="before")(lambda v: parse_sources(v))

    @field_validator("redact_patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        try:
            compile_patterns(value)
        except PatternError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("maintenance", mode="before")
    @classmethod
    def _maintenance(cls, value: Any) -> Any:
        """One string of windows separated by commas is as good as a list."""
        items = [value] if isinstance(value, str) else value
        try:
            parse_windows(items)
        except MaintenanceError as exc:
            raise ValueError(str(exc)) from None
        return items

    @model_validator(mode="after")
    def _parse_windows(self) -> Tenant:
        if self.maintenance is not None:
            self._windows = tuple(parse_windows(self.maintenance))
        return self

    @model_validator(mode="after")
    def _source_needs(self) -> Tenant:
        unmet = unmet_sources(
            self.sources,
            eadm_url=self.eadm_url,
            exporter_url=self.exporter_url,
            task_command=self.task_command,
        )
        if unmet:
            raise ValueError(f"tenant {self.name}: {_NEEDS[unmet[0]]}")
        self._redactor = Redactor.from_patterns(self.redact_patterns)
        return self

    @property
    def redactor(self) -> Redactor:
        """What removes identity numbers and this tenant's patterns (REDACT_PATTERNS first)
        from text about this tenant, where it enters the bot."""
        return self._redactor

    def with_site_patterns(self, site: Redactor) -> None:
        """Put the site's REDACT_PATTERNS before this tenant's own, once, at start-up."""
        self._redactor = site.extended(self.redact_patterns)

    @property
    def windows(self) -> tuple[Window, ...] | None:
        """Its own maintenance windows, parsed; None when MAINTENANCE holds for it."""
        return self._windows

    @property
    def all_channels(self) -> tuple[str, ...]:
        """Every channel an alert of this tenant goes to, `channel` first, each once."""
        return tuple(dict.fromkeys((self.channel, *self.channels)))

    @property
    def task_source(self) -> SourceKind | None:
        """task or exporter, when the tenant watches the sync task."""
        return next((s for s in self.sources if s != "api"), None)

    @property
    def portal_pages(self) -> dict[str, str]:
        """The portal pages the admin gave exact addresses for, by playbook link name."""
        pages = {"status": self.portal_status_url, "import_history": self.portal_import_history_url}
        return {link: url for link, url in pages.items() if url}
