"""The error-handler cog: installs :func:`bot.errors.report` as the command tree's ``on_error``.

Every failing slash command, context menu and check ends there (buttons and selects call the same function), so
each failure becomes a short ephemeral message plus one log line with the interaction id.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import errors


class ErrorHandler(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self._previous = None

    async def cog_load(self) -> None:
        tree = self.bot.tree
        self._previous = tree.on_error
        tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def cog_unload(self) -> None:
        if self._previous is not None:
            self.bot.tree.on_error = self._previous  # type: ignore[method-assign]

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await errors.report(interaction, error)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ErrorHandler(bot))
