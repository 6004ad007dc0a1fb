"""Logging: readable lines by default, JSON with LOG_FORMAT=json, and never a secret.

Every configured secret is replaced by `***` in every record, whatever logged it, so a token
that ends up in an exception message from a library still does not reach the log; and no
identity number (nor what REDACT_PATTERNS matches) does either. The rerun
and ticket addresses and commands count as secrets too, whole and in their parts (a query's
`code=`, a command's password), since automation services put their credential there.

A line about one tenant says so: code writes "[tenant] ..." (or passes `extra={"tenant": ...}`),
and the record gets a `tenant` attribute, a field of its own in JSON, so a log shipper can
filter one customer's lines without parsing messages.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from pydantic import SecretStr

from bot.core.credentials import mask_argv, url_secrets
from bot.core.settings import Settings


class RedactSecrets(logging.Filter):
    """Secrets replaced by `***` and, with a `redactor`, identity numbers (and the site's
    patterns) removed: text is redacted where it enters the bot, and this catches what a
    library or a source says about it on the way in."""

    def __init__(
        self, secrets: Iterable[str], redactor: Callable[[str], str] | None = None
    ) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets and self.redactor is None:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return self.redactor(text) if self.redactor is not None else text


class TenantField(logging.Filter):
    """Lifts a leading "[name] " of the message into `record.tenant`.

    An explicit `extra={"tenant": ...}` wins. With the tenants' names known, only those count,
    so a message that merely starts with brackets ("[Errno 111] ...") is not taken for one.
    """

    _PREFIX = re.compile(r"\[([^\]\n]+)\]")

    def __init__(self, tenants: Iterable[str] = ()) -> None:
        super().__init__()
        self.tenants = frozenset(tenants)

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "tenant", None) or not str(record.msg).startswith("["):
            return True
        found = self._PREFIX.match(record.getMessage())
        if found is None:
            return True
        name = found.group(1)
        if self.tenants:
            known = name in self.tenants
        else:
            known = name != "-" and not any(c.isspace() for c in name)
        if known:
            record.tenant = name
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        tenant = getattr(record, "tenant", None)
        if tenant:
            entry["tenant"] = tenant
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def url_password(value: str) -> list[str]:
    """The password of a URL like smtp://user:password@host, as written and decoded: it can
    reach a log on its own (a library's error), without the URL around it."""
    try:
        password = urlsplit(value).password
    except ValueError:
        return []
    if not password:
        return []
    return list({password, unquote(password)})


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value in the settings, tenants included, and the passwords in URLs."""
    found: list[str] = [*url_password(settings.database_url)]

    def walk(value: object) -> None:
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            found.append(secret)
            found.extend(url_password(secret))
        elif hasattr(value, "__pydantic_fields__"):
            for name in type(value).__pydantic_fields__:
                walk(getattr(value, name))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(settings)
    return found + address_and_command_secrets(settings)


def address_and_command_secrets(settings: Settings) -> list[str]:
    """The rerun and ticket addresses and the commands, whole and in their secret parts."""
    urls = [settings.rerun_webhook_url, settings.ticket_webhook_url, settings.zendesk_url]
    commands = [settings.rerun_command, settings.eadm_task_command, settings.agent_start_command]
    for tenant in settings.tenants:
        urls += [tenant.rerun.url, tenant.ticket.url]
        commands += [tenant.rerun.command, tenant.task_command]
    found: list[str] = []
    for url in urls:
        found += url_secrets(url)
    for command in commands:
        if command:
            found += [subprocess.list2cmdline(command), *mask_argv(command).hidden]
    return found


def setup_logging(
    settings: Settings | None = None, *, level: str = "INFO", fmt: str = "text"
) -> None:
    if settings is not None:
        level, fmt = settings.log_level, settings.log_format
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    tenants = [tenant.name for tenant in settings.tenants] if settings is not None else []
    handler.addFilter(TenantField(tenants))
    if settings is not None:
        handler.addFilter(RedactSecrets(secrets_of(settings), settings.redactor))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries' chatter stays out of an admin's log unless they ask for DEBUG.
    chatter = logging.DEBUG if root.level <= logging.DEBUG else max(logging.WARNING, root.level)
    for noisy in ("alembic", "apscheduler", "aiohttp.access", "httpx", "slack_bolt", "slack_sdk"):
        logging.getLogger(noisy).setLevel(chatter)
