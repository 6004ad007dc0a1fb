"""The one-click "create the Slack app" link: made from deploy/'s manifest, decoded back to it,
and the copy in docs/slack-app.md is the link the command makes today."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from bot.cli.main import main
from bot.cli.manifest import NEW_APP_URL, for_http, link, load_manifest

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "slack-app-manifest.yml"


def manifest_from_link(url: str) -> dict[str, Any]:
    """What Slack's new-app page reads from the link: its manifest_json parameter."""
    (value,) = parse_qs(urlsplit(url).query)["manifest_json"]
    data = json.loads(value)
    assert isinstance(data, dict), "the link's manifest is a JSON object"
    return data


@pytest.fixture
def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_the_link_decodes_back_to_the_manifest(manifest: dict[str, Any]) -> None:
    url = link(load_manifest(MANIFEST))
    assert url.startswith(NEW_APP_URL)
    assert manifest_from_link(url) == manifest


def test_the_slack_app_pages_link_is_the_one_the_command_makes(
    manifest: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["manifest", "--link", "--file", str(MANIFEST)]) == 0
    made = capsys.readouterr().out.strip()
    page = (ROOT / "docs" / "slack-app.md").read_text(encoding="utf-8")
    found = re.search(r"^\[new-app\]: (\S+)$", page, re.MULTILINE)
    assert found, "docs/slack-app.md lost its [new-app] link"
    assert found.group(1) == made, (
        "docs/slack-app.md's link differs from deploy/slack-app-manifest.yml: "
        "paste the output of `eadm-bot manifest --link` into its [new-app]"
    )
    assert manifest_from_link(found.group(1)) == manifest


def test_http_mode_points_every_request_url_at_the_bot(
    manifest: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["manifest", "--link", "--http", "--url", "https://bot.kommune.no/", "--file"]
    assert main([*args, str(MANIFEST)]) == 0
    got = manifest_from_link(capsys.readouterr().out.strip())
    url = "https://bot.kommune.no/slack/events"
    assert got["settings"]["socket_mode_enabled"] is False
    assert got["settings"]["event_subscriptions"]["request_url"] == url
    assert got["settings"]["interactivity"]["request_url"] == url
    assert [c["url"] for c in got["features"]["slash_commands"]] == [url]
    # Nothing else changes.
    assert got["oauth_config"] == manifest["oauth_config"]
    assert for_http(manifest, "https://bot.kommune.no") == got


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--http"], "--url https://"),
        (["--url", "http://bot.kommune.no"], "must start with https://"),
        (["--file", "no/such/manifest.yml"], "not found"),
    ],
)
def test_mistakes_say_what_to_do(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["manifest", "--link", *args]) == 2
    assert says in capsys.readouterr().err
