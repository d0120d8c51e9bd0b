"""Record a like or dislike for a user without Discord.

    python -m scripts.rate [--run RUN] --user ID --title TEXT (--like | --dislike) [--db URL]

--title takes a title id or text: an exact id wins, then an exact title, then the fuzzy search; when several titles
fit equally well they are listed and nothing is stored. A missing database is created and migrated.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from scripts.cli import quiet_tensorflow, resolve_run_dir, run_main, setup_logging


async def store(url: str, user_id: int, title_id: str, value: int) -> None:
    from db import open_database
    from db.queries import rate

    async with await open_database(url) as database:
        await database.run(rate, user_id, title_id, value)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.rate", description=__doc__.split("\n\n")[0])
    p.add_argument("--run", help="run folder whose catalogue names the titles (default: TOONMATCH_RUN_DIR)")
    p.add_argument("--user", type=int, required=True, help="user id (a Discord user id, or any number)")
    p.add_argument("--title", required=True, help="title id, title or part of one")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--like", action="store_true")
    which.add_argument("--dislike", action="store_true")
    p.add_argument("--db", help="database URL (default: DATABASE_URL)")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    quiet_tensorflow()
    setup_logging(args.verbose)
    from catalog.format import load_catalog
    from core.settings import load_settings
    from ml.run import RunConfig
    from ml.serve.search import TitleSearch

    settings = load_settings()
    run = resolve_run_dir(args.run, settings)
    RunConfig.read(run)  # a run folder, or a one-line error
    search = TitleSearch(list(load_catalog(run, check_images=False).titles))  # no model needed to name a title
    title = search.resolve(args.title)  # unknown or ambiguous: run_main lists the closest titles
    value = 1 if args.like else -1
    asyncio.run(store(args.db or settings.database.url, args.user, title.id, value))
    print(f"user {args.user} {'likes' if value > 0 else 'dislikes'} {search.describe(title.id)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
