"""Adapters: the outside things an action drives, behind small interfaces.

Owns the rerun runners (`runners`: command, signed webhook, simulator), the ticket targets
(`ticket_targets`: e-mail, signed webhook, Zendesk), reading excerpts of the eAdm client's
log folder (`log_folder`), and the registry of each tenant's runner and target, built once at
start-up (`registry`).

May import: the core. Must not import: Slack, the store, sources, app, runtime or cli.
"""
