"""The watch loop end to end: `eadm-bot run` as a process, one simulator per tenant, the Slack
double recording what reaches the channel.

One bot watches a tenant for every step x condition of the guide (plus a recovering step, a
dead API and a garbage-speaking API), each tenant posting to its own channel, so a single run
proves that every case gets exactly one alert with the right advice and buttons.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from bot.core.domain import IMPORT_AD, SYNCHRONIZATION, Condition
from bot.core.i18n import t
from bot.core.playbook import load_playbook
from bot.sim.eadm import STEPS, Fault, Scenario
from bot.sim.simulation import SimClock
from bot.slack import ids
from bot.slack.render import title
from testkit.e2e import BUTTONS, block_texts, eventually, settled
from testkit.world import World

pytestmark = pytest.mark.asyncio(loop_scope="module")

SPEED = 600.0  # a whole cycle takes about 1.2 s
THRESHOLDS = {
    "NOT_STARTED_AFTER": "2",
    "STUCK_AFTER": "3",
    "CYCLE_DUE_AFTER": "6",
    "SOURCE_DOWN_AFTER": "2",
    "REMIND_AFTER": "3600",
}


@dataclass(frozen=True)
class Case:
    name: str
    channel: str
    scenario: Scenario
    step: str | None
    condition: Condition


def _once(fault: Fault | None, api: str = "up") -> Scenario:
    """One cycle and no more, so a case fails exactly once."""
    return Scenario("test", (fault,), more_cycles=False, api=api)


def _cases() -> list[Case]:
    cases: list[tuple[str, Scenario, str | None, Condition]] = []
    for step in STEPS:
        slug = step.lower().replace(" ", "-")
        cases.append((f"fail-{slug}", _once(Fault(step, "fail")), step, Condition.FAILED))
        cases.append((f"stuck-{slug}", _once(Fault(step, "stuck")), step, Condition.STUCK))
        cases.append(
            (f"not-started-{slug}", _once(Fault(step, "not_started")), step, Condition.NOT_STARTED)
        )
    cases += [
        (
            "safety-threshold",
            _once(Fault(SYNCHRONIZATION, "safety_threshold")),
            SYNCHRONIZATION,
            Condition.SAFETY_THRESHOLD,
        ),
        ("no-new-cycle", _once(None), None, Condition.NO_NEW_CYCLE),
        ("api-down", _once(None, api="down"), None, Condition.SOURCE_UNREACHABLE),
        ("api-garbage", _once(None, api="garbage"), None, Condition.SOURCE_UNREACHABLE),
    ]
    return [
        Case(name, f"C{index:03d}", scenario, step, condition)
        for index, (name, scenario, step, condition) in enumerate(cases, start=1)
    ]


CASES = _cases()
# A step that does not start until the test moves its simulator's clock past the hold (once
# the alert is out, however long the bot took to start), then does: the alert must turn into
# a resolution. Healthy cycles follow, so the tenant neither repeats the fault nor runs out.
HOLD = 600.0  # real seconds
RECOVERING = Case(
    "recovers",
    "C900",
    Scenario("test", (Fault(IMPORT_AD, "not_started", hold=HOLD * SPEED), *[None] * 20)),
    IMPORT_AD,
    Condition.NOT_STARTED,
)


# Who a new alert notifies: everyone's on-call person, except where a tenant names its own group.
MENTION = "U0ONCALL"
TENANT_MENTION = {RECOVERING.name: "S0BERGENIT"}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    recovering_clock = SimClock()
    async with World.open(tmp_path_factory.mktemp("watch")) as world:
        for case in [*CASES, RECOVERING]:
            mention = TENANT_MENTION.get(case.name)
            await world.add_tenant(
                case.name,
                case.scenario,
                speed=SPEED,
                clock=recovering_clock if case is RECOVERING else None,
                channel=case.channel,
                toml='rerun = { kind = "simulator" }\n'
                + (f'mention = "{mention}"\n' if mention else ""),
            )
        await world.start_bot(MENTION=MENTION, **THRESHOLDS)
        await world.alerts_in([case.channel for case in [*CASES, RECOVERING]], timeout=40)
        recovering_clock.advance(HOLD)  # the held step starts now
        # Let several more polls see the same findings: they must post nothing new.
        await settled(world.bot)
        yield world


def _action_ids(blocks: list[dict[str, Any]]) -> set[str]:
    return {
        element["action_id"]
        for block in blocks
        if block.get("type") == "actions"
        for element in block["elements"]
    }


PLAYBOOK = load_playbook()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_each_case_alerts_once_with_the_guides_advice(world: World, case: Case) -> None:
    posts = [
        c for c in world.slack.calls("chat.postMessage") if c.params["channel"] == case.channel
    ]
    assert len(posts) == 1, f"{case.name}: expected one post, got {len(posts)}"
    (message,) = world.slack.messages(case.channel)
    blocks = message["blocks"]
    header = blocks[0]["text"]["text"]
    assert header.startswith(title(case.condition, case.step, "en")), header

    entry = PLAYBOOK.entry(case.step, case.condition)
    advice = entry.advice("en")
    text = block_texts(blocks)
    assert advice.meaning in text
    # Every tenant here has a runner: where the advice calls for a rerun, it points at the button.
    hint = t("en", "alert.rerun_here", button=t("en", "button.rerun"))
    assert advice.steps(hint if "rerun" in entry.actions else None)[0] in text
    assert "{rerun}" not in text

    expected = {BUTTONS[action] for action in entry.actions}
    assert _action_ids(blocks) == expected
    # The guide's rule: rerun where it says run the sync script, never on a threshold stop.
    if case.condition is Condition.SAFETY_THRESHOLD:
        assert ids.ACTION_RERUN not in expected
    if case.condition in (Condition.NOT_STARTED, Condition.NO_NEW_CYCLE):
        # ...except Import HR Future and Import AD Results, whose advice is support.
        stall_is_for_support = case.step in ("Import HR Future", "Import AD Results")
        assert (ids.ACTION_RERUN in expected) is not stall_is_for_support
    # Nothing else was said in the channel: no reminder, no thread noise.
    assert world.slack.thread(case.channel, message["ts"]) == []


async def test_a_failed_step_shows_its_error_text(world: World) -> None:
    (message,) = world.slack.messages("C001")  # Import HR fails
    assert "Visma HRM Enterprise answered 500" in block_texts(message["blocks"])


async def test_recovery_updates_the_alert_and_says_how_long(world: World) -> None:
    channel = RECOVERING.channel
    await eventually(
        lambda: (
            world.slack.thread(channel, world.slack.messages(channel)[0]["ts"])
            if world.slack.messages(channel)
            else None
        ),
        timeout=20,
        what="a resolution reply",
    )
    (message,) = world.slack.messages(channel)
    assert "edited" in message, "the original alert must be updated in place"
    assert ids.ACTION_ACK not in block_texts(message["blocks"])
    assert not _action_ids(message["blocks"]), "a resolved alert offers no buttons"
    (reply,) = world.slack.thread(channel, message["ts"])
    assert "after" in reply["text"] or "etter" in reply["text"], reply["text"]


async def test_a_new_alert_mentions_who_it_should_and_nothing_else_does(world: World) -> None:
    (post,) = [c for c in world.slack.calls("chat.postMessage") if c.params["channel"] == "C001"]
    assert post.params["text"].startswith("<@U0ONCALL> ")  # the global MENTION
    # A tenant's own mention wins; the update that resolves it and the thread reply notify
    # nobody again.
    channel = RECOVERING.channel
    await eventually(
        lambda: [c for c in world.slack.calls("chat.update") if c.params["channel"] == channel],
        timeout=20,
        what="the recovering alert's update",
    )
    posts = [c for c in world.slack.calls("chat.postMessage") if c.params["channel"] == channel]
    first, *replies = posts
    assert first.params["text"].startswith("<!subteam^S0BERGENIT> ")
    assert "<!subteam^S0BERGENIT>" in block_texts(_json(first.params["blocks"]))
    assert "U0ONCALL" not in str(first.params)
    updates = [c for c in world.slack.calls("chat.update") if c.params["channel"] == channel]
    for call in [*updates, *replies]:
        assert "subteam" not in str(call.params) and "U0ONCALL" not in str(call.params)
    (message,) = world.slack.messages(channel)
    assert "subteam" not in block_texts(message["blocks"])


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def test_a_dead_or_garbage_api_never_kills_the_bot(world: World) -> None:
    assert world.bot.proc is not None and world.bot.proc.poll() is None
    log = world.bot.log()
    assert "Traceback" not in log
    assert "[api-garbage]" in log and "[api-down]" in log
