"""The deploy/ files, checked the way their consumers read them: Slack's manifest fields, the
compose file, the Dockerfile (its health check run for real), systemd's own verifier, and the
WinSW XML."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from sqlalchemy.engine import make_url

from bot.core.settings import load_settings
from bot.slack.ids import COMMAND

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

# Bot token scopes Slack offers (api.slack.com/scopes); a typo here would make Slack refuse the
# manifest, or worse, install an app that cannot do its job.
KNOWN_BOT_SCOPES = frozenset(
    [
        "app_mentions:read",
        "assistant:write",
        "bookmarks:read",
        "bookmarks:write",
        "calls:read",
        "calls:write",
        "canvases:read",
        "canvases:write",
        "channels:history",
        "channels:join",
        "channels:manage",
        "channels:read",
        "channels:write.invites",
        "channels:write.topic",
        "chat:write",
        "chat:write.customize",
        "chat:write.public",
        "commands",
        "conversations.connect:manage",
        "conversations.connect:read",
        "conversations.connect:write",
        "dnd:read",
        "emoji:read",
        "files:read",
        "files:write",
        "groups:history",
        "groups:read",
        "groups:write",
        "groups:write.invites",
        "groups:write.topic",
        "im:history",
        "im:read",
        "im:write",
        "im:write.topic",
        "incoming-webhook",
        "links.embed:write",
        "links:read",
        "links:write",
        "metadata.message:read",
        "mpim:history",
        "mpim:read",
        "mpim:write",
        "mpim:write.topic",
        "pins:read",
        "pins:write",
        "reactions:read",
        "reactions:write",
        "reminders:read",
        "reminders:write",
        "remote_files:read",
        "remote_files:share",
        "remote_files:write",
        "team.billing:read",
        "team.preferences:read",
        "team:read",
        "triggers:read",
        "triggers:write",
        "usergroups:read",
        "usergroups:write",
        "users.profile:read",
        "users:read",
        "users:read.email",
        "users:write",
        "workflow.steps:execute",
    ]
)
KNOWN_BOT_EVENTS = frozenset(
    [
        "app_home_opened",
        "app_mention",
        "app_uninstalled",
        "channel_archive",
        "channel_created",
        "channel_deleted",
        "channel_rename",
        "channel_unarchive",
        "group_archive",
        "group_rename",
        "link_shared",
        "member_joined_channel",
        "member_left_channel",
        "message.channels",
        "message.groups",
        "message.im",
        "message.mpim",
        "pin_added",
        "pin_removed",
        "reaction_added",
        "reaction_removed",
        "subteam_created",
        "subteam_members_changed",
        "subteam_updated",
        "team_join",
        "tokens_revoked",
        "user_change",
    ]
)
MANIFEST_SECTIONS = {
    "_metadata": set(),
    "display_information": {"name", "description", "long_description", "background_color"},
    "features": {
        "app_home",
        "bot_user",
        "shortcuts",
        "slash_commands",
        "unfurl_domains",
        "workflow_steps",
    },
    "oauth_config": {"redirect_urls", "scopes", "token_management_enabled"},
    "settings": {
        "allowed_ip_address_ranges",
        "event_subscriptions",
        "interactivity",
        "org_deploy_enabled",
        "socket_mode_enabled",
        "token_rotation_enabled",
        "is_hosted",
        "function_runtime",
    },
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings built here must come from the deploy files alone, not from this shell."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "EADM_", "ALERT_", "RERUN_", "TICKET_", "SMTP_", "ADMIN_")):
            monkeypatch.delenv(name)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# -- Slack app manifest ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data = load_yaml(DEPLOY / "slack-app-manifest.yml")
    assert isinstance(data, dict)
    return data


def test_manifest_sections_are_slacks(manifest: dict[str, Any]) -> None:
    assert set(manifest) <= set(MANIFEST_SECTIONS), set(manifest) - set(MANIFEST_SECTIONS)
    for section in ("display_information", "features", "oauth_config", "settings"):
        assert section in manifest
        unknown = set(manifest[section]) - MANIFEST_SECTIONS[section]
        assert not unknown, f"{section} has keys Slack does not know: {unknown}"


def test_manifest_display_information(manifest: dict[str, Any]) -> None:
    info = manifest["display_information"]
    assert isinstance(info["name"], str) and 1 <= len(info["name"]) <= 35
    assert isinstance(info["description"], str) and len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000  # Slack's limits for the long text
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", info["background_color"])


def test_manifest_features(manifest: dict[str, Any]) -> None:
    features = manifest["features"]
    home = features["app_home"]
    assert home["home_tab_enabled"] is True
    assert all(isinstance(home[k], bool) for k in home)
    bot_user = features["bot_user"]
    assert isinstance(bot_user["display_name"], str) and len(bot_user["display_name"]) <= 80
    assert isinstance(bot_user["always_online"], bool)

    commands = {c["command"]: c for c in features["slash_commands"]}
    assert COMMAND in commands, "the bot answers /eadm; the manifest must declare it"
    for name, command in commands.items():
        assert re.fullmatch(r"/[a-z0-9_-]{1,31}", name)
        assert set(command) <= {"command", "url", "description", "usage_hint", "should_escape"}
        assert isinstance(command["description"], str) and command["description"]
        assert isinstance(command.get("usage_hint", ""), str)
        assert isinstance(command["should_escape"], bool)
        assert command["url"].startswith("https://") and command["url"].endswith("/slack/events")


def test_manifest_scopes_are_known_slack_bot_scopes(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]
    assert set(scopes) <= {"bot", "user"}
    bot = scopes["bot"]
    assert all(isinstance(s, str) for s in bot)
    assert len(bot) == len(set(bot)), "a scope is listed twice"
    assert not set(bot) - KNOWN_BOT_SCOPES, set(bot) - KNOWN_BOT_SCOPES
    assert "commands" in bot  # slash commands need it
    assert {"chat:write", "channels:read", "channels:history"} <= set(bot)


def test_manifest_settings(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["org_deploy_enabled"] is False
    assert isinstance(settings["token_rotation_enabled"], bool)
    events = settings["event_subscriptions"]["bot_events"]
    assert "app_home_opened" in events
    assert not set(events) - KNOWN_BOT_EVENTS, set(events) - KNOWN_BOT_EVENTS
    # Who sees which tenant follows who is in its channels; check points at the same list.
    from bot.cli.check.slack import EVENTS

    assert events == list(EVENTS)
    for url in (
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ):
        assert url.startswith("https://") and url.endswith("/slack/events")


# -- docker compose --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = load_yaml(DEPLOY / "docker-compose.yml")
    assert isinstance(data, dict)
    return data


def test_compose_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", "bot"}
    db, bot = services["db"], services["bot"]

    assert db["image"] == "postgres:16"
    check = db["healthcheck"]["test"]
    assert check[0] in ("CMD", "CMD-SHELL") and "pg_isready" in " ".join(check)
    assert "pgdata" in compose["volumes"]
    assert "ports" not in db, "the database must not be published"

    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    build = bot["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    env_files = bot["env_file"] if isinstance(bot["env_file"], list) else [bot["env_file"]]
    assert [(DEPLOY / f).resolve() for f in env_files] == [ROOT / ".env"]
    assert bot["environment"]["DATABASE_URL"] == "postgresql://eadm@db/eadm"
    # The bot accepts it as it stands.
    settings = load_settings(
        require_slack=False,
        require_tenants=False,
        database_url=bot["environment"]["DATABASE_URL"],
    )
    assert settings.database_url == "postgresql+psycopg://eadm@db/eadm"
    assert "command" not in bot or bot["command"] in ("run", ["run"])  # run migrates on start


def test_compose_holds_no_secrets(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) for item in environment)
        for key, value in environment.items():
            text = str(value)
            assert not re.search(r"TOKEN|SECRET|PASSWORD$", key), f"{name}: {key} set inline"
            assert not re.search(r"xox[abp]-|xapp-", text), f"{name}: {key} holds a token"
            if "://" in text:
                assert make_url(text).password is None, f"{name}: {key} has a password"


# -- Dockerfile ------------------------------------------------------------------------------


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        found.append((word.upper(), rest.strip()))
    return found


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions(DEPLOY / "Dockerfile")


def final_stage(steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last:]


def test_dockerfile_base_user_and_entrypoint(dockerfile: list[tuple[str, str]]) -> None:
    args = {rest.split("=", 1)[0]: rest.split("=", 1)[1] for w, rest in dockerfile if w == "ARG"}
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    stage = final_stage(dockerfile)
    users = [rest for word, rest in stage if word == "USER"]
    assert users, "the image must not run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert json.loads(dict(stage)["ENTRYPOINT"]) == ["eadm-bot"]
    assert json.loads(dict(stage)["CMD"]) == ["run"]
    assert "3000" in dict(stage)["EXPOSE"].split()
    assert "/data" in json.loads(dict(stage)["VOLUME"])
    assert dict(stage)["WORKDIR"] == "/data"  # where the default SQLite file goes
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "eadm-bot" in scripts


def test_dockerfile_fetches_nothing_by_url(dockerfile: list[tuple[str, str]]) -> None:
    for word, rest in dockerfile:
        if word == "ADD":
            assert not re.search(r"https?://|git@", rest), f"ADD of a URL: {rest}"
        if word == "RUN":
            assert not re.search(r"\b(curl|wget)\b", rest)


def test_dockerfile_copies_what_exists_and_is_not_ignored(
    dockerfile: list[tuple[str, str]],
) -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".git", ".venv", "*.db"} <= ignored  # secrets and data stay out
    for word, rest in dockerfile:
        if word == "COPY" and "--from=" not in rest:
            *sources, _target = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), source
                assert source not in ignored, f"{source} is excluded by .dockerignore"


async def test_dockerfile_healthcheck_hits_healthz(dockerfile: list[tuple[str, str]]) -> None:
    """The HEALTHCHECK command itself, run against a server that is healthy, then not."""
    health = dict(final_stage(dockerfile))["HEALTHCHECK"]
    assert "curl" not in health and "wget" not in health
    argv = json.loads(health[health.index("CMD") + 3 :].strip())
    assert argv[0] == "python"
    status = {"code": 200}

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": status["code"] == 200}, status=status["code"])

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]

    async def probe() -> int:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *argv[1:], env={"PORT": str(port)}
        )
        return await asyncio.wait_for(proc.wait(), 10)

    try:
        assert await probe() == 0
        status["code"] = 503
        assert await probe() != 0
    finally:
        await runner.cleanup()


# -- systemd -----------------------------------------------------------------------------------


UNIT = DEPLOY / "eadm-bot.service"


def unit_settings() -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in UNIT.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def test_systemd_unit_settings() -> None:
    service = {k: v[-1] for k, v in unit_settings()["Service"].items()}
    assert service["ExecStart"] == "/opt/eadm-bot/.venv/bin/eadm-bot run"
    assert service["EnvironmentFile"] == "/etc/eadm-bot/eadm-bot.env"
    assert service["User"] == "eadm-bot"
    assert service["Restart"] == "on-failure"
    assert service["StateDirectory"] == "eadm-bot"
    assert service["WorkingDirectory"] == "/var/lib/eadm-bot"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"


@pytest.fixture
def unit_to_verify(tmp_path: Path) -> tuple[str, Path]:
    """systemd-analyze, and the unit as shipped with a stand-in at its ExecStart, which verify
    insists exists."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here (a systemd-based Linux has it)")
    stand_in = tmp_path / "eadm-bot"
    stand_in.write_text("#!/bin/sh\nexit 0\n")
    stand_in.chmod(0o755)
    unit = tmp_path / "eadm-bot.service"
    text = UNIT.read_text(encoding="utf-8")
    unit.write_text(text.replace("/opt/eadm-bot/.venv/bin/eadm-bot", str(stand_in)))
    return analyze, unit


