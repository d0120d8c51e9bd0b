"""Creating engines from the URLs people paste: PostgreSQL without a driver gets asyncpg, a missing driver is a clear
error. No server needed: engines connect lazily."""

from __future__ import annotations

import sys

import pytest

from core.errors import ToonmatchError
from db.engine import create_engine


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bot:secret@db.example:5432/toonmatch",
        "postgres://bot:secret@db.example:5432/toonmatch",  # Heroku-style
        "postgresql+asyncpg://bot:secret@db.example:5432/toonmatch",
    ],
)
async def test_postgresql_urls_get_the_async_driver_and_pre_ping(url):
    engine = create_engine(url)
    try:
        assert engine.url.drivername == "postgresql+asyncpg"
        assert (engine.url.host, engine.url.database, engine.url.password) == ("db.example", "toonmatch", "secret")
        assert engine.pool._pre_ping
    finally:
        await engine.dispose()


def test_without_asyncpg_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # import asyncpg → ImportError
    with pytest.raises(ToonmatchError, match=r"pip install -e '\.\[postgres\]'"):
        create_engine("postgresql+asyncpg://bot@localhost/toonmatch")
