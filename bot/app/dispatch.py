"""`/eadm`: parse the text, pick the tenant, hand over to the use case that does the work."""

from __future__ import annotations

from bot.app.access import Access
from bot.app.context import Answer, Context
from bot.app.reruns import Reruns
from bot.app.silences import Silences
from bot.app.status import Status
from bot.core import slash_command
from bot.core.i18n import t


class Dispatch:
    def __init__(
        self, ctx: Context, access: Access, status: Status, reruns: Reruns, silences: Silences
    ) -> None:
        self.ctx = ctx
        self.access = access
        self.status = status
        self.reruns = reruns
        self.silences = silences

    async def command(self, text: str, user_id: str) -> Answer:
        lang = (await self.access.person(user_id)).lang
        names = [tenant.name for tenant in self.ctx.settings.tenants]
        parsed = slash_command.parse(text, names)
        if isinstance(parsed, slash_command.Help):
            return Answer(t(lang, "command.help"))
        if isinstance(parsed, slash_command.Usage):
            problem = t(lang, parsed.key, **dict(parsed.params))
            return Answer(f"{problem}\n\n{t(lang, 'command.help')}")
        tenant = self.ctx.settings.tenant(parsed.tenant)
        if tenant is None:
            return Answer(t(lang, "command.tenant_needed", names=", ".join(names)))
        match parsed:
            case slash_command.Status(public=public):
                # A public answer speaks the channel's language; a private one the asker's.
                speak = tenant.language if public else lang
                return await self.status.status(user_id, tenant, speak, public)
            case slash_command.History(count=count):
                return await self.status.history(user_id, tenant, count, lang)
            case slash_command.Rerun():
                return await self.reruns.ask(user_id, tenant.name)
            case slash_command.Silence(seconds=seconds, reason=reason):
                return await self.silences.silence(user_id, tenant.name, seconds, reason)
            case slash_command.Unsilence():
                return await self.silences.unsilence(user_id, tenant.name)
        return Answer(t(lang, "command.help"))
