"""The exceptions this package raises on purpose, as a tree a caller catches at the level it
cares about, each with a message a person can act on.

```
EadmBotError
├── ConfigError              the settings are wrong or missing
├── SourceError              eAdm's status could not be read or understood
│   └── NotStatusContract    the status API answered, but not with the status contract
├── DeliveryError            Slack did not take a message; the outbox tries again
│   ├── SlackRateLimited     Slack said how long to wait (Retry-After)
│   └── SlackRefused         Slack answered an error code (`error`)
│       └── SlackMisconfigured   one no retry soon cures: the admin has to change something
└── ActionError              a rerun or a ticket could not be done
```

A subclass exists where some caller must tell its case apart; a caller never reads the
message text to do so. A source error is read by people in either language: it carries the
catalogue's key and parameters (`words`), and its str() is the English, for logs and
`eadm-bot check`. Imports only the catalogue's words (`bot.core.said`).
"""

from __future__ import annotations

from bot.core.said import Param, Words


class EadmBotError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(EadmBotError):
    """The settings are wrong or missing. `problems` holds one line per setting, with its fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class SourceError(EadmBotError):
    """The eAdm status could not be read or understood: `words` says what, and what to fix,
    as the message catalogue's `key` with its parameters (a parameter may be `Words` of its
    own, such as the problem a wrapping error names)."""

    def __init__(self, key: str, **params: Param) -> None:
        self.words = Words.of(key, **params)
        super().__init__(self.words.text("en"))


class NotStatusContract(SourceError):
    """The status API answered, but not with the status contract: EADM_URL most likely points
    at some other server, which `eadm-bot check` says in its fix."""


class DeliveryError(EadmBotError):
    """Slack did not accept a message; it stays in the outbox and is tried again with backoff."""


class SlackRateLimited(DeliveryError):
    """Slack answered 429: nothing goes to that channel for `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SlackRefused(DeliveryError):
    """Slack answered `method` with the error code `error` (its `response["error"]`)."""

    def __init__(self, message: str, *, method: str, error: str) -> None:
        super().__init__(message)
        self.method = method
        self.error = error


class SlackMisconfigured(SlackRefused):
    """An error code no retry soon cures (a revoked token, a missing channel): said once,
    loudly, and tried again only at the slowest pace until the admin fixes it."""


class ActionError(EadmBotError):
    """A rerun or ticket could not be done; the message says why and what to try."""
