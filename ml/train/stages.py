"""What the training stages hand each other: the training data, labelled head features, and what a backbone builder
(:mod:`ml.train.scratch`, :mod:`ml.train.frozen`) returns to the pipeline — the same :class:`Built` for either."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from catalog.format import Catalog, Title, load_catalog
from core.errors import CatalogError
from ml.preprocess import letterbox
from ml.run import MODEL_FILES
from ml.train.augment import training_view
from ml.train.dataset import Labels, build_labels, load_title_images, split_titles
from ml.train.genre_fit import VARIANTS, FittedHead, select
from ml.train.metrics import classification_metrics

MIN_TRAIN_TITLES = 8
Predict = Callable[[dict[str, np.ndarray]], np.ndarray]  # head features → class probabilities


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


def labelled_samples(images, ids, label_of, size, views: int, seed: int):
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


def image_input(size: int):
    return keras.Input((size, size, 3), name="image")


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
class FittedHeads:
    """The shipped heads, each on the configured feature family and refitted on train + val with its chosen C."""

    genre: FittedHead
    author: FittedHead  # far better than the multi-task author head where authors have a recognisable style
    genre_parts: dict  # each feature family fitted on train alone: {"val", "test", "C"} (reported)


def head_summary(head: FittedHead) -> dict:
    """The head's feature family, C and class-prior strength (with each strength's validation macro-F1)."""
    return {
        "variant": head.variant,
        "C": head.C,
        "prior": head.prior,
        "prior_val_f1": {str(k): v for k, v in head.prior_val.items()},
    }


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


@dataclass(frozen=True)
class Built:
    """What a backbone builder returns: the shipped models and heads, and what only the report reads."""

    models: ServingModels
    heads: FittedHeads
    history: list[dict] = field(default_factory=list)  # one row per training epoch (a frozen backbone has none)
    multitask_author: keras.Model | None = None  # the training-time author head (scratch only; reported)


def family_parts(
    test: LabelledFeatures | None,
    fit_family: Callable[[str], tuple[FittedHead, Predict]],
    families: tuple[str, ...] = VARIANTS,
) -> dict:
    """Each feature family's head, fitted on the training titles alone (``fit_family(name)`` → the fitted head and
    its features → probabilities), scored on the test covers: ``{family: {"val", "test", "C"}}`` for the report;
    ``{}`` without test covers."""
    if test is None:
        return {}
    parts = {}
    for name in families:
        head, predict = fit_family(name)
        pred = predict(test.features).argmax(axis=1)
        test_metrics = classification_metrics(test.labels, pred)
        parts[name] = {"val": head.val, "test": test_metrics, "C": head.C, "prior": head.prior}
    return parts
