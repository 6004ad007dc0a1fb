"""Support ticket targets: where the "Open support ticket" button sends the prepared ticket.

Three kinds, chosen per tenant: e-mail over SMTP (any helpdesk with an inbound address, and
the vendor's support address), a signed JSON webhook (automation in TopDesk, ServiceNow, Jira
and the like), and Zendesk's ticket API. The caller writes the text; a target only delivers
it. Every failure is an ActionError whose message names the setting to check, because the
admin reads it in Slack, far from the bot's log.

One module per kind (`smtp`, `webhook`, `zendesk`), the ticket they are given (`ticket`) and
the choice of a tenant's target from its settings (`choosing`).
"""

from bot.adapters.ticket_targets.choosing import target_for
from bot.adapters.ticket_targets.smtp import EmailTarget, parse_smtp_url
from bot.adapters.ticket_targets.ticket import Attachment, Ticket, TicketRef, TicketTarget
from bot.adapters.ticket_targets.webhook import WebhookTarget
from bot.adapters.ticket_targets.zendesk import ZendeskTarget, tag

__all__ = [
    "Attachment",
    "EmailTarget",
    "Ticket",
    "TicketRef",
    "TicketTarget",
    "WebhookTarget",
    "ZendeskTarget",
    "parse_smtp_url",
    "tag",
    "target_for",
]
