"""Classification metrics: macro precision / recall / F1 over the classes present, and the confusion matrix."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from ml.train.metrics import classification_metrics, confusion


def test_macro_scores_by_hand():
    # class 0: P 1/2, R 1/2; class 1: P 2/3, R 1, F1 0.8; class 2: never predicted, P = R = F1 = 0
    m = classification_metrics([0, 0, 1, 1, 2], [0, 1, 1, 1, 0])
    assert m["precision"] == pytest.approx((1 / 2 + 2 / 3 + 0) / 3)
    assert m["recall"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert m["f1"] == pytest.approx((1 / 2 + 0.8 + 0) / 3)
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["n"] == 5
    assert all(type(m[k]) is float for k in ("precision", "recall", "f1", "accuracy")) and type(m["n"]) is int


def test_matches_sklearn_macro_average_over_the_true_classes():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 5, 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 7, 200))  # some predictions name classes 5, 6
    m = classification_metrics(y_true, y_pred)
    present = np.unique(y_true)
    kw = {"labels": present, "average": "macro", "zero_division": 0}
    assert m["precision"] == pytest.approx(precision_score(y_true, y_pred, **kw))
    assert m["recall"] == pytest.approx(recall_score(y_true, y_pred, **kw))
    assert m["f1"] == pytest.approx(f1_score(y_true, y_pred, **kw))


def test_classes_only_predicted_do_not_count_in_the_average():
    # over classes {0, 1}: F1 1 and 2/3; sklearn's default would also average in class 3 (F1 0)
    m = classification_metrics([0, 0, 1, 1], [0, 0, 1, 3])
    assert m["f1"] == pytest.approx((1 + 2 / 3) / 2)
    assert m["f1"] > f1_score([0, 0, 1, 1], [0, 0, 1, 3], average="macro", zero_division=0)


def test_no_samples_gives_none_not_an_error():
    assert classification_metrics([], []) == {"precision": None, "recall": None, "f1": None, "accuracy": None, "n": 0}


def test_confusion_rows_are_true_classes_and_absent_classes_keep_their_row():
    matrix = confusion([0, 0, 1, 2], [0, 1, 1, 0], n_classes=4)
    assert matrix.tolist() == [
        [1, 1, 0, 0],
        [0, 1, 0, 0],
        [1, 0, 0, 0],
        [0, 0, 0, 0],
    ]
