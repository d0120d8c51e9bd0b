"""/help: what the bot does, its commands, and whether the recommender is ready."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, errors
from bot.bot import Toonmatch
from bot.i18n import N_, tr_for
from core import version


class Help(commands.Cog):
    def __init__(self, bot: Toonmatch) -> None:
        self.bot = bot

    @app_commands.command(name=N_("help"), description=N_("What Toonmatch does and how to use it"))
    async def help(self, interaction: discord.Interaction) -> None:
        tr = tr_for(interaction)
        recommender = self.bot.recommender
        status = embeds.engine_status(recommender, self.bot.recommender_error, tr=tr)
        synthetic = recommender.synthetic if recommender is not None else False
        embed = embeds.help_embed(
            engine_status=status,
            synthetic=synthetic,
            version=version.describe(),
            titles=len(recommender.titles) if recommender is not None else None,
            privacy_url=self.bot.settings.discord.privacy_url,
            tr=tr,
        )
        await errors.send_final(interaction, embed=embed, ephemeral=True)


async def setup(bot: Toonmatch) -> None:
    await bot.add_cog(Help(bot))
