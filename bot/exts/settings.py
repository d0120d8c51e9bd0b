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
from bot.i18n import N_, tr_for
from db import GuildPrefs, queries

log = logging.getLogger(__name__)

manage_guild = discord.Permissions(manage_guild=True)
PRIVACY = [
    app_commands.Choice(name=N_("public (everyone in the channel sees answers)"), value="public"),
    app_commands.Choice(name=N_("private (only the person who asked sees them)"), value="private"),
]


class Settings(commands.Cog):
    group = app_commands.Group(
        name=N_("settings"),
        description=N_("This server's Toonmatch settings"),
        guild_only=True,
        default_permissions=manage_guild,
    )

    def __init__(self, bot: Toonmatch) -> None:
        self.bot = bot

    async def _show(self, interaction: discord.Interaction, prefs: GuildPrefs, changed: str | None = None) -> None:
        tr = tr_for(interaction)
        embed = embeds.settings(
            prefs, default_picks=self.bot.options.discovery_picks, changed=tr._(changed) if changed else None, tr=tr
        )
        await errors.send_final(interaction, embed=embed, ephemeral=True)

    async def _change(self, interaction: discord.Interaction, setter, value, what: str) -> None:
        """``what``: the setting's name (English, marked with ``N_``: said in the reader's language)."""
        assert interaction.guild_id is not None
        prefs = await self.bot.change_guild_prefs(setter, interaction.guild_id, value)
        log.info("interaction %s: guild %s set %s to %r", interaction.id, interaction.guild_id, what, value)
        await self._show(interaction, prefs, changed=what)

    @group.command(name=N_("show"), description=N_("Show this server's settings"))
    @app_commands.checks.has_permissions(manage_guild=True)
    async def show(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        await self._show(interaction, await self.bot.guild_prefs(interaction.guild_id))

    @group.command(name=N_("privacy"), description=N_("Whether answers are public or private unless a user chooses"))
    @app_commands.rename(answers=N_("answers"))
    @app_commands.describe(answers=N_("The default for /similar, /recommend, /genre when `private` is not given"))
    @app_commands.choices(answers=PRIVACY)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def privacy(self, interaction: discord.Interaction, answers: app_commands.Choice[str]) -> None:
        await self._change(interaction, queries.set_answers_private, answers.value == "private", N_("answer privacy"))

    @group.command(name=N_("discovery-titles"), description=N_("How many titles each discovery post shows (1–10)"))
    @app_commands.rename(count=N_("count"))
    @app_commands.describe(count=N_("1–10; leave it out to use the bot's default"))
    @app_commands.checks.has_permissions(manage_guild=True)
    async def discovery_titles(
        self, interaction: discord.Interaction, count: app_commands.Range[int, 1, 10] | None = None
    ) -> None:
        await self._change(interaction, queries.set_discovery_picks, count, N_("titles per discovery post"))

    @group.command(name=N_("adult"), description=N_("Allow adult titles in this server's age-restricted channels"))
    @app_commands.rename(allowed=N_("allowed"))
    @app_commands.describe(allowed=N_("True: adult titles may appear in age-restricted (18+) channels; False: never"))
    @app_commands.checks.has_permissions(manage_guild=True)
    async def adult(self, interaction: discord.Interaction, allowed: bool) -> None:
        await self._change(interaction, queries.set_adult_allowed, allowed, N_("adult titles"))


async def setup(bot: Toonmatch) -> None:
    await bot.add_cog(Settings(bot))
