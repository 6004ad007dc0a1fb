"""`eadm-bot manifest`: the Slack app's manifest as JSON, or as the one-click link that opens
Slack's "create an app from a manifest" page with it filled in.

The one source is `deploy/slack-app-manifest.yml`; the link is made from it every time, so
the link in docs/slack-app.md and the file cannot drift apart (a test checks that).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

# Slack's new-app page; `manifest_json` carries the manifest, URL-encoded JSON.
NEW_APP_URL = "https://api.slack.com/apps?new_app=1&manifest_json="
MANIFEST_FILE = Path("deploy") / "slack-app-manifest.yml"
EVENTS_PATH = "/slack/events"


def find_manifest(path: Path | None = None) -> Path:
    """The manifest file: the one named, else the repository's (from the working folder or
    beside the installed source)."""
    if path is not None:
        return path
    here = Path.cwd() / MANIFEST_FILE
    if here.is_file():
        return here
    return Path(__file__).resolve().parents[2] / MANIFEST_FILE


def load_manifest(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a Slack app manifest (a YAML mapping)")
    return data


def for_http(manifest: dict[str, Any], address: str) -> dict[str, Any]:
    """The manifest for HTTP mode: Socket Mode off, every request URL at the bot's address."""
    if not address.startswith("https://"):
        raise ValueError(
            f"the bot's address must start with https:// (Slack calls only HTTPS), not {address!r}"
        )
    url = address.rstrip("/") + EVENTS_PATH
    out = json.loads(json.dumps(manifest))  # a deep copy
    settings = out.setdefault("settings", {})
    settings["socket_mode_enabled"] = False
    settings.setdefault("event_subscriptions", {})["request_url"] = url
    settings.setdefault("interactivity", {"is_enabled": True})["request_url"] = url
    for command in out.get("features", {}).get("slash_commands", []):
        command["url"] = url
    return out


def link(manifest: dict[str, Any]) -> str:
    compact = json.dumps(manifest, ensure_ascii=False, separators=(",", ":"))
    return NEW_APP_URL + quote(compact, safe="")


def run_manifest(*, as_link: bool, http: bool, url: str | None, file: Path | None) -> int:
    path = find_manifest(file)
    try:
        manifest = load_manifest(path)
    except FileNotFoundError:
        print(
            f"eadm-bot manifest: {path} not found. Run this in the eadm-bot repository folder, "
            "or name the file with --file.",
            file=sys.stderr,
        )
        return 2
    except (ValueError, yaml.YAMLError) as exc:
        print(f"eadm-bot manifest: {exc}", file=sys.stderr)
        return 2
    if http or url:
        if not url:
            print(
                "eadm-bot manifest: HTTP mode needs the bot's public address: "
                "--url https://eadm-bot.example.no",
                file=sys.stderr,
            )
            return 2
        try:
            manifest = for_http(manifest, url)
        except ValueError as exc:
            print(f"eadm-bot manifest: {exc}", file=sys.stderr)
            return 2
    print(link(manifest) if as_link else json.dumps(manifest, indent=2, ensure_ascii=False))
    return 0
