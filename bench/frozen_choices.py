"""Choosing the frozen builder's options from one seed's features: second-order (Gram) style features on/off (and
which maps, what block weight), the genre head's class-prior correction and flip averaging of the genre head.

    python bench/frozen_choices.py --catalog ../shared/data/webtoons --seed 0 [--views N] [--quick] [--json OUT]
    python bench/frozen_choices.py --summary OUT0 OUT1 OUT2          # mean ± sd over the seeds' JSON files

For one split seed, as :func:`ml.train.frozen.build` does: the train + val images (both orientations, the
configured augmented views) through the frozen network with the ``gram`` family (feature cache, namespace of
``feature_spec(gram=True)``); then, without another backbone pass per variant:

- genre heads fitted on the training titles alone (C, and the prior strength where tried, chosen on the val covers),
  macro-F1 on the val and the test covers, plain and flip-averaged (mean of the probabilities on the cover and its
  mirror image);
- embeddings (whitening on train + val rows): same-author hit@24, top-1 % share and perturbed hit@1 of the val and
  test titles' covers, on an index of every catalogue image in both orientations with the shipped title scoring
  (``ml.serve.hubness.DEFAULT_PARAMS``).

Reports only: nothing is written but the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import setup_env

# gram variants: (name, maps kept from frozen.GRAM_LAYERS by position, block weight); None: no gram features
EMBED_VARIANTS = [
    ("fused (today)", None, 0.0),
    ("fused + gram 3 maps, w 0.5", (0, 1, 2), 0.5),
    ("fused + gram 3 maps, w 1", (0, 1, 2), 1.0),
    ("fused + gram 3 maps, w 2", (0, 1, 2), 2.0),
    ("fused + gram 28×28 map, w 1", (2,), 1.0),
    ("fused + gram 14×14 maps, w 1", (0, 1), 1.0),
]
HEAD_VARIANTS = [
    ("fused (today)", None, 0.0),
    ("fused + gram 3 maps, w 0.5", (0, 1, 2), 0.5),
    ("fused + gram 3 maps, w 1", (0, 1, 2), 1.0),
    ("fused + gram 3 maps, w 2", (0, 1, 2), 2.0),
    ("fused + gram 28×28 map, w 1", (2,), 1.0),
]


def with_gram(features: dict, maps, size: int) -> dict:
    """The features with the ``gram`` block cut to ``maps`` (positions in GRAM_LAYERS); None: no ``gram`` key."""
    import numpy as np

    out = {k: v for k, v in features.items() if k != "gram"}
    if maps is not None:
        out["gram"] = np.concatenate([features["gram"][:, i * size : (i + 1) * size] for i in maps], axis=1)
    return out


QUICK = ("fused (today)", "fused + gram 3 maps, w 1")  # --quick: today against the plainest gram variant


def measure(catalog: str, seed: int, views: int | None, only: tuple[str, ...] | None = None) -> dict:
    import numpy as np

    from ml.embedding import item_arrays, stack_images
    from ml.preprocess import letterbox
    from ml.pretrained import load_backbone
    from ml.serve import TITLES_PER_ANSWER
    from ml.serve.hubness import DEFAULT_PARAMS, hub_share
    from ml.serve.index import TitleIndex
    from ml.train import frozen, stages
    from ml.train.augment import eval_perturbation
    from ml.train.genre_fit import PRIOR_GRID
    from ml.train.metrics import classification_metrics
    from ml.train.training import TrainConfig

    started = time.perf_counter()
    config = TrainConfig(seed=seed, **({} if views is None else {"genre_views": views}))
    data = stages.load_training_data(catalog, seed, progress=False)
    backbone = load_backbone()
    extract = frozen.feature_extractor(backbone, frozen.feature_cache(backbone, gram=True), gram=True)
    size = config.input_size
    ids = data.split["train"] + data.split["val"]
    x, _, owners = stages.labelled_samples(data.images, ids, lambda t: 0, size, config.genre_views, seed)
    x = np.concatenate([x, x[:, :, ::-1]])
    owners = np.concatenate([owners, owners])
    feats = extract(x, True, desc="train + val rows")
    del x
    split_ids = {s: list(data.split[s]) for s in ("val", "test")}
    covers = {s: stack_images([data.images[t][0] for t in split_ids[s]], size) for s in split_ids}
    cover_feats = {s: extract(covers[s]) for s in split_ids}
    mirror_feats = {s: extract(covers[s][:, :, ::-1].copy()) for s in split_ids}
    items, item_owners = item_arrays(data.images, size, flips=True)
    item_feats = extract(items, True, desc="catalogue items")
    del items
    rng = np.random.default_rng(seed)
    perturbed = {
        s: extract(np.stack([letterbox(eval_perturbation(data.images[t][0], rng), size) for t in split_ids[s]]))
        for s in split_ids
    }
    gram_size = frozen.GRAM_DIM * (frozen.GRAM_DIM + 1) // 2
    extracted = time.perf_counter() - started
    result: dict = {"seed": seed, "views": config.genre_views, "extract_seconds": extracted, "genre": {}, "embed": {}}

    # ---- genre heads (fitted on the training titles alone, as the report's genre parts) ----
    labels = np.array([data.genre_of(t) for t in owners])
    train_rows = np.isin(owners, data.split["train"]) & (labels >= 0)
    cover_labels = {s: np.array([data.genre_of(t) for t in split_ids[s]]) for s in split_ids}
    for name, maps, weight in [v for v in HEAD_VARIANTS if only is None or v[0] in only]:
        family = "fused" if maps is None else "fused_gram"
        rows = {k: v[train_rows] for k, v in with_gram(feats, maps, gram_size).items()}
        known = cover_labels["val"] >= 0
        val_x = {k: v[known] for k, v in with_gram(cover_feats["val"], maps, gram_size).items()}
        for priors in ((0.0,), PRIOR_GRID):
            head = frozen.fit_frozen_head(
                rows, labels[train_rows], val_x, cover_labels["val"][known], data.n_genres, family, seed,
                priors=priors, gram_weight=weight or 1.0,
            )  # fmt: skip
            row = {"C": head.head.C, "prior": head.head.prior}
            for s in split_ids:
                ok = cover_labels[s] >= 0
                p = head.predict_proba({k: v[ok] for k, v in with_gram(cover_feats[s], maps, gram_size).items()})
                q = head.predict_proba({k: v[ok] for k, v in with_gram(mirror_feats[s], maps, gram_size).items()})
                row[f"{s}_f1"] = classification_metrics(cover_labels[s][ok], p.argmax(1))["f1"]
                row[f"{s}_f1_flip"] = classification_metrics(cover_labels[s][ok], (p + q).argmax(1))["f1"]
                counts = np.bincount(p.argmax(1), minlength=data.n_genres) / ok.sum()
                truth = np.bincount(cover_labels[s][ok], minlength=data.n_genres) / ok.sum()
                row[f"{s}_freq_l1"] = float(np.abs(counts - truth).sum())
            key = f"{name} | prior {'chosen' if len(priors) > 1 else 'off'}"
            result["genre"][key] = row
            print(key, row, flush=True)

    # ---- embeddings: same-author hit@24, hub share, perturbed hit@1 ----
    by_author = Counter(a for t in data.images for a in set(data.titles[t].authors))
    for name, maps, weight in [v for v in EMBED_VARIANTS if only is None or v[0] in only]:
        family = "fused" if maps is None else "fused_gram"
        whiten = frozen.family_whitening(with_gram(feats, maps, gram_size), family, frozen.EMBED_DIM, seed, weight or 1)

        def embed(f, whiten=whiten, family=family, maps=maps):
            from ml.train.genre_fit import select

            e = whiten(select(with_gram(f, maps, gram_size), family))
            return e / np.linalg.norm(e, axis=1, keepdims=True)

        index = TitleIndex.build(embed(item_feats), item_owners, seed=seed, hubness=DEFAULT_PARAMS)
        row = {}
        for s in split_ids:
            cover_emb, query_emb = embed(cover_feats[s]), embed(perturbed[s])
            hits = author_hits = author_n = 0
            answers = []
            for i, tid in enumerate(split_ids[s]):
                hits += [h.title_id for h in index.query(query_emb[i], 1)] == [tid]
                near = [h.title_id for h in index.query(cover_emb[i], TITLES_PER_ANSWER, exclude={tid})]
                answers.append(near)
                mine = {a for a in data.titles[tid].authors if by_author[a] >= 2}
                if mine:
                    author_n += 1
                    author_hits += any(mine & set(data.titles[h].authors) for h in near)
            row[f"{s}_perturbed_hit@1"] = hits / len(split_ids[s])
            row[f"{s}_same_author@24"] = author_hits / max(1, author_n)
            row[f"{s}_hub_share"] = hub_share(answers, index.n_titles)
        result["embed"][name] = row
        print(name, row, flush=True)
    result["seconds"] = time.perf_counter() - started
    return result


def shipped_prior(catalog: str, seed: int) -> dict:
    """The shipped genre head's recipe (whitening on train + val, C on val, refit on train + val; no gram) with
    each prior strength: val macro-F1 (as the run chooses it) and test macro-F1 of the covers."""
    import numpy as np

    from ml.pretrained import load_backbone
    from ml.train import frozen, stages
    from ml.train.genre_fit import PRIOR_GRID, prior_shift, refit_with_prior, with_prior
    from ml.train.metrics import classification_metrics
    from ml.train.training import TrainConfig

    config = TrainConfig(seed=seed)
    data = stages.load_training_data(catalog, seed, progress=False)
    backbone = load_backbone()
    extract = frozen.feature_extractor(backbone, frozen.feature_cache(backbone))
    size = config.input_size
    ids = data.split["train"] + data.split["val"]
    x, _, owners = stages.labelled_samples(data.images, ids, lambda t: 0, size, config.genre_views, seed)
    x = np.concatenate([x, x[:, :, ::-1]])
    feats = extract(x, True, desc="train + val rows")
    del x
    owners = np.concatenate([owners, owners])
    covers = {s: frozen._split_covers(extract, data, s, size) for s in ("val", "test")}
    task = frozen._HeadTask.of(data, feats, owners, covers, data.genre_of)
    chosen = task.ship("genre", data.n_genres, "fused", seed, PRIOR_GRID)  # what the run ships
    rows = task.rows
    prepared = chosen.whitening(frozen.signed_sqrt(rows.x("fused")))
    base = refit_with_prior(prepared, rows.labels, data.n_genres, replace_prior(chosen.head), seed)
    shift = prior_shift(base, prepared, rows.labels)
    result = {"seed": seed, "chosen": chosen.head.prior, "C": chosen.head.C, "by": {}}  # C is chosen before the prior
    for strength in PRIOR_GRID:
        head = frozen.FrozenHead("fused", chosen.whitening, with_prior(base, shift, strength))
        pred = head.predict_proba(task.test.features).argmax(1)
        result["by"][str(strength)] = {
            "val_f1": chosen.head.prior_val.get(strength),
            "test_f1": classification_metrics(task.test.labels, pred)["f1"],
        }
    print(json.dumps(result), flush=True)
    return result


def replace_prior(head):
    """``head``'s C with no prior strength (for refitting the uncorrected head)."""
    import dataclasses

    return dataclasses.replace(head, prior=0.0)


