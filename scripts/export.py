"""Write everything stored about one user as JSON, the same file /forget-me's "Download my data first" gives.

    python -m scripts.export --user ID [--db URL] [--out FILE]

On stdout unless ``--out``. Snowflakes are strings, times ISO 8601 UTC (``db.queries.export_user``). See PRIVACY.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from scripts.cli import run_main, setup_logging
from scripts.personal import add_options, database_url


async def export(url: str, user_id: int) -> str:
    from db import open_database, queries

    async with await open_database(url) as database:
        return queries.export_json(await database.run(queries.export_user, user_id))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.export", description=__doc__.split("\n\n")[0])
    add_options(p)
    p.add_argument("--out", type=Path, help="write the JSON here instead of stdout")
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    text = asyncio.run(export(database_url(args.db), args.user))
    if args.out is None:
        sys.stdout.write(text + "\n")
    else:
        args.out.write_text(text + "\n", encoding="utf-8")
        print(f"wrote the data of user {args.user} to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="scripts.export"))
