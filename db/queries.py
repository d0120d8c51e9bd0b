"""Small query functions of the taste store.

Convention: every function takes an open :class:`~sqlalchemy.ext.asyncio.AsyncSession` as its first argument and
never commits — the caller owns the transaction, one per unit of work::

    async with db.begin() as session:
        await rate(session, user_id, title_id, 1, guild_id=guild_id)
    # or, for a single call (retried if SQLite stays busy):
    state = await db.run(toggle, user_id, title_id, 1)

Results are plain values or frozen dataclasses, never ORM rows, so they are safe to hand to ``bot``/``ml``.
Writes are single-statement upserts (``INSERT ... ON CONFLICT``) so concurrent callers cannot create duplicates.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, case, delete, func, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    DISCOVERY_EVERY_HOURS,
    TITLE_ID_LENGTH,
    USER_TABLES,
    BotMeta,
    CommandCooldown,
    DiscoveryPost,
    GuildConfig,
    GuildMember,
    Rating,
    ShownTitle,
    utcnow,
)

LIKE = 1
DISLIKE = -1
EXPORT_FORMAT_VERSION = 1


# --------------------------------------------------------------------------- result types


@dataclass(frozen=True)
class Taste:
    """A user's ratings as title ids, most recently rated first."""

    liked: list[str]
    disliked: list[str]

    @property
    def empty(self) -> bool:
        return not self.liked and not self.disliked


@dataclass(frozen=True)
class RatingEntry:
    title_id: str
    value: int
    guild_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class RatingPage:
    """One page of a user's ratings (newest first) and the total number matching the filter."""

    items: list[RatingEntry]
    total: int
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


@dataclass(frozen=True)
class GuildPrefs:
    """Snapshot of a guild's preferences (its row of ``guild_settings``, chosen with ``/discovery``; not the app's
    :mod:`core.settings`). Discovery runs when a channel is set and no disable reason is recorded."""

    guild_id: int
    discovery_channel_id: int | None = None
    discovery_every_hours: int = DISCOVERY_EVERY_HOURS
    next_post_at: datetime | None = None
    adult_allowed: bool = False
    discovery_disabled_reason: str | None = None
    answers_private: bool = False
    locale: str | None = None
    discovery_picks: int | None = None

    @property
    def discovery_enabled(self) -> bool:
        return self.discovery_channel_id is not None and self.discovery_disabled_reason is None

    @classmethod
    def _from_row(cls, row: GuildConfig) -> GuildPrefs:
        return cls(
            guild_id=row.guild_id,
            discovery_channel_id=row.discovery_channel_id,
            discovery_every_hours=row.discovery_every_hours,
            next_post_at=row.next_post_at,
            adult_allowed=row.adult_allowed,
            discovery_disabled_reason=row.discovery_disabled_reason,
            answers_private=row.answers_private,
            locale=row.locale,
            discovery_picks=row.discovery_picks,
        )


# --------------------------------------------------------------------------- helpers


def _dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert_for(dialect_name: str, table: Any):
    """The dialect's ``INSERT`` (with ``on_conflict_do_update``/``excluded``): the one place upserts are chosen."""
    if dialect_name == "sqlite":
        return sqlite.insert(table)
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"upserts are not implemented for the {dialect_name!r} dialect")


def upsert(
    session: AsyncSession,
    table: Any,
    values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    update_set: Mapping[str, Any] | Callable[[Any], Mapping[str, Any]] | None = None,
):
    """``INSERT values ON CONFLICT (keys) DO UPDATE SET update_set`` (``DO NOTHING`` if ``update_set`` is empty).

    ``update_set`` values may use ``stmt.excluded``: pass a callable ``excluded -> dict`` for that.
    """
    stmt = insert_for(_dialect_name(session), table).values(values)
    if callable(update_set):
        update_set = update_set(stmt.excluded)
    if not update_set:
        return stmt.on_conflict_do_nothing(index_elements=list(keys))
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=dict(update_set))


def _check_value(value: int) -> int:
    if value not in (LIKE, DISLIKE):
        raise ValueError(f"rating value must be +1 (like) or -1 (dislike), not {value!r}")
    return int(value)


