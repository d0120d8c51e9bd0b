"""The from-scratch builder's heads stage on toy features: candidates per family, refit on train + val, reporting."""

from __future__ import annotations

import numpy as np

from ml.train.dataset import Labels
from ml.train.genre_fit import VARIANTS, train_head
from ml.train.scratch import HeadFeatures, HeadTask, fit_heads
from ml.train.stages import FittedHeads, LabelledFeatures, TrainingData

TRAIN, VAL, TEST = ["a", "b", "c", "d", "e", "f"], ["g", "h", "i"], ["j", "k", "l"]


def rows(ids: list[str], per_title: int, labels: dict[str, int], seed: int) -> LabelledFeatures:
    """``per_title`` feature rows per title; the label's axis is shifted so the classes are learnable."""
    rng = np.random.default_rng(seed)
    owners = np.array([t for t in ids for _ in range(per_title)], dtype=object)
    y = np.array([labels[t] for t in owners])
    cnn = rng.normal(size=(len(owners), 4))
    cnn[np.arange(len(owners)), y] += 3.0
    handcrafted = rng.normal(size=(len(owners), 3))
    return LabelledFeatures({"cnn": cnn, "handcrafted": handcrafted}, y, owners)


def toy():
    ids = TRAIN + VAL + TEST
    genre = {t: i % 3 for i, t in enumerate(ids)}
    author = {t: i % 2 for i, t in enumerate(ids)}
    data = TrainingData(
        catalog=None,  # the heads stage reads only the split and the label vocabularies
        titles={},
        images={},
        split={"train": TRAIN, "val": VAL, "test": TEST},
        labels=Labels(genres=("action", "drama", "romance"), authors=("Kim", "Lee")),
    )
    features = HeadFeatures(
        genre=HeadTask(rows(TRAIN + VAL, 4, genre, 0), rows(VAL, 1, genre, 1), rows(TEST, 1, genre, 2)),
        author=HeadTask(rows(TRAIN + VAL, 4, author, 3), rows(VAL, 1, author, 4), None),
    )
    return data, features


def test_labelled_features_filter_rows_together():
    f = LabelledFeatures({"cnn": np.arange(8).reshape(4, 2)}, np.array([0, -1, 1, 2]), np.array(list("abca")))
    known = f.known()
    assert known.labels.tolist() == [0, 1, 2] and known.owners.tolist() == ["a", "c", "a"]
    assert known.features["cnn"].tolist() == [[0, 1], [4, 5], [6, 7]]
    of_a = f.of_titles(["a"])
    assert of_a.labels.tolist() == [0, 2] and of_a.x("cnn").tolist() == [[0, 1], [6, 7]]


def test_fit_heads_ships_the_configured_family_refitted_on_train_and_val():
    data, features = toy()
    heads = fit_heads(data, features, "fused", seed=0)
    assert isinstance(heads, FittedHeads)
    assert heads.genre.variant == heads.author.variant == "fused"
    assert heads.genre.weights.shape == (7, 3) and heads.author.weights.shape == (7, 2)
    assert list(heads.genre_parts) == list(VARIANTS)
    for part in heads.genre_parts.values():
        assert set(part) == {"val", "test", "C", "prior"} and part["test"]["n"] == len(TEST)
        assert part["prior"] == 0.0  # fit_heads' default: no class-prior correction
    # the shipped head is the C chosen for its family on validation, fitted again on all train + val rows
    assert heads.genre_parts["fused"]["C"] == heads.genre.C
    fit = features.genre.fit
    again = train_head(fit.x("fused"), fit.labels, 3, "fused", heads.genre.C, 0)
    np.testing.assert_allclose(heads.genre.weights, again.weights)
    np.testing.assert_allclose(heads.genre.mean, fit.x("fused").mean(axis=0))  # standardised over train + val


def test_without_test_covers_nothing_is_reported_per_family():
    data, features = toy()
    no_test = HeadFeatures(HeadTask(features.genre.fit, features.genre.val, None), features.author)
    assert fit_heads(data, no_test, "cnn", seed=0).genre_parts == {}
