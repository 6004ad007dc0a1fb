"""`/eadm` and the App Home, end to end: signed slash commands and events sent to the running
`eadm-bot run`, answers read where Slack would receive them (response URLs, views.publish)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio

from bot.core.domain import EXPORT_AD
from bot.sim.eadm import STEPS, Fault, Scenario
from bot.sim.signing import event_body, slash_command_body
from bot.slack import ids
from bot.slack.render import cycle_lines
from bot.sources.api import parse_cycle
from testkit.e2e import eventually, send_signed, settled
from testkit.world import World

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN, NORSK, OTHER = "UADMIN", "UNORSK", "UOTHER"
USERS = {
    ADMIN: {"name": "kari", "real_name": "Kari Nordmann", "locale": "en-US"},
    NORSK: {"name": "per", "real_name": "Per Hansen", "locale": "nb-NO"},
    OTHER: {"name": "ola", "real_name": "Ola Vanlig", "locale": "en-GB"},
}
OSLO = ZoneInfo("Europe/Oslo")
TENANTS = {
    "alpha": ("CALPHA", Scenario("t", (Fault(EXPORT_AD, "fail"),), more_cycles=False)),
    "beta": ("CBETA", Scenario("t", (None,), more_cycles=False)),
    "gamma": ("CGAMMA", Scenario("t", (None,), more_cycles=False)),
}


class Commands(World):
    """The bot on three tenants, and how a person asks it something."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.counter = 0

    async def command(
        self, text: str, user: str = ADMIN, channel: str = "C0ALERTS"
    ) -> dict[str, Any]:
        """Send `/eadm <text>` in `channel`; return the answer, with how long the ack took."""
        self.counter += 1
        name = f"cmd{self.counter}"
        body = slash_command_body(
            ids.COMMAND,
            text,
            user_id=user,
            channel_id=channel,
            response_url=self.slack.response_url(name),
        )
        started = time.monotonic()
        response = await send_signed(self.bot.url, body)
        took = time.monotonic() - started
        assert response.status_code == 200, response.text
        answers = await eventually(
            lambda: [r for r in self.slack.responses if r["id"] == name], what=f"/eadm {text}"
        )
        return {**answers[0], "took": took}

    async def fault(self, tenant: str, step: str, kind: str = "fail") -> None:
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{self.sims[tenant]}/_sim/fault", json={"step": step, "kind": kind}
            )
            response.raise_for_status()


def summary_at(world: Commands) -> float:
    return next(
        c.at
        for c in world.slack.calls("chat.postMessage")
        if c.params["channel"] == "CBETA" and "is over" in str(c.params.get("text"))
    )


def text_of(answer: dict[str, Any]) -> str:
    return answer["text"] + "\n" + json.dumps(answer.get("blocks") or [], ensure_ascii=False)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Commands]:
    async with Commands.open(tmp_path_factory.mktemp("commands"), users=USERS) as world:
        for name, (channel, scenario) in TENANTS.items():
            await world.add_tenant(
                name, scenario, channel=channel, toml='rerun = { kind = "simulator" }'
            )
        for channel in ("CALPHA", "CGAMMA"):  # OTHER sees these two tenants, and acts on none
            world.slack.add_member(channel, OTHER)
        await world.start_bot(ADMIN_USERS=f"{ADMIN},{NORSK}", CYCLE_DUE_AFTER="600")
        await world.alerts_in(["CALPHA"], timeout=20, what="alpha's alert")
        yield world


async def expected_lines(world: Commands, tenant: str, lang: str) -> list[str]:
    """The cycle as the simulator serves it, rendered the one way cycles are rendered."""
    async with httpx.AsyncClient() as client:
        data = (await client.get(f"{world.sims[tenant]}/api/v1/sync/cycles/current")).json()
    now = datetime.now(UTC)
    snap = parse_cycle(data, tenant=tenant, fetched_at=now)
    return cycle_lines(snap, lang, OSLO, now, errors=True)


async def test_status_shows_the_cycle_view_in_english(world: Commands) -> None:
    answer = await world.command("status alpha")
    assert answer["took"] < 3
    assert answer["response_type"] == "ephemeral"
    text = text_of(answer)
    for step in STEPS:
        assert f"*{step}*" in text, step
    assert ":white_check_mark: *Import HR* completed" in text
    assert ":x: *Export AD* failed" in text
    assert ":white_circle: *Import AD Results* not started" in text
    assert "Client did not answer" in text
    for line in await expected_lines(world, "alpha", "en"):
        assert json.dumps(line, ensure_ascii=False)[1:-1] in text, line
    assert "No fully successful cycle seen yet." in text
    assert "Open alerts" in text and "Export AD failed" in text
    assert "|view>" in text, "open alerts link to their messages"


async def test_status_speaks_the_askers_norwegian(world: Commands) -> None:
    answer = await world.command("status alpha", user=NORSK)
    text = text_of(answer)
    assert "eAdm-status · alpha" in text
    assert ":white_check_mark: *Importer HR* fullført" in text
    assert ":x: *Export AD* feilet" in text
    assert "*Synkronisering*" in text and "*Importhierarki*" in text
    for line in await expected_lines(world, "alpha", "nb"):
        assert json.dumps(line, ensure_ascii=False)[1:-1] in text, line
    assert "Åpne varsler" in text


