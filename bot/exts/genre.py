"""/genre and the "Guess genre" message context menu: the top-3 genres of an image (tall strips per panel)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import answers, checks
from bot.bot import Toonmatch
from bot.i18n import N_


class Genre(commands.Cog):
    def __init__(self, bot: Toonmatch) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name=N_("Guess genre"), callback=self.guess_genre)
        self.menu.add_check(checks.heavy_cooldown_check)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @app_commands.command(name=N_("genre"), description=N_("Guess the genre of a webtoon image"))
    @app_commands.rename(image=N_("image"), link=N_("link"), private=N_("private"))
    @app_commands.describe(
        image=N_("A panel, cover or a tall strip (PNG, JPEG, WebP or GIF)"),
        link=N_("Or a link to an image (http/https) instead of an attachment"),
        private=N_("Answer only to you (default: the server's choice, public unless set)"),
    )
    @checks.heavy_cooldown()
    async def genre(
        self,
        interaction: discord.Interaction,
        image: discord.Attachment | None = None,
        link: str | None = None,
        private: bool | None = None,
    ) -> None:
        await answers.from_upload(self.bot, interaction, image, link, private=private, answer=answers.genres_from)

    async def guess_genre(self, interaction: discord.Interaction, message: discord.Message) -> None:
        await answers.from_message(self.bot, interaction, message, answer=answers.genres_from)


async def setup(bot: Toonmatch) -> None:
    await bot.add_cog(Genre(bot))
