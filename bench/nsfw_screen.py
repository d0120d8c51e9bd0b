"""Upload screening on safe images: how often the rule "Porn + Hentai ≥ t" would wrongly leave a cover off a sheet.

    python bench/nsfw_screen.py [--catalog ../shared/data/webtoons] [--run RUN] [--limit N]

Every image of every title of the catalogue (tall strips split into panels by the shared loader, as uploads are) is
scored by the pretrained nsfwjs MobileNetV2 (``ml.pretrained.load_backbone()``: ``letterbox`` at 224 px, RGB scaled
to [0, 1]), or with ``--run`` by that run folder's serving model's ``nsfw`` output, exactly as the engine reads it.
The shared covers are all safe for work, so every image at or over a threshold is a false positive. Printed: the
false-positive rate per threshold (per image, and per title with the title's most explicit image, as a strip
upload is judged by its most explicit panel), the distribution of the explicit score, the nsfw class the model
picks, and the highest-scoring titles to look at. Reports only; no targets.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # `python bench/nsfw_screen.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import ROOT, machine_note, pct, print_table, setup_env

DEFAULT_CATALOG = ROOT.parent / "shared" / "data" / "webtoons"
THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95)
EXPLICIT = ("Porn", "Hentai")


def scorer_from_backbone(batch_size: int):
    """(name, classes, fn: list of PIL panels → (n, 5) probabilities) of the pretrained model itself."""
    import numpy as np

    from ml.embedding import compiled
    from ml.preprocess import letterbox
    from ml.pretrained import CLASSES, INPUT_SIZE, load_backbone

    fn = compiled(load_backbone(), INPUT_SIZE)

    def score(panels) -> np.ndarray:
        out = []
        for start in range(0, len(panels), batch_size):
            batch = np.stack([letterbox(p, INPUT_SIZE) for p in panels[start : start + batch_size]])
            out.append(fn(batch.astype(np.float32) / 255.0)["nsfw"])
        return np.concatenate(out)

    return f"pretrained nsfwjs MobileNetV2 ({INPUT_SIZE} px, [0, 1])", CLASSES, score


def scorer_from_run(run: Path, batch_size: int):
    """The same from a run folder's serving model (its input size and pixel range, as the engine serves it)."""
    import numpy as np

    from ml.embedding import compiled
    from ml.preprocess import letterbox
    from ml.run import RunConfig, load_model

    config = RunConfig.read(run)
    size = config.input_size
    fn = compiled(load_model(run, "serving"), size)
    if "nsfw" not in fn(np.zeros((1, size, size, 3), np.float32)):
        sys.exit(f"{run}: the serving model has no nsfw output (a run without the pretrained-feature stage)")
    classes = config.nsfw_classes
    if not set(EXPLICIT) <= set(classes):
        sys.exit(f"{run}: config.json's nsfw_classes {list(classes)} does not name {' and '.join(EXPLICIT)}")

    def score(panels) -> np.ndarray:
        out = []
        for start in range(0, len(panels), batch_size):
            batch = np.stack([letterbox(p, size) for p in panels[start : start + batch_size]])
            out.append(fn(batch)["nsfw"])
        return np.concatenate(out)

    return f"serving model of {run} ({size} px)", classes, score


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/nsfw_screen.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG, help="a catalogue of safe images")
    p.add_argument("--run", type=Path, default=None, help="score with this run's serving model (its nsfw output)")
    p.add_argument("--limit", type=int, default=None, help="only the first N titles")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--top", type=int, default=8, help="highest-scoring titles to list")
    args = p.parse_args(argv)
    setup_env()
    import numpy as np

    from catalog.format import load_catalog
    from ml.train.dataset import load_title_images

    print(machine_note())
    catalog = load_catalog(args.catalog)
    titles = list(catalog.titles)[: args.limit] if args.limit else list(catalog.titles)
    started = time.perf_counter()
    images = load_title_images(catalog, titles, progress=False)
    owners = [tid for tid, panels in images.items() for _ in panels]
    panels = [panel for tid in images for panel in images[tid]]
    decoded = time.perf_counter() - started
    name, classes, score = (
        scorer_from_run(args.run.expanduser(), args.batch) if args.run else scorer_from_backbone(args.batch)
    )
    started = time.perf_counter()
    probs = np.asarray(score(panels), dtype=np.float64)
    scored = time.perf_counter() - started
    explicit = probs[:, [classes.index(c) for c in EXPLICIT]].sum(axis=1)
    per_title: dict[str, float] = {}
    for tid, x in zip(owners, explicit, strict=True):
        per_title[tid] = max(per_title.get(tid, 0.0), float(x))
    title_scores = np.array(list(per_title.values()))
    adult = {t.id for t in titles if t.adult}

    print(f"\nscorer: {name}")
    print(
        f"catalogue: {catalog.root} — {len(per_title)} titles ({len(adult & per_title.keys())} flagged adult), "
        f"{len(panels)} images/panels; decoded in {decoded:.1f} s, scored in {scored:.1f} s "
        f"({len(panels) / max(scored, 1e-9):.0f} images/s)"
    )
    rows = []
    for t in THRESHOLDS:
        hits = int((explicit >= t).sum())
        title_hits = int((title_scores >= t).sum())
        adult_hits = sum(1 for tid, x in per_title.items() if x >= t and tid in adult)
        rows.append(
            (
                f"≥ {t:.2f}",
                hits,
                f"{hits / len(explicit):.2%}",
                title_hits,
                f"{title_hits / len(title_scores):.2%}",
                adult_hits,
            )
        )
    header = ("Porn + Hentai", "images", "FP rate", "titles", "FP rate (titles)", "of them adult")
    print_table("false positives on safe covers (every hit is one)", header, rows)
    dist = [
        (label, f"{fn(explicit):.4f}", f"{fn(title_scores):.4f}")
        for label, fn in (
            ("max", np.max),
            ("p99.9", lambda v: pct(v, 99.9)),
            ("p99", lambda v: pct(v, 99)),
            ("p95", lambda v: pct(v, 95)),
            ("p50", lambda v: pct(v, 50)),
            ("mean", np.mean),
        )
    ]
    print_table("explicit score (Porn + Hentai)", ("", "per image", "per title (max)"), dist)
    top_class = np.bincount(probs.argmax(axis=1), minlength=len(classes))
    print_table(
        "the model's top class per image",
        ("class", "images", "share"),
        [(c, int(n), f"{n / len(probs):.1%}") for c, n in zip(classes, top_class, strict=True)],
    )
    worst = sorted(per_title.items(), key=lambda kv: -kv[1])[: args.top]
    by_id = {t.id: t for t in titles}
    print_table(
        f"the {len(worst)} most explicit-looking titles (look at them before moving the threshold)",
        ("title id", "explicit", "adult", "genres"),
        [(tid, f"{x:.4f}", "yes" if tid in adult else "", ", ".join(by_id[tid].genres[:2])) for tid, x in worst],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