def summary(paths: list[Path]) -> None:
    import numpy as np

    runs = [json.loads(p.read_text()) for p in paths]
    print(f"seeds {[r['seed'] for r in runs]} (mean ± sd over {len(runs)})")
    for part in ("genre", "embed"):
        names = list(runs[0][part])
        cols = [c for c in runs[0][part][names[0]] if c not in ("C",)]
        print(f"\n| {part} variant | " + " | ".join(cols) + " |")
        print("|---|" + "---|" * len(cols))
        for name in names:
            cells = []
            for c in cols:
                v = np.array([r[part][name][c] for r in runs], dtype=float)
                cells.append(f"{v.mean():.3f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.3f}")
            print(f"| {name.replace(' | ', ', ')} | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--catalog")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--views", type=int, help="augmented views per image (default: TrainConfig's)")
    p.add_argument("--quick", action="store_true", help=f"only the variants {' and '.join(QUICK)}")
    p.add_argument("--json", type=Path, help="write the measures here")
    p.add_argument("--summary", type=Path, nargs="+", help="print mean ± sd over these JSON files instead")
    p.add_argument(
        "--shipped-prior", action="store_true", help="only the shipped genre head's test F1 at each prior strength"
    )
    args = p.parse_args(argv)
    if args.summary:
        summary(args.summary)
        return 0
    if not args.catalog:
        p.error("--catalog is required (or --summary)")
    setup_env()
    if args.shipped_prior:
        result = shipped_prior(args.catalog, args.seed)
        if args.json:
            args.json.write_text(json.dumps(result, indent=1))
        return 0
    result = measure(args.catalog, args.seed, args.views, QUICK if args.quick else None)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
