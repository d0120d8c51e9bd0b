"""Small interaction helpers the cogs share: the heavy-command cooldown, NSFW gating, deferring."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot import errors

if TYPE_CHECKING:
    from bot.bot import Toonmatch


def heavy_cooldown():
    """One per-user cooldown shared by every heavy command (image and title answers), configured by
    :class:`bot.bot.BotOptions`; a refusal says how long to wait."""

    async def predicate(interaction: discord.Interaction) -> bool:
        client: Toonmatch = interaction.client  # type: ignore[assignment]
        opts = client.options
        if opts.cooldown_per <= 0 or opts.cooldown_rate <= 0:
            return True
        buckets = client.heavy_cooldowns
        now = interaction.created_at.timestamp()
        for key in [k for k, b in buckets.items() if now > b._last + b.per]:
            del buckets[key]
        bucket = buckets.setdefault(interaction.user.id, app_commands.Cooldown(opts.cooldown_rate, opts.cooldown_per))
        retry_after = bucket.update_rate_limit(now)
        if retry_after is not None:
            raise app_commands.CommandOnCooldown(bucket, retry_after)
        return True

    return app_commands.check(predicate)


def is_nsfw(interaction: discord.Interaction) -> bool:
    """Adult titles only in age-restricted channels (threads inherit their parent's flag; DMs are not)."""
    channel = interaction.channel
    check = getattr(channel, "is_nsfw", None)
    return bool(check()) if callable(check) else False


async def defer(interaction: discord.Interaction, *, private: bool) -> None:
    """Acknowledge at once ("thinking…"), remembering the visibility for the error path."""
    errors.mark_deferred(interaction, ephemeral=private)
    await interaction.response.defer(thinking=True, ephemeral=private)
