"""The `eadm-bot` command: run, demo, simulator, check, manifest, db upgrade."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot import __version__
from bot.cli.lifetime import run_until_stopped
from bot.core.errors import ConfigError
from bot.core.settings import Settings, load_settings
from bot.runtime.logs import setup_logging


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eadm-bot",
        description="Watches the eAdm synchronization cycle and tells Slack when a step is in "
        "trouble. Settings come from the environment (and .env); see .env.example.",
    )
    parser.add_argument("--version", action="version", version=f"eadm-bot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the bot")
    run.add_argument(
        "--no-migrate", action="store_true", help="do not apply database migrations on start"
    )
    run.set_defaults(func=_run)

    demo = sub.add_parser(
        "demo", help="everything local: simulator, a local Slack, and the bot (no workspace)"
    )
    demo.add_argument("--scenario", default="tour", help="simulator scenario (default: tour)")
    demo.add_argument("--speed", type=float, default=60.0, help="simulated seconds per second")
    demo.add_argument("--language", choices=("en", "nb"), default="en")
    demo.add_argument("--port", type=int, default=0, help="the bot's HTTP port (default: any)")
    demo.add_argument(
        "--duration", type=float, default=0, help="stop after this many seconds (default: never)"
    )
    demo.add_argument(
        "--web", action="store_true", help="show the channel as a page in the browser, to click"
    )
    demo.add_argument(
        "--web-port", type=int, default=8765, help="the page's port with --web (default: 8765)"
    )
    demo.add_argument(
        "--source",
        choices=("api", "task"),
        default="api",
        help="api: the simulated status API (default); task: a simulated sync task in Task "
        "Scheduler, read as the task source reads it",
    )
    demo.set_defaults(func=_demo)

    sim = sub.add_parser("simulator", help="serve the simulated eAdm status API over HTTP")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8080)
    sim.add_argument("--scenario", default="tour", help="what the cycles do; 'list' lists them")
    sim.add_argument("--speed", type=float, default=60.0, help="simulated seconds per second")
    sim.add_argument("--token", default=None, help="require this bearer token")
    sim.set_defaults(func=_simulator)

    check = sub.add_parser("check", help="validate settings and reach every configured endpoint")
    check.set_defaults(func=_check)

    manifest = sub.add_parser(
        "manifest", help="the Slack app's manifest, or the link that creates the app from it"
    )
    manifest.add_argument(
        "--link", action="store_true", help="print Slack's one-click 'create app' link"
    )
    manifest.add_argument(
        "--http", action="store_true", help="HTTP mode instead of Socket Mode (needs --url)"
    )
    manifest.add_argument("--url", help="the bot's public HTTPS address, for HTTP mode")
    manifest.add_argument("--file", type=Path, help="the manifest (default: deploy/'s)")
    manifest.set_defaults(func=_manifest)

    agent = sub.add_parser(
        "agent",
        help="on the eAdm client server: serve the sync task's status to a bot elsewhere and "
        "start the task on its signed request",
    )
    agent.set_defaults(func=_agent)

    script = sub.add_parser(
        "task-script",
        help="print the PowerShell script that prints the sync task as JSON (for the task source)",
    )
    script.add_argument(
        "--events",
        action="store_true",
        help="print the second script instead: the task's Event Viewer events as JSON (for "
        "EADM_EVENTS_COMMAND)",
    )
    script.set_defaults(func=_task_script)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply database migrations")
    upgrade.set_defaults(func=_db_upgrade)
    return parser


def _settings(require_slack: bool = True, require_tenants: bool = True) -> Settings | None:
    try:
        return load_settings(require_slack=require_slack, require_tenants=require_tenants)
    except ConfigError as exc:
        _problems("eadm-bot cannot start. Fix these settings (environment or .env):", exc)
        return None


def _problems(headline: str, exc: ConfigError) -> None:
    print(headline, file=sys.stderr)
    for problem in exc.problems:
        print(f"  - {problem}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings is None:
        return 2
    setup_logging(settings)
    from bot.runtime.wiring import Bot

    try:
        bot = Bot(settings)
    except ConfigError as exc:
        # Found while the bot is put together (the playbook disagreeing with the rerun guard,
        # say): each problem names its fix, told as bad settings are, without a traceback.
        _problems("eadm-bot cannot start. Fix these:", exc)
        return 2
    run_until_stopped(lambda: bot.start(migrate=not args.no_migrate), bot.stop)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from bot.cli.demo import run_demo

    setup_logging(level="WARNING")
    return run_demo(
        scenario=args.scenario,
        speed=args.speed,
        language=args.language,
        port=args.port,
        duration=args.duration,
        web=args.web,
        web_port=args.web_port,
        source=args.source,
    )


def _simulator(args: argparse.Namespace) -> int:
    from bot.sim import eadm

    if args.scenario == "list":
        for name, about in eadm.SCENARIOS.items():
            print(f"{name:28} {about}")
        return 0
    setup_logging(level="INFO")
    try:
        eadm.run(args.host, args.port, scenario=args.scenario, speed=args.speed, token=args.token)
    except ValueError as exc:
        print(f"eadm-bot simulator: {exc}", file=sys.stderr)
        return 2
    return 0


def _manifest(args: argparse.Namespace) -> int:
    from bot.cli.manifest import run_manifest

    return run_manifest(as_link=args.link, http=args.http, url=args.url, file=args.file)


def _check(_args: argparse.Namespace) -> int:
    from bot.cli.check import run_check

    return run_check()


def _agent(_args: argparse.Namespace) -> int:
    from bot.core.settings import check_agent_settings

    settings = _settings(require_slack=False, require_tenants=False)
    if settings is None:
        return 2
    if problems := check_agent_settings(settings):
        print("eadm-bot agent cannot start. Fix these settings:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    setup_logging(settings)
    from bot.runtime.agent import Agent

    agent = Agent(settings)
    run_until_stopped(lambda: agent.start(settings.host), agent.stop)
    return 0


def _task_script(args: argparse.Namespace) -> int:
    from bot.sources import events, task

    script = events.script_path() if args.events else task.script_path()
    sys.stdout.write(script.read_text(encoding="utf-8"))
    return 0


def _db_upgrade(_args: argparse.Namespace) -> int:
    settings = _settings(require_slack=False, require_tenants=False)
    if settings is None:
        return 2
    setup_logging(settings)
    from bot.store import Store

    store = Store(settings.database_url)
    store.migrate()
    print(f"database is up to date ({_safe_url(settings.database_url)})")
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
