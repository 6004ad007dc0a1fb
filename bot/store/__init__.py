"""Persistence: tables (`tables`), one module of named operations per aggregate (`polls`,
`cycles`, `alerts`, `outbox`, `silences`, `reruns`, `audit`) on one database (`db`), put
together as `Store` (`repo`), and the migrations.

May import: the core only. The store writes what it is told; it decides nothing.
"""

from bot.store.repo import Store, Target, utcnow

__all__ = ["Store", "Target", "utcnow"]
