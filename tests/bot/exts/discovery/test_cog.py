"""Discovery channels end to end: permissions, posting, the schedule, restarts, broken channels."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import discord
import pytest

from db import queries
from tests.bot.exts.discovery.helpers import enable as _enable
from tests.helpers.fake_discord.server import CommandNotAvailable

SEND = discord.Permissions(send_messages=True).value


def _cog(world):
    return world.bot.get_cog("Discovery")


async def _make_due(world):
    await world.db.run(queries.reschedule, world.guild.id, datetime.now(UTC) - timedelta(minutes=1))


async def test_discovery_is_hidden_from_and_refused_to_non_admins(world):
    with pytest.raises(CommandNotAvailable):
        await world.fake.slash_command("discovery set", {"channel": world.recs}, user=world.alice, guild=world.guild)
    # Even if a server overrides the default permissions, the command itself checks Manage Server.
    rec = await world.run("discovery set", {"channel": world.recs}, user=world.alice, enforce_permissions=False)
    assert rec.original.ephemeral and "Manage Server" in rec.original.content
    settings = await world.db.run(queries.get_guild_prefs, world.guild.id)
    assert settings.discovery_channel_id is None


async def test_set_stores_the_schedule(world):
    before = datetime.now(UTC)
    msg = await _enable(world, every=6)
    assert msg.ephemeral and "every 6 hours" in msg.content
    settings = await world.db.run(queries.get_guild_prefs, world.guild.id)
    assert settings.discovery_channel_id == world.recs.id and settings.discovery_every_hours == 6
    next_at = settings.next_post_at.replace(tzinfo=settings.next_post_at.tzinfo or UTC)
    assert before + timedelta(hours=5.9) < next_at < before + timedelta(hours=6.1)


async def test_set_refuses_a_channel_the_bot_cannot_post_in(world):
    world.fake.update_channel(world.recs, overwrites=[{"id": world.fake.bot_user.id, "type": 1, "deny": SEND}])
    await world.fake.wait_until(lambda: _cog(world).missing_permissions(world.bot.get_channel(world.recs.id)))
    msg = await _enable(world)
    assert msg.ephemeral and "Send Messages" in msg.content
    assert (await world.db.run(queries.get_guild_prefs, world.guild.id)).discovery_channel_id is None


async def test_now_posts_lesser_known_titles_with_rating_buttons(world, bot_engine):
    await _enable(world)
    rec = await world.run("discovery now", user=world.admin)
    assert rec.original.ephemeral and "Posted 3 titles" in rec.original.content
    [post] = world.fake.channel_messages(world.recs)
    assert "Discovery" in post.content and len(post.embeds) == 3
    ups = [c for c in post.custom_ids() if c.startswith("tm:rate:up:")]
    assert len(ups) == 3 and len([c for c in post.custom_ids() if c.startswith("tm:rate:down:")]) == 3
    posted = {c.split(":", 3)[3] for c in ups}
    assert posted == await world.db.run(queries.posted_titles, world.guild.id)
    ranks = sorted(t.popularity_rank for t in bot_engine.titles.values() if t.popularity_rank)
    median = ranks[len(ranks) // 2 - 1]
    assert all(bot_engine.titles[t].popularity_rank >= median for t in posted)  # lesser known
    assert not any(bot_engine.titles[t].adult for t in posted)
    # the same rating buttons work on the post, and count towards the server's taste
    click = await world.fake.click(ups[0], message=post, user=world.bob)
    assert "you like" in (await click.wait_response()).content
    assert (await world.db.run(queries.guild_taste, world.guild.id)) == {ups[0].split(":", 3)[3]: 1}
    # a second post never repeats a title
    await world.run("discovery now", user=world.admin)
    second = world.fake.channel_messages(world.recs)[1]
    again = {c.split(":", 3)[3] for c in second.custom_ids() if c.startswith("tm:rate:up:")}
    assert again and not again & posted


async def test_loop_posts_when_due_and_the_schedule_survives_a_restart(world):
    await _enable(world, every=12)
    assert await _cog(world).post_due() == []  # not due yet
    await world.restart()
    await _make_due(world)
    outcomes = await _cog(world).post_due()
    assert len(outcomes) == 1 and len(outcomes[0].posted) == 3
    assert len(world.fake.channel_messages(world.recs)) == 1
    settings = await world.db.run(queries.get_guild_prefs, world.guild.id)
    next_at = settings.next_post_at.replace(tzinfo=settings.next_post_at.tzinfo or UTC)
    assert next_at > datetime.now(UTC) + timedelta(hours=11)
    assert await _cog(world).post_due() == []


async def test_deleted_channel_disables_discovery_with_a_note(world):
    await _enable(world)
    world.fake.delete_channel(world.recs)
    await world.fake.wait_until(lambda: world.bot.get_channel(world.recs.id) is None)
    await _make_due(world)
    [outcome] = await _cog(world).post_due()
    assert outcome.disabled and "deleted" in outcome.disabled
    settings = await world.db.run(queries.get_guild_prefs, world.guild.id)
    assert not settings.discovery_enabled and "deleted" in settings.discovery_disabled_reason
    rec = await world.run("discovery now", user=world.admin)
    assert rec.original.ephemeral and "turned off" in rec.original.content and "deleted" in rec.original.content


async def test_forbidden_channel_disables_discovery(world):
    await _enable(world)
    world.fake.update_channel(world.recs, overwrites=[{"id": world.fake.bot_user.id, "type": 1, "deny": SEND}])
    await world.fake.wait_until(lambda: _cog(world).missing_permissions(world.bot.get_channel(world.recs.id)))
    rec = await world.run("discovery now", user=world.admin)
    assert "discovery is now off" in rec.original.content and "Send Messages" in rec.original.content
    assert world.fake.channel_messages(world.recs) == []
    assert not (await world.db.run(queries.get_guild_prefs, world.guild.id)).discovery_enabled


async def test_off_stops_posts(world):
    await _enable(world)
    rec = await world.run("discovery off", user=world.admin)
    assert rec.original.ephemeral and "off" in rec.original.content
    await _make_due(world)
    assert await _cog(world).post_due() == []
    now = await world.run("discovery now", user=world.admin)
    assert "/discovery set" in now.original.content


async def test_removing_the_bot_from_a_server_forgets_its_settings(world):
    await _enable(world)
    world.fake.remove_guild(world.guild)
    await world.fake.wait_until(lambda: world.bot.get_guild(world.guild.id) is None)
    for _ in range(100):
        settings = await world.db.run(queries.get_guild_prefs, world.guild.id)
        if settings.discovery_channel_id is None:
            break
        await asyncio.sleep(0.02)
    assert settings.discovery_channel_id is None


async def test_a_guild_the_bot_cannot_see_is_rescheduled_not_disabled():
    from unittest.mock import AsyncMock, MagicMock

    from bot.bot import BotOptions, Toonmatch
    from bot.exts.discovery.cog import Discovery
    from bot.metrics import BotMetrics
    from db import Database, GuildPrefs

    bot = MagicMock(spec=Toonmatch)
    bot.options = BotOptions(start_discovery_loop=False)
    bot.recommender = None
    bot.get_guild.return_value = None
    bot.db = MagicMock(spec=Database)
    bot.db.run = AsyncMock()
    bot.metrics = BotMetrics()
    cog = Discovery(bot)
    outcome = await cog.post(GuildPrefs(guild_id=1, discovery_channel_id=2, discovery_every_hours=5))
    assert outcome.skipped and not outcome.disabled
    assert bot.metrics.discovery_posts.labels(outcome="skipped")._value.get() == 1
    fn, guild_id, when = bot.db.run.await_args.args
    assert fn is queries.reschedule and guild_id == 1 and when > datetime.now(UTC) + timedelta(hours=4.9)
