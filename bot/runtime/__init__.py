"""Runtime: the running process. Wires settings, store, sources, adapters, use cases and
Slack together (`wiring`), lets Slack hear every ack before listeners' work goes on (`acks`),
serves health, readiness and metrics (`health`) and sets up logging (`logs`); also the agent
that runs on the eAdm client server (`agent`).

May import: everything below it (core, sources, adapters, store, slack, app) and handlers.
Must not import: cli.
"""
