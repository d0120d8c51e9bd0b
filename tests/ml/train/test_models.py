"""The supervised contrastive loss (Khosla et al. 2020) with same-author titles as weak positives."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from ml.train.models import supcon_loss


def loss(embeddings, labels, temperature: float = 0.1, groups=None, group_weight: float = 0.0) -> float:
    e = tf.math.l2_normalize(tf.constant(np.asarray(embeddings, dtype=np.float32)), axis=1)
    g = None if groups is None else tf.constant(groups)
    return float(supcon_loss(e, tf.constant(labels), temperature, g, group_weight))


def clustered(n_titles: int = 6, views: int = 2, dim: int = 8, spread: float = 0.05, seed: int = 0):
    """``views`` noisy copies of one random direction per title: (embeddings, title labels)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_titles, dim))
    labels = np.repeat(np.arange(n_titles), views)
    return centres[labels] + spread * rng.normal(size=(len(labels), dim)), labels


def test_hand_computed_case():
    # Two titles, two identical views each, orthogonal to each other; temperature 1. For every anchor the positive
    # scores e^1 and the two negatives e^0, so the loss is -log(e / (e + 2)).
    e = [[1, 0], [1, 0], [0, 1], [0, 1]]
    assert loss(e, [0, 0, 1, 1], temperature=1.0) == pytest.approx(math.log(math.e + 2) - 1, rel=1e-5)


def test_well_clustered_views_score_lower_than_shuffled_labels():
    e, labels = clustered()
    shuffled = np.random.default_rng(1).permutation(labels)
    assert not np.array_equal(shuffled, labels)
    assert loss(e, labels) < loss(e, shuffled) - 1.0


def test_views_pulled_together_lower_the_loss():
    tight, labels = clustered(spread=0.05)
    loose, _ = clustered(spread=1.0)
    assert loss(tight, labels) < loss(loose, labels)


def test_lower_temperature_sharpens_a_clean_clustering():
    e = [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]]
    labels = [0, 0, 1, 1, 2, 2]
    values = [loss(e, labels, temperature=t) for t in (1.0, 0.5, 0.1)]
    assert values[0] > values[1] > values[2] > 0
    # the clean clustering loses only -log(e^(1/t) / (e^(1/t) + 4)) per anchor
    assert values[2] == pytest.approx(math.log1p(4 * math.exp(-10)), rel=1e-2)  # float32


def test_anchors_without_positives_are_left_out():
    e = [[1, 0], [0, 1], [-1, 0], [0, -1]]
    assert loss(e, [0, 1, 2, 3]) == 0.0
    # one pair of views: only its two anchors count, so the unrelated singletons do not dilute the mean
    e2 = [[1, 0], [1, 0], [0, 1]]
    with_single = loss(e2, [0, 0, 1], temperature=1.0)
    assert with_single == pytest.approx(math.log(math.e + 1) - 1, rel=1e-5)


def test_same_group_titles_are_weak_positives():
    # titles 0 and 1 share an author (group 7); title 2 is by someone else
    labels = [0, 0, 1, 1, 2, 2]
    groups = [7, 7, 7, 7, 9, 9]
    authors_close = [[1, 0.1], [1, 0.1], [1, -0.1], [1, -0.1], [-1, 0], [-1, 0]]
    authors_apart = [[1, 0.1], [1, 0.1], [-1, 0.1], [-1, 0.1], [0, 1], [0, 1]]
    without = loss(authors_close, labels, groups=groups, group_weight=0.0)
    assert without == pytest.approx(loss(authors_close, labels))  # weight 0: groups are ignored
    assert loss(authors_close, labels, groups=groups, group_weight=0.2) != pytest.approx(without)
    # with weak positives, an author's titles sitting together costs less than the same titles far apart
    close_gap = loss(authors_close, labels, groups=groups, group_weight=0.2) - loss(authors_close, labels)
    apart_gap = loss(authors_apart, labels, groups=groups, group_weight=0.2) - loss(authors_apart, labels)
    assert close_gap < apart_gap


def test_unknown_groups_are_never_positives():
    e, labels = clustered(n_titles=4)
    unknown = [-1] * len(labels)
    assert loss(e, labels, groups=unknown, group_weight=0.5) == pytest.approx(loss(e, labels))
