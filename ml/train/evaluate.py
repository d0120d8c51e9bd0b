"""Evaluation: genre/author classification on covers and retrieval of perturbed covers, for any catalogue."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from catalog.format import Title, load_catalog
from ml.embedding import compiled, item_arrays, run_batched, stack_images
from ml.preprocess import letterbox
from ml.run import DEFAULT_N_TREES, RunConfig, load_model
from ml.serve import TITLES_PER_ANSWER
from ml.serve.hubness import DEFAULT_PARAMS, HubnessParams, hub_share
from ml.serve.index import TitleIndex, recall_vs_exact
from ml.train.augment import eval_perturbation
from ml.train.dataset import load_title_images
from ml.train.metrics import classification_metrics
from ml.train.refresh import titles_after_training

log = logging.getLogger(__name__)


def classify(
    probs_fn: Callable[[np.ndarray], np.ndarray],
    titles: list[Title],
    covers: dict[str, Image.Image],
    vocab: Sequence[str],
    label_of: Callable[[Title], str | None],
    size: int,
) -> tuple[dict, np.ndarray, np.ndarray]:
    """Macro P/R/F1 of ``probs_fn`` on each title's cover, over titles whose label the model knows.

    Returns (metrics incl. ``skipped``, y_true, y_pred)."""
    known = [t for t in titles if t.id in covers and label_of(t) in vocab]
    skipped = len(titles) - len(known)
    if not known:
        return {**classification_metrics([], []), "skipped": skipped}, np.array([]), np.array([])
    probs = run_batched(probs_fn, stack_images([covers[t.id] for t in known], size))
    y_true = np.array([vocab.index(label_of(t)) for t in known])
    y_pred = probs.argmax(axis=1)
    return {**classification_metrics(y_true, y_pred), "skipped": skipped}, y_true, y_pred


def retrieval(
    embed_fn: Callable[[np.ndarray], np.ndarray],
    title_images: dict[str, list[Image.Image]],
    titles: dict[str, Title],
    size: int,
    n_trees: int = DEFAULT_N_TREES,
    seed: int = 0,
    flips: bool = False,
    hubness: HubnessParams | None = DEFAULT_PARAMS,
    hub_queries: Sequence[str] | None = None,
) -> tuple[dict, TitleIndex, np.ndarray]:
    """Index every image of the titles (``flips``: and their mirror images, as the run's index does) with the
    run index's title scoring (``hubness``), query with a perturbed copy of each cover (seeded), count hits.
    The hubness measure: each cover of ``hub_queries`` (default: every title) asks for its 24 nearest other titles
    (as a cover of a title the catalogue lacks would); the share of those answer slots the most-shown 1 % of the
    catalogue's titles take.

    Returns (metrics, the index, the item embeddings it was built from)."""
    arrays, owners = item_arrays(title_images, size, flips)
    emb = run_batched(embed_fn, arrays)
    index = TitleIndex.build(emb, owners, n_trees=n_trees, seed=seed, hubness=hubness)
    rng = np.random.default_rng(seed)
    ids = sorted(title_images)
    queries = np.stack([letterbox(eval_perturbation(title_images[t][0], rng), size) for t in ids])
    q_emb = run_batched(embed_fn, queries)
    covers = emb[[index.title_items[t][0] for t in ids]]  # each title's first item is its cover, already embedded
    by_author = Counter(a for t in ids for a in set(titles[t].authors))
    hit1 = hit24 = author_hits = author_n = 0
    k = min(TITLES_PER_ANSWER, index.n_titles)
    hub_set = set(ids if hub_queries is None else hub_queries)
    hub_answers = []
    for i, tid in enumerate(ids):
        ranked = [h.title_id for h in index.query(q_emb[i], k)]
        hit1 += ranked[:1] == [tid]
        hit24 += tid in ranked
        mine = {a for a in titles[tid].authors if by_author[a] >= 2}
        near = index.query(covers[i], k, exclude={tid}) if mine or tid in hub_set else []
        if tid in hub_set:
            hub_answers.append([h.title_id for h in near])
        if mine:
            author_n += 1
            author_hits += any(mine & set(titles[h.title_id].authors) for h in near)
    metrics = {  # "@24" in the key names (the metrics.json contract) is TITLES_PER_ANSWER, the titles of one answer
        "perturbed_hit@1": hit1 / len(ids),
        "perturbed_hit@24": hit24 / len(ids),
        "same_author_hit@24": author_hits / author_n if author_n else None,
        "n_queries": len(ids),
        "n_same_author_queries": author_n,
        "hub_share@24_top1%": hub_share(hub_answers, index.n_titles) if hub_answers else None,
        "n_hub_queries": len(hub_answers),
    }
    return metrics, index, emb


def evaluate_catalog(
    run_dir: str | Path, catalog_dir: str | Path, *, baseline: bool = False, progress: bool = True
) -> dict:
    """The ``scripts.evaluate`` contract; reads the run, never writes into it."""
    config = RunConfig.read(run_dir)
    size = config.input_size
    catalog = load_catalog(catalog_dir, require_images=True)
    images = load_title_images(catalog, progress=progress)
    titles = catalog.by_id()
    covers = {t: imgs[0] for t, imgs in images.items()}
    serving = compiled(load_model(run_dir, "serving"), size)
    author_fn = compiled(load_model(run_dir, "author"), size)
    listed = list(catalog.titles)
    genre, _, _ = classify(
        lambda x: serving(x)["genre"], listed, covers, config.genres, lambda t: t.primary_genre, size
    )
    author, _, _ = classify(author_fn, listed, covers, config.authors, lambda t: t.first_author, size)
    n_trees, flips = config.n_trees, config.index_flips
    ret, index, emb = retrieval(lambda x: serving(x)["embedding"], images, titles, size, n_trees, flips=flips)
    result = {
        "genre": genre,
        "author": author,
        "retrieval": ret,
        "index": {"recall@24_vs_exact": recall_vs_exact(index, emb, TITLES_PER_ANSWER)},
        # titles the heads were never fitted on (added by scripts.refresh, or another catalogue altogether)
        "titles_after_training": titles_after_training(Path(run_dir), {t.id for t in listed if t.removed is None}),
    }
    if baseline:
        paper = load_model(run_dir, "paper_genre")
        from ml.train.models import paper_embedder

        base_fn = compiled(paper_embedder(paper), size)
        result["retrieval_paper_baseline"], _, _ = retrieval(base_fn, images, titles, size, n_trees)
    return result
