"""Runtime: the running process. Wires settings, store, sources, adapters, use cases and
Slack together (`wiring`), serves health, readiness and metrics (`health`) and sets up logging
(`logs`).

May import: everything below it (core, sources, adapters, store, slack, app) and handlers.
Must not import: cli.
"""
