"""Many concurrent units of work on one SQLite file: exact results, no "database is locked", no duplicates."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections import Counter, defaultdict

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from db import queries as q
from db.engine import create_engine, is_busy_error
from db.models import GuildMember, Rating, ShownTitle
from db.session import Database, open_database

BASE = 10**17  # snowflake-sized ids
GUILD = BASE + 999


def _plan(n_tasks: int = 200, seed: int = 7):
    """Tasks where the final state does not depend on their order.

    Per (user, title) pair only one kind of operation with one value: repeated rates (→ that value), or repeated
    toggles (→ the value if toggled an odd number of times, else no row). Plus repeated mark_shown (→ count).
    """
    rng = random.Random(seed)
    tasks: list[tuple] = []
    while len(tasks) < n_tasks:
        user = BASE + rng.randrange(12)
        title = f"naver:{rng.randrange(8)}"
        tasks.append((user, title))
    plan = []
    for i, (user, title) in enumerate(tasks):
        kind = ("rate", "toggle", "shown")[(user + int(title.split(":")[1])) % 3]
        value = 1 if (user + len(title) + int(title.split(":")[1])) % 2 else -1
        plan.append((kind, user, title, value, GUILD if i % 2 else None))
    return plan


def _expected(plan):
    ratings: dict[tuple[int, str], int] = {}
    toggles: Counter = Counter()
    shown: Counter = Counter()
    members = set()
    for kind, user, title, value, guild in plan:
        if kind == "rate":
            ratings[user, title] = value
        elif kind == "toggle":
            toggles[user, title, value] += 1
        else:
            shown[user, title] += 1
        if guild is not None and kind != "shown":
            members.add((guild, user))
    for (user, title, value), n in toggles.items():
        if n % 2:
            ratings[user, title] = value
    return ratings, dict(shown), members


async def _run_plan(dbs: list[Database], plan) -> None:
    async def one(i, kind, user, title, value, guild):
        # Deliberately the plain transaction (no db.run retry): on SQLite busy_timeout + WAL must be enough, on
        # PostgreSQL row locks + the advisory lock of toggle.
        async with dbs[i % len(dbs)].begin() as session:
            if kind == "rate":
                await q.rate(session, user, title, value, guild_id=guild)
            elif kind == "toggle":
                await q.toggle(session, user, title, value, guild_id=guild)
            else:
                await q.mark_shown(session, user, [title])

    results = await asyncio.gather(*(one(i, *task) for i, task in enumerate(plan)), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []


async def test_200_concurrent_rating_tasks(database_url):
    """200 units of work from two handles (think: two bot processes) of 2 connections each: exact rows."""
    plan = _plan()
    assert len(plan) == 200
    kinds = Counter(kind for kind, *_ in plan)
    assert min(kinds.values()) > 30  # a real mix
    assert max(Counter((u, t) for _, u, t, *_ in plan).values()) > 3  # same pairs hit concurrently

    database = await open_database(database_url, pool_size=2, max_overflow=0)
    other = Database(create_engine(database_url, pool_size=2, max_overflow=0))
    connections = set()
    for db in (database, other):
        event.listen(db.engine.sync_engine, "checkout", lambda conn, record, proxy: connections.add(id(conn)))
    try:
        await _run_plan([database, other], plan)
        assert len(connections) == 4  # all four connections really were busy at once
        await _check_plan(database, plan)
    finally:
        await other.aclose()
        await database.aclose()


async def test_concurrent_toggles_of_one_pair_never_interleave(database_url):
    """Toggling is read-decide-write: 40 toggles of one pair from 4 connections in two handles must behave as if
    one after another (20 end liked, 20 removed, no row left), not both see "not rated" and both insert."""
    handles = [await open_database(database_url, pool_size=2, max_overflow=0)]
    handles.append(Database(create_engine(database_url, pool_size=2, max_overflow=0)))
    try:

        async def one(i: int) -> int:
            async with handles[i % 2].begin() as session:
                return await q.toggle(session, BASE, "naver:1", 1, guild_id=GUILD)

        states = await asyncio.gather(*(one(i) for i in range(40)))
        assert Counter(states) == {1: 20, 0: 20}
        assert await handles[0].run(q.get_rating, BASE, "naver:1") == 0
    finally:
        for handle in handles:
            await handle.aclose()


async def _check_plan(database: Database, plan) -> None:
    ratings, shown, members = _expected(plan)

    async with database.begin() as s:
        got_ratings = {(r.user_id, r.title_id): r.value for r in await s.scalars(select(Rating))}
        got_shown = {(r.user_id, r.title_id): r.count for r in await s.scalars(select(ShownTitle))}
        got_members = {tuple(row) for row in await s.execute(select(GuildMember.guild_id, GuildMember.user_id))}
        n_ratings = await s.scalar(select(func.count()).select_from(Rating))
        n_shown = await s.scalar(select(func.count()).select_from(ShownTitle))
    assert got_ratings == ratings and n_ratings == len(ratings)
    assert got_shown == shown and n_shown == len(shown)
    assert got_members == members

    per_user: dict[int, dict[str, int]] = defaultdict(dict)
    for (user, title), value in ratings.items():
        per_user[user][title] = value
    for user, titles in per_user.items():
        taste = await database.run(q.user_taste, user)
        assert set(taste.liked) == {t for t, v in titles.items() if v == 1}
        assert set(taste.disliked) == {t for t, v in titles.items() if v == -1}


async def test_writer_waits_for_another_connection(database, database_url):
    """A second engine (think: a second process) holding the write lock makes writers wait, not fail."""
    other = Database(create_engine(database_url))
    try:
        holding = asyncio.Event()

        async def hold_lock():
            async with other.begin() as s:
                await q.rate(s, 1, "naver:1", 1)
                holding.set()
                await asyncio.sleep(0.4)

        async def write_meanwhile():
            await holding.wait()
            async with database.begin() as s:  # no retry: relies on busy_timeout
                await q.rate(s, 2, "naver:1", -1)

        await asyncio.gather(hold_lock(), write_meanwhile())
        assert await database.run(q.title_like_counts) == {"naver:1": (1, 1)}
    finally:
        await other.aclose()


async def test_run_retries_busy_errors(database):
    calls = 0

    async def flaky(session, value):
        nonlocal calls
        calls += 1
        if calls < 3:
            raise OperationalError("COMMIT", {}, sqlite3.OperationalError("database is locked"))
        return await q.rate(session, 1, "naver:1", value)

    assert await database.run(flaky, -1) == -1
    assert calls == 3


async def test_run_does_not_retry_other_errors(database):
    calls = 0

    async def broken(session):
        nonlocal calls
        calls += 1
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: nope"))

    with pytest.raises(OperationalError):
        await database.run(broken)
    assert calls == 1
    assert not is_busy_error(ValueError("database is locked"))


async def test_closing_waits_for_a_unit_of_work_under_way_and_keeps_its_commit(database_url):
    import asyncio

    from db import open_database
    from db.queries import get_rating, rate

    db = await open_database(database_url)
    inside = asyncio.Event()

    async def slow_rating():
        async with db.begin() as session:
            await rate(session, 7, "naver:1", 1)
            inside.set()
            await asyncio.sleep(0.2)  # still inside the transaction when the shutdown starts

    task = asyncio.create_task(slow_rating())
    await inside.wait()
    await db.aclose()  # must not cut the unit of work short
    assert task.done() and task.exception() is None
    reopened = await open_database(database_url)
    try:
        assert await reopened.run(get_rating, 7, "naver:1") == 1
    finally:
        await reopened.aclose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_deadlock_victim_is_retried(database, caplog):
    """Two units of work locking the same rows in opposite orders: PostgreSQL aborts one, db.run retries it."""
    first_locked, second_locked = asyncio.Event(), asyncio.Event()
    attempts = Counter()

    def unit(name: str, titles: tuple[str, str], mine: asyncio.Event, theirs: asyncio.Event):
        async def fn(session):
            attempts[name] += 1
            await q.rate(session, BASE, titles[0], 1)
            mine.set()
            await theirs.wait()
            await q.rate(session, BASE, titles[1], -1)

        fn.__name__ = name
        return fn

    a = unit("a", ("naver:1", "naver:2"), first_locked, second_locked)
    b = unit("b", ("naver:2", "naver:1"), second_locked, first_locked)
    await asyncio.gather(database.run(a), database.run(b))
    assert sum(attempts.values()) == 3  # exactly one deadlock victim, run again
    assert any("deadlock detected" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    # The retried unit ran last and whole: both rows hold its values.
    a_last, b_last = {"naver:1": (1, 0), "naver:2": (0, 1)}, {"naver:1": (0, 1), "naver:2": (1, 0)}
    assert await database.run(q.title_like_counts) in (a_last, b_last)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_connections_dropped_by_the_server_are_replaced(database, database_url, postgres_cluster):
    """A PostgreSQL restart or failover closes every pooled connection: the next unit of work reconnects."""
    await database.run(q.rate, 1, "naver:1", 1)
    await postgres_cluster.disconnect_all(make_url(database_url).database)
    assert await database.run(q.get_rating, 1, "naver:1") == 1
