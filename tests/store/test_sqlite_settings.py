"""SQLite as the bot opens it: WAL, so readers never wait for a poll's write; a busy timeout;
and commits synced at checkpoints, not one by one (in WAL mode a crash of the process still
loses nothing)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from bot.store import Store


def test_every_connection_is_opened_in_wal_with_normal_sync(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        store.migrate()
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(sa.text("PRAGMA synchronous")).scalar() == 1  # NORMAL
            assert conn.execute(sa.text("PRAGMA busy_timeout")).scalar() == 30000
    finally:
        store.dispose()


def test_what_was_committed_is_there_after_the_process_drops_it_unclosed(
    tmp_path: Path,
) -> None:
    """No checkpoint, no close: a second engine (as after a crash) reads the commit from the
    write-ahead log."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    first = Store(url)
    first.migrate()
    with first.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE probe (v INTEGER)"))
        conn.execute(sa.text("INSERT INTO probe VALUES (42)"))
    assert (tmp_path / "bot.db-wal").stat().st_size > 0
    second = Store(url)
    try:
        with second.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT v FROM probe")).scalar() == 42
    finally:
        second.dispose()
        first.dispose()
