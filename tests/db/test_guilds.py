"""Guild settings, discovery scheduling, discovery posts and bot meta."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from db import queries as q
from db.queries import GuildPrefs

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
G1, G2, G3 = 111111111111111111, 222222222222222222, 333333333333333333
CHANNEL = 444444444444444444


async def test_unconfigured_guild_has_defaults(database):
    settings = await database.run(q.get_guild_prefs, G1)
    assert settings == GuildPrefs(guild_id=G1)
    assert not settings.discovery_enabled and not settings.adult_allowed
    assert await database.run(q.due_discovery_guilds, NOW) == []


async def test_discovery_scheduling(database):
    s1 = await database.run(q.set_discovery, G1, CHANNEL, 24, NOW - timedelta(hours=1))
    assert s1.discovery_enabled and s1.discovery_every_hours == 24
    await database.run(q.set_discovery, G2, CHANNEL + 1, 6, NOW - timedelta(hours=3))
    await database.run(q.set_discovery, G3, CHANNEL + 2, 6, NOW + timedelta(minutes=1))

    due = await database.run(q.due_discovery_guilds, NOW)
    assert [g.guild_id for g in due] == [G2, G1]  # most overdue first
    assert due[0].next_post_at == NOW - timedelta(hours=3) and due[0].next_post_at.tzinfo is not None
    assert [g.guild_id for g in await database.run(q.due_discovery_guilds, NOW, limit=1)] == [G2]

    await database.run(q.reschedule, G2, NOW + timedelta(hours=6))
    assert [g.guild_id for g in await database.run(q.due_discovery_guilds, NOW)] == [G1]
    later = NOW + timedelta(hours=7)
    assert [g.guild_id for g in await database.run(q.due_discovery_guilds, later)] == [G1, G3, G2]


async def test_non_utc_times_are_normalised(database):
    paris = timezone(timedelta(hours=1))
    await database.run(q.set_discovery, G1, CHANNEL, 24, datetime(2025, 3, 1, 13, 30, tzinfo=paris))  # 12:30 UTC
    assert await database.run(q.due_discovery_guilds, NOW) == []
    due = await database.run(q.due_discovery_guilds, NOW + timedelta(minutes=30))
    assert due[0].next_post_at == datetime(2025, 3, 1, 12, 30, tzinfo=UTC) and due[0].next_post_at.tzinfo == UTC


async def test_naive_datetimes_are_refused(database):
    with pytest.raises(Exception, match="naive datetime"):
        await database.run(q.due_discovery_guilds, datetime(2025, 3, 1, 12, 0))


async def test_disable_and_reenable(database):
    await database.run(q.set_adult_allowed, G1, True)
    await database.run(q.set_discovery, G1, CHANNEL, 12, NOW - timedelta(hours=1))
    disabled = await database.run(q.disable_discovery, G1, "missing permission to send messages")
    assert not disabled.discovery_enabled
    assert disabled.discovery_disabled_reason == "missing permission to send messages"
    assert disabled.discovery_channel_id == CHANNEL and disabled.next_post_at is None
    assert disabled.adult_allowed  # other settings untouched
    assert await database.run(q.due_discovery_guilds, NOW + timedelta(days=9)) == []

    await database.run(q.reschedule, G1, NOW - timedelta(hours=1))  # rescheduling does not re-enable
    assert await database.run(q.due_discovery_guilds, NOW) == []

    enabled = await database.run(q.set_discovery, G1, CHANNEL, 12, NOW)
    assert enabled.discovery_enabled and enabled.discovery_disabled_reason is None and enabled.adult_allowed
    assert [g.guild_id for g in await database.run(q.due_discovery_guilds, NOW)] == [G1]

    off = await database.run(q.set_discovery, G1, None, 12, NOW)
    assert not off.discovery_enabled and off.next_post_at is None
    assert await database.run(q.due_discovery_guilds, NOW) == []


async def test_disable_unconfigured_guild(database):
    settings = await database.run(q.disable_discovery, G1, "kicked")
    assert settings.discovery_disabled_reason == "kicked" and settings.discovery_channel_id is None


async def test_set_discovery_validates(database):
    with pytest.raises(ValueError):
        await database.run(q.set_discovery, G1, CHANNEL, 0, NOW)


async def test_adult_allowed(database):
    assert (await database.run(q.set_adult_allowed, G1, True)).adult_allowed
    assert (await database.run(q.get_guild_prefs, G1)).adult_allowed
    assert not (await database.run(q.set_adult_allowed, G1, False)).adult_allowed


async def test_discovery_posts(database):
    await database.run(q.record_discovery_post, G1, "naver:1", CHANNEL, 1)
    await database.run(q.record_discovery_post, G1, "naver:2", CHANNEL, 2)
    await database.run(q.record_discovery_post, G1, "naver:1", CHANNEL, 3)  # same title again: no duplicate
    await database.run(q.record_discovery_post, G2, "naver:1", CHANNEL, 4)
    assert await database.run(q.posted_titles, G1) == {"naver:1", "naver:2"}
    assert await database.run(q.posted_titles, G2) == {"naver:1"}
    assert await database.run(q.posted_titles, G3) == set()


async def test_forget_guild(database):
    await database.run(q.set_discovery, G1, CHANNEL, 24, NOW)
    await database.run(q.record_discovery_post, G1, "naver:1", CHANNEL, 1)
    await database.run(q.rate, 7, "naver:1", 1, guild_id=G1)
    assert await database.run(q.forget_guild, G1) == 3
    assert await database.run(q.posted_titles, G1) == set()
    assert await database.run(q.guild_taste, G1) == {}
    assert await database.run(q.get_rating, 7, "naver:1") == 1  # the user's own data stays


async def test_bot_meta(database):
    assert await database.run(q.get_meta, "commands_hash") is None
    await database.run(q.set_meta, "commands_hash", "abc")
    await database.run(q.set_meta, "commands_hash", "def")
    assert await database.run(q.get_meta, "commands_hash") == "def"


async def test_the_language_of_a_guilds_posts(database):
    assert (await database.run(q.set_guild_locale, G1, "ko")).locale == "ko"  # before any discovery settings
    prefs = await database.run(q.set_discovery, G1, CHANNEL, 24, NOW)
    assert prefs.locale == "ko" and prefs.discovery_enabled  # setting the schedule keeps the language
    assert (await database.run(q.get_guild_prefs, G1)).locale == "ko"
    assert (await database.run(q.set_guild_locale, G1, None)).locale is None  # back to the server's own language
    with pytest.raises(ValueError):
        await database.run(q.set_guild_locale, G1, "x" * 40)
