"""Who is asking: their name, e-mail and language from Slack, and whether they are an admin.

Admins are global (ADMIN_USERS, ADMIN_GROUP: every tenant) or a tenant's own (its
`admin_users`, `admin_group`: that tenant alone). Slack is asked once per person and group
every few minutes, not on every click: a click must be answered within three seconds and
Slack rate-limits users.info.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.i18n import language, t
from bot.core.settings import Settings, Tenant

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    email: str | None
    lang: str


class People:
    def __init__(self, settings: Settings, client: AsyncWebClient) -> None:
        self.settings = settings
        self.client = client
        self._people: dict[str, tuple[float, Person]] = {}
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    async def person(self, user_id: str, fallback_lang: str | None = None) -> Person:
        """The person behind a user ID; answers in the channel's language if Slack is silent."""
        fallback = fallback_lang or self.settings.language
        cached = self._people.get(user_id)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            response = await self.client.users_info(user=user_id, include_locale=True)
        except (SlackApiError, OSError) as exc:
            log.info("could not read Slack user %s (%s); using defaults", user_id, exc)
            return Person(user_id, user_id, None, language(fallback))
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        person = Person(
            id=user_id,
            name=profile.get("real_name") or user.get("real_name") or user.get("name") or user_id,
            email=profile.get("email"),
            lang=language(user.get("locale") or fallback),
        )
        self._people[user_id] = (time.monotonic(), person)
        return person

    def _admins(self, tenant: Tenant | None) -> tuple[list[str], list[str]]:
        """Who may act: the global admins' user IDs and groups, with `tenant` its own too."""
        users = list(self.settings.admin_users)
        groups = [self.settings.admin_group] if self.settings.admin_group else []
        if tenant is not None:
            users += [u for u in tenant.admin_users if u not in users]
            if tenant.admin_group and tenant.admin_group not in groups:
                groups.append(tenant.admin_group)
        return users, groups

    async def is_admin(self, user_id: str, tenant: Tenant | None = None) -> bool:
        """A global admin, or (with `tenant`) one of that tenant's own admins."""
        users, groups = self._admins(tenant)
        if user_id in users:
            return True
        for group in groups:
            if user_id in await self._group_members(group):
                return True
        return False

    async def _group_members(self, group: str) -> frozenset[str]:
        cached = self._groups.get(group)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            response = await self.client.usergroups_users_list(usergroup=group)
            members = frozenset(response.get("users") or [])
        except (SlackApiError, OSError) as exc:
            log.warning(
                "cannot read the members of the admin group %s (%s); check the group ID "
                "(ADMIN_GROUP, or a tenant's admin_group) and the usergroups:read scope",
                group,
                exc,
            )
            return cached[1] if cached else frozenset()
        self._groups[group] = (time.monotonic(), members)
        return members

    def who_may_act(self, lang: str, tenant: Tenant | None = None) -> str:
        """The admins (of this tenant too), as Slack mentions, for a refusal; empty when none
        are set up."""
        users, groups = self._admins(tenant)
        parts = [f"<@{user}>" for user in users]
        parts += [t(lang, "auth.group", group=f"<!subteam^{group}>") for group in groups]
        return ", ".join(parts)