def test_systemd_unit_verifies(unit_to_verify: tuple[str, Path]) -> None:
    analyze, unit = unit_to_verify
    done = subprocess.run(
        [analyze, "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Only what it says about this unit counts; a container may lack other units it pulls in.
    said = [ln for ln in (done.stdout + done.stderr).splitlines() if unit.name in ln]
    assert done.returncode == 0 and not said, "\n".join(said) or done.stderr


def test_systemd_unit_exposure_is_low(unit_to_verify: tuple[str, Path]) -> None:
    analyze, unit = unit_to_verify
    security = subprocess.run(
        [analyze, "security", "--offline=true", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    level = re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout)
    if security.returncode != 0 or level is None:
        pytest.skip(
            "systemd-analyze gave no offline exposure level (systemd before 250 has no "
            f"offline security analysis): {(security.stderr or security.stdout).strip()[-300:]}"
        )
    assert float(level.group(1)) <= 3.0, security.stdout[-2000:]


# -- Windows service (WinSW) -----------------------------------------------------------------


def test_winsw_service_xml() -> None:
    root = ET.parse(DEPLOY / "windows" / "eadm-bot.xml").getroot()
    assert root.tag == "service"

    def text(tag: str) -> str:
        element = root.find(tag)
        assert element is not None and element.text, f"<{tag}> is missing"
        return element.text.strip()

    assert text("id") == "eadm-bot"
    assert text("executable") == r"%BASE%\.venv\Scripts\eadm-bot.exe"
    assert text("arguments") == "run"
    assert text("workingdirectory") == "%BASE%"  # the bot reads .env from here
    assert text("stopparentprocessfirst") == "true"
    assert re.fullmatch(r"\d+ ?(sec|secs|min|mins)", text("stoptimeout"))
    failures = root.findall("onfailure")
    assert failures and all(f.get("action") == "restart" for f in failures)
    for failure in failures:
        assert re.fullmatch(r"\d+ ?(sec|secs|min|mins)", failure.get("delay", ""))
    log = root.find("log")
    assert log is not None and log.get("mode") == "roll-by-size"
    assert int(text("log/sizeThreshold")) > 0 and int(text("log/keepFiles")) > 0
    # The account is asked for at install; no password belongs in this file.
    assert root.find(".//password") is None and root.find("serviceaccount") is None


def test_windows_readme_steps() -> None:
    readme = (DEPLOY / "windows" / "README.md").read_text(encoding="utf-8")
    for step in (
        "py -3.11 -m venv .venv",
        "pip install",
        "eadm-bot.exe check",
        "eadm-bot.exe install",
        "eadm-bot.exe start",
        "WinSW-x64.exe",
        "C:\\Windows\\System32\\Tasks\\",
    ):
        assert step in readme, step
    # The RERUN_COMMAND it shows is one the bot accepts, as the argv it means.
    line = next(ln for ln in readme.splitlines() if ln.startswith("RERUN_COMMAND="))
    settings = load_settings(
        require_slack=False,
        eadm_url="https://eadm.example.no",
        alert_channel="C0ALERTS",
        rerun_command=line.split("=", 1)[1],
    )
    assert settings.tenants[0].rerun.command == ["schtasks", "/Run", "/TN", "eAdm synkronisering"]
