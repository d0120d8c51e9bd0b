"""Stages 2–5 with the small CNN trained from scratch (``--backbone scratch``), the builder :func:`build`:

2. :func:`train_embedding` — multi-task training (contrastive + genre + author) → :class:`TrainedBackbone`
3. :func:`extract_head_features` — one feature pass serving both heads → :class:`HeadFeatures`
4. :func:`fit_heads` — genre and author logistic-regression heads, C chosen on validation → :class:`FittedHeads`
5. :func:`assemble_serving_models` — the Keras models the run folder ships → :class:`ServingModels`
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from ml.embedding import compiled, run_batched, stack_images
from ml.layers import HorizontalFlip
from ml.train.genre_fit import (
    PRIOR_GRID,
    VARIANTS,
    FittedHead,
    feature_model,
    fit_head,
    flip_averaged,
    head_layers,
    refit_with_prior,
    select,
)
from ml.train.models import embed_graph
from ml.train.stages import (
    Built,
    FittedHeads,
    LabelledFeatures,
    ServingModels,
    TrainingData,
    family_parts,
    image_input,
    labelled_samples,
)
from ml.train.training import TrainConfig, train_backbone

log = logging.getLogger(__name__)


def build(data: TrainingData, config: TrainConfig, progress: bool = True) -> Built:
    """Train the backbone, fit the heads on its features, bake both into the serving models."""
    trained = train_embedding(data, config, progress)
    priors = PRIOR_GRID if config.genre_prior else (0.0,)
    heads = fit_heads(
        data, extract_head_features(data, trained, config, progress), config.genre_features, config.seed, priors
    )
    models = assemble_serving_models(trained, heads, config.input_size)
    return Built(models, heads, trained.history, trained.multitask_author)


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
    inputs = image_input(config.spec.input_size)
    multitask_author = keras.Model(inputs, keras.layers.Softmax()(trainer.get_layer("author_logits")(backbone(inputs))))
    return TrainedBackbone(backbone, projection, multitask_author, history)


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
    x, _, owners = labelled_samples(
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


def fit_heads(
    data: TrainingData, features: HeadFeatures, variant: str, seed: int, priors: tuple[float, ...] = (0.0,)
) -> FittedHeads:
    """Genre head: each feature family alone and fused, C chosen on validation macro-F1 (each reported); the
    ``variant`` family ships. Author classifier: the same recipe on the same features, ``variant`` only."""
    train_ids = data.split["train"]
    candidates = {v: _choose_c(features.genre, v, train_ids, data.n_genres, seed, priors) for v in VARIANTS}
    genre_parts = family_parts(
        features.genre.test, lambda v: (candidates[v], lambda f: candidates[v].predict_proba(select(f, v)))
    )
    genre = _refit(features.genre, candidates[variant], data.n_genres, seed)
    log.info(
        "genre head: %s features, C=%s, refitted on %d train+val samples",
        variant,
        genre.C,
        len(features.genre.fit.labels),
    )
    author_choice = _choose_c(features.author, variant, train_ids, data.n_authors, seed)
    return FittedHeads(genre, _refit(features.author, author_choice, data.n_authors, seed), genre_parts)


def _choose_c(
    task: HeadTask, variant: str, train_ids: list[str], n_classes: int, seed: int, priors: tuple[float, ...] = (0.0,)
) -> FittedHead:
    """Fitted on the training titles' rows with each C of the grid (then each prior strength); the best on the val
    covers wins."""
    train = task.fit.of_titles(train_ids)
    x_val, y_val = (task.val.x(variant), task.val.labels) if task.val is not None else (np.zeros((0, 1)), np.array([]))
    return fit_head(train.x(variant), train.labels, x_val, y_val, n_classes, variant, seed, priors)


def _refit(task: HeadTask, chosen: FittedHead, n_classes: int, seed: int) -> FittedHead:
    """``chosen``'s feature family, C and prior strength, fitted again on all the train + val rows."""
    return refit_with_prior(task.fit.x(chosen.variant), task.fit.labels, n_classes, chosen, seed)


def assemble_serving_models(trained: TrainedBackbone, heads: FittedHeads, size: int) -> ServingModels:
    """Bake the backbone, the projection and the fitted heads into Keras models (no scikit-learn at serving)."""
    backbone, projection = trained.backbone, trained.projection
    inputs = image_input(size)
    feats = backbone(inputs)
    flipped = backbone(HorizontalFlip()(inputs))
    embedding = embed_graph(inputs, backbone, projection, feats, flipped)
    genre = head_layers(inputs, backbone, heads.genre, cnn_features=flip_averaged(inputs, backbone, feats, flipped))
    serving = keras.Model(inputs, {"embedding": embedding, "genre": genre}, name="serving")
    e_in = image_input(size)
    embedder = keras.Model(e_in, embed_graph(e_in, backbone, projection), name="embedder")
    g_in = image_input(size)
    genre_model = keras.Model(g_in, head_layers(g_in, backbone, heads.genre), name="genre")
    a_in = image_input(size)
    author_model = keras.Model(a_in, head_layers(a_in, backbone, heads.author, name="author"), name="author")
    return ServingModels(serving, embedder, genre_model, author_model)
