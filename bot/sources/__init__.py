"""Sources: where snapshots come from. They know HTTP, not Slack, the store or handlers."""

from bot.sources.eadm import EadmSource, parse_cycle, parse_cycles

__all__ = ["EadmSource", "parse_cycle", "parse_cycles"]
