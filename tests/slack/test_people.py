"""Who may act, and in which language they are answered: asked of the Slack double over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.settings import load_settings
from bot.sim.slack import SlackDouble
from bot.slack.people import People

TOKEN = "xoxb-people"


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[SlackDouble]:
    double = SlackDouble(
        token=TOKEN,
        users={
            "UKARI": {"real_name": "Kari Nordmann", "email": "kari@kommune.no", "locale": "nb-NO"},
            "UOLA": {"real_name": "Ola", "locale": "en-GB"},
        },
        usergroups={"SADMINS": ["UKARI"]},
    )
    await double.start()
    yield double
    await double.stop()


def people(slack: SlackDouble, **settings: str) -> People:
    client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
    return People(load_settings(require_slack=False, require_tenants=False, **settings), client)


async def test_admins_by_user_id_and_by_user_group(slack: SlackDouble) -> None:
    by_group = people(slack, admin_group="SADMINS")
    assert await by_group.is_admin("UKARI")
    assert not await by_group.is_admin("UOLA")
    assert await by_group.is_admin("UKARI")
    assert len(slack.calls("usergroups.users.list")) == 1, "members are cached"
    by_id = people(slack, admin_users="UOLA, UPER")
    assert await by_id.is_admin("UOLA") and not await by_id.is_admin("UKARI")
    assert by_id.who_may_act("en") == "<@UOLA>, <@UPER>"


async def test_an_unknown_group_makes_nobody_an_admin_and_says_why(slack: SlackDouble) -> None:
    unknown = people(slack, admin_group="SNOPE")
    assert not await unknown.is_admin("UKARI")
    assert unknown.who_may_act("nb") == "medlemmer av <!subteam^SNOPE>"


async def test_a_person_is_answered_in_their_slack_language(slack: SlackDouble) -> None:
    folks = people(slack, language="en")
    kari = await folks.person("UKARI")
    assert (kari.name, kari.email, kari.lang) == ("Kari Nordmann", "kari@kommune.no", "nb")
    assert (await folks.person("UOLA")).lang == "en"
    stranger = await folks.person("UGHOST", fallback_lang="nb")
    assert stranger.lang == "nb" and stranger.email is None


async def test_a_tenants_admins_act_on_it_alone_and_global_ones_everywhere(
    slack: SlackDouble,
) -> None:
    from bot.core.settings import Tenant

    folks = people(slack, admin_users="UGLOBAL")
    north = Tenant(
        name="north", eadm_url="http://n", channel="CN", admin_users=["UNORTH"], admin_group=None
    )
    south = Tenant(name="south", eadm_url="http://s", channel="CS", admin_group="SADMINS")
    assert await folks.is_admin("UNORTH", north) and not await folks.is_admin("UNORTH", south)
    assert await folks.is_admin("UKARI", south) and not await folks.is_admin("UKARI", north)
    assert not await folks.is_admin("UNORTH") and not await folks.is_admin("UKARI")
    for tenant in (north, south, None):
        assert await folks.is_admin("UGLOBAL", tenant)
    assert folks.who_may_act("en", north) == "<@UGLOBAL>, <@UNORTH>"
    assert folks.who_may_act("en", south) == "<@UGLOBAL>, members of <!subteam^SADMINS>"


def test_admins_named_globally_and_by_the_tenant_are_named_once(slack: SlackDouble) -> None:
    from bot.core.settings import Tenant

    folks = people(slack, admin_users="UKARI", admin_group="SADMINS")
    both = Tenant(
        name="both", eadm_url="http://b", channel="CB", admin_users=["UKARI"], admin_group="SADMINS"
    )
    assert folks.who_may_act("en", both) == "<@UKARI>, members of <!subteam^SADMINS>"
