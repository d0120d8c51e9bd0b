"""/likes (your ratings, paged, with remove buttons) and /forget-me (confirm, then delete everything about you)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, errors
from bot.bot import Toonmatch
from bot.i18n import N_, tr_for
from bot.views.forget import forget_view
from bot.views.likes import likes_page
from db import queries


class Likes(commands.Cog):
    def __init__(self, bot: Toonmatch) -> None:
        self.bot = bot

    @app_commands.command(name=N_("likes"), description=N_("Your ratings: see them and remove any"))
    async def likes(self, interaction: discord.Interaction) -> None:
        embed, view = await likes_page(self.bot, interaction.user.id, 0, tr=tr_for(interaction))
        kwargs = {"view": view} if view is not None else {}
        await errors.send_final(interaction, embed=embed, ephemeral=True, **kwargs)

    @app_commands.command(name=N_("forget-me"), description=N_("Delete everything Toonmatch stores about you"))
    async def forget_me(self, interaction: discord.Interaction) -> None:
        tr = tr_for(interaction)
        page = await self.bot.db.run(queries.list_ratings, interaction.user.id, limit=1)
        await errors.send_final(
            interaction,
            embed=embeds.forget_prompt(page.total, tr=tr),
            view=forget_view(interaction.user.id, tr=tr),
            ephemeral=True,
        )


async def setup(bot: Toonmatch) -> None:
    await bot.add_cog(Likes(bot))
