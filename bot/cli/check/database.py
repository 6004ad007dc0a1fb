"""The database check: the store the bot would open, asked which migration it is at. Never
migrates it."""

from __future__ import annotations

from pathlib import Path

from bot.cli.check.verdict import Verdict, failed, passed


def check_database(url: str) -> Verdict:
    """Reachable, and at the newest migration. Reads only: an absent SQLite file stays absent."""
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import make_url

    from bot.store import Store
    from bot.store.repo import MIGRATIONS

    item = "database"
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    upgrade = "run eadm-bot db upgrade (eadm-bot run also does it on start)"
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path and path != ":memory:" and not path.startswith("file:"):
            file = Path(path).resolve()
            if not file.exists():
                return failed(item, f"the SQLite file {file} does not exist yet", upgrade)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    heads = set(script.get_heads())
    newest = ", ".join(sorted(heads))
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # A firewall that drops packets would otherwise hold the check for minutes.
        parsed = parsed.update_query_dict({"connect_timeout": "10"})
    store = Store(parsed.render_as_string(hide_password=False))
    try:
        with store.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except Exception as exc:  # any driver error means "not reachable", with its reason
        return failed(
            item,
            f"cannot connect to {shown} ({_db_error(exc)})",
            "check DATABASE_URL, and that the database server runs and lets this user in",
        )
    finally:
        store.dispose()
    if current in heads:
        return passed("database reachable and migrated", f"{shown}, revision {current}")
    if current is None:
        return failed(item, f"{shown} is reachable but has no eadm-bot tables yet", upgrade)
    try:
        known = script.get_revision(current) is not None
    except Exception:  # alembic raises several kinds for a revision it does not have
        known = False
    if not known:
        return failed(
            item,
            f"{shown} is at revision {current}, which this eadm-bot does not know (a newer "
            "version migrated it)",
            "run the eadm-bot version that migrated it, or point DATABASE_URL elsewhere",
        )
    return failed(item, f"{shown} is at revision {current}; the newest is {newest}", upgrade)


def _db_error(exc: Exception) -> str:
    reason = getattr(exc, "orig", None) or exc
    lines = str(reason).strip().splitlines()
    return f"{type(reason).__name__}: {lines[0] if lines else ''}".strip().rstrip(":")
