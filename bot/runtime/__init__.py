"""Runtime: the running process. Wires settings, store, sources, adapters, use cases and
Slack together (`wiring`), with a Slack client that counts its calls (`slack_client`), lets
Slack hear every ack before listeners' work goes on (`acks`), judges health and readiness
(`health`) and serves them with the metrics (`health_routes`), connects over Socket Mode
(`socket_mode`) and sets up logging (`logs`); also the agent that runs on the eAdm client
server (`agent`).

May import: everything below it (core, sources, adapters, store, slack, app) and handlers.
Must not import: cli.
"""
