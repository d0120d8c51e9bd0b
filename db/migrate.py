"""Programmatic Alembic: the app upgrades its database at start-up, no ``alembic.ini`` needed.

Several processes may start at once against one database (bot processes, a script): each migration runs in one
transaction that first takes a database-wide lock, so the others wait and then find the schema already at head.
PostgreSQL takes a transaction-scoped advisory lock; SQLite starts the transaction with ``BEGIN IMMEDIATE`` (its write
lock), which also makes its DDL atomic (the sqlite3 module would otherwise run DDL outside any transaction).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x746F6F6E6D61  # pg_advisory_xact_lock key of migrations ("toonma")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code; ``connection`` (sync, from ``run_sync``) is handed to ``env.py``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with the code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def _with_engine(target: AsyncEngine | str, fn, *args):
    engine = create_engine(target) if isinstance(target, str) else target
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(fn, *args)
    finally:
        if engine is not target:
            await engine.dispose()


def _lock_for_migration(connection: Connection) -> None:
    """Hold the database-wide migration lock until the surrounding transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # waits for other writers up to the busy timeout


def _upgrade(connection: Connection, revision: str) -> None:
    _lock_for_migration(connection)
    command.upgrade(alembic_config(connection), revision)


def _downgrade(connection: Connection, revision: str) -> None:
    _lock_for_migration(connection)
    command.downgrade(alembic_config(connection), revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(target: AsyncEngine | str, revision: str = "head") -> None:
    """Bring the database at ``target`` (an engine, or a URL for a throw-away engine) up to ``revision``."""
    await _with_engine(target, _upgrade, revision)


async def downgrade(target: AsyncEngine | str, revision: str) -> None:
    await _with_engine(target, _downgrade, revision)


async def current_revision(target: AsyncEngine | str) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    return await _with_engine(target, _current)
