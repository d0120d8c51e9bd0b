"""Train the models on a catalogue and write a complete run folder (models, index, metrics, report).

python -m scripts.train --catalog DIR --out RUN [--epochs N] [--seed N] [--quick] [--backbone scratch]
    [--gram] [--genre-flip] [--no-genre-prior]
"""

from __future__ import annotations

import argparse
import sys

from scripts.cli import quiet_tensorflow, run_main, setup_logging


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--catalog", required=True, help="catalogue folder (catalog.jsonl + images)")
    p.add_argument("--out", required=True, help="run folder to write")
    p.add_argument("--epochs", type=int, help="training epochs (default: the preset's)")
    p.add_argument("--seed", type=int, default=0, help="seed for the split, initialisation and augmentation")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="a small model in about a minute (demo, smoke tests)")
    mode.add_argument("--tiny", action="store_true", help="a toy model in seconds (tests)")
    p.add_argument("--n-trees", type=int, help="Annoy trees (default: the preset's)")
    p.add_argument(
        "--backbone",
        choices=("pretrained", "scratch"),
        help="frozen pretrained MobileNetV2 (default; --tiny: scratch) or the small CNN trained from scratch",
    )
    p.add_argument(
        "--gram", action="store_true", help="pretrained: add second-order (channel covariance) style features"
    )
    p.add_argument(
        "--genre-flip", action="store_true", help="pretrained: average the genre output over the image and its mirror"
    )
    p.add_argument(
        "--no-genre-prior", action="store_true", help="no class-prior correction of the genre head (else on val)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        p.error("--epochs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_tensorflow()
    setup_logging(args.verbose)
    from ml.train.pipeline import train_run
    from ml.train.training import TrainConfig

    preset = "tiny" if args.tiny else "quick" if args.quick else "default"
    config = TrainConfig.preset_named(
        preset,
        epochs=args.epochs,
        seed=args.seed,
        n_trees=args.n_trees,
        backbone=args.backbone,
        gram=args.gram or None,
        genre_flip=args.genre_flip or None,
        genre_prior=False if args.no_genre_prior else None,
    )
    metrics = train_run(args.catalog, args.out, config, progress=not args.no_progress)
    g, r = metrics["genre"], metrics["retrieval"]
    print(
        f"run written to {args.out} ({metrics['backbone']['kind']} backbone): genre macro-F1 {g['f1'] or 0:.3f} "
        "(test), perturbed hit@1 "
        f"{r['perturbed_hit@1']:.3f}, index recall@24 {metrics['index']['recall@24_vs_exact']:.3f}, "
        f"{metrics['train_seconds']:.0f} s; see {args.out}/report.md",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
