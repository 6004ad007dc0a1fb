"""Alembic environment: runs migrations on the engine the Store hands over (or DATABASE_URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

import bot.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata
LOCK_KEY = 0x6561646D  # "eadm": one advisory lock for eadm-bot's migrations


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///eadm-bot.db")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Replicas starting together must not migrate together: the first takes this
                # lock until its transaction commits, the rest then find nothing left to do.
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            context.run_migrations()
        connection.commit()


run_migrations_online()
