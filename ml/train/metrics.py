"""Classification and retrieval metrics (plain floats, JSON-ready)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support


def classification_metrics(y_true: list[int] | np.ndarray, y_pred: list[int] | np.ndarray) -> dict[str, float | int]:
    """Macro precision / recall / F1 over the classes present in ``y_true`` (as the paper), plus accuracy and n."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) == 0:
        return {"precision": None, "recall": None, "f1": None, "accuracy": None, "n": 0}
    labels = np.unique(y_true)
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, average="macro", zero_division=0)
    return {
        "precision": float(p),
        "recall": float(r),
        "f1": float(f),
        "accuracy": float(np.mean(y_true == y_pred)),
        "n": int(len(y_true)),
    }


def confusion(y_true, y_pred, n_classes: int) -> np.ndarray:
    return confusion_matrix(y_true, y_pred, labels=list(range(n_classes)))
