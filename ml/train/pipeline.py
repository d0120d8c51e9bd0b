"""``train`` end to end, as named stages that hand each other small result objects:

1. :func:`load_training_data` — catalogue, decoded images, seeded title split, labels → :class:`TrainingData`
2. :func:`train_embedding` — the from-scratch multi-task backbone → :class:`TrainedBackbone`
3. :func:`extract_head_features` — one feature pass serving both heads → :class:`HeadFeatures`
4. :func:`fit_heads` — genre and author logistic-regression heads, C chosen on validation → :class:`FittedHeads`
5. :func:`assemble_serving_models` — the Keras models the run folder ships → :class:`ServingModels`
6. :func:`train_paper_baseline` — the paper's recipe, for comparison → :class:`PaperBaseline`
7. :func:`write_run_config`, then the index (:func:`ml.train.indexing.build_run_index`)
8. :func:`evaluate_on_test` — the test split → :class:`Evaluation`
9. :func:`metrics_json` → ``metrics.json`` and ``report.md``

Stages 3–9 need only a :class:`TrainedBackbone` (an image → features model and a features → embedding projection), so
another way of producing the features and the embedding can stand in for stage 2.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from catalog.format import Catalog, Title, load_catalog
from core.errors import CatalogError
from ml.embedding import compiled, run_batched, stack_images
from ml.layers import HorizontalFlip
from ml.preprocess import letterbox
from ml.pretrained.nsfwjs import CLASSES as NSFW_CLASSES
from ml.run import MODEL_FILES, BackboneInfo, CatalogSource, RunConfig, versions, write_json
from ml.train import frozen
from ml.train.augment import training_view
from ml.train.dataset import SPLIT_FRACTIONS, Labels, build_labels, load_title_images, split_titles
from ml.train.evaluate import classify, retrieval
from ml.train.genre_fit import (
    VARIANTS,
    FittedHead,
    feature_model,
    fit_head,
    flip_averaged,
    head_layers,
    select,
    train_head,
)
from ml.train.indexing import build_run_index
from ml.train.metrics import classification_metrics, confusion
from ml.train.models import embed_graph, paper_embedder
from ml.train.report import PAPER, write_report
from ml.train.training import TrainConfig, train_backbone, train_paper_cnn

log = logging.getLogger(__name__)
MIN_TRAIN_TITLES = 8


def train_run(catalog_dir: str | Path, out_dir: str | Path, config: TrainConfig, progress: bool = True) -> dict:
    """Train on a catalogue and write a complete run folder to ``out_dir``; returns the metrics (``metrics.json``)."""
    started = time.perf_counter()
    out = Path(out_dir)
    data = load_training_data(catalog_dir, config.seed, progress)  # raises before OUT exists: bad data leaves nothing
    config, pretrained = resolve_backbone(config)
    write_split(out, data, config.seed)
    if pretrained is not None:
        models, heads = build_from_pretrained(data, config, pretrained.model, progress)
        history, multitask_author = [], None
    else:
        trained = train_embedding(data, config, progress)
        head_features = extract_head_features(data, trained, config, progress)
        heads = fit_heads(data, head_features, config.genre_features, config.seed)
        models = assemble_serving_models(trained, heads, config.input_size)
        history, multitask_author = trained.history, trained.multitask_author
    models.save(out)
    paper = train_paper_baseline(data, config, progress)
    paper.model.save(out / MODEL_FILES["paper_genre"])
    train_seconds = time.perf_counter() - started

    run_config = write_run_config(out, data, heads, config, pretrained)
    index_stats = build_run_index(out, catalog=data.catalog, title_images=data.images, progress=progress)
    evaluation = evaluate_on_test(data, models, multitask_author, paper, config)
    metrics = metrics_json(data, history, heads, paper, evaluation, index_stats, train_seconds, run_config)
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
@dataclass(frozen=True)
class TrainingData:
    """A catalogue ready for training: its decoded images, the seeded title split and the label vocabularies."""

    catalog: Catalog
    titles: dict[str, Title]  # every catalogue title by id
    images: dict[str, list[Image.Image]]  # title id → decoded panels (titles without a readable image left out)
    split: dict[str, list[str]]  # "train" / "val" / "test" → title ids
    labels: Labels  # genre and author vocabularies of the training titles

    @property
    def n_genres(self) -> int:
        return max(1, len(self.labels.genres))

    @property
    def n_authors(self) -> int:
        return max(1, len(self.labels.authors))

    def genre_of(self, title_id: str) -> int:
        """The title's primary-genre index, -1 when the genre is not in the vocabulary."""
        return self.labels.genre_index(self.titles[title_id])

    def author_of(self, title_id: str) -> int:
        """The title's first-author index, -1 when the author is not in the vocabulary."""
        return self.labels.author_index(self.titles[title_id])

    def images_of(self, split_name: str) -> dict[str, list[Image.Image]]:
        return {t: self.images[t] for t in self.split[split_name]}


