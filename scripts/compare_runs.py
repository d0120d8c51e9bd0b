"""Compare run folders trained on the same catalogue with different split seeds: mean ± spread per backbone.

python -m scripts.compare_runs RUN [RUN ...] [--json]

Rows: the paper-style CNN (retrained in every run), then each backbone kind found (``scratch``, ``pretrained``).
Columns: genre macro P/R/F1, author macro F1, perturbed-cover hit@1 / hit@24, same-author hit@24 — each the mean
over the runs of that kind ± the standard deviation, with the seeds listed. One test split of ~200 titles is noise:
compare means over several seeds.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from core.errors import RunFolderError
from ml.run import RunConfig
from scripts.cli import run_main

COLUMNS = (
    ("genre P", ("genre", "precision")),
    ("genre R", ("genre", "recall")),
    ("genre F1", ("genre", "f1")),
    ("author F1", ("author", "f1")),
    ("perturbed hit@1", ("retrieval", "perturbed_hit@1")),
    ("perturbed hit@24", ("retrieval", "perturbed_hit@24")),
    ("same-author hit@24", ("retrieval", "same_author_hit@24")),
    ("top-1 % share", ("retrieval", "hub_share@24_top1%")),
)
PAPER_KEYS = {"genre": "paper_style_genre_cnn", "retrieval": "retrieval_paper_baseline"}
KIND_NAMES = {
    "paper": "paper-style CNN (retrained per run)",
    "scratch": "old backbone (small CNN from scratch)",
    "pretrained": "new backbone (frozen MobileNetV2)",
}


def read_run(run: Path) -> tuple[dict, RunConfig]:
    try:
        metrics = json.loads((run / "metrics.json").read_text())
        config = RunConfig.read(run)
    except (OSError, ValueError, RunFolderError) as exc:
        raise RunFolderError(f"{run}: not a finished run folder ({exc})") from exc
    return metrics, config


def _value(metrics: dict, section: str, key: str, paper: bool) -> float | None:
    if paper:
        if section not in PAPER_KEYS:
            return None
        section = PAPER_KEYS[section]
    value = metrics.get(section, {}).get(key)
    return None if value is None else float(value)


def compare(runs: list[Path]) -> dict:
    """{kind: {"seeds": [...], column: {"mean", "std", "values"}}} over the given runs."""
    groups: dict[str, list[tuple[int, dict, bool]]] = {}
    paper_by_seed: dict[int, dict] = {}  # runs of both backbones retrain the paper CNN on a seed's split: count it once
    catalogs = set()
    for run in runs:
        metrics, config = read_run(run)
        catalogs.add(config.catalog.sha256)
        seed = config.split_seed
        groups.setdefault(config.backbone.kind, []).append((seed, metrics, False))
        paper_by_seed[seed] = metrics
    if len(catalogs) > 1:
        raise RunFolderError("these runs were trained on different catalogues: their numbers do not compare")
    groups["paper"] = [(seed, metrics, True) for seed, metrics in paper_by_seed.items()]
    result = {}
    for kind in ("paper", "scratch", "pretrained"):
        rows = groups.get(kind)
        if not rows:
            continue
        entry = {"seeds": sorted(seed for seed, _, _ in rows)}
        for name, (section, key) in COLUMNS:
            values = [_value(m, section, key, paper) for _, m, paper in rows]
            values = [v for v in values if v is not None]
            entry[name] = (
                {"mean": float(np.mean(values)), "std": float(np.std(values)), "values": values} if values else None
            )
        result[kind] = entry
    return result


def markdown(table: dict) -> str:
    lines = [
        "| model | seeds | " + " | ".join(name for name, _ in COLUMNS) + " |",
        "|---|---|" + "---|" * len(COLUMNS),
    ]
    for kind, entry in table.items():
        cells = []
        for name, _ in COLUMNS:
            cell = entry[name]
            cells.append("–" if cell is None else f"{cell['mean']:.3f} ± {cell['std']:.3f}")
        seeds = ", ".join(str(s) for s in entry["seeds"])
        lines.append(f"| {KIND_NAMES.get(kind, kind)} | {seeds} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.compare_runs", description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path, help="run folders (same catalogue, different seeds/backbones)")
    p.add_argument("--json", action="store_true", help="one JSON object instead of a markdown table")
    args = p.parse_args(argv)
    table = compare(args.runs)
    print(json.dumps(table, indent=2) if args.json else markdown(table))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
