"""Use cases: what a person or a timer asks the bot to do.

One module per use case: who may act (`access`, asked by every action before it changes
anything), acknowledge and snooze (`alerts`), reruns and their guard (`reruns`), support
tickets (`support`), maintenance windows (`silences`), status, history and the App Home
(`status`), polling (`polling`) and the `/eadm` command (`dispatch`). `usecases` builds them
once, for handlers and timers; `context` holds what they share.

May import: the core, sources, adapters, the store and the Slack layer. Must not import:
handlers, runtime or cli.
"""
