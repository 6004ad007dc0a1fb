"""Stand-ins for the demo: the eAdm simulator (`eadm` over HTTP, playing the `scenarios` as
a `simulation`), the sync task in Task Scheduler (`scheduler`), a local Slack Web API (`slack`),
the demo channel as a page (`web`, with `static/`) and Slack's request signing for what the
page sends (`signing`).

May import: the core and `bot.serving`. Must not import: Slack's SDK, the store, sources,
adapters, app or runtime: the simulator speaks only HTTP, as a real eAdm would.
"""
