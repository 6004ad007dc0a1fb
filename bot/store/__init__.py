"""Persistence: tables (`tables`), the named operations on them (`repo`) and the migrations.

May import: the core only. The store writes what it is told; it decides nothing.
"""

from bot.store.repo import Store, Target, utcnow

__all__ = ["Store", "Target", "utcnow"]