def load_training_data(catalog_dir: str | Path, seed: int, progress: bool = True) -> TrainingData:
    """Load and check the catalogue, decode its images, split its titles (seeded) and build the label vocabularies.
    Raises :class:`CatalogError` when the catalogue is too small to train on."""
    catalog = load_catalog(catalog_dir, require_images=True)
    titles = catalog.by_id()
    images = load_title_images(catalog, progress=progress)
    split = split_titles([titles[t] for t in images], seed)
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
    return TrainingData(catalog, titles, images, split, labels)


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


# ---- 2. the backbone: image → features → embedding -------------------------------------------------------------------
@dataclass(frozen=True)
class TrainedBackbone:
    """What the later stages take from training. ``backbone`` maps an image to a feature vector (the CNN features of
    the heads) and ``projection`` maps those features to the embedding (flip-averaged and L2-normalised by
    :func:`ml.train.models.embed_graph`)."""

    backbone: keras.Model
    projection: keras.Model
    multitask_author: keras.Model  # image → author probabilities from the training-time author head (reported only)
    history: list[dict]  # one row per epoch (losses, validation probes)


def train_embedding(data: TrainingData, config: TrainConfig, progress: bool = True) -> TrainedBackbone:
    """The from-scratch backbone: multi-task training (supervised contrastive + genre + author) on the training
    titles, probed on the validation titles after each epoch."""
    trainer, backbone, projection, history = train_backbone(
        config, data.images_of("train"), data.images_of("val"), data.titles, data.labels, progress
    )
    inputs = _image_input(config.spec.input_size)
    multitask_author = keras.Model(inputs, keras.layers.Softmax()(trainer.get_layer("author_logits")(backbone(inputs))))
    return TrainedBackbone(backbone, projection, multitask_author, history)


def _image_input(size: int):
    return keras.Input((size, size, 3), name="image")


# ---- 3. head features ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelledFeatures:
    """Head features, one row per image: the ``"cnn"`` and ``"handcrafted"`` families (see
    :func:`ml.train.genre_fit.select`), the label index of each row and the title it comes from."""

    features: dict[str, np.ndarray]
    labels: np.ndarray
    owners: np.ndarray

    def x(self, variant: str) -> np.ndarray:
        return select(self.features, variant)

    def known(self) -> LabelledFeatures:
        return self._rows(self.labels >= 0)

    def of_titles(self, title_ids: list[str]) -> LabelledFeatures:
        return self._rows(np.isin(self.owners, title_ids))

    def _rows(self, keep: np.ndarray) -> LabelledFeatures:
        return LabelledFeatures({k: v[keep] for k, v in self.features.items()}, self.labels[keep], self.owners[keep])


@dataclass(frozen=True)
class HeadTask:
    """What one head is fitted and judged on (only titles whose label is known)."""

    fit: LabelledFeatures  # every image of the train + val titles, plus augmented views
    val: LabelledFeatures | None  # the val titles' covers, for choosing C (None: no such title)
    test: LabelledFeatures | None  # the test titles' covers, for reporting each feature family (None: not needed)


