"""Ask a run for similar titles: by image(s) or by title, optionally reranked by a stored user's taste.

python -m scripts.query --run RUN (--image PATH… | --title TEXT) [--k 24] [--json] [--sheet OUT.jpg]
                        [--user ID --db URL] [--allow-adult] [--style-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from ml.serve import TITLES_PER_ANSWER
from scripts.cli import quiet_tensorflow, resolve_run_dir, run_main, setup_logging


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.query", description=__doc__.split("\n\n")[0])
    p.add_argument("--run", help="run folder (default: TOONMATCH_RUN_DIR)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--image", action="append", metavar="PATH", help="query image (repeat for several)")
    what.add_argument("--title", help="a title id, title (Korean or English) or part of one")
    p.add_argument("--k", type=int, default=TITLES_PER_ANSWER, help=f"how many titles (default {TITLES_PER_ANSWER})")
    p.add_argument("--json", action="store_true", help="one JSON object per query on stdout")
    p.add_argument("--sheet", type=Path, metavar="OUT.jpg", help="write the 5×5 contact sheet here (JPEG)")
    p.add_argument("--user", type=int, help="apply this user's stored likes and dislikes")
    p.add_argument("--db", help="database URL for --user (default: DATABASE_URL)")
    p.add_argument("--allow-adult", action="store_true", help="include titles flagged adult")
    p.add_argument(
        "--style-only",
        action="store_true",
        help="--title: rank by art style alone (default: blended with shared genres, tags and authors; "
        "TOONMATCH_STYLE_ONLY=1 sets it too)",
    )
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    if not 1 <= args.k <= 100:
        p.error("--k must be between 1 and 100")
    return args


async def stored_taste(url: str, user_id: int):
    from db import open_database
    from db.queries import user_taste
    from ml.serve.results import TasteProfile

    async with await open_database(url) as database:
        return TasteProfile.from_ratings(await database.run(user_taste, user_id))


def sheet_path(base: Path, n: int, total: int, fmt: str) -> Path:
    """``--sheet`` as given (numbered when there are several answers), with the suffix of the sheet's format."""
    path = base if total == 1 else base.with_name(f"{base.stem}-{n}{base.suffix}")
    return path.with_suffix(f".{fmt}")


def print_answer(label: str, answer) -> None:
    print(f"== {label}")
    if answer.genres:
        print("genres: " + ", ".join(f"{g.genre} {g.probability:.0%}" for g in answer.genres))
    if answer.screen is not None:
        print(f"screen: {answer.screen.explicit:.1%} explicit (Porn + Hentai, most explicit of {answer.screen.panels})")
    if answer.low_confidence:
        print(f"note: {answer.message}")
    for n, r in enumerate(answer.results, start=1):
        alt = f" / {r.title.title_en}" if r.title.title_en else ""
        why = f"  ({r.reason})" if r.reason else ""
        print(
            f"{n:2d}. {r.similarity:6.1%}  {r.title.title}{alt} — {', '.join(r.title.authors)} "
            f"[{', '.join(r.title.genres)}]{why}"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_tensorflow()
    setup_logging(args.verbose)
    from core.settings import load_settings
    from ml.preprocess import open_image
    from ml.serve.engine import Engine

    settings = load_settings()
    run = resolve_run_dir(args.run, settings)
    engine = Engine.load(
        run,
        taste_weight=settings.serving.taste_weight,
        low_confidence_threshold=settings.serving.low_confidence_threshold,
        style_only=args.style_only or settings.serving.style_only,
    )
    taste = asyncio.run(stored_taste(args.db or settings.database.url, args.user)) if args.user is not None else None
    options = {"k": args.k, "taste": taste, "allow_adult": args.allow_adult}
    answers = []  # (label, answer, the query image file or None)
    if args.title:
        source = engine.resolve(args.title)
        answers.append((f"titles like {source.title} ({source.id})", engine.recommend(source.id, **options), None))
    else:
        answers += [(path, engine.similar(path, **options), path) for path in args.image]
    for n, (label, answer, image) in enumerate(answers, start=1):
        if args.sheet:
            data, fmt = engine.contact_sheet(answer, None if image is None else open_image(image, engine.limits))
            out = sheet_path(args.sheet, n, len(answers), fmt)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
            print(f"contact sheet: {out} ({len(data) / 1024:.0f} kB)", file=sys.stderr)
        if not args.json:
            print_answer(label, answer)
    if args.json:
        for _, answer, _ in answers:
            print(json.dumps(answer.to_json(), ensure_ascii=False, allow_nan=False))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
