"""The core: eAdm's words and the guide's rules, as pure functions and data.

Owns the domain (`domain`), detection (`detect`, and `task` for the sync task's own row), the
alert lifecycle (`lifecycle`), what each of its decisions owes through snoozes and maintenance
windows (`notify`), how long a snooze lasts (`snooze`), storm digests (`digest`), the rerun
guard's rules (`rerun_guard`), the playbook and message catalogue (`playbook`, `i18n`,
`data/`), the `/eadm` text parser (`slash_command`), the settings schema (`settings`), the
error hierarchy (`errors`) and the metric names (`metrics`).

Must not import: Slack, the store, sources, adapters, app, runtime or cli. Nothing here does
I/O beyond reading its own data files.
"""
