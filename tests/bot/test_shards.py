"""Several bot "processes" (one ``ShardedToonmatch`` each, with its own database connections) on one fake Discord and
one database: who syncs the commands, who sees which guild, discovery posted once per due guild even when two of them
run the same shard (a rolling restart), and one user's cooldown across them. The same with real OS processes is
``tests/bot/test_processes.py``."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import discord
import pytest_asyncio

from bot.bot import BotOptions, ShardedToonmatch, Toonmatch, make_bot
from db import open_database, queries
from tests.bot.conftest import TEST_OPTIONS, make_settings, roomy_fake
from tests.helpers.fake_discord.server import FakeDiscord

SHARDS = 2
MANAGE = discord.Permissions(manage_guild=True)


@pytest_asyncio.fixture
async def sharded_fake() -> FakeDiscord:
    """A fake Discord recommending 2 shards, with 2 servers on each (a #recs channel, an admin, alice in all)."""
    server = roomy_fake(shard_count=SHARDS)
    await server.start()
    try:
        server.guild_list = [server.add_guild(f"club {n}", shard=n % SHARDS) for n in range(4)]
        server.recs = {g.id: server.add_channel(g, "recs") for g in server.guild_list}
        server.admins = {
            g.id: server.add_member(g, f"admin{n}", permissions=MANAGE) for n, g in enumerate(server.guild_list)
        }
        server.alice = server.add_user("alice")
        for g in server.guild_list:
            server.add_member(g, server.alice)
        yield server
    finally:
        await server.stop()


class Processes:
    """Bots started like separate processes: own settings (shard range), own database engine, same database."""

    def __init__(self, fake: FakeDiscord, db_url: str, recommender, tiny_run) -> None:
        self.fake, self.db_url, self.recommender, self.tiny_run = fake, db_url, recommender, tiny_run
        self.stack = contextlib.AsyncExitStack()

    async def start(self, shard_ids: str, **options) -> Toonmatch:
        settings = make_settings(
            self.fake.token, self.tiny_run, self.db_url, TOONMATCH_SHARD_IDS=shard_ids, TOONMATCH_SHARD_COUNT=SHARDS
        )
        db = await self.stack.enter_async_context(await open_database(self.db_url))
        opts = BotOptions.from_settings(settings, **{**TEST_OPTIONS, **options})
        bot = make_bot(settings, db=db, recommender=self.recommender, options=opts)
        return await self.stack.enter_async_context(self.fake.run_client(bot))


@pytest_asyncio.fixture
async def processes(sharded_fake, db, recommender, tiny_run):
    procs = Processes(sharded_fake, db.engine.url.render_as_string(hide_password=False), recommender, tiny_run)
    try:
        yield procs
    finally:
        await procs.stack.aclose()
    assert not sharded_fake.unhandled_requests and not sharded_fake.errors


def _puts(fake):
    return fake.find_requests("PUT", r"^/applications/\d+/commands$")


def test_the_settings_pick_the_bot_and_where_cooldowns_live(tiny_run):
    plain = make_settings("t", tiny_run)
    assert not plain.discord.sharded and not BotOptions.from_settings(plain).cooldowns_in_database
    every = make_settings("t", tiny_run, TOONMATCH_SHARD_COUNT=4)  # one process, all 4 shards
    assert every.discord.sharded and not BotOptions.from_settings(every).cooldowns_in_database
    part = make_settings("t", tiny_run, TOONMATCH_SHARD_IDS="2-3", TOONMATCH_SHARD_COUNT=4)
    assert part.discord.shard_ids == (2, 3) and BotOptions.from_settings(part).cooldowns_in_database
    assert issubclass(ShardedToonmatch, discord.AutoShardedClient) and not issubclass(
        Toonmatch, discord.AutoShardedClient
    )


async def test_each_process_connects_its_shards_and_only_shard_0_syncs(processes, sharded_fake):
    fake = processes.fake
    second = await processes.start("1")  # started first: it must not sync, though nothing was ever synced
    first = await processes.start("0")
    assert isinstance(first, ShardedToonmatch) and (first.own_shards, second.own_shards) == ((0,), (1,))
    assert sorted(p["shard"] for p in fake.identify_payloads) == [[0, 2], [1, 2]]
    for bot, shard in ((first, 0), (second, 1)):
        assert {g.id for g in bot.guilds} == {g.id for g in fake.guild_list if (g.id >> 22) % SHARDS == shard}
        assert bot.shard_filter == ((shard,), SHARDS)
    assert len(_puts(fake)) == 1 and first.synced and not second.synced
    # every interaction reaches the process of its server, once
    for guild in fake.guild_list:
        rec = await fake.slash_command("help", user=fake.alice, guild=guild, channel=fake.recs[guild.id])
        await rec.wait_response()
        assert rec.shard == ((guild.id >> 22) % SHARDS, SHARDS) and len(rec.callback_attempts) == 1


async def test_discovery_posts_once_per_due_guild_even_with_two_processes_on_a_shard(processes, sharded_fake):
    """Shard 0 run twice (the new process of a rolling restart is up before the old one is gone): both see its
    servers, both tick at the same moment, and the claim in the database lets exactly one of them post."""
    fake = processes.fake
    old = await processes.start("0")
    other = await processes.start("1")
    for guild in fake.guild_list:
        rec = await fake.slash_command(
            "discovery set", {"channel": fake.recs[guild.id], "every": 6}, user=fake.admins[guild.id], guild=guild
        )
        assert "every 6 hours" in (await rec.wait_response()).content
    new = await processes.start("0")
    assert {g.id for g in new.guilds} == {g.id for g in old.guilds}
    for guild in fake.guild_list:
        await old.db.run(queries.reschedule, guild.id, datetime.now(UTC) - timedelta(minutes=1))

    cogs = [bot.get_cog("Discovery") for bot in (old, new, other)]
    results = await asyncio.gather(*(cog.post_due() for cog in cogs))
    posted_by = {}
    for bot, outcomes in zip((old, new, other), results, strict=True):
        for outcome in outcomes:
            assert len(outcome.posted) == 3 and outcome.channel.guild.id not in posted_by
            posted_by[outcome.channel.guild.id] = bot
    assert set(posted_by) == {g.id for g in fake.guild_list}
    for guild in fake.guild_list:
        [post] = fake.channel_messages(fake.recs[guild.id])
        assert len(post.embeds) == 3
        shard = (guild.id >> 22) % SHARDS
        assert posted_by[guild.id] in ((old, new) if shard == 0 else (other,))
        assert len(await old.db.run(queries.posted_titles, guild.id)) == 3
    assert all(outcomes == [] for outcomes in await asyncio.gather(*(cog.post_due() for cog in cogs)))


async def test_a_users_cooldown_holds_across_processes(processes, sharded_fake, sample_images):
    fake = processes.fake
    bots = [await processes.start(str(n), cooldown_uses=1, cooldown_seconds=60) for n in range(SHARDS)]
    assert all(bot.options.cooldowns_in_database for bot in bots)
    assert [bot.purge_cooldowns.is_running() for bot in bots] == [True, False]  # housekeeping by shard 0 only
    g0, g1 = fake.guild_list[:2]  # shard 0, shard 1

    def image():
        return fake.add_attachment(sample_images["png"], "panel.png")

    first = await fake.slash_command("genre", {"image": image()}, user=fake.alice, guild=g0, channel=fake.recs[g0.id])
    assert (await first.wait_response(timeout=20)).embeds and first.shard == (0, SHARDS)
    elsewhere = await fake.slash_command(
        "genre", {"image": image()}, user=fake.alice, guild=g1, channel=fake.recs[g1.id]
    )
    refusal = await elsewhere.wait_response()
    assert elsewhere.shard == (1, SHARDS) and refusal.ephemeral and "try again in" in refusal.content
    other_user = fake.admins[g1.id]
    ok = await fake.slash_command("genre", {"image": image()}, user=other_user, guild=g1, channel=fake.recs[g1.id])
    assert (await ok.wait_response(timeout=20)).embeds
