"""The Slack layer: action IDs (`ids`), Block Kit rendering (`render`, pure), composing a
message from an alert (`compose`), delivery of the outbox (`delivery`) and people look-ups
(`people`).

May import: the core, the store and adapters. Must not import: sources, app, runtime or cli.
"""
