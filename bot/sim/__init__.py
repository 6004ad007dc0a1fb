"""Stand-ins for the demo: the eAdm simulator (`eadm`), the sync task in Task Scheduler
(`task`), a local Slack Web API (`slack`), the demo channel as a page (`web`, with `static/`)
and Slack's request signing for what the page sends (`signing`).

May import: the core. Must not import: Slack's SDK, the store, sources, adapters, app or
runtime: the simulator speaks only HTTP, as a real eAdm would.
"""
