"""The personal-data settings: REDACT_PATTERNS and a tenant's `redact_patterns` compiled at
start-up (a bad one stops it, named), the one place that gives a tenant's redactor, and how
long the database keeps what."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.core.redact import FNR_MARK, REDACTED_MARK
from bot.core.retention import Retention
from bot.core.settings import load_settings
from testkit.identity import synthetic_fnr

FNR = synthetic_fnr(24, 12, 1987)
BASE = {"require_slack": False, "eadm_url": "https://eadm.example.no", "alert_channel": "C1"}


def problems(**settings: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(**BASE, **settings)  # type: ignore[arg-type]
    return info.value.problems


@pytest.mark.parametrize(
    "value,why",
    [
        ('["EMP-(\\\\d{5}"]', "pattern 'EMP-(\\\\d{5}' is not a valid regular expression"),
        ('["ok", "[a-"]', "pattern '[a-' is not a valid regular expression"),
        ("EMP-\\d{5}", "is not a JSON list of strings"),
        ('{"a": 1}', "is not a JSON list of strings"),
        ('["ok", 7]', "pattern 7 is not a string"),
        ('["x*"]', "pattern 'x*' matches the empty text"),
    ],
)
def test_a_bad_site_pattern_stops_start_up_naming_it(value: str, why: str) -> None:
    (problem,) = problems(redact_patterns=value)
    assert problem.startswith("REDACT_PATTERNS: ") and why in problem
    assert "JSON list of Python regular expressions" in problem, "the fix follows"


def test_a_bad_tenant_pattern_names_the_tenant_and_the_pattern(tmp_path: Path) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text(
        '[[tenants]]\nname = "voss"\neadm_url = "https://a.example.no"\nchannel = "C1"\n'
        "redact_patterns = ['ANS-\\d{4}', '(unclosed']\n",
        encoding="utf-8",
    )
    (problem,) = problems(eadm_bot_config=config)
    assert problem.startswith("EADM_BOT_CONFIG: tenant 'voss', redact_patterns:")
    assert "'(unclosed' is not a valid regular expression" in problem


def test_each_tenant_redacts_with_the_sites_patterns_then_its_own(tmp_path: Path) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text(
        '[[tenants]]\nname = "voss"\neadm_url = "https://a.example.no"\nchannel = "C1"\n'
        "redact_patterns = ['ANS-\\d{4}']\n"
        '[[tenants]]\nname = "os"\neadm_url = "https://b.example.no"\nchannel = "C2"\n',
        encoding="utf-8",
    )
    settings = load_settings(
        require_slack=False, eadm_bot_config=config, redact_patterns='["EMP-\\\\d{5}"]'
    )
    text = f"EMP-12345 ANS-1234 {FNR} order 12345678901"
    voss, os_ = settings.tenants
    assert voss.redactor(text) == f"{REDACTED_MARK} {REDACTED_MARK} {FNR_MARK} order 12345678901"
    assert os_.redactor(text) == f"{REDACTED_MARK} ANS-1234 {FNR_MARK} order 12345678901"
    assert settings.redactor_for("voss") is voss.redactor
    assert settings.redactor_for(os_) is os_.redactor
    assert settings.redactor_for(None)(text) == os_.redactor(text), "the site's own"
    assert settings.redactor_for("nobody")(text) == os_.redactor(text)


def test_without_patterns_identity_numbers_still_go() -> None:
    settings = load_settings(**BASE)  # type: ignore[arg-type]
    (tenant,) = settings.tenants
    assert tenant.redactor(f"for {FNR}.") == f"for {FNR_MARK}."


def test_what_is_kept_how_long() -> None:
    settings = load_settings(**BASE)  # type: ignore[arg-type]
    assert settings.retention == Retention(90, 365)
    kept = load_settings(**BASE, retention_days=0, audit_retention_days=30).retention  # type: ignore[arg-type]
    assert (kept.days, kept.audit_days) == (0, 30)
    (problem,) = problems(retention_days="-1")
    assert problem.startswith("RETENTION_DAYS:") and "0 keeps everything" in problem
