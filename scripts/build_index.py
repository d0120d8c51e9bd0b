"""(Re)build a run's Annoy index from a catalogue: embed the images, measure recall@24 against exact search.

    python -m scripts.build_index --run RUN [--catalog DIR] [--n-trees N]

Without --catalog the catalogue recorded in RUN/config.json is used; with it, RUN serves DIR's titles instead. Images
already in the run's vector store (RUN/vectors/, same path and bytes) are not embedded again. The new index is swapped
in as a new generation, which running bots reload by themselves (TOONMATCH_RELOAD_SECONDS, or SIGHUP).
"""

from __future__ import annotations

import argparse
import json
import sys

from scripts.cli import quiet_tensorflow, run_main, setup_logging


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.build_index", description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="run folder (from scripts.train)")
    p.add_argument("--catalog", help="catalogue folder to index (default: the one the run was trained on)")
    p.add_argument("--n-trees", type=int, help="Annoy trees (more: better recall, bigger index)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    if args.n_trees is not None and args.n_trees < 1:
        p.error("--n-trees must be at least 1")
    quiet_tensorflow()
    setup_logging(args.verbose)
    from ml.train.indexing import build_run_index

    stats = build_run_index(args.run, args.catalog, n_trees=args.n_trees, progress=not args.no_progress)
    print(
        f"indexed {stats['n_items']} images of {stats['n_titles']} titles ({stats['n_trees']} trees); "
        f"recall@24 vs exact {stats['recall@24_vs_exact']:.3f}",
        file=sys.stderr,
    )
    print(json.dumps(stats, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
