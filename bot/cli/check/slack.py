"""The Slack checks: the bot token and its scopes, the app-level token for Socket Mode, and each
alert channel. Slack is asked, never posted to; its answers are told apart by their error code."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cli.check.verdict import Verdict, failed, passed, skipped, warned
from bot.core.settings import Settings, Tenant

# The bot scopes of deploy/slack-app-manifest.yml, which is not installed with the package;
# tests/cli/test_check.py proves the two lists equal.
REQUIRED_SCOPES: tuple[str, ...] = (
    "chat:write",
    "chat:write.public",
    "channels:history",
    "groups:history",
    "channels:read",
    "groups:read",
    "commands",
    "users:read",
    "users:read.email",
    "usergroups:read",
)
CHANNEL_PAGES = 20  # conversations.list pages read to find a channel by name (200 each)
# The events of deploy/slack-app-manifest.yml; with several tenants, who sees one follows the
# member events at once (without them, within the five minutes a person's channels are kept).
EVENTS: tuple[str, ...] = ("app_home_opened", "member_joined_channel", "member_left_channel")

_TOKEN_FIX = (
    "set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-...) from your Slack app's "
    "OAuth & Permissions page"
)
_APP_TOKEN_FIX = (
    "set SLACK_APP_TOKEN to an app-level token (xapp-...) with connections:write, from your "
    "Slack app's Basic Information page, and turn Socket Mode on under Settings, Socket Mode"
)
_INVITE_FIX = "invite the bot with /invite @eadm-bot in that channel"
_TOKEN_ERRORS = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
}


def slack_error(exc: SlackApiError) -> str:
    error = exc.response.get("error") if exc.response is not None else None
    return str(error or exc)


def _network(exc: Exception) -> bool:
    # aiohttp's client errors do not all derive from OSError.
    return isinstance(exc, OSError | TimeoutError) or type(exc).__module__.startswith("aiohttp")


def _unreachable(what: str, base_url: str, exc: Exception) -> Verdict:
    return failed(
        what,
        f"cannot reach Slack at {base_url} ({type(exc).__name__}: {exc})",
        "allow outbound HTTPS to slack.com (set HTTPS_PROXY if a proxy is needed) or fix "
        "SLACK_API_URL",
    )


async def check_slack_token(client: AsyncWebClient) -> list[Verdict]:
    """The bot token works (auth.test), and carries every scope the manifest asks for."""
    item = "Slack token"
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        error = slack_error(exc)
        fix = _TOKEN_FIX if error in _TOKEN_ERRORS else "check SLACK_BOT_TOKEN and SLACK_API_URL"
        return [failed(item, error, fix)]
    except Exception as exc:
        if _network(exc):
            return [_unreachable(item, client.base_url, exc)]
        raise
    who = f"bot @{response.get('user')} in {response.get('team')}"
    verdicts = [passed(item, who)]
    header = next(
        (v for k, v in (response.headers or {}).items() if k.lower() == "x-oauth-scopes"), None
    )
    if header is None:
        verdicts.append(skipped("Slack scopes", "Slack did not say which scopes the token has"))
        return verdicts
    granted = {s.strip() for s in str(header).split(",") if s.strip()}
    missing = [s for s in REQUIRED_SCOPES if s not in granted]
    if missing:
        verdicts.append(
            failed(
                "Slack scopes",
                f"missing {', '.join(missing)}",
                "add them under OAuth & Permissions, Bot Token Scopes (or paste "
                "deploy/slack-app-manifest.yml again) and reinstall the app after adding them",
            )
        )
    else:
        verdicts.append(passed("Slack scopes", f"all {len(REQUIRED_SCOPES)} the bot needs"))
    return verdicts


def membership_events() -> Verdict:
    """Slack tells a bot token its scopes but not the app's event subscriptions, so the member
    events that keep who sees which tenant current can only be pointed at, not checked."""
    return warned(
        "Slack membership events",
        "Slack does not tell a bot token which events the app subscribes to; with several "
        "tenants, a person's channels decide which tenants they see, and without "
        "member_joined_channel and member_left_channel a change shows only within 5 minutes",
        "check that Event Subscriptions (Subscribe to bot events) lists "
        f"{', '.join(EVENTS)}, as deploy/slack-app-manifest.yml does",
    )


async def check_app_token(settings: Settings) -> Verdict:
    """Socket Mode: the app-level token may open a connection (apps.connections.open).

    The URL Slack hands out is used by nobody and expires by itself.
    """
    item = "Slack app-level token"
    if settings.slack_app_token is None:
        return skipped(
            item, "not set (HTTP mode), so Slack must reach this bot at POST /slack/events"
        )
    client = AsyncWebClient(base_url=settings.slack_api_url, timeout=15)
    try:
        await client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except SlackApiError as exc:
        error = slack_error(exc)
        return failed(item, error, _APP_TOKEN_FIX)
    except Exception as exc:
        if _network(exc):
            return _unreachable(item, settings.slack_api_url, exc)
        raise
    return passed(item, "Socket Mode can connect")


async def check_channel(settings: Settings, tenant: Tenant, client: AsyncWebClient) -> Verdict:
    """The channel exists, is not archived, and the bot is in it (it reads its own messages
    back to never post twice, which needs membership)."""
    channel = tenant.channel
    item = f"[{tenant.name}] alert channel {channel}"
    setting = (
        f"channel of tenant {tenant.name} in EADM_BOT_CONFIG"
        if settings.eadm_bot_config
        else "ALERT_CHANNEL"
    )
    try:
        info = await channel_info(client, channel)
    except SlackApiError as exc:
        error = slack_error(exc)
        if error in ("channel_not_found", "not_in_channel"):
            fix = f"{_INVITE_FIX}, or fix {setting} (a channel ID like C0123... or #name)"
        elif error == "missing_scope":
            fix = "add channels:read and groups:read to the app and reinstall it"
        elif error in _TOKEN_ERRORS:
            fix = _TOKEN_FIX
        else:
            fix = f"check {setting}"
        return failed(item, error, fix)
    except Exception as exc:
        if _network(exc):
            return _unreachable(item, settings.slack_api_url, exc)
        raise
    found = f"{info.get('id')}" + (f", #{info['name']}" if info.get("name") else "")
    if info.get("is_archived"):
        return failed(item, f"{found} is archived", f"unarchive it or change {setting}")
    if info.get("is_member") is False:
        return failed(item, f"{found}: the bot is not a member", _INVITE_FIX)
    return passed(item, f"{found}, the bot is a member")


async def channel_info(client: AsyncWebClient, channel: str) -> dict[str, Any]:
    """conversations.info, which wants an ID: a `#name` is looked up when Slack does not take
    it as it is."""
    try:
        response = await client.conversations_info(channel=channel)
        return dict(response.get("channel") or {})
    except SlackApiError as exc:
        if not channel.startswith("#") or slack_error(exc) != "channel_not_found":
            raise
        first = exc
    name = channel.lstrip("#").lower()
    cursor: str | None = None
    try:
        for _ in range(CHANNEL_PAGES):
            page = await client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=False,
                limit=200,
                cursor=cursor,
            )
            for found in page.get("channels") or []:
                if str(found.get("name", "")).lower() == name:
                    response = await client.conversations_info(channel=found["id"])
                    return dict(response.get("channel") or {})
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except SlackApiError as exc:
        if slack_error(exc) in _TOKEN_ERRORS | {"missing_scope"}:
            raise
    raise first
