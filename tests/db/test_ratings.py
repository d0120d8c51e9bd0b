"""Ratings: rate/unrate/toggle semantics, paging, tastes and aggregates."""

from __future__ import annotations

import pytest

from db import queries as q
from db.queries import Taste

USER = 123456789012345678  # a realistic snowflake (> 2**53)
OTHER = 223456789012345678
GUILD = 323456789012345678


async def test_rate_is_an_upsert(database):
    async with database.begin() as s:
        assert await q.get_rating(s, USER, "naver:1") == 0
        assert await q.rate(s, USER, "naver:1", 1) == 1
        assert await q.get_rating(s, USER, "naver:1") == 1
    first = (await database.run(q.list_ratings, USER)).items[0]
    assert await database.run(q.rate, USER, "naver:1", -1, guild_id=GUILD) == -1
    page = await database.run(q.list_ratings, USER)
    assert page.total == 1
    entry = page.items[0]
    assert (entry.value, entry.guild_id) == (-1, GUILD)
    assert entry.created_at == first.created_at and entry.updated_at >= first.updated_at
    assert entry.created_at.tzinfo is not None


async def test_rate_rejects_other_values(database):
    for bad in (0, 2, -2):
        with pytest.raises(ValueError):
            await database.run(q.rate, USER, "naver:1", bad)
        with pytest.raises(ValueError):
            await database.run(q.toggle, USER, "naver:1", bad)


async def test_unrate(database):
    assert await database.run(q.unrate, USER, "naver:1") == 0
    await database.run(q.rate, USER, "naver:1", -1)
    assert await database.run(q.unrate, USER, "naver:1") == -1
    assert await database.run(q.get_rating, USER, "naver:1") == 0


async def test_toggle(database):
    assert await database.run(q.toggle, USER, "naver:1", 1) == 1
    assert await database.run(q.toggle, USER, "naver:1", 1) == 0  # same again removes
    assert await database.run(q.get_rating, USER, "naver:1") == 0
    assert await database.run(q.toggle, USER, "naver:1", 1) == 1
    assert await database.run(q.toggle, USER, "naver:1", -1) == -1  # the other button switches
    assert await database.run(q.get_rating, USER, "naver:1") == -1
    assert await database.run(q.toggle, USER, "naver:1", -1) == 0
    assert (await database.run(q.list_ratings, USER)).total == 0


async def test_paging(database):
    for i in range(12):
        await database.run(q.rate, USER, f"naver:{i}", 1 if i % 3 else -1)
    await database.run(q.rate, OTHER, "naver:0", 1)

    seen: list[str] = []
    offset = 0
    while True:
        page = await database.run(q.list_ratings, USER, limit=5, offset=offset)
        assert page.total == 12
        seen += [e.title_id for e in page.items]
        if not page.has_more:
            break
        offset += 5
    assert len(seen) == 12 and set(seen) == {f"naver:{i}" for i in range(12)}
    assert seen[0] == "naver:11"  # newest first

    likes = await database.run(q.list_ratings, USER, value=1, limit=100)
    dislikes = await database.run(q.list_ratings, USER, value=-1, limit=2)
    assert likes.total == 8 and len(likes.items) == 8 and all(e.value == 1 for e in likes.items)
    assert dislikes.total == 4 and len(dislikes.items) == 2 and dislikes.has_more
    beyond = await database.run(q.list_ratings, USER, limit=5, offset=50)
    assert beyond.items == [] and beyond.total == 12 and not beyond.has_more
    with pytest.raises(ValueError):
        await database.run(q.list_ratings, USER, limit=0)


async def test_a_page_past_the_end_of_a_shrinking_list_is_the_last_page(database):
    for i in range(12):
        await database.run(q.rate, USER, f"naver:{i}", 1)
    last = await database.run(q.ratings_page, USER, limit=5, offset=15)  # e.g. the only rating of page 4 removed
    assert (last.offset, len(last.items), last.total) == (10, 2, 12)
    assert (await database.run(q.ratings_page, USER, limit=5, offset=5)).offset == 5  # in range: as asked
    await database.run(q.forget_user, USER)
    empty = await database.run(q.ratings_page, USER, limit=5, offset=10)
    assert empty.items == [] and empty.total == 0


