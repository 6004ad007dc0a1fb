"""Settings: every problem is named with its fix, and good settings make tenants."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.core.errors import ConfigError
from bot.core.settings import Settings, load_settings
from bot.core.settings.sources import SourceKind, unmet_sources
from bot.core.settings.validators import Ending, http_url
from bot.core.storm import StormRule
from bot.core.thresholds import Thresholds

GOOD = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-3",
    "SLACK_SIGNING_SECRET": "s3cret",
    "EADM_URL": "https://eadm.example.no/",
    "ALERT_CHANNEL": "#eadm-alerts",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("SLACK_", "EADM_", "ALERT_", "RERUN_", "TICKET_", "SMTP_", "ADMIN_")):
            monkeypatch.delenv(name)
    monkeypatch.delenv("MENTION", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def settle(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def problems(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        settle(monkeypatch, **env)
    return info.value.problems


def test_good_settings_make_one_tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settle(
        monkeypatch, **GOOD, ADMIN_USERS="U1, U2", RERUN_COMMAND='["schtasks", "/Run"]'
    )
    (tenant,) = settings.tenants
    assert tenant.eadm_url == "https://eadm.example.no"
    assert tenant.channel == "#eadm-alerts"
    assert tenant.rerun.kind == "command" and tenant.rerun.command == ["schtasks", "/Run"]
    assert settings.admin_users == ["U1", "U2"]
    assert settings.poll_interval == 60 and settings.not_started_after == 900


def test_nothing_set_names_every_missing_setting_with_its_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = problems(monkeypatch)
    names = [p.split(":")[0] for p in found]
    assert names == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "EADM_URL", "ALERT_CHANNEL"]
    assert all("; " in p for p in found)  # each line says how to fix it


@pytest.mark.parametrize(
    "env,name,words",
    [
        ({"POLL_INTERVAL": "soon"}, "POLL_INTERVAL", "number"),
        ({"POLL_INTERVAL": "0"}, "POLL_INTERVAL", "greater than 0"),
        ({"EADM_URL": "eadm.example.no"}, "EADM_URL", "http"),
        ({"RERUN_COMMAND": "schtasks /Run"}, "RERUN_COMMAND", "JSON"),
        ({"LANGUAGE": "sv"}, "LANGUAGE", "en or nb"),
        ({"SLACK_BOT_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN", "xoxb-"),
        ({"TIMEZONE": "Europe/Bergen"}, "TIMEZONE", "time zone"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL", "postgresql"),
        ({"TICKET_EMAIL_TO": "support@example.no"}, "SMTP_URL", "smtp://"),
    ],
)
def test_one_bad_setting_is_named_with_its_fix(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], name: str, words: str
) -> None:
    found = problems(monkeypatch, **{**GOOD, **env})
    assert len(found) == 1, found
    assert found[0].startswith(f"{name}:") and words in found[0]


def test_secrets_never_show_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settle(monkeypatch, **GOOD)
    assert "xoxb-1-2-3" not in repr(settings) and "s3cret" not in repr(settings)


def test_socket_mode_needs_no_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**GOOD, "SLACK_APP_TOKEN": "xapp-1-A-1"}
    del env["SLACK_SIGNING_SECRET"]
    assert settle(monkeypatch, **env).socket_mode


def test_empty_lines_copied_from_env_example_count_as_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settle(monkeypatch, **GOOD, EADM_API_TOKEN="", ADMIN_GROUP="")
    assert settings.eadm_api_token is None and settings.admin_group is None


def test_tenants_from_a_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text(
        '[[tenants]]\nname = "bergen"\neadm_url = "https://a.example.no"\nchannel = "C1"\n'
        '[[tenants]]\nname = "voss"\neadm_url = "https://b.example.no"\nchannel = "C2"\n'
        'language = "nb"\n[tenants.rerun]\nkind = "webhook"\nurl = "https://hook.example.no"\n'
    )
    settings = settle(
        monkeypatch, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", EADM_BOT_CONFIG=str(config)
    )
    assert [t.name for t in settings.tenants] == ["bergen", "voss"]
    assert settings.tenant("voss").language == "nb"
    assert settings.tenant("voss").rerun.kind == "webhook"


def test_a_broken_tenant_file_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text("[[tenants]\n")
    found = problems(
        monkeypatch, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", EADM_BOT_CONFIG=str(config)
    )
    assert found[0].startswith("EADM_BOT_CONFIG:") and "TOML" in found[0]


def test_no_tenants_is_an_empty_list_not_a_surprise() -> None:
    settings = load_settings(require_slack=False, require_tenants=False, _env_file=None)
    assert settings.tenants == []


# -- who a new alert notifies, and the portal's pages ---------------------------------------


@pytest.mark.parametrize(
    "value,kept",
    [
        ("S0123ABCD", "S0123ABCD"),
        ("U0123ABCD", "U0123ABCD"),
        ("W0123ABCD", "W0123ABCD"),
        ("here", "here"),
        ("@here", "here"),
        ("!Channel", "channel"),
    ],
)
def test_mention_takes_a_group_a_person_here_or_channel(
    monkeypatch: pytest.MonkeyPatch, value: str, kept: str
) -> None:
    assert settle(monkeypatch, **GOOD, MENTION=value).mention == kept


@pytest.mark.parametrize("value", ["@eadm-admins", "eadm-admins", "s0123abcd", "U1 U2", "everyone"])
def test_a_wrong_mention_is_named_with_its_fix(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    (problem,) = problems(monkeypatch, **GOOD, MENTION=value)
    assert problem.startswith(f"MENTION: {value!r} is not a Slack user group ID")
    assert "S0123ABCD" in problem and "not its @handle" in problem


def tenants_file(tmp_path: Path, extra: str) -> Path:
    config = tmp_path / "tenants.toml"
    config.write_text(
        '[[tenants]]\nname = "bergen"\neadm_url = "https://a.example.no"\nchannel = "C1"\n'
        + extra
        + '[[tenants]]\nname = "voss"\neadm_url = "https://b.example.no"\nchannel = "C2"\n'
    )
    return config


def test_a_tenants_mention_and_portal_pages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tenants_file(
        tmp_path,
        'mention = "none"\nportal_url = "https://bergen.eadm.no"\n'
        'portal_status_url = "https://bergen.eadm.no/#/sync/status/"\n',
    )
    settings = settle(
        monkeypatch,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        EADM_BOT_CONFIG=str(config),
        MENTION="S0ADMINS",
    )
    bergen, voss = settings.tenants
    assert (bergen.mention, voss.mention, settings.mention) == ("none", None, "S0ADMINS")
    assert bergen.portal_pages == {"status": "https://bergen.eadm.no/#/sync/status/"}
    assert voss.portal_pages == {}


def test_a_tenants_wrong_mention_names_the_tenant_and_the_field(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tenants_file(tmp_path, 'mention = "@it-drift"\n')
    (problem,) = problems(
        monkeypatch, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", EADM_BOT_CONFIG=str(config)
    )
    assert problem.startswith("EADM_BOT_CONFIG: tenant 'bergen', mention: '@it-drift' is not")
    assert '"none" for nobody' in problem and problem.count("; ") == 1


def test_portal_page_addresses_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settle(
        monkeypatch,
        **GOOD,
        EADM_PORTAL_URL="https://eadm.example.no",
        EADM_PORTAL_IMPORT_HISTORY_URL="https://eadm.example.no/#/import-history",
    )
    (tenant,) = settings.tenants
    assert tenant.portal_pages == {"import_history": "https://eadm.example.no/#/import-history"}
    (problem,) = problems(monkeypatch, EADM_PORTAL_STATUS_URL="eadm.example.no/status")
    assert problem.startswith("EADM_PORTAL_STATUS_URL: must start with http")


# -- one rule each: web addresses, what each source needs, the defaults ---------------------


@pytest.mark.parametrize(
    "value,ending,kept",
    [
        ("https://eadm.example.no/", "no_slash", "https://eadm.example.no"),
        ("http://eadm01:9182/metrics", "no_slash", "http://eadm01:9182/metrics"),
        (
            "https://eadm.example.no/#/sync/status/",
            "as_given",
            "https://eadm.example.no/#/sync/status/",
        ),
        ("https://slack.com/api", "slash", "https://slack.com/api/"),
        ("http://127.0.0.1:8080/api/", "slash", "http://127.0.0.1:8080/api/"),
    ],
)
def test_the_url_rule_keeps_or_mends_the_ending(value: str, ending: Ending, kept: str) -> None:
    assert http_url(value, ending=ending) == kept


@pytest.mark.parametrize("value", ["", "eadm.example.no", "//eadm.example.no", "ftp://eadm.no"])
@pytest.mark.parametrize("ending", ["no_slash", "as_given", "slash"])
def test_the_url_rule_refuses_what_is_not_http(value: str, ending: Ending) -> None:
    with pytest.raises(ValueError, match=r"^must start with http:// or https://$"):
        http_url(value, ending=ending)


# Every address variable; SMTP_URL and DATABASE_URL name other schemes.
URL_VARIABLES = [
    name.upper()
    for name in Settings.model_fields
    if name.endswith("_url") and name not in ("smtp_url", "database_url")
]


@pytest.mark.parametrize("name", URL_VARIABLES)
def test_every_address_variable_follows_the_url_rule(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    (problem,) = problems(monkeypatch, **{**GOOD, name: "eadm.example.no"})
    assert problem.startswith(f"{name}: must start with http:// or https://; ")


@pytest.mark.parametrize(
    "field",
    ["eadm_url", "exporter_url", "portal_url", "portal_status_url", "portal_import_history_url"],
)
def test_every_address_of_a_tenant_follows_the_url_rule(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, field: str
) -> None:
    config = tmp_path / "tenants.toml"
    addresses = {"eadm_url": "https://bergen.eadm.no", field: "bergen.eadm.no"}
    config.write_text(
        '[[tenants]]\nname = "bergen"\nchannel = "C1"\n'
        + "".join(f'{key} = "{value}"\n' for key, value in addresses.items())
    )
    (problem,) = problems(
        monkeypatch, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", EADM_BOT_CONFIG=str(config)
    )
    assert problem.startswith(f"EADM_BOT_CONFIG: tenant 'bergen', {field}: must start with http")


@pytest.mark.parametrize(
    "platform,kinds,given,unmet",
    [
        ("linux", ["api"], {}, ["api"]),
        ("linux", ["api"], {"eadm_url": "https://e"}, []),
        ("linux", ["api", "exporter"], {}, ["api", "exporter"]),
        ("linux", ["api", "exporter"], {"exporter_url": "http://m"}, ["api"]),
        ("linux", ["api", "task"], {"eadm_url": "https://e"}, ["task"]),
        ("linux", ["task"], {"task_command": ["ssh", "eadm01"]}, []),
        ("win32", ["task"], {}, []),
        ("win32", ["exporter"], {"eadm_url": "https://e"}, ["exporter"]),
    ],
)
def test_what_each_source_needs(
    monkeypatch: pytest.MonkeyPatch,
    platform: str,
    kinds: list[SourceKind],
    given: dict[str, Any],
    unmet: list[str],
) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    settings = {"eadm_url": None, "exporter_url": None, "task_command": None, **given}
    assert unmet_sources(kinds, **settings) == unmet


def test_the_settings_take_their_defaults_from_the_core_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settle(monkeypatch, **GOOD)
    assert settings.thresholds == Thresholds()
    assert StormRule(settings.storm_after, settings.storm_window) == StormRule()
    settings = settle(monkeypatch, **GOOD, NOT_STARTED_AFTER="60", STUCK_FACTOR="2")
    assert settings.thresholds == Thresholds(not_started_after=60, stuck_factor=2)


def test_the_pure_rules_import_no_settings_schema() -> None:
    code = (
        "import sys, bot.core.detect, bot.core.task_rules; "
        "print(sorted(m for m in sys.modules if m.startswith(('bot.core.settings', 'pydantic'))))"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
