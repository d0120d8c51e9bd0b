"""The genre classifier's head: a class-balanced logistic regression on CNN and/or hand-crafted features, chosen on
the validation split, then baked into Keras layers so the run folder needs no scikit-learn pickle."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import keras
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from ml.features import handcrafted_features
from ml.metrics import classification_metrics

log = logging.getLogger(__name__)
VARIANTS = ("cnn", "handcrafted", "fused")
C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3)


def feature_model(backbone: keras.Model, input_size: int) -> keras.Model:
    inputs = keras.Input((input_size, input_size, 3))
    return keras.Model(inputs, {"cnn": backbone(inputs), "handcrafted": handcrafted_features(inputs)})


def select(features: dict[str, np.ndarray], variant: str) -> np.ndarray:
    if variant == "fused":
        return np.concatenate([features["cnn"], features["handcrafted"]], axis=1)
    return features[variant]


@dataclass
class FittedHead:
    variant: str
    C: float
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (features, classes)
    bias: np.ndarray
    val: dict

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        logits = ((x - self.mean) / self.scale) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)


def fit_head(
    x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, n_classes: int, variant: str, seed: int = 0
) -> FittedHead:
    """Grid-search C on validation macro-F1 (falls back to training data when there is no validation data)."""
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 1e-8, scaler.scale_, 1.0)
    xs = (x - scaler.mean_) / scale
    best = None
    for c in C_GRID:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = LogisticRegression(C=c, class_weight="balanced", max_iter=600, random_state=seed).fit(xs, y)
        weights = np.zeros((x.shape[1], n_classes))
        bias = np.full(n_classes, -30.0)
        weights[:, clf.classes_] = clf.coef_.T if len(clf.classes_) > 2 else np.stack([-clf.coef_[0], clf.coef_[0]], 1)
        bias[clf.classes_] = clf.intercept_ if len(clf.classes_) > 2 else [-clf.intercept_[0], clf.intercept_[0]]
        head = FittedHead(variant, c, scaler.mean_, scale, weights, bias, {})
        xv, yv = (x_val, y_val) if len(y_val) else (x, y)
        head.val = classification_metrics(yv, head.predict_proba(xv).argmax(axis=1))
        if best is None or head.val["f1"] > best.val["f1"]:
            best = head
    log.info("genre head %s: C=%s val macro-F1 %.3f", variant, best.C, best.val["f1"])
    return best


def head_layers(inputs, backbone: keras.Model, head: FittedHead, cnn_features=None):
    """Keras graph of the fitted head on ``inputs`` (pass ``cnn_features`` to reuse an existing backbone output)."""
    parts = []
    if head.variant in ("cnn", "fused"):
        parts.append(backbone(inputs) if cnn_features is None else cnn_features)
    if head.variant in ("handcrafted", "fused"):
        parts.append(handcrafted_features(inputs))
    feats = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="fused")(parts)
    norm = keras.layers.Normalization(mean=head.mean, variance=head.scale**2, name="standardise")(feats)
    dense = keras.layers.Dense(head.weights.shape[1], activation="softmax", name="genre")
    out = dense(norm)
    dense.set_weights([head.weights.astype("float32"), head.bias.astype("float32")])
    return out
