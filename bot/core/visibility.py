"""Who sees a tenant, and which tenant a command without a tenant's name is about. Pure.

With several tenants (a provider watching many customers in one workspace), a person sees a
tenant when they are a global admin, one of the tenant's own admins, or a member of one of the
tenant's channels. With exactly one tenant everyone in the workspace sees it, as a
municipality's own workspace expects. What a person may not see is never named to them: not
the tenant, not its admins.

The facts (admins, channel memberships) are read by the caller; these functions decide.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass


def sees(
    *,
    tenants_watched: int,
    global_admin: bool,
    tenant_admin: bool,
    tenant_channels: Iterable[str],
    member_of: Collection[str],
) -> bool:
    """Whether a person sees one tenant. `tenant_channels` and `member_of` are channel IDs."""
    if tenants_watched <= 1 or global_admin or tenant_admin:
        return True
    return any(channel in member_of for channel in tenant_channels)


@dataclass(frozen=True, slots=True)
class Chosen:
    """The command is about this tenant."""

    tenant: str


@dataclass(frozen=True, slots=True)
class Choose:
    """Several tenants it could be about: the person names one of these (those they see)."""

    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Hidden:
    """The person named a tenant they do not see: answered as a name nobody watches."""

    tenant: str


@dataclass(frozen=True, slots=True)
class NoneVisible:
    """The person sees no tenant at all."""


Pick = Chosen | Choose | Hidden | NoneVisible


def pick_tenant(
    named: str | None,
    visible: Sequence[str],
    *,
    in_channel: Sequence[str] = (),
) -> Pick:
    """The tenant a command is about. A named one, if the person sees it; else the one whose
    channel the command was typed in (`in_channel`: the tenants of that channel); else, where
    the person sees exactly one tenant, that one. Where several fit, the person is asked to
    name one of those they see."""
    if named is not None:
        return Chosen(named) if named in visible else Hidden(named)
    here = [name for name in in_channel if name in visible]
    if len(here) == 1:
        return Chosen(here[0])
    if here:
        return Choose(tuple(here))
    if len(visible) == 1:
        return Chosen(visible[0])
    if visible:
        return Choose(tuple(visible))
    return NoneVisible()


def in_its_channel(channel: str, tenant_channels: Iterable[str]) -> bool:
    """Whether a channel is one of the tenant's own: `status public` posts only there, so a
    channel shared with another customer (Slack Connect) never shows this tenant's status."""
    return channel in set(tenant_channels)
