"""What the shown similarity and the "no close match" / "not a drawing" notes look like on a real run.

    python bench/calibration.py --run RUN [--limit N]

Groups of queries, each scored by the run's serving engine exactly as the bot answers (calibrated similarity of the
best title, and of the 24th; the Drawing + Hentai probability of the model's nsfw output):

- near-copy: a catalogue cover cropped, rescaled and re-encoded (``eval_perturbation``) — its own title is indexed;
- unseen title: an item's closest *other* title (leave-its-title-out over the index: a title the catalogue lacks);
- same author: the best item-pair similarity between two titles of one author;
- random pair: two items of different titles;
- not a webtoon: drawn photos-like pictures (noise, smooth colour fields, blank, rendered text).

Printed: p10 / p50 / p90 per group, the share of each group the low-confidence threshold flags, and the
false-alarm rate of the not-a-drawing rule on the catalogue's covers. Reports only; no targets.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

if __package__ in (None, ""):  # `python bench/calibration.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import machine_note, pct, print_table, resolve_run, setup_env


def not_webtoon_pictures(n: int, seed: int = 1):
    """(kind, image) of pictures that are not drawings."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    for i in range(n):
        yield "noise", Image.fromarray(rng.integers(0, 255, (300, 300, 3), dtype=np.uint8))
        yield "blank", Image.new("RGB", (300, 300), tuple(int(x) for x in rng.integers(0, 255, 3)))
        page = Image.new("RGB", (400, 300), "white")
        draw = ImageDraw.Draw(page)
        for y in range(10, 290, 18):
            draw.text((10, y), f"Lorem ipsum dolor sit amet {y * (i + 1)}", fill="black")
        yield "text", page
        z = rng.normal(size=(12, 12, 3))
        field = ((z - z.min()) / (z.max() - z.min()) * 255).astype(np.uint8)
        yield "smooth", Image.fromarray(field).resize((320, 240), Image.BICUBIC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=200, help="covers perturbed / screened (default 200)")
    args = parser.parse_args(argv)
    setup_env()
    import numpy as np
    from PIL import Image

    from core.settings import DiscordSettings, ServingSettings
    from ml.serve.engine import Engine
    from ml.serve.results import UploadScreen
    from ml.train.augment import eval_perturbation

    run = resolve_run(args.run)
    engine = Engine.load(run)
    index = engine.index
    threshold = ServingSettings().low_confidence_threshold
    drawing_threshold = DiscordSettings().not_drawing_threshold
    rng = np.random.default_rng(0)

    def query(img: Image.Image):
        buf = io.BytesIO()
        img.convert("RGB").save(buf, "PNG")
        answer = engine.similar(buf.getvalue(), allow_adult=True)
        drawn = answer.screen.drawn if answer.screen is not None else float("nan")
        return answer.results[0].similarity, answer.results[-1].similarity, drawn

    covers = [t for t in sorted(engine.titles.values(), key=lambda t: t.id) if t.cover]
    rng.shuffle(covers)
    groups: dict[str, list[tuple[float, float, float]]] = {"near-copy": []}
    for t in covers[: args.limit]:
        groups["near-copy"].append(query(eval_perturbation(Image.open(t.cover).convert("RGB"), rng)))
    for kind, img in not_webtoon_pictures(max(3, args.limit // 20)):
        groups.setdefault(f"not a webtoon: {kind}", []).append(query(img))

    vectors = np.array([index.ann.get_item_vector(i) for i in range(len(index.item_titles))], np.float32)
    titles = np.array(index.item_titles)
    picks = rng.choice(len(titles), size=min(1000, len(titles)), replace=False)
    sims = vectors[picks] @ vectors.T
    sims[titles[picks][:, None] == titles[None, :]] = -np.inf
    unseen = index.similarity(sims.max(axis=1))
    a, b = rng.integers(0, len(titles), 5000), rng.integers(0, len(titles), 5000)
    other = titles[a] != titles[b]
    random_pairs = index.similarity(np.einsum("ij,ij->i", vectors[a[other]], vectors[b[other]]))
    by_author: dict[str, set[str]] = {}
    for t in engine.titles.values():
        for name in t.authors:
            by_author.setdefault(name, set()).add(t.id)
    rows_of = {t: np.flatnonzero(titles == t) for t in set(index.item_titles)}
    same_author = []
    for ids in by_author.values():
        ids = sorted(i for i in ids if i in rows_of)
        for x, y in zip(ids, ids[1:], strict=False):
            same_author.append(float((vectors[rows_of[x]] @ vectors[rows_of[y]].T).max()))
    same_author = index.similarity(np.array(same_author)) if same_author else np.zeros(0)

    rows = []
    for name, values in groups.items():
        best = [v[0] for v in values]
        rows.append(
            [
                name,
                len(values),
                *(f"{pct(best, q):.2f}" for q in (10, 50, 90)),
                f"{np.mean(np.array(best) < threshold):.0%}",
            ]
        )
    for name, values in (("unseen title (best)", unseen), ("same author", same_author), ("random pair", random_pairs)):
        if len(values):
            rows.append(
                [
                    name,
                    len(values),
                    *(f"{pct(values, q):.2f}" for q in (10, 50, 90)),
                    f"{np.mean(values < threshold):.0%}",
                ]
            )
    print_table(
        f"calibrated similarity of the best title ({run.name}; flagged: < {threshold:.2f})",
        ["group", "n", "p10", "p50", "p90", "flagged"],
        rows,
    )
    if engine.screens_uploads:
        drawn_covers = []
        for t in covers[: args.limit]:
            panels, _ = engine.prepare(t.cover)
            drawn_covers.append(UploadScreen.of_panels(engine.run_model(panels).nsfw, engine.nsfw_classes).drawn)
        drawn_rows = [["shared covers", len(drawn_covers), *(f"{pct(drawn_covers, q):.2f}" for q in (1, 10, 50))]]
        for name, values in groups.items():
            if name.startswith("not"):
                drawn_rows.append([name, len(values), *(f"{pct([v[2] for v in values], q):.2f}" for q in (1, 10, 50))])
        print_table("Drawing + Hentai probability", ["group", "n", "p1", "p10", "p50"], drawn_rows)
        rates = [[f"{t:.2f}", f"{np.mean(np.array(drawn_covers) < t):.1%}"] for t in (0.02, 0.05, 0.1, 0.2)]
        print_table("not-a-drawing false alarms on shared covers", ["threshold", "covers flagged"], rates)
        print(f"not-a-drawing threshold in use: {drawing_threshold:.2f}")
    print(machine_note())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
