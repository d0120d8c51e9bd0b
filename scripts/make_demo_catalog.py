"""Write a synthetic demo catalogue so the pipeline (train → index → evaluate → query → bot) runs with no real data.

    python -m scripts.make_demo_catalog --out data/demo [--titles 240] [--seed 0] [--images-per-title 1-3]
        [--size 125x101]

Covers are procedurally drawn (genre drives palette and motifs, each fictional author adds a signature); everything
is labelled synthetic. Prints one summary line; bad arguments (exit 2) or an unusable folder (exit 1) give a one-line
error, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

from catalog.demo import DEFAULT_TITLES, MAX_IMAGES_PER_TITLE, MAX_TITLES, generate_demo_catalog
from catalog.format import load_catalog
from scripts.cli import run_main

PROG = "make_demo_catalog"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage dump
        self.exit(2, f"{self.prog}: error: {message}\n")


def _int_in(lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be from {lo} to {hi}, got {value}")
        return value

    return parse


def _images_range(text: str) -> int | tuple[int, int]:
    """``2`` (every title has 2 images) or ``1-3`` (from 1 to 3, most titles 1)."""
    parts = text.split("-")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or LOW-HIGH, got {text!r}") from None
    if len(values) not in (1, 2) or not all(1 <= v <= MAX_IMAGES_PER_TITLE for v in values) or values != sorted(values):
        raise argparse.ArgumentTypeError(f"expected N or LOW-HIGH within 1..{MAX_IMAGES_PER_TITLE}, got {text!r}")
    return values[0] if len(values) == 1 else (values[0], values[1])


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 125x101, got {text!r}") from None
    if not (16 <= w <= 2048 and 16 <= h <= 2048):
        raise argparse.ArgumentTypeError(f"each side must be from 16 to 2048 pixels, got {text!r}")
    return w, h


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Write a synthetic demo catalogue (procedurally drawn covers, all fictional).")
    p.add_argument(
        "--out", required=True, metavar="DIR", help="output folder (new, empty, or an earlier demo catalogue)"
    )
    p.add_argument(
        "--titles",
        type=_int_in(2, MAX_TITLES),
        default=DEFAULT_TITLES,
        metavar="N",
        help=f"titles (default {DEFAULT_TITLES})",
    )
    p.add_argument("--seed", type=_int_in(0, 2**32 - 1), default=0, metavar="N", help="random seed (default 0)")
    p.add_argument(
        "--images-per-title",
        type=_images_range,
        default=(1, 3),
        metavar="N|LOW-HIGH",
        help="N or LOW-HIGH images per title (default 1-3)",
    )
    p.add_argument(
        "--size", type=_size, default=None, metavar="WxH", help="WxH for every image (default: a mix of real sizes)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.out.strip():
        parser.error("argument --out: must not be empty")
    start = time.perf_counter()
    try:
        out = generate_demo_catalog(
            args.out,
            n_titles=args.titles,
            seed=args.seed,
            images_per_title=args.images_per_title,
            size=args.size,
            progress=not args.no_progress,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. no permission, disk full
        print(f"error: {exc.strerror or exc}: {exc.filename or args.out}", file=sys.stderr)
        return 1
    catalog = load_catalog(out)
    n_images = sum(len(t.images) for t in catalog.titles)
    genres = {t.primary_genre for t in catalog.titles}
    authors = {a for t in catalog.titles for a in t.authors}
    print(
        f"wrote synthetic demo catalogue {out}: {len(catalog)} titles, {n_images} images, {len(genres)} genres, "
        f"{len(authors)} authors (seed {args.seed}, {time.perf_counter() - start:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
