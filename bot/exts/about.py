"""/about, for the bot's owner only: version, run folder and index, uptime, servers and shards, recent answers.

Owner: the application's owner, or a member of its team (discord.py's ``Bot.is_owner``, from the application's info).
Everyone else is refused ephemerally. The command is also hidden in servers for everyone but administrators
(``default_member_permissions`` 0: Discord has no "owner only" visibility); it stays visible in DMs with the bot, where
the owner usually runs it. The public part (version, catalogue size, the privacy statement) is in /help.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, errors
from bot.bot import Toonmatch
from bot.i18n import N_, tr_for
from bot.metrics import percentiles
from core import version
from core.i18n import Msg

log = logging.getLogger(__name__)


async def require_owner(interaction: discord.Interaction) -> None:
    """Refuse (ephemerally, through the one error path) anyone but the application's owner or its team."""
    client: Toonmatch = interaction.client  # type: ignore[assignment]
    if not await client.is_owner(interaction.user):
        raise errors.NotOwnerError(Msg("🔒 `/about` is only for the bot's owner."))


class About(commands.Cog):
    def __init__(self, bot: Toonmatch) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        await asyncio.to_thread(version.git_revision)  # git runs once, off the event loop

    @app_commands.command(name=N_("about"), description=N_("Owner only: version, uptime, servers, shards and answers"))
    @app_commands.default_permissions()  # hidden in servers except for administrators; refused unless the owner
    async def about(self, interaction: discord.Interaction) -> None:
        await require_owner(interaction)
        bot, recommender = self.bot, self.bot.recommender
        answers, p50, p99 = await asyncio.to_thread(percentiles, bot.metrics.window.latencies())  # sort off the loop
        health = bot.health
        own, tr = bot.own_shards, tr_for(interaction)
        if own is not None:
            shards = tr._(
                "{up} of {count} up (shards {ids} of {total})",
                up=health.shards.connected_count if health else "?",
                count=len(own),
                ids=",".join(map(str, own)),
                total=bot.shard_count,
            )
        elif health and not health.shards.down():
            shards = tr._("1 gateway connection, up")
        else:
            shards = tr._("1 gateway connection")
        embed = embeds.about(
            version=version.describe(),
            run_id=recommender.run_id if recommender else None,
            titles=len(recommender.titles) if recommender else None,
            generation=recommender.generation if recommender else None,
            engine_error=bot.recommender_error,
            uptime_s=bot.metrics.uptime,
            servers=len(bot.guilds),
            shards=shards,
            answers=answers,
            p50=p50,
            p99=p99,
            tr=tr,
        )
        await errors.send_final(interaction, embed=embed, ephemeral=True)


async def setup(bot: Toonmatch) -> None:
    await bot.add_cog(About(bot))
