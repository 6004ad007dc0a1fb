"""Who is asking: their name, e-mail and language from Slack, and whether they are an admin.

Slack is asked once per person and group every few minutes, not on every click: a click must
be answered within three seconds and Slack rate-limits users.info.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.i18n import language, t
from bot.core.settings import Settings

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
        self._group: tuple[float, frozenset[str]] | None = None

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

    async def is_admin(self, user_id: str) -> bool:
        if user_id in self.settings.admin_users:
            return True
        if not self.settings.admin_group:
            return False
        return user_id in await self._group_members()

    async def _group_members(self) -> frozenset[str]:
        if self._group and time.monotonic() - self._group[0] < CACHE_SECONDS:
            return self._group[1]
        try:
            response = await self.client.usergroups_users_list(usergroup=self.settings.admin_group)
            members = frozenset(response.get("users") or [])
        except (SlackApiError, OSError) as exc:
            log.warning(
                "cannot read the members of ADMIN_GROUP %s (%s); check the group ID and the "
                "usergroups:read scope",
                self.settings.admin_group,
                exc,
            )
            return self._group[1] if self._group else frozenset()
        self._group = (time.monotonic(), members)
        return members

    def who_may_act(self, lang: str) -> str:
        """The admins, as Slack mentions, for a refusal; empty when none are set up."""
        parts = [f"<@{user}>" for user in self.settings.admin_users]
        if self.settings.admin_group:
            group = f"<!subteam^{self.settings.admin_group}>"
            parts.append(t(lang, "auth.group", group=group))
        return ", ".join(parts)
