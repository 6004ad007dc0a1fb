"""Persistence: tables (`models`) and the named operations on them (`repo`)."""

from bot.store.repo import Store, Target, utcnow

__all__ = ["Store", "Target", "utcnow"]
