"""Adapters: the outside things an action drives, behind small interfaces.

Owns the rerun runners (`runners`: command, signed webhook, simulator), the ticket targets
(`ticket_targets`: e-mail, signed webhook, Zendesk) and reading excerpts of the eAdm client's
log folder (`log_folder`).

May import: the core. Must not import: Slack, the store, sources, app, runtime or cli.
"""
