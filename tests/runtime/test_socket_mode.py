"""Socket Mode end to end: the bot in-process, a WebSocket double speaking Slack's Socket Mode,
the Slack Web API double and the simulator, all over real sockets on 127.0.0.1."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.core.settings import load_settings
from bot.runtime.wiring import Bot
from bot.sim import eadm
from bot.slack.ids import ACTION_ACK, COMMAND
from testkit.e2e import eventually
from tests.doubles.socket_mode import (
    SocketModeDouble,
    SocketSlackDouble,
    block_actions_payload,
    slash_command_payload,
)

ACK_WITHIN = 3.0  # seconds: Slack retries, then gives up, on an envelope not acked by then
TEST_COMMAND = "/eadm-test"  # a listener of the test's own, so no real handler is needed


@dataclass
class Rig:
    bot: Bot
    socket: SocketModeDouble
    slack: SocketSlackDouble


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "EADM_", "ALERT_", "RERUN_", "TICKET_", "SMTP_", "ADMIN_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    socket = SocketModeDouble()
    await socket.start()
    slack = SocketSlackDouble(socket, app_token="xapp-test", token="xoxb-test")
    await slack.start()
    sim_runner, sim_port = await eadm.serve("127.0.0.1", 0, scenario_name="healthy")
    settings = load_settings(
        slack_bot_token="xoxb-test",
        slack_app_token="xapp-test",
        slack_api_url=slack.api_url,
        eadm_url=f"http://127.0.0.1:{sim_port}",
        alert_channel="#eadm-alerts",
        database_url=f"sqlite:///{tmp_path / 'eadm-bot.db'}",
        port=0,
        host="127.0.0.1",
    )
    bot = Bot(settings)

    @bot.bolt.command(TEST_COMMAND)
    async def test_command(ack: Any, command: dict[str, Any]) -> None:
        await ack(text=f"heard {command['text']}")

    await bot.start()
    try:
        yield Rig(bot, socket, slack)
    finally:
        await bot.stop()
        await sim_runner.cleanup()
        await slack.stop()
        await socket.stop()


async def ack_of_command(rig: Rig, text: str) -> dict[str, Any]:
    payload = slash_command_payload(
        TEST_COMMAND, text, user_id="U0ADMIN", response_url=rig.slack.response_url()
    )
    envelope_id = await rig.socket.send_envelope("slash_commands", payload)
    ack = await rig.socket.wait_ack(envelope_id, timeout=ACK_WITHIN)
    assert ack["envelope_id"] == envelope_id
    return ack


async def test_connects_with_the_app_token_and_gets_hello(rig: Rig) -> None:
    connection = await rig.socket.wait_connected(1)
    assert connection.ticket  # the URL came from apps.connections.open
    assert len(rig.slack.calls("apps.connections.open")) == 1
    assert rig.bot.port  # /healthz is served in Socket Mode too


async def test_slash_command_and_button_click_are_acked(rig: Rig) -> None:
    await rig.socket.wait_connected(1)

    ack = await ack_of_command(rig, "help")
    # The ack carries the command's answer, as Slack shows it to the person who typed it.
    assert ack["payload"] == {"text": "heard help"}

    payload = block_actions_payload(
        ACTION_ACK, "1", user_id="U0ADMIN", response_url=rig.slack.response_url()
    )
    envelope_id = await rig.socket.send_envelope("interactive", payload)
    ack = await rig.socket.wait_ack(envelope_id, timeout=ACK_WITHIN)
    assert ack["envelope_id"] == envelope_id
    assert "payload" not in ack or not ack["payload"]


async def test_eadm_help_is_acked_and_answered(rig: Rig) -> None:
    """The bot's own /eadm listener, over Socket Mode: ack first, the answer follows."""
    await rig.socket.wait_connected(1)
    payload = slash_command_payload(
        COMMAND, "help", user_id="U0ADMIN", response_url=rig.slack.response_url("help")
    )
    envelope_id = await rig.socket.send_envelope("slash_commands", payload)
    assert (await rig.socket.wait_ack(envelope_id, timeout=ACK_WITHIN))["envelope_id"]
    await eventually(lambda: rig.slack.responses, timeout=5, interval=0.02, what="the answer")
    assert [r["id"] for r in rig.slack.responses] == ["help"]


async def test_a_command_nobody_listens_to_is_acked_with_a_short_answer(rig: Rig) -> None:
    """Bolt by itself leaves an unknown request unanswered; the bot's last listener answers
    it, so Slack shows the person a sentence instead of an error."""
    await rig.socket.wait_connected(1)
    payload = slash_command_payload("/nobody-listens", "", user_id="U0ADMIN")
    envelope_id = await rig.socket.send_envelope("slash_commands", payload)
    ack = await rig.socket.wait_ack(envelope_id, timeout=ACK_WITHIN)
    assert ack["payload"] == {"text": "eadm-bot answers /eadm only."}


async def test_reconnects_after_a_dropped_connection_and_says_so(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.runtime.socket_mode")
    first = await rig.socket.wait_connected(1)
    await ack_of_command(rig, "before")

    await rig.socket.drop()
    second = await rig.socket.wait_connected(2)
    assert second is not first and not first.open
    assert len(rig.slack.calls("apps.connections.open")) >= 2  # a fresh URL for each connection
    assert (await ack_of_command(rig, "after the drop"))["payload"] == {
        "text": "heard after the drop"
    }

    said = [r.getMessage() for r in caplog.records if r.name == "bot.runtime.socket_mode"]
    assert "the Socket Mode connection to Slack was closed; reconnecting" in said
    assert any(line.startswith("reconnected to Slack over Socket Mode") for line in said)


async def test_follows_slacks_disconnect_message(rig: Rig) -> None:
    first = await rig.socket.wait_connected(1)
    # Slack asks first and leaves the old socket for the client to close.
    await rig.socket.disconnect("refresh_requested", close=False)
    second = await rig.socket.wait_connected(2)
    assert second is not first
    assert (await ack_of_command(rig, "after refresh"))["envelope_id"]
