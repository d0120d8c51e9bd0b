"""The fake Discord with sharded clients: one IDENTIFY and READY per shard, guild events and interactions only on the
connection of the guild's shard ``(guild_id >> 22) % count``, DMs on shard 0, ``/gateway/bot`` reporting the count."""

from __future__ import annotations

import contextlib

import discord
import pytest
from discord.ext import commands

from tests.helpers.fake_discord import FakeDiscord

pytestmark = pytest.mark.timeout(60)


def where_bot(seen: list[tuple[int | None, int]], **shards) -> commands.Bot:
    """A bot whose /where answers with the shard it runs; it notes the guild of every user message it sees."""
    cls = commands.AutoShardedBot if "shard_ids" in shards else commands.Bot
    bot = cls(command_prefix=commands.when_mentioned, intents=discord.Intents.default(), **shards)

    async def setup_hook() -> None:
        await bot.tree.sync()

    async def no_identify_wait(shard_id, *, initial=False) -> None:  # discord.py sleeps 5 s between its shards
        return None

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    bot.before_identify_hook = no_identify_wait  # type: ignore[method-assign]

    @bot.tree.command(name="where", description="Which shard answers")
    async def where(interaction: discord.Interaction) -> None:
        shard = interaction.guild.shard_id if interaction.guild else 0
        await interaction.response.send_message(f"shard {shard} of {interaction.client.shard_count}")

    @bot.event
    async def on_message(message: discord.Message) -> None:
        if not message.author.bot and message.guild is not None:
            seen.append((getattr(bot, "shard_id", None), message.guild.id))

    return bot


async def test_each_guild_reaches_only_the_client_of_its_shard() -> None:
    async with FakeDiscord(shard_count=2) as fake:
        guilds = [fake.add_guild(f"g{n}", shard=n % 2) for n in range(4)]
        channels = [fake.add_channel(g, "general") for g in guilds]
        assert [(g.id >> 22) % 2 for g in guilds] == [0, 1, 0, 1]
        carol = fake.add_user("carol")
        seen: list[tuple[int | None, int]] = []
        async with contextlib.AsyncExitStack() as stack:
            bots = [
                await stack.enter_async_context(fake.run_client(where_bot(seen, shard_id=n, shard_count=2)))
                for n in (0, 1)
            ]
            assert sorted(p["shard"] for p in fake.identify_payloads) == [[0, 2], [1, 2]]
            assert fake.connected_shards == {(0, 2), (1, 2)}
            assert (await bots[0].http.get_bot_gateway())[0] == 2
            for n, bot in enumerate(bots):
                assert {g.id for g in bot.guilds} == {g.id for g in guilds[n::2]}

            for n, (guild, channel) in enumerate(zip(guilds, channels, strict=True)):
                member = fake.add_member(guild, f"m{n}")
                rec = await fake.slash_command("where", {}, user=member, guild=guild, channel=channel)
                msg = await rec.wait_response()
                assert msg.content == f"shard {n % 2} of 2" and rec.shard == (n % 2, 2)
                assert len(rec.callback_attempts) == 1
                fake.user_message(channel, f"hello {n}", author=member)
            dm = await fake.slash_command("where", {}, dm=True, user=carol)
            assert (await dm.wait_response()).content == "shard 0 of 2" and dm.shard == (0, 2)
            await fake.wait_until(lambda: len(seen) >= 4)
            assert sorted(seen) == sorted((n % 2, g.id) for n, g in enumerate(guilds))

            late = fake.add_guild("late", shard=1)  # joins while connected: GUILD_CREATE on shard 1 only
            await fake.wait_until(lambda: bots[1].get_guild(late.id))
            assert bots[0].get_guild(late.id) is None
        assert not fake.errors and not fake.unhandled_requests


async def test_one_client_running_several_shards_gets_a_ready_per_shard() -> None:
    async with FakeDiscord(shard_count=3) as fake:
        guilds = [fake.add_guild(f"g{n}", shard=n) for n in range(3)]
        channel = fake.add_channel(guilds[2], "general")
        shard_ready: list[int] = []
        bot = where_bot([], shard_ids=[1, 2], shard_count=3)

        @bot.event
        async def on_shard_ready(shard_id: int) -> None:
            shard_ready.append(shard_id)

        async with fake.run_client(bot):
            assert sorted(shard_ready) == [1, 2]
            assert sorted(p["shard"] for p in fake.identify_payloads) == [[1, 3], [2, 3]]
            assert {g.id for g in bot.guilds} == {guilds[1].id, guilds[2].id}
            member = fake.add_member(guilds[2], "m")
            rec = await fake.slash_command("where", {}, user=member, guild=guilds[2], channel=channel)
            assert (await rec.wait_response()).content == "shard 2 of 3"
            fake.connect_timeout = 0.2
            with pytest.raises(TimeoutError, match="DMs"):  # nobody runs shard 0
                await fake.slash_command("where", {}, dm=True, user=fake.add_user("dan"))
