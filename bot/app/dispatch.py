"""`/eadm`: parse the text, pick the tenant, hand over to the use case that does the work.

What a person types enters the bot here: the text is cut and redacted before it is parsed, so
no identity number reaches a reason, an answer, the audit or the log. The tenant is picked
among those the person may see (`bot.core.visibility`): the one named, else the one whose
channel the command was typed in, else the only one they see; a tenant they may not see is
answered as a name nobody watches.
"""

from __future__ import annotations

from bot.app.access import Access, MembershipUnknown
from bot.app.context import Answer, Context
from bot.app.reruns import Reruns
from bot.app.silences import Silences
from bot.app.status import Status
from bot.core import slash_command, visibility
from bot.core.i18n import t
from bot.core.settings import Tenant
from bot.slack.render import code, escape

COMMAND_MAX = 1000  # characters of a command's text read; a reason is cut shorter still


class Dispatch:
    def __init__(
        self, ctx: Context, access: Access, status: Status, reruns: Reruns, silences: Silences
    ) -> None:
        self.ctx = ctx
        self.access = access
        self.status = status
        self.reruns = reruns
        self.silences = silences

    async def command(self, text: str, user_id: str, channel_id: str | None = None) -> Answer:
        """`channel_id`: where the command was typed, which says the tenant when none is named
        and is the only place `status public` may post one's status."""
        lang = (await self.access.person(user_id)).lang
        text = self.ctx.settings.redactor.within(text, COMMAND_MAX)
        names = [tenant.name for tenant in self.ctx.settings.tenants]
        parsed = slash_command.parse(text, names)
        if isinstance(parsed, slash_command.Help):
            return Answer(t(lang, "command.help"))
        action = _action(parsed)
        try:
            visible = await self.access.names_seen(user_id)
        except MembershipUnknown:
            return await self.access.refuse_unknown(user_id, action, lang)
        if isinstance(parsed, slash_command.Usage):
            return Answer(_usage(parsed, lang, visible))
        viewing = isinstance(parsed, slash_command.Status | slash_command.History)
        if viewing or parsed.tenant is not None or len(names) == 1:
            here = await self._tenants_of(channel_id) if viewing else []
            pick = visibility.pick_tenant(parsed.tenant, visible, in_channel=here)
        else:  # acting on a tenant takes its name when several are watched
            pick = visibility.Choose(tuple(visible)) if visible else visibility.NoneVisible()
        match pick:
            case visibility.Hidden(tenant=name):
                await self.ctx.audit(action, "refused_hidden", user_id=user_id, tenant=name)
                hidden = slash_command.Usage("command.tenant_unknown", (("name", name[:40]),))
                return Answer(_usage(hidden, lang, visible))
            case visibility.NoneVisible():
                await self.ctx.audit(action, "refused_none", user_id=user_id)
                return Answer(t(lang, "access.none"))
            case visibility.Choose(names=choices):
                names_seen = escape(", ".join(choices))
                return Answer(t(lang, "command.tenant_needed", names=names_seen))
        assert isinstance(pick, visibility.Chosen)
        tenant = self.ctx.settings.tenant(pick.tenant)
        assert tenant is not None
        return await self._run(parsed, tenant, user_id, lang, channel_id)

    async def _run(
        self,
        parsed: slash_command.Command,
        tenant: Tenant,
        user_id: str,
        lang: str,
        channel_id: str | None,
    ) -> Answer:
        match parsed:
            case slash_command.Status(public=public):
                if public and not await self._posts_here(tenant, channel_id):
                    await self.ctx.audit(
                        "status", "refused_public_elsewhere", user_id=user_id, tenant=tenant.name
                    )
                    return Answer(t(lang, "access.public_elsewhere", tenant=escape(tenant.name)))
                # A public answer speaks the channel's language; a private one the asker's.
                speak = tenant.language if public else lang
                return await self.status.status(user_id, tenant, speak, public)
            case slash_command.History(count=count):
                return await self.status.history(user_id, tenant, count, lang)
            case slash_command.Rerun():
                return await self.reruns.ask(user_id, tenant.name)
            case slash_command.Silence(seconds=seconds, reason=reason):
                return await self.silences.silence(user_id, tenant.name, seconds, reason)
            case slash_command.PlannedSilence(window=window, reason=reason):
                return await self.silences.plan(user_id, tenant.name, window, reason)
            case slash_command.Unsilence():
                return await self.silences.unsilence(user_id, tenant.name)
        return Answer(t(lang, "command.help"))

    async def _tenants_of(self, channel_id: str | None) -> list[str]:
        """The tenants whose channels include this one."""
        if not channel_id:
            return []
        return [
            tenant.name
            for tenant in self.ctx.settings.tenants
            if channel_id in await self.access.channels(tenant)
        ]

    async def _posts_here(self, tenant: Tenant, channel_id: str | None) -> bool:
        """`status public` shows a tenant's status only in its own channels, so a channel
        shared with another customer never gets it. With one tenant, as anywhere before."""
        if self.access.everyone_sees:
            return True
        return channel_id is not None and visibility.in_its_channel(
            channel_id, await self.access.channels(tenant)
        )


def _usage(usage: slash_command.Usage, lang: str, visible: list[str]) -> str:
    """What was not understood, and the help; a tenant's name offers only those `visible`.
    The words come from what the person typed: shown in code spans, escaped."""
    params = {name: code(value) for name, value in usage.params}
    key = usage.key
    if key == "command.tenant_unknown":
        if visible:
            params["names"] = code(", ".join(visible))
        else:
            key = "command.tenant_unknown_none"
    return f"{t(lang, key, **params)}\n\n{t(lang, 'command.help')}"


def _action(parsed: slash_command.Command) -> str:
    """The audit's word for what the command would do."""
    words = {
        slash_command.Status: "status",
        slash_command.History: "history",
        slash_command.Rerun: "rerun",
        slash_command.Silence: "silence",
        slash_command.Unsilence: "unsilence",
    }
    return words.get(type(parsed), "command")
