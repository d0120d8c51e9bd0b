"""ORM models of the taste store (SQLAlchemy 2, portable between SQLite and PostgreSQL).

Discord snowflakes (user, guild, channel, message ids) are ``BigInteger``; title ids are strings such as
``"naver:183559"``. Every datetime is timezone-aware UTC in Python (see :class:`UTCDateTime`).

The schema is owned by the Alembic revisions in ``db/migrations/versions``: changing a model here needs a new
revision there (``tests/db`` checks that the migrated schema matches these models).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

TITLE_ID_LENGTH = 128
DISCOVERY_EVERY_HOURS = 24  # hours between a guild's discovery posts unless /discovery set says otherwise

# Explicit constraint names: the same on every backend and stable for migrations.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime column that always round-trips as timezone-aware UTC.

    SQLite has no time zones and would hand back naive values, so values are stored as naive UTC there (fixed-width
    text, so comparisons still order correctly) and tagged UTC on the way out; PostgreSQL uses ``timestamptz``.
    Naive datetimes are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware (UTC) datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Rating(Base):
    """One user's verdict on one title: ``+1`` like, ``-1`` dislike. No row means "not rated"."""

    __tablename__ = "ratings"
    __table_args__ = (
        CheckConstraint("value IN (-1, 1)", name="value"),
        # list_ratings / user_taste: a user's ratings, newest first.
        Index("ix_ratings_user_id_updated_at", "user_id", "updated_at"),
        # title_like_counts: per-title aggregates.
        Index("ix_ratings_title_id_value", "title_id", "value"),
    )

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    title_id: Mapped[str] = mapped_column(String(TITLE_ID_LENGTH), primary_key=True)
    value: Mapped[int] = mapped_column(SmallInteger)
    guild_id: Mapped[int | None] = mapped_column(BigInteger)  # where it was rated; None = DM
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class GuildConfig(Base):
    """Per-guild preferences (discovery channel, schedule, language and size; adult titles; answer privacy).
    Read through :class:`db.queries.GuildPrefs` snapshots, not this row."""

    __tablename__ = "guild_settings"
    __table_args__ = (Index("ix_guild_settings_next_post_at", "next_post_at"),)

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    discovery_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    discovery_every_hours: Mapped[int] = mapped_column(
        Integer, default=DISCOVERY_EVERY_HOURS, server_default=text(str(DISCOVERY_EVERY_HOURS))
    )
    next_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    adult_allowed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    discovery_disabled_reason: Mapped[str | None] = mapped_column(Text)
    answers_private: Mapped[bool] = mapped_column(Boolean, server_default=false())  # server-side: older rows too
    locale: Mapped[str | None] = mapped_column(String(16))  # discovery posts' language; None: the server's own
    discovery_picks: Mapped[int | None] = mapped_column(Integer)  # titles per discovery post; None: the bot default
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BotMeta(Base):
    """Small key/value store for the bot's own bookkeeping (e.g. the hash of the last synced command tree)."""

    __tablename__ = "bot_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ShownTitle(Base):
    """How often each title was shown to each user (answers, not discovery posts).

    Only read in aggregate, by :func:`db.queries.title_shown_counts`: discovery's "lesser-known" measure (a title
    shown to few users is less known). Answers do not lower titles a user was shown many times; ``/forget-me``
    deletes a user's rows."""

    __tablename__ = "shown_titles"
    __table_args__ = (Index("ix_shown_titles_title_id", "title_id"),)

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    title_id: Mapped[str] = mapped_column(String(TITLE_ID_LENGTH), primary_key=True)
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # last time shown
    count: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


class DiscoveryPost(Base):
    """A discovery message the bot posted in a guild; a title is posted at most once per guild."""

    __tablename__ = "discovery_posts"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    title_id: Mapped[str] = mapped_column(String(TITLE_ID_LENGTH), primary_key=True)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GuildMember(Base):
    """A user seen interacting in a guild: a guild's taste is the sum of its members' ratings."""

    __tablename__ = "guild_members"
    __table_args__ = (Index("ix_guild_members_user_id", "user_id"),)

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommandCooldown(Base):
    """A user's current cooldown window of the heavy commands, when several bot processes share it (``bot.checks``).

    The same fixed window as discord.py's ``Cooldown``: it opens at the first use (``window_start``, epoch seconds by
    Discord's clock: the interaction's snowflake time) and allows ``rate`` uses until ``window_start + per``. A
    short-lived counter, not a history: rows whose window has passed are purged (``db.queries.purge_cooldowns``).
    """

    __tablename__ = "command_cooldowns"
    __table_args__ = (Index("ix_command_cooldowns_window_start", "window_start"),)

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    window_start: Mapped[float] = mapped_column(Double)
    uses: Mapped[int] = mapped_column(Integer)


#: Tables holding personal data, keyed by ``user_id`` (forget-me walks these; the export covers the lasting ones:
#: a cooldown window lives for seconds).
USER_TABLES = (Rating, ShownTitle, GuildMember, CommandCooldown)