async def test_status_public_is_for_the_channel(world: Commands) -> None:
    # Beta's first cycle completes; another test may have started a second one since, which
    # shows its first steps completed soon after it begins.
    async def finished() -> dict[str, Any] | None:
        answer = await world.command("status public beta", channel="CBETA")
        text = text_of(answer)
        done = "Last fully successful cycle ended" in text and "completed" in text
        return answer if done else None

    answer = await eventually(finished, timeout=15, what="beta's cycle to complete")
    assert answer["response_type"] == "in_channel"
    assert "completed" in text_of(answer)
    assert "Last fully successful cycle ended" in text_of(answer)


@pytest.mark.parametrize("user", [ADMIN, NORSK])
async def test_history(world: Commands, user: str) -> None:
    answer = await world.command("history 5 alpha", user=user)
    text = text_of(answer)
    if user == ADMIN:
        assert "The last cycle · alpha" in text and ":x:" in text
        assert "Export AD failed" in text
    else:
        assert "Siste syklus · alpha" in text and "Export AD feilet" in text


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("frobnicate", "I don't know `frobnicate`."),
        ("status", "Several tenants are watched; name one: alpha, beta, gamma."),
        ("status oslo", "No tenant you can see is called `oslo`. You can see: alpha, beta, gamma."),
        ("history 0 alpha", "is not a number of cycles"),
        ("silence soon alpha", "Give the window's length"),
        ("help", "`/eadm history [N] [tenant]`"),
    ],
)
async def test_malformed_input_gets_usage_never_silence(
    world: Commands, text: str, words: str
) -> None:
    answer = await world.command(text)
    assert answer["took"] < 3
    assert words in answer["text"]
    if text not in ("help", "status"):
        assert "/eadm status [public]" in answer["text"], "usage follows the problem"
    assert "Traceback" not in answer["text"]


async def test_rerun_is_for_admins_and_asks_first(world: Commands) -> None:
    refused = await world.command("rerun alpha", user=OTHER)
    assert "Only eAdm admins" in refused["text"]
    asked = await world.command("rerun alpha")
    (button,) = [e for b in asked["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == ids.ACTION_RERUN_TENANT and button["value"] == "alpha"
    assert "/api/v1/sync/run" in button["confirm"]["text"]["text"]


async def test_home_is_published_when_opened_and_when_the_state_changes(world: Commands) -> None:
    body = event_body({"type": "app_home_opened", "user": ADMIN, "tab": "home", "channel": "D1"})
    response = await send_signed(world.bot.url, body, json_body=True)
    assert response.status_code == 200
    calls = await eventually(
        lambda: [c for c in world.slack.calls("views.publish") if c.params["user_id"] == ADMIN],
        what="the Home view",
    )
    raw = calls[0].params["view"]
    view = json.loads(raw) if isinstance(raw, str) else raw
    assert view["type"] == "home"
    text = json.dumps(view, ensure_ascii=False)
    assert all(f"*{name}*" in text for name in TENANTS)
    assert ":x: *Export AD* failed" in text and "Recent cycles" in text
    before = len(calls)
    await world.fault("gamma", "Import AD")
    await eventually(
        lambda: (
            len([c for c in world.slack.calls("views.publish") if c.params["user_id"] == ADMIN])
            > before
        ),
        timeout=15,
        what="the Home view to refresh after gamma's new alert",
    )


async def test_silence_suppresses_posts_and_its_end_posts_one_summary(world: Commands) -> None:
    answer = await world.command("silence 4s beta patching the domain controller")
    assert "until" in answer["text"]
    await eventually(lambda: world.slack.messages("CBETA"), what="the silence notice")
    await world.fault("beta", "Import AD")
    summary = await eventually(
        lambda: [m for m in world.slack.messages("CBETA") if "is over" in m["text"]],
        timeout=20,
        what="the summary when the window ends",
    )
    # Inside the window nothing but the notice that it began; then the summary, then the
    # alert for what is still wrong, once.
    await eventually(lambda: len(world.slack.messages("CBETA")) == 3, what="the open alert")
    await settled(world.bot)
    messages = world.slack.messages("CBETA")
    assert len(messages) == 3, [m["text"] for m in messages]
    assert "silenced alerts for beta" in messages[0]["text"]
    assert "patching the domain controller" in messages[0]["text"]
    assert messages[1] is summary[0]
    assert "1 problem was recorded while it lasted:" in summary[0]["text"]
    assert "Import AD failed" in summary[0]["text"] and "its alert follows" in summary[0]["text"]
    assert messages[2]["blocks"][0]["text"]["text"] == "Import AD failed · beta"
    posts_during_window = [
        c
        for c in world.slack.calls("chat.postMessage")
        if c.params["channel"] == "CBETA" and c.at < summary_at(world)
    ]
    assert len(posts_during_window) == 1, "only the notice that the window began"
    status = await world.command("status beta")
    assert "Open alerts" in text_of(status), "what the window hid is still open, and listed"


async def test_unsilence_ends_a_window_early_with_its_summary(world: Commands) -> None:
    assert "were not silenced" in (await world.command("unsilence gamma"))["text"]
    refused = await world.command("silence 2h gamma", user=OTHER)
    assert "Only eAdm admins" in refused["text"]
    await world.command("silence 2h gamma network work")
    answer = await world.command("unsilence gamma")
    assert "on again" in answer["text"]
    await eventually(
        lambda: [m for m in world.slack.messages("CGAMMA") if "is over" in m["text"]],
        what="the summary",
    )