@dataclass(frozen=True)
class HeadFeatures:
    genre: HeadTask
    author: HeadTask


def extract_head_features(
    data: TrainingData, trained: TrainedBackbone, config: TrainConfig, progress: bool = True
) -> HeadFeatures:
    """Flip-averaged CNN features and hand-crafted features of the train + val images: one pass serves both heads
    (every image of the titles whose genre or author is known, plus ``config.genre_views`` augmented views)."""
    size = config.spec.input_size
    extract = compiled(feature_model(trained.backbone, size), size)
    x, _, owners = _labelled_samples(
        data.images,
        data.split["train"] + data.split["val"],
        lambda t: max(data.genre_of(t), data.author_of(t)),
        size,
        config.genre_views,
        config.seed,
    )
    features = run_batched(extract, x, progress=progress, desc="head features")

    def task(label_of: Callable[[str], int], with_test: bool) -> HeadTask:
        fit = LabelledFeatures(features, np.array([label_of(t) for t in owners]), owners).known()
        val = _cover_features(extract, data, "val", label_of, size)
        return HeadTask(fit, val, _cover_features(extract, data, "test", label_of, size) if with_test else None)

    return HeadFeatures(genre=task(data.genre_of, with_test=True), author=task(data.author_of, with_test=False))


def _cover_features(extract, data: TrainingData, split_name: str, label_of, size: int) -> LabelledFeatures | None:
    ids = [t for t in data.split[split_name] if label_of(t) >= 0]
    if not ids:
        return None
    features = run_batched(extract, stack_images([data.images[t][0] for t in ids], size))
    return LabelledFeatures(features, np.array([label_of(t) for t in ids]), np.array(ids, dtype=object))


# ---- 4. heads --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FittedHeads:
    """The shipped heads, each on the configured feature family and refitted on train + val with its chosen C."""

    genre: FittedHead
    author: FittedHead  # far better than the multi-task author head where authors have a recognisable style
    genre_parts: dict  # each feature family fitted on train alone: {"val", "test", "C"} (reported)


def fit_heads(data: TrainingData, features: HeadFeatures, variant: str, seed: int) -> FittedHeads:
    """Genre head: each feature family alone and fused, C chosen on validation macro-F1 (each reported); the
    ``variant`` family ships. Author classifier: the same recipe on the same features, ``variant`` only."""
    train_ids = data.split["train"]
    candidates = {v: _choose_c(features.genre, v, train_ids, data.n_genres, seed) for v in VARIANTS}
    test = features.genre.test
    genre_parts = {}
    if test is not None:
        for v, head in candidates.items():
            pred = head.predict_proba(test.x(v)).argmax(axis=1)
            genre_parts[v] = {"val": head.val, "test": classification_metrics(test.labels, pred), "C": head.C}
    genre = _refit(features.genre, candidates[variant], data.n_genres, seed)
    log.info(
        "genre head: %s features, C=%s, refitted on %d train+val samples",
        variant,
        genre.C,
        len(features.genre.fit.labels),
    )
    author_choice = _choose_c(features.author, variant, train_ids, data.n_authors, seed)
    return FittedHeads(genre, _refit(features.author, author_choice, data.n_authors, seed), genre_parts)


def _choose_c(task: HeadTask, variant: str, train_ids: list[str], n_classes: int, seed: int) -> FittedHead:
    """Fitted on the training titles' rows with each C of the grid; the best on the val covers wins."""
    train = task.fit.of_titles(train_ids)
    x_val, y_val = (task.val.x(variant), task.val.labels) if task.val is not None else (np.zeros((0, 1)), np.array([]))
    return fit_head(train.x(variant), train.labels, x_val, y_val, n_classes, variant, seed)


def _refit(task: HeadTask, chosen: FittedHead, n_classes: int, seed: int) -> FittedHead:
    """``chosen``'s feature family and C, fitted again on all the train + val rows."""
    return train_head(task.fit.x(chosen.variant), task.fit.labels, n_classes, chosen.variant, chosen.C, seed)


