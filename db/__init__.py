"""The taste store: ratings, shown titles, guild settings and discovery bookkeeping (SQLAlchemy 2 async).

Knows nothing of Discord or ML. Open it once at start-up with :func:`open_database` (which migrates), then run
the functions of :mod:`db.queries` inside ``async with db.begin() as session:`` or via ``db.run(fn, ...)``.
"""

from db.engine import create_engine
from db.queries import GuildPrefs, RatingEntry, RatingPage, Taste
from db.session import Database, make_sessionmaker, open_database

__all__ = [
    "Database",
    "GuildPrefs",
    "RatingEntry",
    "RatingPage",
    "Taste",
    "create_engine",
    "make_sessionmaker",
    "open_database",
]
