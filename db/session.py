"""Sessions and the :class:`Database` handle the app opens once at start-up.

Usage::

    db = await open_database(settings.database.url)     # migrates to head first
    async with db.begin() as session:                    # one transaction per unit of work
        await queries.rate(session, user_id, "naver:183559", 1)
    state = await db.run(queries.toggle, user_id, "naver:183559", 1)   # same, as a one-liner (retries if busy)
    await db.aclose()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.settings import DEFAULT_DATABASE_URL
from db.engine import create_engine, is_retryable_error
from db.migrate import upgrade

log = logging.getLogger(__name__)


P = ParamSpec("P")
T = TypeVar("T")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (no lazy reloads outside a transaction)."""
    return async_sessionmaker(engine, expire_on_commit=False)


class Database:
    """Engine + sessionmaker of an open, migrated database. Close with :meth:`aclose` or ``async with``."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        *,
        busy_retries: int = 5,
    ) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker or make_sessionmaker(engine)
        self.busy_retries = busy_retries
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        """A session inside a transaction: commits on normal exit, rolls back on error. Counted, so that
        :meth:`aclose` lets units of work already under way finish (a shutdown never cuts a commit short)."""
        self._active += 1
        self._idle.clear()
        try:
            async with self.sessionmaker.begin() as session:
                yield session
        finally:
            self._active -= 1
            if not self._active:
                self._idle.set()

    async def run(
        self, fn: Callable[Concatenate[AsyncSession, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn(session, *args, **kwargs)`` as one transaction.

        The whole unit of work is retried a few times if SQLite still reports the database busy after its busy
        timeout, or PostgreSQL aborted it as a deadlock victim or a serialization failure (rare; it keeps a burst of
        writers, possibly from several bot processes, from surfacing as user-facing errors).
        """
        for attempt in range(self.busy_retries + 1):
            try:
                async with self.begin() as session:
                    return await fn(session, *args, **kwargs)
            except DBAPIError as exc:
                if attempt >= self.busy_retries or not is_retryable_error(exc):
                    raise
                delay = min(2.0, 0.05 * 2**attempt) * (0.5 + random.random())
                reason = (str(exc.orig).splitlines() or ["?"])[0]
                log.warning("database busy in %s (%s), retrying in %.2fs", getattr(fn, "__name__", fn), reason, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def aclose(self, timeout: float = 10.0) -> None:
        """Wait (up to ``timeout`` s) for units of work under way, then close every connection."""
        if self._active:
            try:
                await asyncio.wait_for(self._idle.wait(), timeout)
            except TimeoutError:
                log.warning("closing the database with %d unit(s) of work still running", self._active)
        await self.engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def open_database(url: str = DEFAULT_DATABASE_URL, **engine_kwargs: Any) -> Database:
    """Create the engine, migrate the database to the newest revision, and return the :class:`Database`."""
    engine = create_engine(url, **engine_kwargs)
    try:
        await upgrade(engine)
    except BaseException:
        await engine.dispose()
        raise
    return Database(engine)
