"""The agent's Windows recipe: its service file, its settings and the central bot's tenant."""

from __future__ import annotations

import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

from bot.core.settings import Settings, Tenant, check_agent_settings

WINDOWS = Path(__file__).parents[2] / "deploy" / "windows"
README = (WINDOWS / "README.md").read_text(encoding="utf-8")


def test_agent_service_runs_the_agent() -> None:
    root = ET.parse(WINDOWS / "eadm-bot-agent.xml").getroot()
    assert root.findtext("id") == "eadm-bot-agent"
    assert root.findtext("executable") == r"%BASE%\.venv\Scripts\eadm-bot.exe"
    assert root.findtext("arguments") == "agent"
    assert root.findtext("workingdirectory") == "%BASE%"
    assert root.find(".//password") is None


def _block(language: str, containing: str) -> str:
    blocks = re.findall(rf"^```{language}\n(.*?)^```", README, re.MULTILINE | re.DOTALL)
    return next(b for b in blocks if containing in b)


def test_agent_env_in_the_recipe_is_complete() -> None:
    lines = dict(
        line.split("=", 1) for line in _block("ini", "AGENT_TOKEN").splitlines() if "=" in line
    )
    values = {k.lower(): v for k, v in lines.items()}
    values["agent_token"] = "x" * 32
    values["agent_secret"] = "y" * 32
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    problems = check_agent_settings(settings)
    # Off Windows the commands must be given; on Windows the recipe is complete.
    assert all(p.startswith(("EADM_TASK_COMMAND", "AGENT_START_COMMAND")) for p in problems)
    assert settings.agent_port == 8731


def test_central_tenant_in_the_recipe_is_valid() -> None:
    data = tomllib.loads(_block("toml", "[[tenants]]"))
    (tenant,) = (Tenant.model_validate(t) for t in data["tenants"])
    assert tenant.sources == ["api"]
    assert tenant.rerun.kind == "webhook"
    assert tenant.rerun.url and tenant.rerun.url.endswith("/api/v1/sync/run")


def test_short_agent_secrets_are_refused() -> None:
    settings = Settings(_env_file=None, agent_token="short", agent_secret=None)  # type: ignore[call-arg]
    problems = " ".join(check_agent_settings(settings))
    assert "AGENT_TOKEN: shorter than 16" in problems and "AGENT_SECRET: missing" in problems


def test_the_agent_and_the_central_tenant_have_one_name() -> None:
    """The agent starts the task only for a rerun that names its own TENANT_NAME."""
    agent = dict(
        line.split("=", 1) for line in _block("ini", "AGENT_TOKEN").splitlines() if "=" in line
    )
    (tenant,) = tomllib.loads(_block("toml", "[[tenants]]"))["tenants"]
    assert agent["TENANT_NAME"] == tenant["name"]
