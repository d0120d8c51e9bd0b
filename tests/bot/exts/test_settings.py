"""/settings and /discovery status end to end: each setting changes what the bot does, at once (the prefs cache)."""

from __future__ import annotations

import pytest

from bot import prefs
from db import queries
from tests.bot.exts.discovery.helpers import enable
from tests.helpers.fake_discord.server import CommandNotAvailable, FakeDiscordError


def _field(embed: dict, name: str) -> str:
    return next(f["value"] for f in embed["fields"] if f["name"] == name)


async def test_show_gives_the_defaults_of_a_server_never_configured(world):
    rec = await world.run("settings show", user=world.admin)
    msg = rec.original
    assert msg.ephemeral
    [embed] = msg.embeds
    assert _field(embed, "Answer privacy").startswith("**public**")
    assert "3 (the bot's default)" in _field(embed, "Titles per discovery post")
    assert "not allowed" in _field(embed, "Adult titles in age-restricted channels")


async def test_only_server_managers_see_and_use_settings(world):
    with pytest.raises(CommandNotAvailable):  # hidden in the client (default_member_permissions)
        await world.fake.slash_command("settings show", user=world.alice, guild=world.guild, channel=world.general)
    rec = await world.fake.slash_command(
        "settings adult", {"allowed": True}, user=world.alice, guild=world.guild, enforce_permissions=False
    )
    msg = await rec.wait_response()
    assert msg.ephemeral and "Manage Server" in msg.content
    assert not (await world.db.run(queries.get_guild_prefs, world.guild.id)).adult_allowed
    with pytest.raises(CommandNotAvailable):  # and not in DMs at all
        await world.fake.slash_command("settings show", user=world.admin, dm=True)


async def test_titles_per_discovery_post_changes_the_posts(world):
    await enable(world)
    set_five = await world.run("settings discovery-titles", {"count": 5}, user=world.admin)
    assert "Changed: titles per discovery post" in set_five.original.embeds[0]["description"]
    assert _field(set_five.original.embeds[0], "Titles per discovery post").startswith("**5**")
    rec = await world.run("discovery now", user=world.admin)
    assert "Posted 5 titles" in rec.original.content
    assert len(world.fake.channel_messages(world.recs)[-1].embeds) == 5
    await world.run("settings discovery-titles", user=world.admin)  # left out: back to the bot's default
    rec = await world.run("discovery now", user=world.admin)
    assert "Posted 3 titles" in rec.original.content
    with pytest.raises(FakeDiscordError, match="max"):  # Discord's client enforces the 1–10 range
        await world.fake.slash_command("settings discovery-titles", {"count": 11}, user=world.admin, guild=world.guild)
    assert (await world.db.run(queries.get_guild_prefs, world.guild.id)).discovery_picks is None


async def test_answer_privacy_default_is_read_through_the_cache_and_changes_at_once(world):
    bot = world.bot
    rec = await world.fake.slash_command("help", user=world.alice, guild=world.guild, channel=world.general)
    await rec.wait_response()
    interaction_like = type("I", (), {"guild_id": world.guild.id})()
    assert await prefs.answers_private(bot, interaction_like, None) is False
    reads = bot.prefs_cache.reads
    assert await prefs.answers_private(bot, interaction_like, None) is False
    assert bot.prefs_cache.reads == reads  # cached
    changed = await world.run("settings privacy", {"answers": "private"}, user=world.admin)
    assert _field(changed.original.embeds[0], "Answer privacy").startswith("**private**")
    assert await prefs.answers_private(bot, interaction_like, None) is True  # seen at once, without a read
    assert bot.prefs_cache.reads == reads
    assert await prefs.answers_private(bot, interaction_like, False) is False  # the user's choice wins
    dm_like = type("I", (), {"guild_id": None})()
    assert await prefs.answers_private(bot, dm_like, None) is False
    assert (await world.db.run(queries.get_guild_prefs, world.guild.id)).answers_private is True
    await world.restart()  # stored, not only cached
    assert await prefs.answers_private(world.bot, interaction_like, None) is True


async def test_discovery_status_shows_channel_schedule_posts_and_language(world):
    off = await world.run("discovery status", user=world.admin)
    [embed] = off.original.embeds
    assert "off" in embed["description"] and _field(embed, "Last post") == "none yet"
    await enable(world, every=12)
    await world.run("settings discovery-titles", {"count": 4}, user=world.admin)
    async with world.db.begin() as session:
        await queries._upsert_guild(session, world.guild.id, locale="ko")
    await world.run("discovery now", user=world.admin)
    rec = await world.run("discovery status", user=world.admin)
    assert rec.original.ephemeral
    [embed] = rec.original.embeds
    assert _field(embed, "Channel") == f"<#{world.recs.id}>"
    assert _field(embed, "Schedule") == "every 12 hours"
    assert _field(embed, "Last post").startswith("<t:") and _field(embed, "Next post").startswith("<t:")
    assert _field(embed, "Titles per post") == "4"
    assert _field(embed, "Language") == "한국어"  # named in itself, as language pickers do
    with pytest.raises(CommandNotAvailable):
        await world.fake.slash_command("discovery status", user=world.alice, guild=world.guild)
