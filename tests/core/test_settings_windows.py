"""The settings of maintenance windows and escalation: MAINTENANCE and a tenant's own list that
replaces it, ESCALATE_* and a tenant's own, and every way to get them wrong named with a fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.core.notify import EscalationRule
from bot.core.settings import Settings, load_settings

GOOD = {
    "slack_bot_token": "xoxb-1-2-3",
    "slack_signing_secret": "s3cret",
    "eadm_url": "https://eadm.example.no",
    "alert_channel": "#eadm-alerts",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "EADM_", "ALERT_", "ESCALATE_", "MAINTENANCE", "MENTION")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def settle(**env: object) -> Settings:
    return load_settings(**{**GOOD, **env})


def problems(**env: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        settle(**env)
    return info.value.problems


def tenants(tmp_path: Path, bergen: str = "", voss: str = "") -> Path:
    config = tmp_path / "tenants.toml"
    config.write_text(
        '[[tenants]]\nname = "bergen"\neadm_url = "https://a.example.no"\nchannel = "C1"\n'
        + bergen
        + '\n[[tenants]]\nname = "voss"\neadm_url = "https://b.example.no"\nchannel = "C2"\n'
        + voss,
        encoding="utf-8",
    )
    return config


def texts(settings: Settings) -> dict[str, list[str]]:
    return {t.name: [str(w) for w in settings.maintenance_windows(t)] for t in settings.tenants}


def test_maintenance_windows_for_every_tenant_unless_it_has_its_own(tmp_path: Path) -> None:
    config = tenants(tmp_path, 'maintenance = ["second tue 22:00-02:00"]', "maintenance = []")
    settings = settle(eadm_bot_config=config, maintenance="sun 06:00-08:00, daily 03:00-03:30")
    assert texts(settings) == {"bergen": ["second tue 22:00-02:00"], "voss": []}
    alone = settle(maintenance="sun 06:00-08:00, daily 03:00-03:30")
    assert texts(alone) == {"eadm": ["sun 06:00-08:00", "daily 03:00-03:30"]}
    assert texts(settle()) == {"eadm": []}


def test_a_tenants_windows_may_be_one_string_too(tmp_path: Path) -> None:
    config = tenants(tmp_path, 'maintenance = "tue 22:00-02:00, sun 06:00-08:00"')
    assert texts(settle(eadm_bot_config=config))["bergen"] == ["tue 22:00-02:00", "sun 06:00-08:00"]


def test_a_malformed_window_stops_start_up_naming_it_and_showing_a_correct_one() -> None:
    (problem,) = problems(maintenance="tue 22:00-02:00, second tues 25:00-02:00")
    assert problem.startswith('MAINTENANCE: maintenance window "second tues 25:00-02:00": ')
    assert "25:00 is not a time from 00:00 to 23:59" in problem
    assert 'e.g. "tue 22:00-02:00", "second tue 22:00-02:00"' in problem
    assert 'MAINTENANCE="second tue 22:00-02:00, sun 06:00-08:00"' in problem


def test_a_tenants_malformed_window_names_the_tenant_and_the_field(tmp_path: Path) -> None:
    config = tenants(tmp_path, voss='maintenance = ["every tue 22:00-02:00"]')
    (problem,) = problems(eadm_bot_config=config)
    assert problem.startswith(
        "EADM_BOT_CONFIG: tenant 'voss', maintenance: maintenance window \"every tue 22:00-02:00\""
    )
    assert 'maintenance = ["second tue 22:00-02:00"]' in problem and "maintenance = []" in problem


def test_escalation_is_off_unless_asked_for() -> None:
    settings = settle()
    assert settings.escalate_after == 0 and settings.escalation(settings.tenants[0]) is None


def test_escalation_for_every_tenant_unless_it_has_its_own(tmp_path: Path) -> None:
    config = tenants(
        tmp_path,
        'escalate_after = 600\nescalate_to = "@U0KARI"\nescalate_channel = "#vakt"',
        "escalate_after = 0",
    )
    settings = settle(
        eadm_bot_config=config, escalate_after=3600, escalate_to="S0ONCALL", escalate_channel="#ops"
    )
    bergen, voss = settings.tenants
    assert settings.escalation(bergen) == EscalationRule(600, "U0KARI", "#vakt")
    assert settings.escalation(voss) is None, "0 turns it off for the tenant"
    alone = settle(escalate_after=3600, escalate_to="here")
    assert alone.escalation(alone.tenants[0]) == EscalationRule(3600, "here", None)


def test_escalation_without_anyone_to_escalate_to_names_both() -> None:
    (problem,) = problems(escalate_after=3600)
    assert problem.startswith("ESCALATE_AFTER: is 3600 s but ESCALATE_TO names nobody; set ")
    assert "ESCALATE_AFTER=0" in problem
    (problem,) = problems(escalate_after=3600, escalate_to="none")
    assert problem.startswith("ESCALATE_AFTER:")


def test_a_tenant_that_escalates_to_nobody_is_named(tmp_path: Path) -> None:
    config = tenants(tmp_path, "escalate_after = 60", 'escalate_to = "none"')
    found = problems(eadm_bot_config=config, escalate_after=3600)
    assert found == [
        "tenant 'bergen': escalate_after is 60 s but nobody is named to escalate to; set its "
        "escalate_to (or ESCALATE_TO), or escalate_after = 0 to turn escalation off for it.",
        "tenant 'voss': escalate_after is 3600 s but nobody is named to escalate to; set its "
        "escalate_to (or ESCALATE_TO), or escalate_after = 0 to turn escalation off for it.",
    ]
    named = tenants(tmp_path, 'escalate_to = "S0B"', 'escalate_to = "S0V"')
    assert settle(eadm_bot_config=named, escalate_after=3600).escalate_to is None, (
        "every tenant names its own: ESCALATE_TO is not needed"
    )


@pytest.mark.parametrize("value", ["-1", "soon"])
def test_a_wrong_escalate_after_is_named(value: str) -> None:
    (problem,) = problems(escalate_after=value)
    assert problem.startswith("ESCALATE_AFTER: ")


def test_a_wrong_escalate_to_is_named_with_its_fix() -> None:
    (problem,) = problems(escalate_after=60, escalate_to="@oncall")
    assert problem.startswith("ESCALATE_TO: '@oncall' is not a Slack user group ID")
    assert "S0123ABCD" in problem
