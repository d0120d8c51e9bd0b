"""The main job on a fresh machine: with DISCORD_TOKEN configured, start the bot on the demo run; otherwise run the
offline demo — synthetic catalogue → quick model → index → a sample query, printed, plus its 5×5 contact sheet.

    python -m scripts.demo [--dir demo] [--offline]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from scripts.cli import quiet_tensorflow, run_main, setup_logging

TOKEN_HELP = """\
No DISCORD_TOKEN configured, so the bot is not started; here is the offline demo instead.
To run the bot: create an application at https://discord.com/developers/applications, add a Bot, copy its token
into .env as DISCORD_TOKEN=... (see .env.example and docs/discord.md), invite it with the scopes
`bot applications.commands`, then run `make demo` (or `make bot`) again."""


def ensure_run(folder: Path, progress: bool) -> Path:
    """Build the demo catalogue and a quick run once; later calls reuse them."""
    from catalog.demo import generate_demo_catalog
    from ml.serve.index import index_paths
    from ml.train.pipeline import train_run
    from ml.train.training import TrainConfig

    catalog, run = folder / "catalog", folder / "run"
    if not (catalog / "catalog.jsonl").is_file():
        print(f"[1/4] drawing the synthetic demo catalogue in {catalog} …", file=sys.stderr)
        generate_demo_catalog(catalog, seed=0)
    if index_paths(run) is None:
        print(f"[2/4] training a quick model and building the index in {run} …", file=sys.stderr)
        started = time.perf_counter()
        train_run(catalog, run, TrainConfig.preset_named("quick"), progress=progress)
        print(f"      trained in {time.perf_counter() - started:.0f} s; report: {run / 'report.md'}", file=sys.stderr)
    return run


def sample_query(run: Path, folder: Path) -> int:
    """Query with a perturbed copy (crop, flip, border, JPEG) of a held-out demo cover, as a user's screenshot."""
    import json

    import numpy as np

    from catalog.format import load_catalog
    from ml.preprocess import open_image
    from ml.serve.engine import Engine
    from ml.train.augment import eval_perturbation
    from scripts.query import print_answer

    split = json.loads((run / "split.json").read_text())
    titles = load_catalog(folder / "catalog").by_id()
    source = titles[split["test"][0]]
    query = folder / "query.png"
    eval_perturbation(open_image(source.cover), np.random.default_rng(1)).save(query)
    print(f"[3/4] sample query: a perturbed screenshot of held-out title {source.title} → {query}", file=sys.stderr)
    engine = Engine.load(run)
    answer = engine.similar(query.read_bytes())
    print_answer(f"{query} (synthetic demo catalogue)", answer)
    data, fmt = engine.contact_sheet(answer, open_image(query))
    sheet = folder / f"contact_sheet.{fmt}"
    sheet.write_bytes(data)
    rank = next((n for n, r in enumerate(answer.results, 1) if r.title.id == source.id), None)
    print(
        f"[4/4] contact sheet: {sheet}; the original title ranks #{rank}"
        if rank
        else f"[4/4] contact sheet: {sheet}; the original title is not in the top {len(answer.results)}",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", type=Path, default=Path("demo"), help="where the demo catalogue and run go")
    p.add_argument("--offline", action="store_true", help="never start the bot, even with a token")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    quiet_tensorflow()
    setup_logging()
    from core.settings import load_settings

    settings = load_settings()
    args.dir.mkdir(parents=True, exist_ok=True)
    run = ensure_run(args.dir, progress=not args.no_progress)
    if settings.discord.token and not args.offline:
        env = dict(os.environ)
        env.setdefault("TOONMATCH_RUN_DIR", str(settings.serving.run_dir or run.resolve()))
        print(f"starting the bot on {env['TOONMATCH_RUN_DIR']} (Ctrl-C to stop) …", file=sys.stderr)
        return subprocess.call([sys.executable, "-m", "bot"], env=env)
    print(TOKEN_HELP, file=sys.stderr)
    return sample_query(run, args.dir)


if __name__ == "__main__":
    sys.exit(run_main(main))
