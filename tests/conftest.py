"""Shared fixtures: a database of each test's own (SQLite always, PostgreSQL where one runs),
migrated or not; the migrations run once per session, and each test gets a copy or an emptied
database."""

from __future__ import annotations

import socket
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.store import Store

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_available() -> str | None:
    """None when PostgreSQL answers on 127.0.0.1:5432, else the reason to skip."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError:
        return "no PostgreSQL server on 127.0.0.1:5432 (user postgres, trust auth)"
    try:
        engine = sa.create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any driver error means we cannot use it
        return f"PostgreSQL on 127.0.0.1:5432 refused user postgres: {exc}"
    return None


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'eadm-bot.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    name = f"eadm_bot_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@dataclass(frozen=True)
class MigratedPostgres:
    url: str
    tables: tuple[str, ...]  # those that point at others first
    sequences: tuple[str, ...]

    def emptied(self) -> Store:
        """A store on the database with every row gone and every ID counting from 1 again,
        as in a database just made."""
        s = Store(self.url)
        with s.engine.begin() as conn:
            # A connection an earlier test left open would hold a table: fail, do not hang.
            conn.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
            for table in self.tables:
                conn.execute(sa.text(f'DELETE FROM "{table}"'))
            for sequence in self.sequences:
                conn.execute(sa.text(f'ALTER SEQUENCE "{sequence}" RESTART'))
        return s


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[MigratedPostgres]:
    """One migrated PostgreSQL database for the whole session (each xdist worker has a session
    of its own), which `store` empties before every test: a database of its own per test
    takes a second or more to create, migrate and drop; emptying one takes milliseconds
    (TRUNCATE too is slow: it makes new files for every table)."""
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    name = f"eadm_bot_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        migrated = Store(url)
        migrated.migrate()
        schema = sa.MetaData()
        schema.reflect(migrated.engine)
        with migrated.engine.connect() as conn:
            sequences = conn.execute(
                sa.text("SELECT sequence_name FROM information_schema.sequences")
            )
            names = tuple(sequences.scalars())
        migrated.dispose()
        tables = [t.name for t in reversed(schema.sorted_tables)]
        yield MigratedPostgres(url, tuple(t for t in tables if t != "alembic_version"), names)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once for the session, which `store` copies: a copy takes a
    millisecond, running the migrations a few hundred."""
    path = tmp_path_factory.mktemp("migrated") / "eadm-bot.db"
    migrated = Store(f"sqlite:///{path}")
    migrated.migrate()
    migrated.dispose()
    return path


@pytest.fixture
def migrated_sqlite_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    """A migrated SQLite database of the test's own, in tmp_path."""
    path = tmp_path / "eadm-bot.db"
    with closing(sqlite3.connect(migrated_sqlite)) as made, closing(sqlite3.connect(path)) as copy:
        made.backup(copy)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """A migrated, empty store, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        s = Store(request.getfixturevalue("migrated_sqlite_url"))
    else:
        s = request.getfixturevalue("migrated_postgres").emptied()
    yield s
    s.dispose()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Tests run in a random order (pytest-randomly). Name the order's seed even under `-q`,
    so that a failure that depends on the order can be repeated with the same seed."""
    if config.pluginmanager.hasplugin("randomly") and config.getoption("randomly_seed", None):
        seed = config.getoption("randomly_seed")
        terminalreporter.write_line(f"this order again: pytest --randomly-seed={seed}")
