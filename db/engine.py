"""Creating the async SQLAlchemy engine: per-dialect set-up (SQLite: WAL, busy timeout, foreign keys; PostgreSQL:
connections checked before use), and which errors are worth retrying."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.errors import ToonmatchError
from core.settings import DEFAULT_DATABASE_URL

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL errors that a fresh attempt of the same unit of work can clear: serialization_failure, deadlock_detected.
POSTGRES_RETRY_SQLSTATES = frozenset({"40001", "40P01"})


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:") or parsed.query.get("uri"):
        return None
    return Path(database)


def _on_sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """Per-connection SQLite set-up. busy_timeout comes first so the WAL switch itself may wait for a lock."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")  # persistent in the file; readers no longer block the writer
        cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, far fewer fsyncs
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def create_engine(url: str = DEFAULT_DATABASE_URL, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys, and its folder is created.

    PostgreSQL connections are pinged when taken from the pool (``pool_pre_ping``), so a server restart, a failover
    or an idle connection dropped by the network costs a reconnect, not a failed command. A PostgreSQL URL without a
    driver (``postgresql://…``, ``postgres://…``) gets asyncpg; without asyncpg installed the error says how to get it.
    """
    path = _sqlite_file(url)
    if path is not None:
        path.expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    parsed = make_url(url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":  # no driver named, as hosting providers hand URLs out: asyncpg
            parsed = parsed.set(drivername="postgresql+asyncpg")
        kwargs.setdefault("pool_pre_ping", True)
    try:
        engine = create_async_engine(parsed, **kwargs)
    except ImportError as exc:
        if parsed.get_backend_name() == "postgresql":
            raise ToonmatchError(
                f"DATABASE_URL is a PostgreSQL database but its driver is not installed ({exc.name or exc}): "
                "pip install -e '.[postgres]'"
            ) from None
        raise
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    return engine


def is_busy_error(exc: BaseException) -> bool:
    """SQLite's "database is locked"/"busy": a concurrent writer outlasted the busy timeout."""
    if not isinstance(exc, OperationalError):
        return False
    message = str(exc.orig).lower()
    return "database is locked" in message or "database is busy" in message


def is_retryable_error(exc: BaseException) -> bool:
    """An error a fresh attempt of the whole unit of work may not meet again: SQLite busy, or PostgreSQL's
    serialization failure / deadlock (the server rolled the transaction back, so retrying is safe)."""
    if is_busy_error(exc):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    return getattr(exc.orig, "sqlstate", None) in POSTGRES_RETRY_SQLSTATES
