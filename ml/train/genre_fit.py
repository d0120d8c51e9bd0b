"""The genre classifier's head: a class-balanced logistic regression on CNN and/or hand-crafted features, its C
chosen on the validation split, then baked into Keras layers so the run folder needs no scikit-learn pickle.

The CNN features are averaged over the image and its mirror image (the serving graph computes both anyway for the
flip-averaged embedding), so genre guesses do not change when a screenshot is mirrored."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field, replace

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
GRAM_VARIANTS = ("gram", "fused_gram")  # with the frozen backbone's second-order features (``TrainConfig.gram``)
C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3)
#: Strengths of the class-prior correction tried on validation (0: none; 1: predicted frequencies match training).
PRIOR_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)


def flip_averaged(inputs, backbone: keras.Model, features=None, flipped_features=None):
    """Mean of the backbone's features on the image and on its mirror image (pass already computed outputs)."""
    features = backbone(inputs) if features is None else features
    flipped_features = backbone(HorizontalFlip()(inputs)) if flipped_features is None else flipped_features
    return keras.layers.Average(name="cnn_flip_mean")([features, flipped_features])


def feature_model(backbone: keras.Model, input_size: int) -> keras.Model:
    inputs = keras.Input((input_size, input_size, 3))
    return keras.Model(inputs, {"cnn": flip_averaged(inputs, backbone), "handcrafted": handcrafted_features(inputs)})


def select(features: dict[str, np.ndarray], variant: str) -> np.ndarray:
    """A feature family's columns: one family, or ``fused`` (cnn + handcrafted), ``fused_gram`` (… + gram)."""
    if variant == "fused":
        return np.concatenate([features["cnn"], features["handcrafted"]], axis=1)
    if variant == "fused_gram":
        return np.concatenate([features["cnn"], features["handcrafted"], features["gram"]], axis=1)
    return features[variant]


@dataclass
class FittedHead:
    variant: str
    C: float
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (features, classes)
    bias: np.ndarray  # the class-prior correction (``prior`` × :func:`prior_shift`) included
    val: dict
    prior: float = 0.0  # strength of the class-prior correction folded into ``bias`` (0: none)
    prior_val: dict = field(default_factory=dict)  # validation macro-F1 of each strength tried

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return softmax(self.logits(x))


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def prior_shift(head: FittedHead, x: np.ndarray, y: np.ndarray, iterations: int = 200) -> np.ndarray:
    """Offsets of the head's logits after which its predicted classes (argmax) on ``x`` have the class frequencies
    of ``y``: a class-balanced head over-predicts the rare genres, adding the shift undoes that. Fitted by
    multiplicative steps on the (smoothed) frequency ratio with a shrinking step, keeping the best shift seen; classes
    absent from ``y`` keep offset 0."""
    n_classes = head.weights.shape[1]
    target = np.bincount(y, minlength=n_classes)[:n_classes] / max(1, len(y))
    present = target > 0
    logits = head.logits(x)
    eps = 1.0 / max(1, len(x))

    def error(shift: np.ndarray) -> tuple[float, np.ndarray]:
        freq = np.bincount((logits + shift).argmax(axis=1), minlength=n_classes) / len(x)
        return float(np.abs(freq - target).sum()), freq

    shift = np.zeros(n_classes)
    best, (best_err, freq) = shift.copy(), error(shift)
    for i in range(iterations):
        step = 1.0 / (1.0 + i / 20.0)
        shift[present] += step * (np.log(target[present] + eps) - np.log(freq[present] + eps))
        err, freq = error(shift)
        if err < best_err:
            best, best_err = shift.copy(), err
        if best_err < 1e-9:
            break
    return best


def with_prior(head: FittedHead, shift: np.ndarray, strength: float) -> FittedHead:
    """``head`` with ``strength`` × ``shift`` added to its bias (on top of any correction it already has)."""
    return replace(head, bias=head.bias + strength * shift, prior=head.prior + strength)


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
    x: np.ndarray,
    y: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    n_classes: int,
    variant: str,
    seed: int = 0,
    priors: tuple[float, ...] = (0.0,),
) -> FittedHead:
    """Grid-search C on validation macro-F1 (falls back to training data when there is no validation data), then
    the strength of the class-prior correction among ``priors`` (shift fitted on ``x``, ``y``; ties: the weaker)."""
    best = None
    xv, yv = (x_val, y_val) if len(y_val) else (x, y)
    for c in C_GRID:
        head = train_head(x, y, n_classes, variant, c, seed)
        head.val = classification_metrics(yv, head.predict_proba(xv).argmax(axis=1))
        if best is None or head.val["f1"] > best.val["f1"]:
            best = head
    best = choose_prior(best, x, y, xv, yv, priors)
    log.info("genre head %s: C=%s prior %s val macro-F1 %.3f", variant, best.C, best.prior, best.val["f1"])
    return best


def choose_prior(
    head: FittedHead, x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, priors: tuple[float, ...]
) -> FittedHead:
    """The strength of ``priors`` (shift fitted on ``x``, ``y``) with the best macro-F1 on ``x_val``, ``y_val``."""
    if tuple(priors) == (0.0,):
        return head
    shift = prior_shift(head, x, y)
    best, scores = None, {}
    for strength in sorted(priors):
        candidate = with_prior(head, shift, strength)
        candidate.val = classification_metrics(y_val, candidate.predict_proba(x_val).argmax(axis=1))
        scores[strength] = candidate.val["f1"]
        if best is None or candidate.val["f1"] > best.val["f1"]:
            best = candidate
    best.prior_val = scores
    return best


def refit_with_prior(x: np.ndarray, y: np.ndarray, n_classes: int, chosen: FittedHead, seed: int = 0) -> FittedHead:
    """``chosen``'s C and prior strength, fitted again on ``x``, ``y`` (the prior shift too)."""
    head = train_head(x, y, n_classes, chosen.variant, chosen.C, seed)
    if chosen.prior:
        head = with_prior(head, prior_shift(head, x, y), chosen.prior)
    head.val, head.prior_val = chosen.val, chosen.prior_val
    return head


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
