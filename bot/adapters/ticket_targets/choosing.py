"""Choosing a tenant's ticket target from its settings, with every missing setting of the
chosen kind named at once.
"""

from __future__ import annotations

from typing import NoReturn

from bot.adapters.ticket_targets.smtp import EmailTarget
from bot.adapters.ticket_targets.ticket import TicketTarget
from bot.adapters.ticket_targets.webhook import WebhookTarget
from bot.adapters.ticket_targets.zendesk import ZendeskTarget
from bot.core.errors import ConfigError
from bot.core.settings import Tenant


def target_for(tenant: Tenant) -> TicketTarget | None:
    """The tenant's ticket target, or None when the ticket is only copied by hand.

    Raises ConfigError listing every missing setting of the chosen kind at once.
    """
    config = tenant.ticket
    secret = config.secret.get_secret_value() if config.secret else None
    smtp_url = config.smtp_url.get_secret_value() if config.smtp_url else None
    token = config.zendesk_token.get_secret_value() if config.zendesk_token else None
    if config.kind == "none":
        return None
    if config.kind == "email":
        if config.email_to and smtp_url:
            return EmailTarget(config.email_to, smtp_url, config.email_from or None)
        _missing(
            tenant,
            ("TICKET_EMAIL_TO", config.email_to, "set the support address"),
            ("SMTP_URL", smtp_url, "set it to smtp://[user:password@]host[:port]"),
        )
    if config.kind == "webhook":
        if config.url:
            return WebhookTarget(config.url, secret)
        _missing(tenant, ("TICKET_WEBHOOK_URL", None, "set the receiver's URL"))
    if config.url and config.zendesk_email and token:
        return ZendeskTarget(config.url, config.zendesk_email, token)
    _missing(
        tenant,
        ("ZENDESK_URL", config.url, "set it to https://<subdomain>.zendesk.com"),
        ("ZENDESK_EMAIL", config.zendesk_email, "set it to the e-mail address of an agent"),
        ("ZENDESK_TOKEN", token, "create an API token in Zendesk Admin Center"),
    )


def _missing(tenant: Tenant, *settings: tuple[str, str | None, str]) -> NoReturn:
    raise ConfigError(
        [
            f"{name}: missing for tenant {tenant.name}; {fix}."
            for name, value, fix in settings
            if not value
        ]
    )
