"""/similar and the "Find similar webtoons" message context menu."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import answers, checks
from bot.bot import Toonmatch
from bot.i18n import N_


class Similar(commands.Cog):
    def __init__(self, bot: Toonmatch) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name=N_("Find similar webtoons"), callback=self.find_similar)
        self.menu.add_check(checks.heavy_cooldown_check)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @app_commands.command(name=N_("similar"), description=N_("Find webtoons drawn in the style of your image"))
    @app_commands.rename(image=N_("image"), link=N_("link"), private=N_("private"))
    @app_commands.describe(
        image=N_("A panel, cover or screenshot (PNG, JPEG, WebP or GIF)"),
        link=N_("Or a link to an image (http/https) instead of an attachment"),
        private=N_("Answer only to you (default: the server's choice, public unless set)"),
    )
    @checks.heavy_cooldown()
    async def similar(
        self,
        interaction: discord.Interaction,
        image: discord.Attachment | None = None,
        link: str | None = None,
        private: bool | None = None,
    ) -> None:
        await answers.from_upload(self.bot, interaction, image, link, private=private, answer=answers.similar_from)

    async def find_similar(self, interaction: discord.Interaction, message: discord.Message) -> None:
        await answers.from_message(self.bot, interaction, message, answer=answers.similar_from)


async def setup(bot: Toonmatch) -> None:
    await bot.add_cog(Similar(bot))