async def test_user_taste(database):
    assert await database.run(q.user_taste, USER) == Taste(liked=[], disliked=[])
    await database.run(q.rate, USER, "naver:1", 1)
    await database.run(q.rate, USER, "naver:2", -1)
    await database.run(q.rate, USER, "naver:3", 1)
    await database.run(q.rate, OTHER, "naver:4", 1)
    taste = await database.run(q.user_taste, USER)
    assert taste == Taste(liked=["naver:3", "naver:1"], disliked=["naver:2"])
    assert not taste.empty
    with pytest.raises(AttributeError):
        taste.liked = []  # frozen


async def test_guild_taste_aggregates_members(database):
    a, b, c, outsider = 1, 2, 3, 4
    await database.run(q.rate, a, "naver:1", 1, guild_id=GUILD)  # rating in a guild records membership
    await database.run(q.record_member, GUILD, b)
    await database.run(q.record_member, GUILD, c)
    await database.run(q.record_member, 999, outsider)
    await database.run(q.rate, b, "naver:1", 1)  # ratings made elsewhere still count
    await database.run(q.rate, c, "naver:1", -1)
    await database.run(q.rate, b, "naver:2", -1)
    await database.run(q.rate, a, "naver:3", 1)
    await database.run(q.rate, c, "naver:3", -1)
    await database.run(q.rate, outsider, "naver:1", -1)
    await database.run(q.rate, outsider, "naver:9", 1)

    assert await database.run(q.guild_taste, GUILD) == {"naver:1": 1, "naver:2": -1, "naver:3": 0}
    assert await database.run(q.guild_taste, 999) == {"naver:1": -1, "naver:9": 1}
    assert await database.run(q.guild_taste, 12345) == {}


async def test_record_member_is_idempotent(database):
    await database.run(q.record_member, GUILD, USER)
    await database.run(q.record_member, GUILD, USER)
    export = await database.run(q.export_user, USER)
    assert [m["guild_id"] for m in export["memberships"]] == [str(GUILD)]


async def test_title_like_counts(database):
    await database.run(q.rate, 1, "naver:1", 1)
    await database.run(q.rate, 2, "naver:1", 1)
    await database.run(q.rate, 3, "naver:1", -1)
    await database.run(q.rate, 1, "naver:2", -1)
    assert await database.run(q.title_like_counts) == {"naver:1": (2, 1), "naver:2": (0, 1)}


async def test_shown_counts(database):
    assert await database.run(q.title_shown_counts) == {}
    await database.run(q.mark_shown, USER, ["naver:1", "naver:2", "naver:1"])
    await database.run(q.mark_shown, USER, ["naver:1"])
    await database.run(q.mark_shown, USER, [])
    await database.run(q.mark_shown, OTHER, ["naver:1", "naver:3"])
    assert await database.run(q.title_shown_counts) == {"naver:1": 2, "naver:2": 1, "naver:3": 1}
    shown = {s["title_id"]: s["count"] for s in (await database.run(q.export_user, USER))["shown"]}
    assert shown == {"naver:1": 2, "naver:2": 1}


async def test_title_ids_longer_than_the_column_are_refused_alike_on_every_backend(database):
    """PostgreSQL enforces VARCHAR(128) and SQLite would store anything: both refuse before the database."""
    longest = "naver:" + "9" * (q.TITLE_ID_LENGTH - len("naver:"))
    await database.run(q.rate, USER, longest, 1)
    await database.run(q.mark_shown, USER, [longest])
    assert await database.run(q.get_rating, USER, longest) == 1
    too_long = longest + "9"
    for call in (
        lambda s: q.rate(s, USER, too_long, 1),
        lambda s: q.toggle(s, USER, too_long, 1),
        lambda s: q.mark_shown(s, USER, ["naver:1", too_long]),
        lambda s: q.record_discovery_post(s, GUILD, too_long, 1, 2),
    ):
        with pytest.raises(ValueError, match="title id"):
            await database.run(call)
    assert await database.run(q.title_shown_counts) == {longest: 1}  # nothing half-written