def head_summary(head: FittedHead) -> dict:
    return {"variant": head.variant, "C": head.C}


# ---- 5. serving models -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServingModels:
    """The models the run folder ships (file names in :data:`ml.run.MODEL_FILES`)."""

    serving: keras.Model  # {"embedding", "genre"}: the backbone runs once per orientation for both
    embedder: keras.Model
    genre: keras.Model
    author: keras.Model

    def save(self, out: Path) -> None:
        for name in ("serving", "embedder", "genre", "author"):
            getattr(self, name).save(out / MODEL_FILES[name])


def assemble_serving_models(trained: TrainedBackbone, heads: FittedHeads, size: int) -> ServingModels:
    """Bake the backbone, the projection and the fitted heads into Keras models (no scikit-learn at serving)."""
    backbone, projection = trained.backbone, trained.projection
    inputs = _image_input(size)
    feats = backbone(inputs)
    flipped = backbone(HorizontalFlip()(inputs))
    embedding = embed_graph(inputs, backbone, projection, feats, flipped)
    genre = head_layers(inputs, backbone, heads.genre, cnn_features=flip_averaged(inputs, backbone, feats, flipped))
    serving = keras.Model(inputs, {"embedding": embedding, "genre": genre}, name="serving")
    e_in = _image_input(size)
    embedder = keras.Model(e_in, embed_graph(e_in, backbone, projection), name="embedder")
    g_in = _image_input(size)
    genre_model = keras.Model(g_in, head_layers(g_in, backbone, heads.genre), name="genre")
    a_in = _image_input(size)
    author_model = keras.Model(a_in, head_layers(a_in, backbone, heads.author, name="author"), name="author")
    return ServingModels(serving, embedder, genre_model, author_model)


# ---- 2–5 with a pretrained network (instead of 2–5 above) ------------------------------------------------------------
def build_from_pretrained(
    data: TrainingData, config: TrainConfig, backbone: keras.Model, progress: bool = True
) -> tuple[ServingModels, FittedHeads]:
    """Frozen pretrained features (:mod:`ml.train.frozen`): one feature pass over the train + val images in both
    orientations plus ``config.genre_views`` augmented views; the embedding's whitening and both heads are fitted on
    those rows, each head's C chosen on the validation covers."""
    size = config.input_size
    ids = data.split["train"] + data.split["val"]
    x, _, owners = _labelled_samples(data.images, ids, lambda t: 0, size, config.genre_views, config.seed)
    x = np.concatenate([x, x[:, :, ::-1]])
    owners = np.concatenate([owners, owners])
    extract = frozen.feature_extractor(backbone)
    feats = extract(x, progress, desc="pretrained features")
    del x
    embedding = frozen.fit_whitening(select(feats, "fused"), frozen.EMBED_DIM, config.seed)
    covers = {s: _pretrained_covers(extract, data, s, size) for s in ("val", "test")}
    genre, genre_parts = _pretrained_head(data, feats, owners, covers, data.genre_of, data.n_genres, config, True)
    author, _ = _pretrained_head(data, feats, owners, covers, data.author_of, data.n_authors, config, False)
    inputs = _image_input(size)
    out = frozen.serving_graph(inputs, backbone, embedding, {"genre": genre, "author": author})
    serving = keras.Model(inputs, {k: out[k] for k in ("embedding", "genre", "nsfw")}, name="serving")
    models = ServingModels(
        serving,
        keras.Model(inputs, out["embedding"], name="embedder"),
        keras.Model(inputs, out["genre"], name="genre"),
        keras.Model(inputs, out["author"], name="author"),
    )
    heads = FittedHeads(genre.head, author.head, genre_parts)  # each FittedHead's variant is its feature family
    return models, heads


def _pretrained_covers(extract, data: TrainingData, split_name: str, size: int) -> tuple[list[str], dict] | None:
    ids = list(data.split[split_name])
    if not ids:
        return None
    return ids, extract(stack_images([data.images[t][0] for t in ids], size))


