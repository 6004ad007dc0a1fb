"""Use cases: what a person or a timer asks the bot to do.

Owns polling (`polling`), reruns and their guard (`reruns`), support tickets (`support`) and
the services handlers call (`services`).

May import: the core, sources, adapters, the store and the Slack layer. Must not import:
handlers, runtime or cli.
"""
