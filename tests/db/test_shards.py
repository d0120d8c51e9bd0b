"""Several bot processes on one database: which guilds are due per shard, the atomic discovery claim and the shared
cooldown window — in one process, and raced by real OS processes on a shared database (SQLite file, PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from db import queries as q

ROOT = Path(__file__).resolve().parents[2]
SNOWFLAKE = 1 << 40  # guild ids the size of real ones


def _guild_on(shard: int, count: int, n: int) -> int:
    """The ``n``-th guild id on ``shard`` of ``count``."""
    return ((SNOWFLAKE + n * count + shard) << 22) | 12345


async def test_shard_of_guild_is_discords_formula_in_python_and_in_sql(database):
    ids = [_guild_on(s, 4, n) for s in range(4) for n in range(3)] + [175928847299117063, 81384788765712384]
    now = datetime.now(UTC)
    for gid in ids:
        await database.run(q.set_discovery, gid, 1, 24, now - timedelta(minutes=1))
    for shard in range(4):
        due = await database.run(q.due_discovery_guilds, now, shards=[shard], shard_count=4)
        expected = {g for g in ids if (g >> 22) % 4 == shard}
        assert {s.guild_id for s in due} == expected == {g for g in ids if q.shard_of_guild(g, 4) == shard}
    assert q.shard_of_guild(175928847299117063, 2) == (175928847299117063 // 2**22) % 2
    two = await database.run(q.due_discovery_guilds, now, shards=[1, 3], shard_count=4)
    assert {s.guild_id for s in two} == {g for g in ids if (g >> 22) % 4 in (1, 3)}
    assert len(await database.run(q.due_discovery_guilds, now)) == len(ids)  # unsharded: every guild


async def test_a_claim_is_won_once_and_moves_the_post_on(database):
    now = datetime.now(UTC)
    gid = _guild_on(0, 1, 1)
    await database.run(q.set_discovery, gid, 5, 6, now - timedelta(minutes=1))
    [seen] = await database.run(q.due_discovery_guilds, now)
    claimed = await database.run(q.claim_discovery, seen, now, now + timedelta(hours=6))
    assert claimed is not None and claimed.next_post_at == now + timedelta(hours=6)
    assert claimed.discovery_channel_id == 5 and claimed.discovery_enabled
    assert await database.run(q.claim_discovery, seen, now, now + timedelta(hours=6)) is None  # the stale view loses
    assert await database.run(q.due_discovery_guilds, now) == []


async def test_no_claim_once_the_schedule_changed_or_discovery_stopped(database):
    now = datetime.now(UTC)
    a, b, c = (_guild_on(0, 1, n) for n in (1, 2, 3))
    for gid in (a, b, c):
        await database.run(q.set_discovery, gid, 5, 6, now - timedelta(minutes=1))
    seen = {s.guild_id: s for s in await database.run(q.due_discovery_guilds, now)}
    await database.run(q.set_discovery, a, 5, 12, now - timedelta(minutes=1))  # /discovery set, new interval
    await database.run(q.disable_discovery, b, "the discovery channel was deleted")
    await database.run(q.set_discovery, c, None, 6, None)  # /discovery off
    for gid in (a, b, c):
        assert await database.run(q.claim_discovery, seen[gid], now, now + timedelta(hours=6)) is None


async def test_cooldown_window_allows_rate_uses_then_says_how_long_to_wait(database):
    user, other = 2**62, 2**62 + 1
    t = 1_700_000_000.0
    assert await database.run(q.take_cooldown, user, t, 2, 30) is None
    assert await database.run(q.take_cooldown, user, t + 1, 2, 30) is None
    assert await database.run(q.take_cooldown, user, t + 10, 2, 30) == 20  # the window opened at t
    assert await database.run(q.take_cooldown, user, t + 11, 2, 30) == 19  # refusals do not move the window
    assert await database.run(q.take_cooldown, other, t + 11, 2, 30) is None  # per user
    assert await database.run(q.take_cooldown, user, t + 30, 2, 30) is None  # a new window
    assert await database.run(q.take_cooldown, user, t + 31, 2, 30) is None
    assert await database.run(q.take_cooldown, user, t + 32, 2, 30) == 28


async def test_expired_cooldown_windows_are_purged_and_forget_me_drops_the_current_one(database):
    t = 1_700_000_000.0
    for user, at in ((1, t), (2, t + 50), (3, t + 100)):
        await database.run(q.take_cooldown, user, at, 3, 30)
    assert await database.run(q.purge_cooldowns, t + 60) == 2
    assert await database.run(q.purge_cooldowns, t + 60) == 0
    assert await database.run(q.forget_user, 3) == 1
    assert await database.run(q.take_cooldown, 3, t + 101, 1, 30) is None  # as if never seen


# --------------------------------------------------------------------------- real OS processes racing


async def _race(*commands: list[str]) -> list:
    """Start one process per command, wait until each is connected, release them at once, return their results."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.helpers.db_race",
            *cmd,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for cmd in commands
    ]
    try:
        for proc in procs:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line.strip() == b"ready", (line, (await proc.stderr.read()).decode()[-3000:])
        for proc in procs:
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        outputs = [await asyncio.wait_for(proc.communicate(), 120) for proc in procs]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()[-3000:]
    return [json.loads(out.decode().splitlines()[-1]) for out, _ in outputs]


async def test_processes_racing_for_the_same_due_guilds_each_post_is_claimed_once(database, database_url):
    """Three processes that all believe they own every guild (overlapping shard ranges, as during a rolling deploy):
    each read all 60 due guilds, then try to claim every one of them. Every guild is won exactly once."""
    now = datetime.now(UTC)
    guilds = [_guild_on(n % 2, 2, n) for n in range(60)]
    for gid in guilds:
        await database.run(q.set_discovery, gid, 7, 24, now - timedelta(minutes=5))
    results = await _race(*([database_url, "discovery", now.isoformat(), str(seed)] for seed in range(3)))
    won = [gid for result in results for gid in result]
    assert sorted(won) == sorted(guilds)  # each exactly once: none lost, none twice
    assert await database.run(q.due_discovery_guilds, now) == []
    for gid in guilds:
        settings = await database.run(q.get_guild_prefs, gid)
        assert settings.next_post_at == now + timedelta(hours=24)


async def test_processes_sharing_a_users_cooldown_allow_rate_uses_in_total(database, database_url):
    """Two processes (a user active in two servers on different shards) use the same user's tokens at once: the
    window allows 3 uses over both, not 3 each."""
    now = str(datetime.now(UTC).timestamp())
    results = await _race(*([database_url, "cooldown", str(2**61), "10", "3", "30", now] for _ in range(2)))
    assert sum(results) == 3
