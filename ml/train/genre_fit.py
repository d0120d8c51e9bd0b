"""The genre classifier's head: a class-balanced logistic regression on CNN and/or hand-crafted features, its C
chosen on the validation split, then baked into Keras layers so the run folder needs no scikit-learn pickle.

The CNN features are averaged over the image and its mirror image (the serving graph computes both anyway for the
flip-averaged embedding), so genre guesses do not change when a screenshot is mirrored."""

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
from ml.layers import HorizontalFlip
from ml.train.metrics import classification_metrics

log = logging.getLogger(__name__)
VARIANTS = ("cnn", "handcrafted", "fused")
C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3)


def flip_averaged(inputs, backbone: keras.Model, features=None, flipped_features=None):
    """Mean of the backbone's features on the image and on its mirror image (pass already computed outputs)."""
    features = backbone(inputs) if features is None else features
    flipped_features = backbone(HorizontalFlip()(inputs)) if flipped_features is None else flipped_features
    return keras.layers.Average(name="cnn_flip_mean")([features, flipped_features])


def feature_model(backbone: keras.Model, input_size: int) -> keras.Model:
    inputs = keras.Input((input_size, input_size, 3))
    return keras.Model(inputs, {"cnn": flip_averaged(inputs, backbone), "handcrafted": handcrafted_features(inputs)})


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


def train_head(x: np.ndarray, y: np.ndarray, n_classes: int, variant: str, c: float, seed: int = 0) -> FittedHead:
    """Standardise, fit a class-balanced multinomial logistic regression, return it as plain arrays."""
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 1e-8, scaler.scale_, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LogisticRegression(C=c, class_weight="balanced", max_iter=600, random_state=seed)
        clf.fit((x - scaler.mean_) / scale, y)
    weights = np.zeros((x.shape[1], n_classes))
    bias = np.full(n_classes, -30.0)  # classes absent from training are never predicted
    if len(clf.classes_) > 2:
        weights[:, clf.classes_], bias[clf.classes_] = clf.coef_.T, clf.intercept_
    else:  # binary: scikit-learn's P(classes_[1]) = sigmoid(z) = softmax([0, z])
        weights[:, clf.classes_[1]] = clf.coef_[0]
        bias[clf.classes_] = [0.0, clf.intercept_[0]]
    return FittedHead(variant, c, scaler.mean_, scale, weights, bias, {})


def fit_head(
    x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, n_classes: int, variant: str, seed: int = 0
) -> FittedHead:
    """Grid-search C on validation macro-F1 (falls back to training data when there is no validation data)."""
    best = None
    for c in C_GRID:
        head = train_head(x, y, n_classes, variant, c, seed)
        xv, yv = (x_val, y_val) if len(y_val) else (x, y)
        head.val = classification_metrics(yv, head.predict_proba(xv).argmax(axis=1))
        if best is None or head.val["f1"] > best.val["f1"]:
            best = head
    log.info("genre head %s: C=%s val macro-F1 %.3f", variant, best.C, best.val["f1"])
    return best


def head_layers(inputs, backbone: keras.Model, head: FittedHead, cnn_features=None, name: str = "genre"):
    """Keras graph of the fitted head on ``inputs`` (pass ``cnn_features`` = :func:`flip_averaged` output to reuse
    the backbone computation of the serving graph). The same recipe serves the author classifier (``name``)."""
    parts = []
    if head.variant in ("cnn", "fused"):
        parts.append(flip_averaged(inputs, backbone) if cnn_features is None else cnn_features)
    if head.variant in ("handcrafted", "fused"):
        parts.append(handcrafted_features(inputs))
    feats = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="fused")(parts)
    norm_name = "standardise" if name == "genre" else f"standardise_{name}"
    norm = keras.layers.Normalization(mean=head.mean, variance=head.scale**2, name=norm_name)(feats)
    dense = keras.layers.Dense(head.weights.shape[1], activation="softmax", name=name)
    out = dense(norm)
    dense.set_weights([head.weights.astype("float32"), head.bias.astype("float32")])
    return out
