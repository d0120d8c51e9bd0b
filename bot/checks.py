"""Small interaction helpers the cogs share: the heavy-command cooldown, NSFW gating, upload screening, deferring."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot import errors
from db import queries

if TYPE_CHECKING:
    from bot.bot import Toonmatch
    from ml.serve.results import UploadScreen


def take_heavy_token(client: Toonmatch, user_id: int, now: float) -> app_commands.Cooldown | None:
    """Use one of the user's heavy-command tokens in this process's memory; returns the exhausted bucket if there is
    none left."""
    opts = client.options
    if opts.cooldown_seconds <= 0 or opts.cooldown_uses <= 0:
        return None
    buckets = client.heavy_cooldowns
    # Forget buckets whose window has passed (all tokens back): a fresh bucket behaves exactly the same.
    for key in [k for k, b in buckets.items() if b.get_tokens(now) >= b.rate]:
        del buckets[key]
    bucket = buckets.setdefault(user_id, app_commands.Cooldown(opts.cooldown_uses, opts.cooldown_seconds))
    return bucket if bucket.update_rate_limit(now) is not None else None


async def use_heavy_token(client: Toonmatch, user_id: int, now: float) -> float | None:
    """Use one of the user's heavy-command tokens; returns ``None`` if there was one, else the seconds to wait.

    ``now`` is the interaction's (or message's) time, epoch seconds by Discord's clock. One bot process keeps the
    windows in memory. With several processes (``BotOptions.cooldowns_in_database``) they live in the database: a
    user's interactions in one server always reach the same process, but their DMs (shard 0) and other servers reach
    others, and a limit per process would multiply with the number of processes.
    """
    opts = client.options
    if opts.cooldown_seconds <= 0 or opts.cooldown_uses <= 0:
        return None
    if opts.cooldowns_in_database:
        return await client.db.run(queries.take_cooldown, user_id, now, opts.cooldown_uses, opts.cooldown_seconds)
    bucket = take_heavy_token(client, user_id, now)
    return bucket.get_retry_after(now) if bucket is not None else None


async def heavy_cooldown_check(interaction: discord.Interaction) -> bool:
    """One per-user cooldown shared by every heavy command (image and title answers), configured by
    :class:`bot.bot.BotOptions`; a refusal (:class:`~discord.app_commands.CommandOnCooldown`) says how long to
    wait."""
    client: Toonmatch = interaction.client  # type: ignore[assignment]
    retry_after = await use_heavy_token(client, interaction.user.id, interaction.created_at.timestamp())
    if retry_after is not None:
        cooldown = app_commands.Cooldown(client.options.cooldown_uses, client.options.cooldown_seconds)
        raise app_commands.CommandOnCooldown(cooldown, retry_after)
    return True


def heavy_cooldown():
    """Decorator form of :func:`heavy_cooldown_check` for slash commands (context menus use ``add_check``)."""
    return app_commands.check(heavy_cooldown_check)


def channel_is_nsfw(channel: object) -> bool:
    """Adult titles only in age-restricted channels (threads inherit their parent's flag; DMs are not)."""
    check = getattr(channel, "is_nsfw", None)
    return bool(check()) if callable(check) else False


def is_nsfw(interaction: discord.Interaction) -> bool:
    return channel_is_nsfw(interaction.channel)


def channel_is_dm(channel: object) -> bool:
    """A direct message with the bot (one person besides the bot)."""
    return getattr(channel, "type", None) == discord.ChannelType.private


def hide_upload(screen: UploadScreen | None, channel: object, *, private: bool, threshold: float) -> bool:
    """Upload screening, the one rule: whether an answer must not re-post the image it answers (the query tile of
    the contact sheet). Only an image that looks explicit (Porn + Hentai ≥ ``threshold``) in a place others see that
    is not age-restricted. Never in age-restricted channels, DMs or private (ephemeral) answers, which only the
    person who asked sees; never without a screen (the run's model has no nsfw output)."""
    if screen is None or private or channel_is_nsfw(channel) or channel_is_dm(channel):
        return False
    return screen.explicit >= threshold


async def defer(interaction: discord.Interaction, *, private: bool) -> None:
    """Acknowledge at once ("thinking…"), remembering the visibility for the error path."""
    errors.mark_deferred(interaction, ephemeral=private)
    await interaction.response.defer(thinking=True, ephemeral=private)
