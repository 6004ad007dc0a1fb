"""Thread replies under an alert: the text a lifecycle change owes (changed, reminded,
acknowledged, snoozed, ticket opened, resolved, a start Task Scheduler ignored while the run
went on), from its catalogue key and the parameters
frozen when it was owed. Times and durations are formatted when the reply is sent, in the
alert's language. Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from bot.core.i18n import t
from bot.slack.render.formatting import fmt_duration, fmt_time


def render_reply(key: str, params: dict[str, Any], lang: str, *, tz: tzinfo, now: datetime) -> str:
    """A thread reply owed by a lifecycle change; params were frozen when it was owed."""
    values = dict(params)
    for name in ("until", "time"):
        if name in values:
            values[name] = fmt_time(datetime.fromisoformat(str(values[name])), tz, now)
    if "seconds" in values:
        values["duration"] = fmt_duration(float(values.pop("seconds")), lang)
    for name in ("condition", "previous"):
        if name in values:
            values[name] = t(lang, f"condition.{values[name]}.name")
    if key == "reply.resolved":
        key = f"reply.resolved.{values.pop('resolution', 'recovered')}"
    return t(lang, key, **values)
