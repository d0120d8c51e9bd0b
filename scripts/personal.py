"""What ``scripts.forget`` and ``scripts.export`` share: the ``--user``/``--db`` options and opening an existing
taste store (never creating one: a mistyped SQLite path must not look like "nothing stored about this user")."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.errors import ToonmatchError


class NoDatabaseError(ToonmatchError):
    """The ``--db`` SQLite file does not exist."""


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", type=int, required=True, help="the user's Discord id (a number, as /forget-me shows)")
    p.add_argument("--db", help="database URL (default: DATABASE_URL), SQLite or PostgreSQL")
    p.add_argument("-v", "--verbose", action="store_true")


def database_url(explicit: str | None) -> str:
    """``--db`` or the configured ``DATABASE_URL``; an existing SQLite file (a :class:`NoDatabaseError` if not)."""
    from sqlalchemy.engine import make_url

    from core.settings import load_settings

    url = explicit or load_settings().database.url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database).expanduser()
        if not path.is_file():
            raise NoDatabaseError(f"no database at {path} (check --db or DATABASE_URL)")
    return url
