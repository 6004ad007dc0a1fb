"""Sources: where snapshots come from. `api` reads the status contract over HTTP.

May import: the core only. Must not import Slack, the store, adapters or app.
"""

from bot.sources.api import EadmSource, parse_cycle, parse_cycles

__all__ = ["EadmSource", "parse_cycle", "parse_cycles"]
