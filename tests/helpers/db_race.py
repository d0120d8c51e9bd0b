"""One OS process of a race on a shared database, for tests that must not rely on luck (``tests/db/test_shards.py``).

    python -m tests.helpers.db_race URL discovery NOW_ISO SEED   # claim every due guild it can; prints the ones won
    python -m tests.helpers.db_race URL cooldown USER N RATE PER NOW  # N heavy-command uses; prints how many passed

The process connects, prints ``ready`` and waits for a line on stdin before racing, so that every process of a test
starts its part at the same moment. The result is one JSON line on stdout.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from datetime import datetime, timedelta

from db import queries as q
from db.session import open_database


async def _go(db) -> None:
    async with db.begin() as session:  # connect (and migrate) before the start line, not after it
        await q.get_meta(session, "race")
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)


async def discovery(url: str, now_iso: str, seed: str) -> list[int]:
    """What a bot process's discovery tick does, for every due guild (no shard filter: the worst case of two
    processes that both think they own the guilds, e.g. overlapping shard ranges during a deploy)."""
    now = datetime.fromisoformat(now_iso)
    async with await open_database(url) as db:
        await _go(db)
        due = await db.run(q.due_discovery_guilds, now)
        random.Random(int(seed)).shuffle(due)  # different processes contend in different orders
        won = []
        for seen in due:
            claimed = await db.run(q.claim_discovery, seen, now, now + timedelta(hours=seen.discovery_every_hours))
            if claimed is not None:
                won.append(claimed.guild_id)
        return won


async def cooldown(url: str, user: str, n: str, rate: str, per: str, now: str) -> int:
    async with await open_database(url) as db:
        await _go(db)
        results = await asyncio.gather(
            *(db.run(q.take_cooldown, int(user), float(now), int(rate), float(per)) for _ in range(int(n)))
        )
        return sum(r is None for r in results)


def main(argv: list[str]) -> None:
    url, mode, *args = argv
    result = asyncio.run({"discovery": discovery, "cooldown": cooldown}[mode](url, *args))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
