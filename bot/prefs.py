"""Per-server preferences as the bot reads them: a small cache in front of ``guild_settings``, and the rules that use
them (the answer privacy default, adult titles).

``await bot.guild_prefs(guild_id)`` is the one read (:class:`GuildPrefsCache`, ``bot.prefs_cache``); every write
goes through ``await bot.change_guild_prefs(queries.set_…, guild_id, …)``, which stores the new row in the cache at
once, so the next interaction already sees it (a write elsewhere calls ``bot.prefs_cache.invalidate(guild_id)``).
A server's interactions and discovery posts all reach the one process running its shard, so a per-process cache
invalidated by that process's own writes is exact; :data:`TTL` bounds how stale it can be anyway (a deploy with
overlapping shard ranges, a row changed by hand).

Adult titles (the rule of :func:`adult_allowed`): only in an age-restricted channel of a server whose admins turned
them on (``/settings adult allowed:True``). A server never configured has them off everywhere: the column's default
is off, and turning them on is an explicit decision of the server's admins, next to marking a channel 18+.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord

from bot import checks
from db import Database, GuildPrefs, queries

if TYPE_CHECKING:
    from bot.bot import Toonmatch

log = logging.getLogger(__name__)

TTL = 300.0  # seconds a cached row is trusted without a write of this process
MAX_GUILDS = 10_000  # rows kept (least recently used dropped first)


class GuildPrefsCache:
    """``guild id → GuildPrefs`` for up to :data:`MAX_GUILDS` servers, each trusted for :data:`TTL` seconds."""

    def __init__(self, db: Database, *, ttl: float = TTL, size: int = MAX_GUILDS) -> None:
        self.db = db
        self.ttl, self.size = ttl, size
        self._rows: OrderedDict[int, tuple[float, GuildPrefs]] = OrderedDict()
        self.reads = 0  # database reads (tests and benches look)

    async def get(self, guild_id: int) -> GuildPrefs:
        cached = self._rows.get(guild_id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self.ttl:
            self._rows.move_to_end(guild_id)
            return cached[1]
        self.reads += 1
        prefs = await self.db.run(queries.get_guild_prefs, guild_id)
        self.put(prefs, now)
        return prefs

    def put(self, prefs: GuildPrefs, now: float | None = None) -> None:
        self._rows[prefs.guild_id] = (time.monotonic() if now is None else now, prefs)
        self._rows.move_to_end(prefs.guild_id)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def invalidate(self, guild_id: int) -> None:
        self._rows.pop(guild_id, None)

    async def change(
        self, setter: Callable[..., Awaitable[GuildPrefs]], guild_id: int, *args: Any, **kwargs: Any
    ) -> GuildPrefs:
        """Run a ``queries.set_…`` that returns the guild's new prefs, and cache them at once."""
        self.invalidate(guild_id)
        prefs = await self.db.run(setter, guild_id, *args, **kwargs)
        self.put(prefs)
        return prefs


async def answers_private(client: Toonmatch, interaction: discord.Interaction, private: bool | None) -> bool:
    """Whether an answer is ephemeral: the user's ``private`` option when given, else the server's default
    (``/settings privacy``; public unless set), private never by default in DMs (only the user sees a DM anyway).
    If the database can't say, private: showing an answer the server wanted hidden is the worse mistake."""
    if private is not None:
        return private
    if interaction.guild_id is None:
        return False
    try:
        return (await client.guild_prefs(interaction.guild_id)).answers_private
    except Exception as exc:
        log.warning(
            "interaction %s: the server's answer privacy is unknown (%s); answering privately", interaction.id, exc
        )
        return True


async def adult_allowed(client: Toonmatch, guild_id: int | None, channel: object) -> bool:
    """Whether adult titles may be shown in ``channel``: age-restricted, in a server that turned them on."""
    if guild_id is None or not checks.channel_is_nsfw(channel):
        return False
    return (await client.guild_prefs(guild_id)).adult_allowed


async def adult_here(interaction: discord.Interaction) -> bool:
    """:func:`adult_allowed` for the interaction's channel."""
    return await adult_allowed(interaction.client, interaction.guild_id, interaction.channel)  # type: ignore[arg-type]
