"""The query functions' SQL compiles for PostgreSQL too (no server needed: statements are only compiled)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.dialects import postgresql

from db import queries as q


class _Result:
    rowcount = 0

    def first(self):
        return None

    def scalar_one_or_none(self):
        return None


class _CompilingSession:
    """Stands in for an AsyncSession bound to PostgreSQL: compiles each statement and records the SQL."""

    def __init__(self):
        self.sql: list[str] = []

    def get_bind(self):
        return self

    @property
    def dialect(self):
        return postgresql.dialect()

    async def execute(self, stmt, params=None):
        self.sql.append(str(stmt.compile(dialect=postgresql.dialect())))
        return _Result()


@pytest.mark.parametrize(
    "call",
    [
        lambda s: q.rate(s, 1, "naver:1", 1, guild_id=2),
        lambda s: q.toggle(s, 1, "naver:1", -1),
        lambda s: q.unrate(s, 1, "naver:1"),
        lambda s: q.mark_shown(s, 1, ["naver:1", "naver:2", "naver:1"]),
        lambda s: q.record_member(s, 2, 1),
        lambda s: q.record_discovery_post(s, 2, "naver:1", 3, 4),
        lambda s: q.set_meta(s, "k", "v"),
        lambda s: q.reschedule(s, 2, datetime(2025, 1, 1, tzinfo=UTC)),
        lambda s: q.forget_user(s, 1),
    ],
)
async def test_statements_compile_for_postgresql(call):
    session = _CompilingSession()
    await call(session)
    assert session.sql
    upserts = [sql for sql in session.sql if sql.startswith("INSERT")]
    for sql in upserts:
        assert "ON CONFLICT" in sql


def test_insert_for_unknown_dialect():
    with pytest.raises(NotImplementedError):
        q.insert_for("mysql", q.Rating)
