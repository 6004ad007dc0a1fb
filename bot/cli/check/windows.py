"""The maintenance window and escalation checks: each tenant's next window (so an admin sees
that `MAINTENANCE` says what they meant), and whether the people an alert escalates to will be
notified where it is posted (Slack notifies only a channel's members of a mention in it)."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cli.check.slack import channel_info, slack_error
from bot.cli.check.verdict import Verdict, passed, warned
from bot.core.maintenance import active_window, next_window
from bot.core.settings import Settings, Tenant
from bot.store import utcnow

MEMBER_PAGES = 20  # conversations.members pages read per channel (1000 members each)


def check_windows(settings: Settings, tenant: Tenant, now: datetime | None = None) -> Verdict:
    """The tenant's windows as the bot reads them, the one it is in and the next."""
    windows = settings.maintenance_windows(tenant)
    now, tz = now or utcnow(), settings.tz
    written = ", ".join(str(w) for w in windows)
    found = [f"{settings.timezone}: {written}"]
    current = active_window(windows, now, tz)
    if current is not None:
        found.append(f"in one until {current.end.astimezone(tz):%a %Y-%m-%d %H:%M}")
    following = next_window(windows, now, tz)
    if following is None:
        found.append("no next one within a year")
    else:
        start, end = following.start.astimezone(tz), following.end.astimezone(tz)
        found.append(f"next {start:%a %Y-%m-%d %H:%M} to {end:%a %Y-%m-%d %H:%M}")
    return passed(f"[{tenant.name}] maintenance windows", "; ".join(found))


async def check_escalation(
    settings: Settings, tenant: Tenant, client: AsyncWebClient
) -> Verdict | None:
    """Whether the people to escalate to are members of the tenant's alert channels; None
    when it does not escalate, or tells an escalation channel as well."""
    rule = settings.escalation(tenant)
    if rule is None or rule.channel is not None:
        return None
    item = f"[{tenant.name}] escalation to {rule.to}"
    if rule.to in ("here", "channel"):
        return passed(item, f"@{rule.to} is everyone in the alert channel")
    try:
        people = [rule.to]
        if rule.to.startswith("S"):
            group = await client.usergroups_users_list(usergroup=rule.to)
            people = list(group.get("users") or [])
        away: list[str] = []
        for channel in tenant.all_channels:
            members = await _members(client, channel)
            missing = [person for person in people if person not in members]
            if missing:
                away.append(f"{', '.join(missing)} not in {channel}")
    except SlackApiError as exc:
        return warned(
            item,
            f"could not be checked ({slack_error(exc)})",
            "check that the app has usergroups:read, channels:read and groups:read, and that "
            "ESCALATE_TO names a user group or a person of this workspace",
        )
    if away:
        return warned(
            item,
            "; ".join(away) + ", so the mention there notifies nobody",
            "invite them to the channel, or set ESCALATE_CHANNEL (escalate_channel for this "
            "tenant) to a channel they are in",
        )
    return passed(item, f"{len(people)} to call, members of every alert channel")


async def _members(client: AsyncWebClient, channel: str) -> set[str]:
    found = await channel_info(client, channel)
    members: set[str] = set()
    cursor: str | None = None
    for _ in range(MEMBER_PAGES):
        page = await client.conversations_members(channel=found["id"], limit=1000, cursor=cursor)
        members.update(page.get("members") or [])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    return members
