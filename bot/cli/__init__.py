"""The `eadm-bot` command: run, demo, simulator, check, manifest, agent, task-script, db.

May import anything in `bot`; nothing in `bot` imports it.
"""

from bot.cli.main import main

__all__ = ["main"]
