"""Discovery posts without Discord: which guilds are due, what to post to one, and the bookkeeping around a post.

The cog (:mod:`bot.exts.discovery.cog`) does the Discord side (the channel, its permissions, sending the message) and
calls :class:`DiscoveryService` for everything else. :meth:`DiscoveryService.due` is the one query of which guilds
are due, filtered to the guilds of this process's shards when other processes run the others; :meth:`claim` takes
one due post atomically in the database, so that no two processes (nor two ticks) ever make the same post.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from db import Database, GuildPrefs, queries
from ml.serve.recommender import Recommender
from ml.serve.results import Result

log = logging.getLogger(__name__)

COVER_SIZE = 160  # px: the cover thumbnails of a discovery post


def next_post_at(prefs: GuildPrefs, now: datetime | None = None) -> datetime:
    """One interval (the guild's ``every`` hours) from ``now`` (default: now)."""
    return (now or datetime.now(UTC)) + timedelta(hours=prefs.discovery_every_hours)


@dataclass(frozen=True)
class Post:
    """What to post to one guild: the picks (none when nothing new fits), their cover thumbnails when asked for
    (title id → WebP bytes; a title without a readable cover has none) and whether the catalogue is the demo one."""

    guild_id: int
    picks: list[Result]
    covers: dict[str, bytes] = field(default_factory=dict)
    synthetic: bool = False


class DiscoveryService:
    """Picks and bookkeeping of discovery posts over the taste store and the recommender (``None`` while no run
    folder is loaded: then nothing is :attr:`ready` and posts wait). ``shards`` (``(shard ids, shard count)``)
    limits :meth:`due` to the guilds of this process's shards; ``None``: every guild."""

    def __init__(
        self,
        db: Database,
        recommender: Recommender | None,
        *,
        picks: int,
        shards: tuple[Sequence[int], int] | None = None,
    ) -> None:
        self.db = db
        self.recommender = recommender
        self.picks = picks
        self.shards = shards

    @property
    def ready(self) -> bool:
        """Whether there is anything to pick from."""
        return self.recommender is not None

    async def due(self, now: datetime | None = None) -> list[GuildPrefs]:
        """Guilds (of this process's shards) whose next post is due at ``now`` (default: now), the most overdue
        first. Only a view: :meth:`claim` each before posting."""
        when = now or datetime.now(UTC)
        if self.shards is None:
            return await self.db.run(queries.due_discovery_guilds, when)
        ids, count = self.shards
        return await self.db.run(queries.due_discovery_guilds, when, shards=ids, shard_count=count)

    async def claim(self, seen: GuildPrefs, now: datetime | None = None) -> GuildPrefs | None:
        """Take the post :meth:`due` listed, moving the guild's next post one interval on, in one conditional update:
        the guild's prefs to post with, or ``None`` if it is no longer due (another process or a command got there
        first). A process that dies between the claim and the message skips that post (at most once, never twice).
        """
        when = now or datetime.now(UTC)
        return await self.db.run(queries.claim_discovery, seen, when, next_post_at(seen, when))

    async def choose(self, guild_id: int, *, allow_adult: bool, covers: bool, picks: int | None = None) -> Post:
        """Up to ``picks`` (the guild's setting; ``None``: the bot's default) lesser-known titles that fit the guild's
        taste and were never posted there, with their cover thumbnails if ``covers``. Call only when :attr:`ready`."""
        recommender = self.recommender
        assert recommender is not None, "DiscoveryService.choose without a recommender (check ready first)"
        async with self.db.begin() as session:
            taste = await queries.guild_taste(session, guild_id)
            posted = await queries.posted_titles(session, guild_id)
            shown = await queries.title_shown_counts(session)
            likes = await queries.title_like_counts(session)
        known = dict(shown)
        for tid, (up, down) in likes.items():
            known[tid] = known.get(tid, 0) + up + down
        seed = (int(datetime.now(UTC).timestamp()) ^ guild_id) & 0xFFFFFFFF
        picks = await recommender.discovery_picks(
            taste, n=picks or self.picks, exclude=posted, allow_adult=allow_adult, known_counts=known, seed=seed
        )
        thumbs = {}
        for r in picks if covers else []:
            data = await recommender.cover_thumbnail(r.title.id, COVER_SIZE)
            if data is not None:
                thumbs[r.title.id] = data
        return Post(guild_id, picks, thumbs, recommender.synthetic)

    async def posted(self, post: Post, prefs: GuildPrefs, channel_id: int, message_id: int) -> None:
        """Record a sent post (its titles are never posted to the guild again) and schedule the next one."""
        async with self.db.begin() as session:
            for r in post.picks:
                await queries.record_discovery_post(session, post.guild_id, r.title.id, channel_id, message_id)
            await queries.reschedule(session, post.guild_id, next_post_at(prefs))

    async def postpone(self, prefs: GuildPrefs) -> None:
        """No post this time (not in the server, nothing new to post, a failure): try again an interval from now."""
        await self.db.run(queries.reschedule, prefs.guild_id, next_post_at(prefs))

    async def disable(self, guild_id: int, reason: str) -> None:
        """Stop the guild's posts, recording why (shown to whoever runs ``/discovery`` next)."""
        log.warning("discovery in guild %s turned off: %s", guild_id, reason)
        await self.db.run(queries.disable_discovery, guild_id, reason)