def _pretrained_head(data, feats, owners, covers, label_of, n_classes, config, report_families: bool):
    """The shipped head (``config.genre_features`` family, refitted on train + val with the C chosen on the val
    covers) and, with ``report_families``, each family fitted on train alone and scored on the test covers."""
    rows = LabelledFeatures(feats, np.array([label_of(t) for t in owners]), owners).known()
    train = rows.of_titles(data.split["train"])
    val = _known_covers(covers["val"], label_of)
    test = _known_covers(covers["test"], label_of)
    val_x, val_y = (val.features, val.labels) if val is not None else (None, np.array([], dtype=int))
    parts = {}
    if report_families and test is not None:
        for name in VARIANTS:
            head = frozen.fit_frozen_head(train.features, train.labels, val_x, val_y, n_classes, name, config.seed)
            pred = head.predict_proba(test.features).argmax(axis=1)
            parts[name] = {"val": head.head.val, "test": classification_metrics(test.labels, pred), "C": head.head.C}
    shipped = frozen.fit_frozen_head(
        train.features,
        train.labels,
        val_x,
        val_y,
        n_classes,
        config.genre_features,
        config.seed,
        refit=(rows.features, rows.labels),
    )
    log.info(
        "pretrained %s head: C=%s, val macro-F1 %.3f",
        "genre" if report_families else "author",
        shipped.head.C,
        shipped.head.val.get("f1") or 0.0,
    )
    return shipped, parts


def _known_covers(covers: tuple[list[str], dict] | None, label_of) -> LabelledFeatures | None:
    """The covers' features whose label is known (None: no covers, or none labelled)."""
    if covers is None:
        return None
    ids, features = covers
    known = LabelledFeatures(features, np.array([label_of(t) for t in ids]), np.array(ids, dtype=object)).known()
    return known if len(known.labels) else None


# ---- 6. the paper's baseline -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PaperBaseline:
    """The paper's recipe (plain CNN on the training images): a comparison row and the baseline embedding."""

    model: keras.Model
    history: list[dict]


def train_paper_baseline(data: TrainingData, config: TrainConfig, progress: bool = True) -> PaperBaseline:
    x, y, _ = _labelled_samples(data.images, data.split["train"], data.genre_of, config.input_size, 0, config.seed)
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
    models: ServingModels,
    multitask_author: keras.Model | None,
    paper: PaperBaseline,
    config: TrainConfig,
) -> Evaluation:
    size = config.input_size
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
    ours = retrieval(
        lambda x: serving(x)["embedding"], data.images, data.titles, size, config.n_trees, flips=config.index_flips
    )[0]
    baseline = retrieval(compiled(paper_embedder(paper.model), size), data.images, data.titles, size, config.n_trees)[0]
    matrix = confusion(y_true, y_pred, len(genres)).tolist() if len(y_true) else []
    return Evaluation(genre, author, author_multitask, paper_genre, ours, baseline, matrix)


# ---- 9. metrics.json -------------------------------------------------------------------------------------------------
def metrics_json(
    data: TrainingData,
    history: list[dict],
    heads: FittedHeads,
    paper: PaperBaseline,
    evaluation: Evaluation,
    index_stats: dict,
    train_seconds: float,
    run_config: RunConfig,
) -> dict:
    """The run's ``metrics.json`` (what ``report.md`` and ``scripts.train`` read)."""
    return {
        "split": {k: len(v) for k, v in data.split.items()},
        "genre": evaluation.genre,
        "genre_parts": heads.genre_parts,
        "genre_head": heads.genre.variant,
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
        "history": history,
        "backbone": run_config.backbone.to_json(),
        "paper_history": paper.history,
        "confusion": {"labels": list(data.labels.genres), "matrix": evaluation.genre_confusion},
        "train_seconds": round(train_seconds, 1),
        "synthetic_catalog": run_config.catalog.synthetic,
    }
