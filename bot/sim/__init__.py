"""Stand-ins for the demo: the eAdm simulator (`eadm`) and a local Slack Web API (`slack`).

May import: the core. Must not import: Slack's SDK, the store, sources, adapters, app or
runtime: the simulator speaks only HTTP, as a real eAdm would.
"""
