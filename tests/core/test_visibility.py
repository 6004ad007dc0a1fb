"""Who sees a tenant, and which tenant a command is about, table by table."""

from __future__ import annotations

import pytest

from bot.core.visibility import (
    Choose,
    Chosen,
    Hidden,
    NoneVisible,
    Pick,
    in_its_channel,
    pick_tenant,
    sees,
)


@pytest.mark.parametrize(
    "watched,global_admin,tenant_admin,member_of,seen",
    [
        (1, False, False, set(), True),  # one tenant: the whole workspace sees it
        (2, True, False, set(), True),  # a global admin sees every tenant
        (2, False, True, set(), True),  # the tenant's own admin
        (2, False, False, {"CVOSS"}, True),  # a member of one of its channels
        (2, False, False, {"COPS"}, True),  # ...the provider's operations channel too
        (2, False, False, {"CBERGEN"}, False),  # another tenant's channel says nothing
        (2, False, False, set(), False),
    ],
)
def test_who_sees_a_tenant(
    watched: int, global_admin: bool, tenant_admin: bool, member_of: set[str], seen: bool
) -> None:
    assert (
        sees(
            tenants_watched=watched,
            global_admin=global_admin,
            tenant_admin=tenant_admin,
            tenant_channels=("CVOSS", "COPS"),
            member_of=member_of,
        )
        is seen
    )


@pytest.mark.parametrize(
    "named,visible,in_channel,pick",
    [
        ("voss", ["voss"], [], Chosen("voss")),
        ("bergen", ["voss"], [], Hidden("bergen")),  # named, not seen: never confirmed
        ("bergen", [], ["bergen"], Hidden("bergen")),
        (None, ["voss", "bergen"], ["bergen"], Chosen("bergen")),  # typed in its channel
        (None, ["voss", "bergen", "os"], ["voss", "bergen"], Choose(("voss", "bergen"))),
        (None, ["voss"], ["voss", "bergen"], Chosen("voss")),  # a shared channel, one seen
        (None, ["voss"], [], Chosen("voss")),  # elsewhere: the only one seen
        (None, ["voss", "bergen"], [], Choose(("voss", "bergen"))),
        (None, ["voss"], ["bergen"], Chosen("voss")),
        (None, [], [], NoneVisible()),
    ],
)
def test_which_tenant_a_command_is_about(
    named: str | None, visible: list[str], in_channel: list[str], pick: Pick
) -> None:
    assert pick_tenant(named, visible, in_channel=in_channel) == pick


def test_status_public_goes_only_into_the_tenants_own_channels() -> None:
    assert in_its_channel("CVOSS", ["CVOSS", "COPS"])
    assert not in_its_channel("CSHARED", ["CVOSS", "COPS"])
