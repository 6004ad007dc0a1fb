"""The Slack layer: action IDs (`ids`), Block Kit rendering (the `render` package, one module
per surface; pure), composing a message from an alert (`compose`), delivery of the outbox
(`delivery`), people look-ups (`people`) and the few other Web API calls use cases make
(`calls`).

May import: the core, the store and adapters. Must not import: sources, app, runtime or cli.
"""
