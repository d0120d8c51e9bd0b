"""/settings (Manage Server): what differs per server, stored in ``guild_settings`` and read through the bot's cache.

``/settings show`` · ``/settings privacy answers:public|private`` (the default of answers that do not say
``private:``) · ``/settings discovery-titles count:1–10`` (titles per discovery post; empty: the bot's default) ·
``/settings adult allowed:True|False`` (adult titles in age-restricted channels; off until turned on). Every change
goes through ``bot.change_guild_prefs``, so the next interaction already sees it (:mod:`bot.prefs`).
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, errors
from bot.bot import Toonmatch
from db import GuildPrefs, queries

log = logging.getLogger(__name__)

manage_guild = discord.Permissions(manage_guild=True)
PRIVACY = [
    app_commands.Choice(name="public (everyone in the channel sees answers)", value="public"),
    app_commands.Choice(name="private (only the person who asked sees them)", value="private"),
]


class Settings(commands.Cog):
    group = app_commands.Group(
        name="settings",
        description="This server's Toonmatch settings",
        guild_only=True,
        default_permissions=manage_guild,
    )

    def __init__(self, bot: Toonmatch) -> None:
        self.bot = bot

    async def _show(self, interaction: discord.Interaction, prefs: GuildPrefs, changed: str | None = None) -> None:
        embed = embeds.settings(prefs, default_picks=self.bot.options.discovery_picks, changed=changed)
        await errors.send_final(interaction, embed=embed, ephemeral=True)

    async def _change(self, interaction: discord.Interaction, setter, value, what: str) -> None:
        assert interaction.guild_id is not None
        prefs = await self.bot.change_guild_prefs(setter, interaction.guild_id, value)
        log.info("interaction %s: guild %s set %s to %r", interaction.id, interaction.guild_id, what, value)
        await self._show(interaction, prefs, changed=what)

    @group.command(name="show", description="Show this server's settings")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def show(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        await self._show(interaction, await self.bot.guild_prefs(interaction.guild_id))

    @group.command(name="privacy", description="Whether answers are public or private unless a user chooses")
    @app_commands.describe(answers="The default for /similar, /recommend, /genre when `private` is not given")
    @app_commands.choices(answers=PRIVACY)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def privacy(self, interaction: discord.Interaction, answers: app_commands.Choice[str]) -> None:
        await self._change(interaction, queries.set_answers_private, answers.value == "private", "answer privacy")

    @group.command(name="discovery-titles", description="How many titles each discovery post shows (1–10)")
    @app_commands.describe(count="1–10; leave it out to use the bot's default")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def discovery_titles(
        self, interaction: discord.Interaction, count: app_commands.Range[int, 1, 10] | None = None
    ) -> None:
        await self._change(interaction, queries.set_discovery_picks, count, "titles per discovery post")

    @group.command(name="adult", description="Allow adult titles in this server's age-restricted channels")
    @app_commands.describe(allowed="True: adult titles may appear in age-restricted (18+) channels; False: never")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def adult(self, interaction: discord.Interaction, allowed: bool) -> None:
        await self._change(interaction, queries.set_adult_allowed, allowed, "adult titles")


async def setup(bot: Toonmatch) -> None:
    await bot.add_cog(Settings(bot))
