"""``train`` end to end, as named stages that hand each other small result objects (:mod:`ml.train.stages`):

1. :func:`~ml.train.stages.load_training_data` — catalogue, decoded images, seeded title split, labels
2–5. the backbone's builder — features, embedding, genre and author heads, the serving models → a
   :class:`~ml.train.stages.Built`: :func:`ml.train.frozen.build` (the default: a frozen pretrained network, nothing
   trained but linear maps) or :func:`ml.train.scratch.build` (``--backbone scratch``: the small CNN trained here)
6. :func:`train_paper_baseline` — the paper's recipe, for comparison → :class:`PaperBaseline`
7. :func:`write_run_config`, then the index (:func:`ml.train.indexing.build_run_index`)
8. :func:`evaluate_on_test` — the test split → :class:`Evaluation`
9. :func:`metrics_json` → ``metrics.json`` and ``report.md``
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np

from ml.embedding import compiled
from ml.pretrained.nsfwjs import CLASSES as NSFW_CLASSES
from ml.run import MODEL_FILES, BackboneInfo, CatalogSource, RunConfig, versions, write_json
from ml.train import frozen, scratch
from ml.train.dataset import SPLIT_FRACTIONS
from ml.train.evaluate import classify, retrieval
from ml.train.indexing import build_run_index
from ml.train.metrics import confusion
from ml.train.models import paper_embedder
from ml.train.report import PAPER, write_report
from ml.train.stages import Built, FittedHeads, TrainingData, head_summary, labelled_samples, load_training_data
from ml.train.training import TrainConfig, train_paper_cnn

log = logging.getLogger(__name__)


def train_run(catalog_dir: str | Path, out_dir: str | Path, config: TrainConfig, progress: bool = True) -> dict:
    """Train on a catalogue and write a complete run folder to ``out_dir``; returns the metrics (``metrics.json``)."""
    started = time.perf_counter()
    out = Path(out_dir)
    data = load_training_data(catalog_dir, config.seed, progress)  # raises before OUT exists: bad data leaves nothing
    config, pretrained = resolve_backbone(config)
    write_split(out, data, config.seed)
    if pretrained is not None:
        built = frozen.build(data, config, pretrained.model, progress)
    else:
        built = scratch.build(data, config, progress)
    models, heads = built.models, built.heads
    models.save(out)
    paper = train_paper_baseline(data, config, progress)
    paper.model.save(out / MODEL_FILES["paper_genre"])
    train_seconds = time.perf_counter() - started

    run_config = write_run_config(out, data, heads, config, pretrained)
    index_stats = build_run_index(out, catalog=data.catalog, title_images=data.images, progress=progress)
    evaluation = evaluate_on_test(data, built, paper, config)
    metrics = metrics_json(data, built, paper, evaluation, index_stats, train_seconds, run_config)
    write_json(out / "metrics.json", metrics)
    write_report(out, metrics, run_config)
    return metrics


@dataclass(frozen=True)
class Pretrained:
    """The loaded pretrained network and where it came from (recorded in config.json)."""

    model: keras.Model
    source: dict


def resolve_backbone(config: TrainConfig) -> tuple[TrainConfig, Pretrained | None]:
    """Load the pretrained network when the config asks for it; when it is unavailable (no npm, offline, not
    fetched), fall back to the from-scratch backbone with a visible warning, recorded in the run's config."""
    if config.backbone != "pretrained":
        return config, None
    from ml.pretrained import BackboneUnavailableError, backbone_source, load_backbone

    try:
        return config, Pretrained(load_backbone(), backbone_source())
    except BackboneUnavailableError as exc:
        log.warning("pretrained backbone unavailable (%s); training the from-scratch backbone instead", exc)
        return replace(config, backbone="scratch", backbone_fallback=str(exc)), None


# ---- 1. load and split -----------------------------------------------------------------------------------------------
def write_split(out: Path, data: TrainingData, seed: int) -> None:
    """Create the run folder and record the split in it (``split.json``)."""
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "split.json", {"seed": seed, "fractions": list(SPLIT_FRACTIONS), **data.split})
    log.info(
        "%d titles (%d train / %d val / %d test), %d genres, %d authors",
        len(data.images),
        len(data.split["train"]),
        len(data.split["val"]),
        len(data.split["test"]),
        len(data.labels.genres),
        len(data.labels.authors),
    )


# ---- 6. the paper's baseline -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PaperBaseline:
    """The paper's recipe (plain CNN on the training images): a comparison row and the baseline embedding."""

    model: keras.Model
    history: list[dict]


def train_paper_baseline(data: TrainingData, config: TrainConfig, progress: bool = True) -> PaperBaseline:
    x, y, _ = labelled_samples(data.images, data.split["train"], data.genre_of, config.input_size, 0, config.seed)
    model, history = train_paper_cnn(config, x, y, data.n_genres, progress, input_size=config.input_size)
    return PaperBaseline(model, history)