def _check_title(title_id: str) -> str:
    # PostgreSQL enforces VARCHAR(128), SQLite does not: refuse the same way on both, before the database.
    if not title_id or len(title_id) > TITLE_ID_LENGTH:
        raise ValueError(f"title id must be 1 to {TITLE_ID_LENGTH} characters, not {len(title_id)}")
    return title_id


def _unique(items: Iterable[str]) -> list[str]:
    # A Postgres upsert may not touch the same row twice in one statement.
    return list(dict.fromkeys(items))


def _advisory_key(*parts: object) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock`` (the same in every process)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def _lock_rating(session: AsyncSession, user_id: int, title_id: str) -> None:
    """Serialise read-decide-write units of work on one (user, title) pair until the transaction ends.

    SQLite needs nothing: the first write takes the database's single write lock for the whole transaction.
    PostgreSQL locks rows, and a row that does not exist yet cannot be locked: two concurrent toggles would both
    see "no rating" and both insert. A transaction-scoped advisory lock on the pair closes that gap, across every
    connection and every bot process sharing the database.
    """
    if _dialect_name(session) == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _advisory_key("rating", user_id, title_id)}
        )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --------------------------------------------------------------------------- ratings


async def rate(session: AsyncSession, user_id: int, title_id: str, value: int, guild_id: int | None = None) -> int:
    """Set the user's rating of a title (+1/-1), replacing any earlier one; returns the new state (the value).

    ``guild_id`` records where it was rated and also marks the user as a member of that guild (guild taste).
    """
    value = _check_value(value)
    _check_title(title_id)
    now = utcnow()
    await session.execute(
        upsert(
            session,
            Rating,
            {
                "user_id": user_id,
                "title_id": title_id,
                "value": value,
                "guild_id": guild_id,
                "created_at": now,
                "updated_at": now,
            },
            ["user_id", "title_id"],
            # created_at stays: when the title was first rated.
            lambda excluded: {
                "value": excluded.value,
                "guild_id": excluded.guild_id,
                "updated_at": excluded.updated_at,
            },
        )
    )
    if guild_id is not None:
        await record_member(session, guild_id, user_id)
    return value


async def unrate(session: AsyncSession, user_id: int, title_id: str) -> int:
    """Remove the user's rating of a title; returns what it was (1, -1, or 0 if there was none)."""
    result = await session.execute(
        delete(Rating).where(Rating.user_id == user_id, Rating.title_id == title_id).returning(Rating.value)
    )
    previous = result.scalar_one_or_none()
    return int(previous) if previous is not None else 0


async def toggle(session: AsyncSession, user_id: int, title_id: str, value: int, guild_id: int | None = None) -> int:
    """Button semantics: rating with the value already set removes it; otherwise set it.

    Returns the resulting state: 1, -1 or 0. Concurrent toggles of the same pair never interleave: on SQLite the
    transaction starts with a write (the conditional delete) and so holds the write lock before deciding; on
    PostgreSQL it first takes an advisory lock on the pair (see :func:`_lock_rating`).
    """
    value = _check_value(value)
    _check_title(title_id)
    await _lock_rating(session, user_id, title_id)
    result = await session.execute(
        delete(Rating)
        .where(Rating.user_id == user_id, Rating.title_id == title_id, Rating.value == value)
        .returning(Rating.value)
    )
    if result.first() is not None:
        return 0
    return await rate(session, user_id, title_id, value, guild_id=guild_id)


async def get_rating(session: AsyncSession, user_id: int, title_id: str) -> int:
    """The user's rating of a title: 1, -1, or 0 if not rated."""
    value = await session.scalar(select(Rating.value).where(Rating.user_id == user_id, Rating.title_id == title_id))
    return int(value) if value is not None else 0


async def list_ratings(
    session: AsyncSession, user_id: int, *, value: int | None = None, limit: int = 25, offset: int = 0
) -> RatingPage:
    """One page of the user's ratings, newest first; ``value`` filters likes (1) or dislikes (-1)."""
    if value is not None:
        value = _check_value(value)
    if limit < 1 or offset < 0:
        raise ValueError("limit must be >= 1 and offset >= 0")
    where = [Rating.user_id == user_id]
    if value is not None:
        where.append(Rating.value == value)
    total = await session.scalar(select(func.count()).select_from(Rating).where(*where))
    rows = await session.scalars(
        select(Rating).where(*where).order_by(Rating.updated_at.desc(), Rating.title_id).limit(limit).offset(offset)
    )
    items = [RatingEntry(r.title_id, r.value, r.guild_id, r.created_at, r.updated_at) for r in rows]
    return RatingPage(items=items, total=int(total or 0), limit=limit, offset=offset)


