"""Choosing and measuring the index's title scoring (hubness correction, title-mean blend) and the title blend.

    python bench/quality.py RUN [RUN ...] [--split val|test] [--json OUT]

On each run folder's own index vectors (read back from Annoy: no re-embedding of the catalogue), for the titles of
one split of the run's own split (``val`` to choose, ``test`` to report):

- image queries, per (beta, alpha): perturbed-cover hit@1 and the calibrated similarity of that hit (p10), same-author
  hit@24 (a cover asking for other titles), the top-1 % titles' share of the answer slots (hubness);
- title queries, per blend weights (on the shipped index scoring): same-primary-genre@24, mean tag Jaccard@24,
  same-author hit@24 and the mean shown style similarity of the 24 results.

Prints one table per measure (mean ± sd over the runs). Reports only.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import setup_env

IMAGE_GRID = [(0.0, 1.0), (0.5, 1.0), (1.0, 1.0), (0.0, 0.5), (0.5, 0.75), (0.5, 0.5), (1.0, 0.5), (0.5, 0.0)]
TITLE_GRID = [(0, 0, 0), (0.3, 0.5, 0.3), (0.5, 1.0, 0.5), (1.0, 1.0, 1.0), (1.0, 2.0, 1.0), (2.0, 2.0, 2.0)]


def perturbed_queries(run: Path, config, index, ids: list[str]):
    import numpy as np

    cache = run / f"bench-perturbed-{len(ids)}-{ids[0].replace(':', '_')}.npy"
    if cache.exists():
        return np.load(cache)
    from catalog.format import load_catalog
    from ml.embedding import compiled, run_batched
    from ml.preprocess import letterbox
    from ml.run import load_model
    from ml.train.augment import eval_perturbation
    from ml.train.dataset import load_title_images

    catalog = load_catalog(config.catalog.path, require_images=True)
    wanted = set(ids)
    catalog = dataclasses.replace(catalog, titles=[t for t in catalog.titles if t.id in wanted])
    images = load_title_images(catalog, progress=False)
    rng = np.random.default_rng(0)
    arrays = np.stack([letterbox(eval_perturbation(images[t][0], rng), config.input_size) for t in ids])
    serving = compiled(load_model(run, "serving"), config.input_size)
    emb = run_batched(lambda x: serving(x)["embedding"], arrays)
    q = index.prepare(emb)
    np.save(cache, q)
    return q


def measure_run(run: Path, split: str, titles_only: bool = False, title_items: tuple[int, ...] = (4,)) -> dict:
    import numpy as np

    from catalog.format import load_catalog
    from ml.run import RunConfig
    from ml.serve.calibration import Calibration
    from ml.serve.hubness import Hubness, HubnessParams, hub_share
    from ml.serve.index import TitleIndex
    from ml.serve.ranking import Ranker
    from ml.serve.title_blend import BlendWeights

    config = RunConfig.read(run)
    base = TitleIndex.load(run)
    ids = [t for t in json.loads((run / "split.json").read_text())[split] if t in base.title_items]
    titles = load_catalog(run, check_images=False).by_id()
    owners = base.item_titles
    vectors = np.array([base.ann.get_item_vector(i) for i in range(len(owners))], np.float32)
    queries = perturbed_queries(run, config, base, ids)
    by_author: dict[str, int] = {}
    for t in base.title_items:
        for a in set(titles[t].authors):
            by_author[a] = by_author.get(a, 0) + 1

    def shares_author(a: str, b: str) -> bool:
        return bool(set(titles[a].authors) & set(titles[b].authors))

    def with_params(beta: float, alpha: float) -> TitleIndex:
        idx = TitleIndex(base.ann, owners, base.dim, None)
        params = HubnessParams(beta=beta, alpha=alpha)
        idx.hubness = None if params.identity else Hubness.fit(vectors, owners, params)
        scores = idx.hubness.block_scorer(owners) if idx.hubness else None
        idx.calibration = Calibration.fit(vectors, owners, seed=config.split_seed, title_scores=scores)
        return idx

    image = {}
    for beta, alpha in [] if titles_only else IMAGE_GRID:
        idx = with_params(beta, alpha)
        hits, reads, author_hits, author_n, answers = 0, [], 0, 0, []
        idx.query(queries[0], 24, prepared=True)  # the title-mean blend's vectors are read on first use
        started = time.perf_counter()
        for q in queries:
            idx.query(q, 24, prepared=True)
        query_ms = (time.perf_counter() - started) * 1000 / len(queries)
        for i, t in enumerate(ids):
            top = idx.query(queries[i], 1, prepared=True)
            hits += top[0].title_id == t
            reads.append(top[0].similarity if top[0].title_id == t else 0.0)
            near = idx.query(vectors[idx.title_items[t][0]], 24, exclude={t}, prepared=True)
            answers.append([h.title_id for h in near])
            if any(by_author[a] >= 2 for a in titles[t].authors):
                author_n += 1
                author_hits += any(shares_author(t, h.title_id) for h in near)
        image[f"beta={beta} alpha={alpha}"] = {
            "perturbed_hit@1": hits / len(ids),
            "near_copy_read_p10": float(np.percentile(reads, 10)),
            "same_author_hit@24": author_hits / max(1, author_n),
            "hub_share": hub_share(answers, idx.n_titles),
            "index_query_ms": query_ms,
        }
    from ml.serve.hubness import DEFAULT_PARAMS

    shipped = with_params(DEFAULT_PARAMS.beta, DEFAULT_PARAMS.alpha)
    title = {}
    grid = [(w, n) for w in TITLE_GRID for n in title_items]
    for (g, tg, au), n_items in grid:
        ranker = Ranker(shipped, titles, title_weights=BlendWeights(g, tg, au), title_query_items=n_items)
        genre, tags, author_hits, author_n, style = [], [], 0, 0, []
        for t in ids:
            src = titles[t]
            res = ranker.answer_title(src, k=24, allow_adult=True).results
            if src.primary_genre:
                genre.append(np.mean([r.title.primary_genre == src.primary_genre for r in res]))
            if src.tags:
                tags.append(
                    np.mean(
                        [len(set(src.tags) & set(r.title.tags)) / len(set(src.tags) | set(r.title.tags)) for r in res]
                    )
                )
            if any(by_author[a] >= 2 for a in src.authors):
                author_n += 1
                author_hits += any(shares_author(t, r.title.id) for r in res)
            style.append(np.mean([r.similarity for r in res]))
        name = f"genre={g} tags={tg} author={au}" + (f" items={n_items}" if len(title_items) > 1 else "")
        title[name] = {
            "same_genre@24": float(np.mean(genre)),
            "tag_jaccard@24": float(np.mean(tags)),
            "same_author@24": author_hits / max(1, author_n),
            "style_similarity": float(np.mean(style)),
        }
    return {"image": image, "title": title}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--split", default="val", choices=("val", "test"))
    p.add_argument("--json", type=Path)
    p.add_argument("--titles-only", action="store_true", help="skip the image-query grid")
    p.add_argument(
        "--title-items",
        type=int,
        nargs="+",
        default=[4],
        help="title queries: how many of the title's own images ask besides its mean (0: the mean alone; several: "
        "each one measured)",
    )
    p.add_argument("--title-grid", choices=("all", "shipped"), default="all", help="shipped: style only and 2/2/2")
    args = p.parse_args(argv)
    setup_env()
    import numpy as np

    if args.title_grid == "shipped":
        TITLE_GRID[:] = [(0, 0, 0), (2.0, 2.0, 2.0)]
    items = tuple(args.title_items)
    results = [measure_run(run, args.split, args.titles_only, items) for run in args.runs]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    for part in ("title",) if args.titles_only else ("image", "title"):
        names = list(results[0][part])
        cols = list(results[0][part][names[0]])
        print(f"\n{part} queries ({args.split}, {len(results)} runs; mean ± sd)\n")
        print("| setting | " + " | ".join(cols) + " |")
        print("|---|" + "---|" * len(cols))
        for n in names:
            cells = []
            for c in cols:
                v = [r[part][n][c] for r in results]
                cells.append(f"{np.mean(v):.3f} ± {np.std(v):.3f}")
            print(f"| {n} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
