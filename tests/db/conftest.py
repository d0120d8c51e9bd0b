"""Shared fixtures for the taste store: a real, migrated database per test, on every backend (importable from other
conftests).

``database_url`` and ``database`` are parametrised over :data:`tests.conftest.DATABASE_BACKENDS`: each test runs on a
SQLite file and on a fresh database in a real PostgreSQL server. A test meant for one backend narrows it with
``@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from db.session import Database, open_database
from tests.conftest import DATABASE_BACKENDS


def sqlite_url_for(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=DATABASE_BACKENDS)
def backend(request) -> str:
    """The database backend of this test run: ``"sqlite"`` or ``"postgresql"``."""
    return request.param


@pytest_asyncio.fixture
async def database_url(backend: str, new_database_url) -> str:
    """URL of an empty database: a not-yet-created SQLite file, or a new PostgreSQL database."""
    return await new_database_url(backend)


@pytest_asyncio.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """An open, migrated :class:`Database` on ``database_url``, closed after the test."""
    db = await open_database(database_url)
    try:
        yield db
    finally:
        await db.aclose()
