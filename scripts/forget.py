"""Delete everything stored about one user, as /forget-me does, for an owner handling a deletion request.

    python -m scripts.forget --user ID [--db URL]

Works on SQLite and PostgreSQL (``--db``, default ``DATABASE_URL``). Prints what it removed, table by table; a user
with nothing stored gets zeros (and exit status 0: the request is fulfilled either way). Servers' settings and
discovery posts are not a user's data and stay. See PRIVACY.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from scripts.cli import run_main, setup_logging
from scripts.personal import add_options, database_url

WHAT = {
    "ratings": "ratings (likes and dislikes)",
    "shown_titles": "titles shown",
    "guild_members": "server memberships",
    "command_cooldowns": "cooldown windows",
}


async def forget(url: str, user_id: int) -> dict[str, int]:
    from db import open_database, queries

    async with await open_database(url) as database:
        return await database.run(queries.forget_user_rows, user_id)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.forget", description=__doc__.split("\n\n")[0])
    add_options(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    deleted = asyncio.run(forget(database_url(args.db), args.user))
    print(f"user {args.user}: deleted {sum(deleted.values())} rows")
    for table, n in deleted.items():
        print(f"  {n:6d}  {WHAT.get(table, table)} ({table})")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="scripts.forget"))
