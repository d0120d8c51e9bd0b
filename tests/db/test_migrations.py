"""Migrations on an empty database, from the previous revision, and against the models; SQLite set-up."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, text

from db import queries as q
from db.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine
from db.migrate import alembic_config, current_revision, downgrade, head_revision, upgrade
from db.models import Base, GuildConfig, Rating
from db.session import open_database
from tests.db.conftest import sqlite_url_for

ALL_TABLES = {
    "ratings",
    "guild_settings",
    "bot_meta",
    "shown_titles",
    "discovery_posts",
    "guild_members",
    "command_cooldowns",
}


async def _tables(engine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names())) - {"alembic_version"}


async def test_empty_database_is_migrated_to_head(database_url):
    async with await open_database(database_url) as db:
        assert await current_revision(db.engine) == head_revision()
        assert await _tables(db.engine) == ALL_TABLES


async def test_open_twice_is_a_no_op(database_url):
    async with await open_database(database_url) as db:
        await db.run(q.rate, 1, "naver:1", 1)
    async with await open_database(database_url) as db:
        assert await db.run(q.get_rating, 1, "naver:1") == 1


def test_the_revisions_form_one_chain_from_base_to_head_with_a_previous_revision_to_upgrade_from():
    scripts = {s.revision: s for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    chain, revision = [], head_revision()
    while revision is not None:  # head -> ... -> base, one parent each (no branches, no merges)
        script = scripts[revision]
        assert isinstance(script.down_revision, str | None), script.down_revision
        chain.append(revision)
        revision = script.down_revision
    assert sorted(chain) == sorted(scripts)  # every revision is on the head's line
    assert len(chain) >= 2, chain  # so the "upgrade from the previous revision" tests below have one


PREVIOUS_REVISIONS = sorted(
    script.revision
    for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    if script.revision != head_revision()
)
FIRST_TABLES = {"ratings", "guild_settings", "bot_meta"}  # what 0001 created


@pytest.mark.parametrize("revision", PREVIOUS_REVISIONS)
async def test_upgrade_from_each_previous_revision_keeps_rows(database_url, revision):
    engine = create_engine(database_url)
    try:
        await upgrade(engine, revision)
        assert await current_revision(engine) == revision
        assert FIRST_TABLES <= await _tables(engine) <= ALL_TABLES
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            await conn.execute(
                insert(Rating).values(user_id=2**62, title_id="naver:183559", value=-1, created_at=now, updated_at=now)
            )
    finally:
        await engine.dispose()

    async with await open_database(database_url) as db:
        assert await current_revision(db.engine) == head_revision()
        assert await _tables(db.engine) == ALL_TABLES
        async with db.begin() as session:
            assert await q.get_rating(session, 2**62, "naver:183559") == -1
            page = await q.list_ratings(session, 2**62)
            assert page.items[0].created_at == now  # tz-aware UTC survives the round trip
            await q.mark_shown(session, 2**62, ["naver:183559"])  # new tables usable
        assert await db.run(q.title_shown_counts) == {"naver:183559": 1}


async def test_upgrade_from_0002_adds_the_shared_cooldowns_and_keeps_the_schedule(database_url):
    """0003 (several bot processes): a database of the single-process bot keeps its discovery schedule and gains
    the cooldown windows the processes share; downgrading drops them again."""
    engine = create_engine(database_url)
    when = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    try:
        await upgrade(engine, "0002")
        assert "command_cooldowns" not in await _tables(engine)
        async with engine.begin() as conn:
            await conn.execute(
                insert(GuildConfig).values(
                    guild_id=2**60, discovery_channel_id=5, discovery_every_hours=6, next_post_at=when
                )
            )
    finally:
        await engine.dispose()

    async with await open_database(database_url) as db:
        assert await current_revision(db.engine) == head_revision()
        [due] = await db.run(q.due_discovery_guilds, when, shards=[(2**60 >> 22) % 3], shard_count=3)
        assert due.next_post_at == when and due.discovery_every_hours == 6
        assert await db.run(q.claim_discovery, due, when, when + timedelta(hours=6)) is not None
        assert await db.run(q.take_cooldown, 1, 100.0, 1, 30) is None
        assert await db.run(q.take_cooldown, 1, 101.0, 1, 30) == 29
    await downgrade(database_url, "0002")
    engine = create_engine(database_url)
    try:
        assert "command_cooldowns" not in await _tables(engine)
    finally:
        await engine.dispose()


async def test_upgrade_from_0003_keeps_the_guild_settings_and_adds_the_per_server_defaults(database_url):
    """0004: a configured guild keeps its discovery schedule and reads the defaults of the new per-server settings
    (public answers, the server's own language, the bot's titles per post)."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0003")
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO guild_settings (guild_id, discovery_channel_id, discovery_every_hours, "
                    "adult_allowed, created_at, updated_at) VALUES (7, 5, 6, true, :now, :now)"
                ),
                {"now": datetime(2026, 1, 2, tzinfo=UTC)},
            )
    finally:
        await engine.dispose()
    async with await open_database(database_url) as db:
        prefs = await db.run(q.get_guild_prefs, 7)
    assert (prefs.discovery_channel_id, prefs.discovery_every_hours, prefs.adult_allowed) == (5, 6, True)
    assert (prefs.answers_private, prefs.locale, prefs.discovery_picks) == (False, None, None)


async def test_processes_starting_at_once_migrate_once(database_url):
    """Four bot processes starting together on an empty database: one migrates, the others wait and find it done."""
    engines = [create_engine(database_url) for _ in range(4)]
    try:
        await asyncio.gather(*(upgrade(engine) for engine in engines))
        assert await current_revision(engines[0]) == head_revision()
        assert await _tables(engines[0]) == ALL_TABLES
    finally:
        for engine in engines:
            await engine.dispose()


async def test_downgrade_to_base_and_up_again(database_url):
    await upgrade(database_url)
    for revision in reversed(PREVIOUS_REVISIONS):  # one step at a time: every downgrade() runs
        await downgrade(database_url, revision)
        assert await current_revision(database_url) == revision
    await downgrade(database_url, "base")
    assert await current_revision(database_url) is None
    engine = create_engine(database_url)
    try:
        assert await _tables(engine) == set()
    finally:
        await engine.dispose()
    await upgrade(database_url)
    assert await current_revision(database_url) == head_revision()


async def test_migrated_schema_matches_models(database):
    def diff(connection):
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)

    async with database.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


def test_postgresql_ddl_renders_offline():
    """The revisions render for PostgreSQL: snowflakes are BIGINT (never serial), booleans default to false."""
    buffer = io.StringIO()
    config = alembic_config()
    config.output_buffer = buffer
    config.set_main_option("sqlalchemy.url", "postgresql://offline/toonmatch")
    command.upgrade(config, "head", sql=True)
    sql = buffer.getvalue()
    assert "CREATE TABLE ratings" in sql and "CREATE TABLE guild_members" in sql
    assert "user_id BIGINT NOT NULL" in sql
    assert "SERIAL" not in sql.upper()
    assert "TIMESTAMP WITH TIME ZONE" in sql
    assert "DEFAULT false" in sql


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_sqlite_pragmas(database, database_url):
    await database.run(q.rate, 1, "naver:1", 1)
    async with database.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == SQLITE_BUSY_TIMEOUT_MS
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    path = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
    assert path.with_name(path.name + "-wal").exists()


async def test_missing_parent_folder_is_created(tmp_path):
    path = tmp_path / "deep" / "er" / "toonmatch.db"
    async with await open_database(sqlite_url_for(path)):
        pass
    assert path.exists()
