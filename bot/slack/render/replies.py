"""Thread replies under an alert: the text a lifecycle change owes (changed, reminded,
escalated, acknowledged, snoozed, ticket opened, resolved, a start Task Scheduler ignored
while the run went on), from its catalogue key and the parameters frozen when it was owed; and
the escalation's message in the escalation channel. Times and durations are formatted when the
reply is sent, in the alert's language. Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from bot.core.i18n import t
from bot.slack.render.formatting import (
    clip,
    escape,
    fmt_duration,
    fmt_time,
    link,
    mention_markup,
)

REF_MAX = 200  # characters of a ticket reference in a reply
URL_MAX = 1000  # a longer ticket address is not linked (nor shown whole)


def render_reply(
    key: str,
    params: dict[str, Any],
    lang: str,
    *,
    tz: tzinfo,
    now: datetime,
    about: str | None = None,
) -> str:
    """A thread reply owed by a lifecycle change; params were frozen when it was owed. `about`
    names the alert (its title and tenant), for a line that may stand in a storm digest's
    thread among many alerts' lines. A ticket's reference and address come from the helpdesk:
    escaped, and linked only when the address is a plain http(s) one."""
    values = _values(params, lang, tz, now, about)
    if key == "reply.resolved":
        key = f"reply.resolved.{values.pop('resolution', 'recovered')}"
    return t(lang, key, **values)


def render_escalation(
    params: dict[str, Any], lang: str, *, tz: tzinfo, now: datetime, about: str, link: str
) -> str:
    """The message in the escalation channel: whom it calls, how long the alert waited, and
    a link to the alert (Slack notifies only a channel's members of a mention posted in it)."""
    values = _values(params, lang, tz, now, about)
    return t(lang, "escalation.posted", link=link, **values)


def _values(
    params: dict[str, Any], lang: str, tz: tzinfo, now: datetime, about: str | None
) -> dict[str, Any]:
    values = dict(params)
    if "ref" in values:
        values["ref"] = clip(escape(str(values["ref"] or "")), REF_MAX)
        url = str(values.get("url") or "")
        values["url"] = link(url) if len(url) <= URL_MAX else clip(escape(url), REF_MAX)
    for name in ("until", "time"):
        if name in values:
            values[name] = fmt_time(datetime.fromisoformat(str(values[name])), tz, now)
    if "seconds" in values:
        values["duration"] = fmt_duration(float(values.pop("seconds")), lang)
    for name in ("condition", "previous"):
        if name in values:
            values[name] = t(lang, f"condition.{values[name]}.name")
    if "to" in values:
        values["to"] = mention_markup(str(values["to"])) or ""
        values["alert"] = escape(about or "")  # a tenant's and a step's names
    return values