async def ratings_page(session: AsyncSession, user_id: int, *, limit: int, offset: int) -> RatingPage:
    """:func:`list_ratings` for paging through a list that shrinks: an ``offset`` past the end (the last rating of
    the last page was just removed) gives the last page instead."""
    page = await list_ratings(session, user_id, limit=limit, offset=max(0, offset))
    if page.items or not page.total or offset <= 0:
        return page
    return await list_ratings(session, user_id, limit=limit, offset=(page.total - 1) // limit * limit)


async def user_taste(session: AsyncSession, user_id: int) -> Taste:
    rows = await session.execute(
        select(Rating.title_id, Rating.value)
        .where(Rating.user_id == user_id)
        .order_by(Rating.updated_at.desc(), Rating.title_id)
    )
    liked: list[str] = []
    disliked: list[str] = []
    for title_id, value in rows:
        (liked if value > 0 else disliked).append(title_id)
    return Taste(liked=liked, disliked=disliked)


async def guild_taste(session: AsyncSession, guild_id: int) -> dict[str, int]:
    """Score per title over the guild's known members' ratings (likes minus dislikes, wherever they rated).

    Titles rated by members but netting 0 are included with score 0.
    """
    rows = await session.execute(
        select(Rating.title_id, func.sum(Rating.value))
        .join(GuildMember, GuildMember.user_id == Rating.user_id)
        .where(GuildMember.guild_id == guild_id)
        .group_by(Rating.title_id)
    )
    return {title_id: int(score) for title_id, score in rows}


async def title_like_counts(session: AsyncSession) -> dict[str, tuple[int, int]]:
    """``title_id -> (likes, dislikes)`` over all users (titles nobody rated are absent)."""
    rows = await session.execute(
        select(
            Rating.title_id,
            func.sum(case((Rating.value > 0, 1), else_=0)),
            func.sum(case((Rating.value < 0, 1), else_=0)),
        ).group_by(Rating.title_id)
    )
    return {title_id: (int(likes), int(dislikes)) for title_id, likes, dislikes in rows}


# --------------------------------------------------------------------------- members


async def record_member(session: AsyncSession, guild_id: int, user_id: int) -> None:
    """Note that the user was seen in the guild (their ratings now count towards its taste)."""
    now = utcnow()
    await session.execute(
        upsert(
            session,
            GuildMember,
            {"guild_id": guild_id, "user_id": user_id, "last_seen": now},
            ["guild_id", "user_id"],
            lambda excluded: {"last_seen": excluded.last_seen},
        )
    )


# --------------------------------------------------------------------------- shown titles


async def mark_shown(session: AsyncSession, user_id: int, title_ids: Iterable[str]) -> None:
    """Remember that these titles were shown to the user (bumps ``count`` and ``shown_at`` if shown before)."""
    # Sorted: concurrent upserts of overlapping lists then lock their rows in the same order (no deadlock on
    # PostgreSQL, which locks row by row).
    ids = sorted(_check_title(t) for t in _unique(title_ids))
    if not ids:
        return
    now = utcnow()
    await session.execute(
        upsert(
            session,
            ShownTitle,
            [{"user_id": user_id, "title_id": t, "shown_at": now, "count": 1} for t in ids],
            ["user_id", "title_id"],
            lambda excluded: {"shown_at": excluded.shown_at, "count": ShownTitle.count + 1},
        )
    )


async def title_shown_counts(session: AsyncSession) -> dict[str, int]:
    """``title_id -> number of users it was shown to`` (titles never shown are absent): low = lesser known."""
    rows = await session.execute(select(ShownTitle.title_id, func.count()).group_by(ShownTitle.title_id))
    return {title_id: int(n) for title_id, n in rows}


# --------------------------------------------------------------------------- guild settings & discovery


async def get_guild_prefs(session: AsyncSession, guild_id: int) -> GuildPrefs:
    """The guild's preferences, or the defaults (not stored) for a guild never configured."""
    row = await session.get(GuildConfig, guild_id)
    return GuildPrefs._from_row(row) if row is not None else GuildPrefs(guild_id=guild_id)


async def _upsert_guild(session: AsyncSession, guild_id: int, **values: Any) -> GuildPrefs:
    now = utcnow()
    await session.execute(
        upsert(
            session,
            GuildConfig,
            {"guild_id": guild_id, "created_at": now, "updated_at": now, **values},
            ["guild_id"],
            {**values, "updated_at": now},
        )
    )
    row = await session.get(GuildConfig, guild_id, populate_existing=True)
    assert row is not None
    return GuildPrefs._from_row(row)


async def set_discovery(
    session: AsyncSession, guild_id: int, channel_id: int | None, every_hours: int, next_post_at: datetime | None
) -> GuildPrefs:
    """Turn discovery posts on in ``channel_id`` every ``every_hours`` hours, the first at ``next_post_at``.

    Clears any earlier disable reason. ``channel_id=None`` turns discovery off.
    """
    if every_hours < 1:
        raise ValueError("every_hours must be at least 1")
    return await _upsert_guild(
        session,
        guild_id,
        discovery_channel_id=channel_id,
        discovery_every_hours=every_hours,
        next_post_at=next_post_at if channel_id is not None else None,
        discovery_disabled_reason=None,
    )


async def disable_discovery(session: AsyncSession, guild_id: int, reason: str) -> GuildPrefs:
    """Stop discovery posts, keeping the channel and recording why (e.g. "missing permission in #recs")."""
    return await _upsert_guild(session, guild_id, next_post_at=None, discovery_disabled_reason=reason)


async def set_guild_locale(session: AsyncSession, guild_id: int, locale: str | None) -> GuildPrefs:
    """The language of the guild's discovery posts (``"ko"``, ``"en"``, …); ``None``: the server's own Discord
    language."""
    if locale is not None and not (1 <= len(locale) <= 16):
        raise ValueError(f"not a locale code: {locale!r}")
    return await _upsert_guild(session, guild_id, locale=locale)


async def set_adult_allowed(session: AsyncSession, guild_id: int, allowed: bool) -> GuildPrefs:
    """Adult titles in the guild's age-restricted channels (``/settings adult``); off until set."""
    return await _upsert_guild(session, guild_id, adult_allowed=bool(allowed))


async def set_answers_private(session: AsyncSession, guild_id: int, private: bool) -> GuildPrefs:
    """The guild's default answer privacy (``/settings privacy``): ephemeral answers unless a user asks otherwise."""
    return await _upsert_guild(session, guild_id, answers_private=bool(private))


DISCOVERY_PICKS_RANGE = (1, 10)


async def set_discovery_picks(session: AsyncSession, guild_id: int, picks: int | None) -> GuildPrefs:
    """Titles per discovery post in the guild, 1–10; ``None``: the bot's default (``TOONMATCH_DISCOVERY_PICKS``)."""
    low, high = DISCOVERY_PICKS_RANGE
    if picks is not None and not low <= picks <= high:
        raise ValueError(f"titles per discovery post must be {low} to {high}, not {picks}")
    return await _upsert_guild(session, guild_id, discovery_picks=picks)


async def reschedule(session: AsyncSession, guild_id: int, next_post_at: datetime | None) -> None:
    """Set when the guild's next discovery post is due (no-op for an unconfigured guild)."""
    await session.execute(
        update(GuildConfig)
        .where(GuildConfig.guild_id == guild_id)
        .values(next_post_at=next_post_at, updated_at=utcnow())
    )


def _discovery_due(now: datetime) -> list[Any]:
    """Discovery is on and the next post is due at ``now``."""
    return [
        GuildConfig.discovery_channel_id.is_not(None),
        GuildConfig.discovery_disabled_reason.is_(None),
        GuildConfig.next_post_at.is_not(None),
        GuildConfig.next_post_at <= now,
    ]


def shard_of_guild(guild_id: Any, shard_count: int) -> Any:
    """Discord's shard of a guild, ``(guild_id >> 22) % shard_count``: for an int, or as SQL for a column."""
    if isinstance(guild_id, int):
        return (guild_id >> 22) % shard_count
    return guild_id.op(">>")(literal(22, Integer())) % shard_count  # PostgreSQL: bigint >> integer (not bigint)


async def due_discovery_guilds(
    session: AsyncSession,
    now: datetime,
    limit: int | None = None,
    *,
    shards: Sequence[int] | None = None,
    shard_count: int | None = None,
) -> list[GuildPrefs]:
    """Guilds with discovery on whose next post is due at ``now`` (aware UTC), the most overdue first; with
    ``shards`` and ``shard_count``, only the guilds on those shards (the ones a bot process running them sees)."""
    stmt = select(GuildConfig).where(*_discovery_due(now)).order_by(GuildConfig.next_post_at, GuildConfig.guild_id)
    if shards is not None:
        if shard_count is None:
            raise ValueError("filtering by shards needs the shard count")
        stmt = stmt.where(shard_of_guild(GuildConfig.guild_id, shard_count).in_(sorted(shards)))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [GuildPrefs._from_row(row) for row in await session.scalars(stmt)]


async def claim_discovery(
    session: AsyncSession, seen: GuildPrefs, now: datetime, next_post_at: datetime
) -> GuildPrefs | None:
    """Take the guild's due discovery post: one conditional ``UPDATE … RETURNING`` that moves ``next_post_at`` on
    to ``next_post_at`` only if the post is still due at ``now`` (and discovery still on, every the same ``seen``
    hours). Returns the settings as claimed, or ``None`` when another process (or a ``/discovery`` command) got
    there first.

    The claim is the update itself, so two processes can never both win it: SQLite runs one writer at a time, and
    PostgreSQL makes the second ``UPDATE`` of the row wait for the first to commit, then re-checks the condition
    against the new ``next_post_at`` (no longer due) and updates nothing. Run it as its own transaction, so that on
    SQLite the update is the transaction's first statement (no stale read before it).
    """
    table = GuildConfig.__table__
    stmt = (
        update(table)
        .where(
            table.c.guild_id == seen.guild_id,
            table.c.discovery_every_hours == seen.discovery_every_hours,
            *_discovery_due(now),
        )
        .values(next_post_at=next_post_at, updated_at=utcnow())
        .returning(*table.c)
    )
    row = (await session.execute(stmt)).first()
    return GuildPrefs._from_row(row) if row is not None else None


async def record_discovery_post(
    session: AsyncSession, guild_id: int, title_id: str, channel_id: int, message_id: int
) -> None:
    _check_title(title_id)
    now = utcnow()
    await session.execute(
        upsert(
            session,
            DiscoveryPost,
            {
                "guild_id": guild_id,
                "title_id": title_id,
                "channel_id": channel_id,
                "message_id": message_id,
                "posted_at": now,
            },
            ["guild_id", "title_id"],
            lambda excluded: {
                "channel_id": excluded.channel_id,
                "message_id": excluded.message_id,
                "posted_at": excluded.posted_at,
            },
        )
    )


async def last_discovery_post(session: AsyncSession, guild_id: int) -> datetime | None:
    """When the guild's newest discovery post was made (``None``: never)."""
    return await session.scalar(select(func.max(DiscoveryPost.posted_at)).where(DiscoveryPost.guild_id == guild_id))


async def posted_titles(session: AsyncSession, guild_id: int) -> set[str]:
    return set(await session.scalars(select(DiscoveryPost.title_id).where(DiscoveryPost.guild_id == guild_id)))


async def forget_guild(session: AsyncSession, guild_id: int) -> int:
    """Drop a guild's settings, discovery posts and memberships (bot removed); users' ratings stay."""
    deleted = 0
    for model in (GuildConfig, DiscoveryPost, GuildMember):
        result = await session.execute(delete(model).where(model.guild_id == guild_id))
        deleted += result.rowcount or 0
    return deleted


# --------------------------------------------------------------------------- cooldowns shared by processes


async def take_cooldown(session: AsyncSession, user_id: int, now: float, rate: int, per: float) -> float | None:
    """Use one of the user's ``rate`` heavy-command uses per ``per`` seconds; returns ``None`` if allowed, else the
    seconds until the window ends. ``now`` is epoch seconds (the interaction's time, the same clock in every process).

    One upsert, one round trip, no read-decide-write race: the window opens at the first use and resets once ``per``
    seconds have passed (discord.py's ``Cooldown``). Concurrent uses by the same user queue on the row's lock
    (PostgreSQL) or the write lock (SQLite), so ``rate`` uses go through and the rest are refused.
    """
    expired = CommandCooldown.window_start <= now - per
    stmt = upsert(
        session,
        CommandCooldown,
        {"user_id": user_id, "window_start": now, "uses": 1},
        ["user_id"],
        {
            "uses": case((expired, 1), else_=CommandCooldown.uses + 1),
            "window_start": case((expired, now), else_=CommandCooldown.window_start),
        },
    ).returning(CommandCooldown.uses, CommandCooldown.window_start)
    uses, window_start = (await session.execute(stmt)).one()
    if uses <= rate:
        return None
    return max(0.0, window_start + per - now)


async def purge_cooldowns(session: AsyncSession, before: float) -> int:
    """Delete cooldown windows that opened before ``before`` (epoch seconds; pass now − the longest window): they
    allow every use again, so a missing row means the same. Returns how many were deleted."""
    result = await session.execute(delete(CommandCooldown).where(CommandCooldown.window_start < before))
    return result.rowcount or 0


# --------------------------------------------------------------------------- personal data


async def forget_user_rows(session: AsyncSession, user_id: int) -> dict[str, int]:
    """Delete every row about the user; returns the rows deleted per table (``{"ratings": 3, …}``, every table of
    :data:`~db.models.USER_TABLES`, zeros included). The one deletion of /forget-me and ``scripts.forget``."""
    deleted = {}
    for model in USER_TABLES:
        result = await session.execute(delete(model).where(model.user_id == user_id))
        deleted[model.__tablename__] = result.rowcount or 0
    return deleted


async def forget_user(session: AsyncSession, user_id: int) -> int:
    """Delete every row about the user (ratings, shown titles, memberships, cooldown); returns the number deleted."""
    return sum((await forget_user_rows(session, user_id)).values())


def export_json(data: Mapping[str, Any]) -> str:
    """:func:`export_user`'s result as the file users and owners get (/forget-me's download, ``scripts.export``)."""
    return json.dumps(data, ensure_ascii=False, indent=2)


async def export_user(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """Everything stored about the user, JSON-serialisable.

    Snowflakes are strings (as in Discord's API: JavaScript cannot hold them exactly), datetimes ISO 8601 UTC.
    """
    ratings = await session.scalars(
        select(Rating).where(Rating.user_id == user_id).order_by(Rating.updated_at.desc(), Rating.title_id)
    )
    shown = await session.scalars(
        select(ShownTitle)
        .where(ShownTitle.user_id == user_id)
        .order_by(ShownTitle.shown_at.desc(), ShownTitle.title_id)
    )
    members = await session.scalars(
        select(GuildMember).where(GuildMember.user_id == user_id).order_by(GuildMember.guild_id)
    )
    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "user_id": str(user_id),
        "exported_at": _iso(utcnow()),
        "ratings": [
            {
                "title_id": r.title_id,
                "value": r.value,
                "guild_id": str(r.guild_id) if r.guild_id is not None else None,
                "created_at": _iso(r.created_at),
                "updated_at": _iso(r.updated_at),
            }
            for r in ratings
        ],
        "shown": [{"title_id": s.title_id, "count": s.count, "shown_at": _iso(s.shown_at)} for s in shown],
        "memberships": [{"guild_id": str(m.guild_id), "last_seen": _iso(m.last_seen)} for m in members],
    }


# --------------------------------------------------------------------------- bot meta


async def ping(session: AsyncSession) -> None:
    """One round trip (``SELECT 1``): whether the database answers (the bot's readiness probe)."""
    await session.execute(text("SELECT 1"))


async def get_meta(session: AsyncSession, key: str) -> str | None:
    return await session.scalar(select(BotMeta.value).where(BotMeta.key == key))


async def set_meta(session: AsyncSession, key: str, value: str) -> None:
    now = utcnow()
    await session.execute(
        upsert(
            session,
            BotMeta,
            {"key": key, "value": value, "updated_at": now},
            ["key"],
            lambda excluded: {"value": excluded.value, "updated_at": excluded.updated_at},
        )
    )
