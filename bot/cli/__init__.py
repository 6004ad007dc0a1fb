"""The `eadm-bot` command: run, demo, simulator, check, db.

May import anything in `bot`; nothing in `bot` imports it.
"""

from bot.cli.main import main

__all__ = ["main"]
