"""Shared fixtures for the taste store: a real, migrated SQLite file per test (importable from other conftests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from db.session import Database, open_database


def sqlite_url_for(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """URL of a not-yet-created SQLite file in a fresh temporary folder."""
    return sqlite_url_for(tmp_path / "toonmatch.db")


@pytest_asyncio.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """An open, migrated :class:`Database` on a temporary SQLite file, closed after the test."""
    db = await open_database(database_url)
    try:
        yield db
    finally:
        await db.aclose()
