"""Refresh a run's catalogue from its source and swap in a new index generation, with the run's own frozen models.

    python -m scripts.refresh --run RUN [--catalog DIR] [--api-base URL] [--full] [--max-new N] [--no-fetch]

Re-reads the source's lists and fetches details only for new titles and titles whose list entry changed; marks titles
no list names any more ``removed`` (kept, never answered or posted); downloads only new or changed images and embeds
only those (the run's vector store holds the rest); writes a new index generation, which running bots pick up by
themselves (``TOONMATCH_RELOAD_SECONDS``, or at once on SIGHUP). A refresh with no change writes nothing and says so.
Safe to kill at any moment (the served generation stays as it was) and to run again. It never retrains: it says when
a retrain is due. The last line sums up: new / changed / removed / unchanged titles and the seconds taken.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from scripts.cli import quiet_tensorflow, run_main
from scripts.scrape import TqdmProgress, _number, add_source_arguments, source_config

PROG = "python -m scripts.refresh"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, type=Path, help="run folder (from scripts.train)")
    p.add_argument(
        "--catalog", type=Path, help="the catalogue folder to refresh (default: the one the run was trained on)"
    )
    p.add_argument(
        "--no-fetch", action="store_true", help="do not read the source: re-index the catalogue folder as it is"
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="fetch every title's details and cover again (finds genre/tag changes and new bytes at the same URL)",
    )
    p.add_argument("--max-new", type=_number(int, 0), metavar="N", help="add at most N new titles this time")
    p.add_argument(
        "--retrain-share",
        type=_number(float, 0.0),
        default=None,
        metavar="SHARE",
        help="say a retrain is due when more than this share of titles arrived after training (default: 0.2)",
    )
    add_source_arguments(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    quiet_tensorflow()
    import logging

    from tqdm.contrib.logging import logging_redirect_tqdm

    from catalog.scrape.refresh import is_scraped, refresh_catalog
    from core.errors import ToonmatchError
    from core.logs import setup_logging
    from ml.run import RunConfig
    from ml.train.refresh import DEFAULT_RETRAIN_SHARE, append_log, refresh_index, run_lock

    setup_logging("DEBUG" if args.verbose else "INFO", floors={"aiohttp": logging.ERROR})
    run = args.run.expanduser()
    config = RunConfig.read(run)
    catalog_dir = Path(args.catalog or config.catalog.path).expanduser()
    share = DEFAULT_RETRAIN_SHARE if args.retrain_share is None else args.retrain_share
    source = None
    with run_lock(run), logging_redirect_tqdm():
        if not args.no_fetch:
            if not is_scraped(catalog_dir):
                raise ToonmatchError(
                    f"{catalog_dir} is not a scraped catalogue (no .scrape/journal.jsonl), so there is no source to "
                    "re-read; pass --no-fetch to re-index it as it is"
                )
            try:
                source = asyncio.run(
                    refresh_catalog(
                        source_config(args, catalog_dir),
                        full=args.full,
                        max_new=args.max_new,
                        progress=TqdmProgress(disable=args.quiet),
                    )
                )
            except OSError as exc:
                raise ToonmatchError(f"{exc.strerror or exc} ({exc.filename or catalog_dir})") from exc
        result = refresh_index(run, catalog_dir, retrain_share=share, progress=not args.quiet, locked=True)
    seconds = time.monotonic() - started
    changes = result.changes
    unchanged = changes.unchanged + len(changes.reranked)
    append_log(
        run,
        {
            "source": None if args.no_fetch else args.api_base,
            "catalog": str(catalog_dir),
            "catalog_sha256": result.catalog_sha256,
            "generation": result.generation,
            "new": len(changes.new),
            "changed": len(changes.changed),
            "removed": len(changes.removed),
            "unchanged": unchanged,
            "reranked": len(changes.reranked),
            "images_embedded": result.images_embedded,
            "titles_after_training": result.after_training,
            "retrain_due": result.retrain_due,
            "seconds": round(seconds, 2),
        },
    )
    if source is not None:
        print(source.format())
    if result.generation:
        print(
            f"new index generation {result.generation}: {result.n_titles} titles; {result.images_embedded} images "
            f"embedded, {result.images_reused} reused from the vector store; bots reload it within "
            "TOONMATCH_RELOAD_SECONDS (or at once on SIGHUP)"
        )
    else:
        print("no change: no new index generation written (the served one stays)")
    for tid, fields in list(changes.changed.items())[:20]:
        print(f"  changed {tid}: {', '.join(fields)}")
    if result.retrain_due:
        print(
            f"retrain due: {result.after_training} of {result.n_titles} titles ({result.share_after_training:.0%}) "
            f"arrived after the heads were fitted (more than {share:.0%}); retrain with "
            f"`python -m scripts.train --catalog {catalog_dir} --out NEW_RUN`"
        )
    elif result.after_training:
        print(f"{result.after_training} of {result.n_titles} titles arrived after the heads were fitted")
    print(
        f"refresh: {len(changes.new)} new, {len(changes.changed)} changed, {len(changes.removed)} removed, "
        f"{unchanged} unchanged in {seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog=PROG, interrupted="interrupted; run the same command again to finish the refresh"))
