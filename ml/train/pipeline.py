"""``train`` end to end: catalogue → split → models → genre head → run folder → index → evaluation → report."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import keras
import numpy as np

from catalog.format import load_catalog
from core.errors import CatalogError
from ml.embedding import compiled, run_batched, stack_images
from ml.layers import HorizontalFlip
from ml.preprocess import letterbox
from ml.run import CONFIG_FILE, FORMAT_VERSION, MODEL_FILES, now_iso, versions, write_json
from ml.train.augment import training_view
from ml.train.dataset import SPLIT_FRACTIONS, build_labels, load_title_images, split_titles
from ml.train.evaluate import classify, retrieval
from ml.train.genre_fit import VARIANTS, feature_model, fit_head, flip_averaged, head_layers, select, train_head
from ml.train.indexing import build_run_index
from ml.train.metrics import classification_metrics, confusion
from ml.train.models import embed_graph, paper_embedder
from ml.train.report import PAPER, write_report
from ml.train.training import TrainConfig, train_backbone, train_paper_cnn

log = logging.getLogger(__name__)
MIN_TRAIN_TITLES = 8


def _labelled_samples(images, ids, label_of, size, views: int, seed: int):
    """All images of the titles whose label (``label_of(title_id)``) is known, plus ``views`` augmented copies of
    each: (images, label indices, the title id of each row)."""
    rng = np.random.default_rng(seed)
    imgs, ys, owners = [], [], []
    for tid in ids:
        y = label_of(tid)
        if y < 0 or tid not in images:
            continue
        for img in images[tid]:
            imgs.append(letterbox(img, size))
            for _ in range(views):
                imgs.append(letterbox(training_view(img, rng), size))
            ys += [y] * (1 + views)
            owners += [tid] * (1 + views)
    return np.stack(imgs), np.array(ys), np.array(owners, dtype=object)


def train_run(catalog_dir: str | Path, out_dir: str | Path, config: TrainConfig, progress: bool = True) -> dict:
    started = time.perf_counter()
    out = Path(out_dir)
    catalog = load_catalog(catalog_dir, require_images=True)  # checked before creating OUT: bad data leaves nothing
    titles = catalog.by_id()
    images = load_title_images(catalog, progress=progress)
    split = split_titles([titles[t] for t in images], config.seed)
    labels = build_labels([titles[t] for t in split["train"]])
    if len(split["train"]) < MIN_TRAIN_TITLES:
        raise CatalogError(
            f"{catalog.root}: only {len(split['train'])} titles fall in the training split; "
            f"training needs at least {MIN_TRAIN_TITLES} (the catalogue has {len(images)} titles with readable images)"
        )
    if len(labels.genres) < 2:
        raise CatalogError(
            f"{catalog.root}: the training titles have {len(labels.genres)} primary genre(s); the genre classifier "
            "needs at least 2 (add genres to catalog.jsonl)"
        )
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "split.json", {"seed": config.seed, "fractions": list(SPLIT_FRACTIONS), **split})
    size = config.spec.input_size
    log.info(
        "%d titles (%d train / %d val / %d test), %d genres, %d authors",
        len(images),
        len(split["train"]),
        len(split["val"]),
        len(split["test"]),
        len(labels.genres),
        len(labels.authors),
    )

    part = {name: {t: images[t] for t in ids} for name, ids in split.items()}
    trainer, backbone, projection, history = train_backbone(
        config, part["train"], part["val"], titles, labels, progress
    )

    # Genre head: each feature family alone and fused, C chosen on validation macro-F1 (each reported); the
    # configured family ships, refitted on train + val with its chosen C.
    feats_fn = compiled(feature_model(backbone, size), size)
    fit_ids = split["train"] + split["val"]
    genre_of, author_of = (lambda t: labels.genre_index(titles[t])), (lambda t: labels.author_index(titles[t]))
    # One feature pass serves both heads: every image of the titles whose genre or author is known (+ views).
    x_all, _, owners = _labelled_samples(
        images, fit_ids, lambda t: max(genre_of(t), author_of(t)), size, config.genre_views, config.seed
    )
    f_all = run_batched(feats_fn, x_all, progress=progress, desc="head features")
    y_genre, y_author = np.array([genre_of(t) for t in owners]), np.array([author_of(t) for t in owners])
    has_genre = y_genre >= 0
    f_fit, y_fit = {k: v[has_genre] for k, v in f_all.items()}, y_genre[has_genre]
    in_train = np.isin(owners[has_genre], split["train"])
    evals = {}
    for name in ("val", "test"):
        ids = [t for t in split[name] if labels.genre_index(titles[t]) >= 0]
        evals[name] = (
            run_batched(feats_fn, stack_images([images[t][0] for t in ids], size)) if ids else None,
            np.array([labels.genre_index(titles[t]) for t in ids]),
        )
    n_genres = max(1, len(labels.genres))
    heads, genre_parts = {}, {}
    for variant in VARIANTS:
        fv, yv = evals["val"]
        x_variant = select(f_fit, variant)
        heads[variant] = fit_head(
            x_variant[in_train],
            y_fit[in_train],
            select(fv, variant) if fv else np.zeros((0, 1)),
            yv,
            n_genres,
            variant,
            config.seed,
        )
        ft, yt = evals["test"]
        if ft is not None:
            pred = heads[variant].predict_proba(select(ft, variant)).argmax(axis=1)
            genre_parts[variant] = {
                "val": heads[variant].val,
                "test": classification_metrics(yt, pred),
                "C": heads[variant].C,
            }
    best = config.genre_features
    shipped = train_head(select(f_fit, best), y_fit, n_genres, best, heads[best].C, config.seed)
    log.info("genre head: %s features, C=%s, refitted on %d train+val samples", best, shipped.C, len(y_fit))

    # Author classifier: the same recipe on the same features (far better than the multi-task author head where
    # authors have a recognisable style; both are reported).
    has_author = y_author >= 0
    f_a, y_a, a_owners = select(f_all, best)[has_author], y_author[has_author], owners[has_author]
    val_ids = [t for t in split["val"] if author_of(t) >= 0]
    f_val = (
        select(run_batched(feats_fn, stack_images([images[t][0] for t in val_ids], size)), best) if val_ids else None
    )
    n_authors = max(1, len(labels.authors))
    a_train = np.isin(a_owners, split["train"])
    author_c = fit_head(
        f_a[a_train],
        y_a[a_train],
        f_val if f_val is not None else np.zeros((0, 1)),
        np.array([author_of(t) for t in val_ids]),
        n_authors,
        best,
        config.seed,
    ).C
    author_head = train_head(f_a, y_a, n_authors, best, author_c, config.seed)

    # Assemble and save the models.
    inputs = keras.Input((size, size, 3), name="image")
    feats = backbone(inputs)
    flipped = backbone(HorizontalFlip()(inputs))
    embedding = embed_graph(inputs, backbone, projection, feats, flipped)
    genre = head_layers(inputs, backbone, shipped, cnn_features=flip_averaged(inputs, backbone, feats, flipped))
    serving_model = keras.Model(inputs, {"embedding": embedding, "genre": genre}, name="serving")
    serving_model.save(out / MODEL_FILES["serving"])
    e_in = keras.Input((size, size, 3), name="image")
    keras.Model(e_in, embed_graph(e_in, backbone, projection), name="embedder").save(out / MODEL_FILES["embedder"])
    g_in = keras.Input((size, size, 3), name="image")
    keras.Model(g_in, head_layers(g_in, backbone, shipped), name="genre").save(out / MODEL_FILES["genre"])
    a_in = keras.Input((size, size, 3), name="image")
    author_model = keras.Model(a_in, head_layers(a_in, backbone, author_head, name="author"), name="author")
    author_model.save(out / MODEL_FILES["author"])
    m_in = keras.Input((size, size, 3), name="image")
    multitask_author = keras.Model(m_in, keras.layers.Softmax()(trainer.get_layer("author_logits")(backbone(m_in))))

    # The paper's recipe, for the comparison table and the baseline embedding.
    x_paper, y_paper, _ = _labelled_samples(images, split["train"], genre_of, size, 0, config.seed)
    paper, paper_history = train_paper_cnn(config, x_paper, y_paper, n_genres, progress)
    paper.save(out / MODEL_FILES["paper_genre"])

    train_seconds = time.perf_counter() - started
    run_config = {
        "format": FORMAT_VERSION,
        "created_at": now_iso(),
        "input_size": size,
        "genres": list(labels.genres),
        "authors": list(labels.authors),
        "split_seed": config.seed,
        "split_file": "split.json",
        "genre_head": {"variant": best, "C": heads[best].C},
        "author_head": {"variant": best, "C": author_c},
        "n_trees": config.n_trees,
        "train": config.to_json(),
        "models": MODEL_FILES,
        "catalog": {
            "path": str(catalog.root),
            "sha256": catalog.fingerprint(),
            "n_titles": len(catalog),
            "synthetic": all(t.source == "demo" for t in catalog.titles),
        },
        "versions": versions(),
    }
    write_json(out / CONFIG_FILE, run_config)
    index_stats = build_run_index(out, catalog=catalog, title_images=images, progress=progress)

    # Test-split evaluation (genre/author on covers; retrieval of perturbed covers over the whole catalogue).
    serving = compiled(serving_model, size)
    test_titles = [titles[t] for t in split["test"]]
    covers = {t: imgs[0] for t, imgs in images.items()}
    genre_m, y_true, y_pred = classify(
        lambda x: serving(x)["genre"], test_titles, covers, list(labels.genres), lambda t: t.primary_genre, size
    )
    author_fn = compiled(author_model, size)
    author_m, _, _ = classify(author_fn, test_titles, covers, list(labels.authors), lambda t: t.first_author, size)
    multitask_m, _, _ = classify(
        compiled(multitask_author, size), test_titles, covers, list(labels.authors), lambda t: t.first_author, size
    )
    paper_fn = compiled(paper, size)
    paper_genre_m, _, _ = classify(paper_fn, test_titles, covers, list(labels.genres), lambda t: t.primary_genre, size)
    ret_ours, _, _ = retrieval(lambda x: serving(x)["embedding"], images, titles, size, config.n_trees)
    ret_paper, _, _ = retrieval(compiled(paper_embedder(paper), size), images, titles, size, config.n_trees)
    metrics = {
        "split": {k: len(v) for k, v in split.items()},
        "genre": genre_m,
        "genre_parts": genre_parts,
        "genre_head": best,
        "author": author_m,
        "author_head": {"variant": best, "C": author_c},
        "author_multitask_head": multitask_m,
        "paper_style_genre_cnn": paper_genre_m,
        "retrieval": ret_ours,
        "retrieval_paper_baseline": ret_paper,
        "index": {
            "recall@24_vs_exact": index_stats["recall@24_vs_exact"],
            "n_items": index_stats["n_items"],
            "n_trees": index_stats["n_trees"],
        },
        "paper": PAPER,
        "history": history,
        "paper_history": paper_history,
        "confusion": {
            "labels": list(labels.genres),
            "matrix": confusion(y_true, y_pred, len(labels.genres)).tolist() if len(y_true) else [],
        },
        "train_seconds": round(train_seconds, 1),
        "synthetic_catalog": run_config["catalog"]["synthetic"],
    }
    write_json(out / "metrics.json", metrics)
    write_report(out, metrics, run_config)
    return metrics