# ---- 7. config.json --------------------------------------------------------------------------------------------------
def write_run_config(
    out: Path, data: TrainingData, heads: FittedHeads, config: TrainConfig, pretrained: Pretrained | None = None
) -> RunConfig:
    """``config.json``: what serving needs to know (input size, labels, models) and where the run came from."""
    catalog = data.catalog
    run_config = RunConfig(
        input_size=config.input_size,
        genres=data.labels.genres,
        authors=data.labels.authors,
        catalog=CatalogSource(
            str(catalog.root), catalog.fingerprint(), len(catalog), all(t.source == "demo" for t in catalog.titles)
        ),
        backbone=BackboneInfo(
            config.backbone, pretrained.source if pretrained is not None else None, config.backbone_fallback
        ),
        index_flips=config.index_flips,
        split_seed=config.seed,
        n_trees=config.n_trees,
        nsfw_classes=tuple(NSFW_CLASSES) if pretrained is not None else (),
        genre_head=head_summary(heads.genre),
        author_head=head_summary(heads.author),
        train=config.to_json(),
        versions=versions(),
    )
    run_config.write(out)
    return run_config


# ---- 8. test-split evaluation ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Evaluation:
    """Genre/author classification on the test titles' covers; retrieval of perturbed covers over every title."""

    genre: dict
    author: dict
    author_multitask: dict
    paper_genre: dict
    retrieval: dict
    retrieval_paper: dict
    genre_confusion: list[list[int]]  # rows: true genre, columns: predicted ([] without test covers)


def evaluate_on_test(
    data: TrainingData,
    built: Built,
    paper: PaperBaseline,
    config: TrainConfig,
) -> Evaluation:
    size = config.input_size
    models, multitask_author = built.models, built.multitask_author
    serving = compiled(models.serving, size)
    test_titles = [data.titles[t] for t in data.split["test"]]
    covers = {t: imgs[0] for t, imgs in data.images.items()}
    genres, authors = list(data.labels.genres), list(data.labels.authors)

    def genre_scores(probs_fn) -> tuple[dict, np.ndarray, np.ndarray]:
        return classify(probs_fn, test_titles, covers, genres, lambda t: t.primary_genre, size)

    def author_scores(model: keras.Model) -> dict:
        return classify(compiled(model, size), test_titles, covers, authors, lambda t: t.first_author, size)[0]

    genre, y_true, y_pred = genre_scores(lambda x: serving(x)["genre"])
    author = author_scores(models.author)
    author_multitask = author_scores(multitask_author) if multitask_author is not None else {}
    paper_genre = genre_scores(compiled(paper.model, size))[0]
    test_ids = data.split["test"]
    ours = retrieval(
        lambda x: serving(x)["embedding"],
        data.images,
        data.titles,
        size,
        config.n_trees,
        flips=config.index_flips,
        hub_queries=test_ids,
    )[0]
    paper_embed = compiled(paper_embedder(paper.model), size)  # the paper's recipe: best image, no correction
    baseline = retrieval(
        paper_embed, data.images, data.titles, size, config.n_trees, hubness=None, hub_queries=test_ids
    )[0]
    matrix = confusion(y_true, y_pred, len(genres)).tolist() if len(y_true) else []
    return Evaluation(genre, author, author_multitask, paper_genre, ours, baseline, matrix)


# ---- 9. metrics.json -------------------------------------------------------------------------------------------------
def metrics_json(
    data: TrainingData,
    built: Built,
    paper: PaperBaseline,
    evaluation: Evaluation,
    index_stats: dict,
    train_seconds: float,
    run_config: RunConfig,
) -> dict:
    """The run's ``metrics.json`` (what ``report.md`` and ``scripts.train`` read)."""
    heads = built.heads
    return {
        "split": {k: len(v) for k, v in data.split.items()},
        "genre": evaluation.genre,
        "genre_parts": heads.genre_parts,
        "genre_head": heads.genre.variant,
        "genre_prior": {"strength": heads.genre.prior, "val_f1": head_summary(heads.genre)["prior_val_f1"]},
        "author": evaluation.author,
        "author_head": head_summary(heads.author),
        "author_multitask_head": evaluation.author_multitask,
        "paper_style_genre_cnn": evaluation.paper_genre,
        "retrieval": evaluation.retrieval,
        "retrieval_paper_baseline": evaluation.retrieval_paper,
        "index": {
            "recall@24_vs_exact": index_stats["recall@24_vs_exact"],
            "n_items": index_stats["n_items"],
            "n_trees": index_stats["n_trees"],
        },
        "paper": PAPER,
        "history": built.history,
        "backbone": run_config.backbone.to_json(),
        "paper_history": paper.history,
        "confusion": {"labels": list(data.labels.genres), "matrix": evaluation.genre_confusion},
        "train_seconds": round(train_seconds, 1),
        "synthetic_catalog": run_config.catalog.synthetic,
    }
