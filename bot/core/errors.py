"""The few exceptions a caller may want to catch, each with a message a person can act on."""


class EadmBotError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(EadmBotError):
    """The settings are wrong or missing. `problems` holds one line per setting, with its fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class SourceError(EadmBotError):
    """The eAdm status could not be read or understood."""


class DeliveryError(EadmBotError):
    """Slack did not accept a message; it stays in the outbox and is tried again."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class ActionError(EadmBotError):
    """A rerun or ticket could not be done; the message says why and what to try."""
