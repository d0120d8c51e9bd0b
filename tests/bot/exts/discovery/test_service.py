"""The discovery service without Discord: which guilds are due, what it picks, what a post records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.exts.discovery.service import DiscoveryService
from db import queries


async def test_due_lists_only_enabled_guilds_whose_post_is_due_most_overdue_first(db):
    now = datetime.now(UTC)
    for guild_id, hours in ((1, -1), (2, -3), (3, 2), (4, -2)):
        await db.run(queries.set_discovery, guild_id, 100 + guild_id, 24, now + timedelta(hours=hours))
    await db.run(queries.disable_discovery, 4, "the discovery channel was deleted")
    service = DiscoveryService(db, None, picks=3)
    assert not service.ready
    assert [s.guild_id for s in await service.due(now)] == [2, 1]


async def test_a_post_picks_new_titles_with_covers_and_records_them(db, recommender):
    service = DiscoveryService(db, recommender, picks=3)
    settings = await db.run(queries.set_discovery, 7, 70, 12, datetime.now(UTC))
    post = await service.choose(7, allow_adult=False, covers=True)
    ids = [r.title.id for r in post.picks]
    assert len(ids) == 3 and not any(r.title.adult for r in post.picks)
    assert post.covers and set(post.covers) <= set(ids) and all(c[8:12] == b"WEBP" for c in post.covers.values())
    assert post.synthetic == recommender.synthetic
    await service.posted(post, settings, channel_id=70, message_id=700)
    assert await db.run(queries.posted_titles, 7) == set(ids)
    after = await db.run(queries.get_guild_prefs, 7)
    assert after.next_post_at.replace(tzinfo=UTC) > datetime.now(UTC) + timedelta(hours=11.9)
    again = await service.choose(7, allow_adult=False, covers=False)
    assert again.picks and not {r.title.id for r in again.picks} & set(ids) and again.covers == {}
