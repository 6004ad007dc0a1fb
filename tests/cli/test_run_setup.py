"""`eadm-bot run` with a problem found while the bot is put together: the problem and its fix
on stderr, exit code 2, as bad settings are told; no traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core import playbook as playbook_module
from bot.core.domain import EXPORT_AD, Condition
from bot.core.rerun_guard import can_allow_rerun


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """`run` sets up logging for the process; other tests in this one get theirs back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, before in levels.items():
        logging.getLogger(name).setLevel(before)


@pytest.fixture
def settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_APP_TOKEN": "xapp-test",
        "ALERT_CHANNEL": "C0ALERTS",
        "EADM_URL": "http://127.0.0.1:9",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'eadm-bot.db'}",
        "EADM_BOT_CONFIG": "",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env of the working tree


@pytest.fixture
def guard_stops_rerunning_export_ad(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The rerun guard as it would read after a change that stops rerunning a failed Export
    AD, while the playbook still offers the button there."""
    monkeypatch.setattr(
        playbook_module,
        "can_allow_rerun",
        lambda step, condition: (
            (step, condition) != (EXPORT_AD, Condition.FAILED) and can_allow_rerun(step, condition)
        ),
    )
    playbook_module._packaged.cache_clear()
    yield
    playbook_module._packaged.cache_clear()


def test_a_playbook_the_guard_disagrees_with_stops_run_with_the_fix(
    settings_env: None, guard_stops_rerunning_export_ad: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--no-migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("eadm-bot cannot start. Fix these:\n")
    assert "  - playbook entry 'Export AD' x 'failed': its actions offer \"rerun\"" in err
    assert 'take "rerun" out of its actions' in err, "the fix"
    assert "Traceback" not in err
