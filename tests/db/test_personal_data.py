"""Forget-me and export: every personal row, nothing else."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import BigInteger, cast, func, select

from db import queries as q
from db.models import Base, GuildMember, Rating, ShownTitle

USER = 123456789012345678
OTHER = 223456789012345678
GUILD = 323456789012345678


async def _fill(db) -> None:
    for user in (USER, OTHER):
        await db.run(q.rate, user, "naver:1", 1, guild_id=GUILD)
        await db.run(q.rate, user, "naver:2", -1)
        await db.run(q.record_member, GUILD + 1, user)
        await db.run(q.mark_shown, user, ["naver:1", "naver:3"])
    await db.run(q.set_discovery, GUILD, 5, 24, datetime(2025, 1, 1, tzinfo=UTC))
    await db.run(q.record_discovery_post, GUILD, "naver:1", 5, 6)
    await db.run(q.set_meta, "commands_hash", "x")


async def _rows_per_table(db, user_id: int | None = None) -> dict[str, int]:
    counts = {}
    async with db.begin() as s:
        for table in Base.metadata.sorted_tables:
            stmt = select(func.count()).select_from(table)
            if user_id is not None and "user_id" in table.c:
                stmt = stmt.where(table.c.user_id == user_id)
            counts[table.name] = await s.scalar(stmt)
    return counts


async def test_forget_user_leaves_nothing_behind(database):
    await _fill(database)
    before = await _rows_per_table(database)
    assert await database.run(q.forget_user, USER) == 2 + 2 + 2  # ratings, memberships, shown titles

    mine = await _rows_per_table(database, USER)
    for table in Base.metadata.sorted_tables:
        if "user_id" in table.c:
            assert mine[table.name] == 0, table.name
    # Every column that could hold the user's id, in every table, is free of it.
    async with database.begin() as s:
        for table in Base.metadata.sorted_tables:
            for column in table.c:
                if column.type.python_type is int:  # widened: PostgreSQL refuses a snowflake as an INTEGER
                    assert await s.scalar(select(func.count()).where(cast(column, BigInteger) == USER)) == 0, column

    after = await _rows_per_table(database)
    assert after == {**before, "ratings": 2, "shown_titles": 2, "guild_members": 2}  # OTHER's data untouched
    assert await database.run(q.user_taste, OTHER) == q.Taste(liked=["naver:1"], disliked=["naver:2"])
    assert await database.run(q.forget_user, USER) == 0


async def test_export_shape(database):
    await _fill(database)
    data = await database.run(q.export_user, USER)
    assert json.loads(json.dumps(data)) == data  # JSON-serialisable as is
    assert set(data) == {"format_version", "user_id", "exported_at", "ratings", "shown", "memberships"}
    assert data["user_id"] == str(USER)
    assert sorted(data["ratings"], key=lambda r: r["title_id"]) == [
        {
            "title_id": "naver:1",
            "value": 1,
            "guild_id": str(GUILD),
            "created_at": data["ratings"][1]["created_at"],
            "updated_at": data["ratings"][1]["updated_at"],
        },
        {
            "title_id": "naver:2",
            "value": -1,
            "guild_id": None,
            "created_at": data["ratings"][0]["created_at"],
            "updated_at": data["ratings"][0]["updated_at"],
        },
    ]
    assert {s["title_id"]: s["count"] for s in data["shown"]} == {"naver:1": 1, "naver:3": 1}
    assert {m["guild_id"] for m in data["memberships"]} == {str(GUILD), str(GUILD + 1)}
    for stamp in [data["exported_at"], *(r["updated_at"] for r in data["ratings"]), data["shown"][0]["shown_at"]]:
        assert datetime.fromisoformat(stamp).utcoffset().total_seconds() == 0

    # The export covers exactly the user's rows.
    counts = await _rows_per_table(database, USER)
    assert len(data["ratings"]) == counts[Rating.__tablename__]
    assert len(data["shown"]) == counts[ShownTitle.__tablename__]
    assert len(data["memberships"]) == counts[GuildMember.__tablename__]


async def test_export_unknown_user(database):
    data = await database.run(q.export_user, 42)
    assert (data["ratings"], data["shown"], data["memberships"]) == ([], [], [])
