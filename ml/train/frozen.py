"""Stages 2–5 with a frozen pretrained backbone (nsfwjs's MobileNetV2 α=1.4, :mod:`ml.pretrained`) instead of
training one from scratch.

- **Features**: channel statistics at five depths of the network (means; standard deviations too at the middle
  depths, where texture and line work live) joined with the hand-crafted colour/texture histograms.
- **Embedding**: those features centred and PCA-whitened (fitted on the train + val images in both orientations),
  L2-normalised. The index holds every image in both orientations, so a query needs a single pass of the backbone.
- **Genre and author heads**: logistic regression (class-balanced, C chosen on the validation covers) on the
  square-rooted, PCA-whitened features, folded with the whitening into one Dense softmax layer.
- **Upload screening**: the network's own 5-class NSFW head rides along as the ``nsfw`` output.

Everything fitted is linear, so the run folder's Keras models hold it as plain Dense layers (no scikit-learn).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import keras
import numpy as np
from sklearn.decomposition import PCA

from ml.embedding import compiled, run_batched
from ml.features import handcrafted_features
from ml.layers import L2Normalize, SignedSqrt, SpatialStats
from ml.pretrained import INPUT_SIZE
from ml.train.genre_fit import FittedHead, fit_head, select, train_head

log = logging.getLogger(__name__)

_NET = "sequential.keras_layer.predict.MobilenetV2."
# (layer, with standard deviation): from 7×7×1792 at the top down to 28×28×48
STYLE_LAYERS = (
    ("Conv_1.Relu6.relu6", False),
    ("expanded_conv_15.add", False),
    ("expanded_conv_12.add", True),
    ("expanded_conv_9.add", True),
    ("expanded_conv_5.add", True),
)
EMBED_DIM = 256
HEAD_DIM = 256


def feature_graph(inputs, backbone: keras.Model) -> dict:
    """Symbolic outputs on ``inputs`` (RGB in [0, 255], 224×224): ``cnn`` (pooled network statistics),
    ``handcrafted``, ``features`` (both joined: the "fused" family) and ``nsfw`` (5 probabilities in
    :data:`ml.pretrained.CLASSES` order).
    """
    taps = [backbone.get_layer(_NET + name).output for name, _ in STYLE_LAYERS]
    net = keras.Model(backbone.input, [*taps, backbone.output["nsfw"]], name="pretrained_backbone")
    *maps, nsfw = net(keras.layers.Rescaling(1 / 255.0, name="to_unit_range")(inputs))
    stds = [std for _, std in STYLE_LAYERS]
    pooled = [SpatialStats(std, name=f"stats_{i}")(m) for i, (m, std) in enumerate(zip(maps, stds, strict=True))]
    cnn = keras.layers.Concatenate(name="cnn_stats")(pooled)
    hand = handcrafted_features(inputs)
    features = keras.layers.Concatenate(name="style_features")([cnn, hand])
    return {"cnn": cnn, "handcrafted": hand, "features": features, "nsfw": nsfw}


def feature_model(backbone: keras.Model) -> keras.Model:
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 3), name="image")
    outputs = feature_graph(inputs, backbone)
    return keras.Model(inputs, {k: outputs[k] for k in ("cnn", "handcrafted")}, name="pretrained_features")


@dataclass(frozen=True)
class Affine:
    """x ↦ x·weights + bias, the fitted linear maps (whitening, heads) as arrays ready for a Dense layer."""

    weights: np.ndarray
    bias: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weights + self.bias

    def then(self, other: Affine) -> Affine:
        return Affine(self.weights @ other.weights, self.bias @ other.weights + other.bias)

    def dense(self, name: str, activation: str | None = None) -> keras.layers.Dense:
        layer = keras.layers.Dense(self.weights.shape[1], activation=activation, name=name)
        layer.build((None, self.weights.shape[0]))
        layer.set_weights([self.weights.astype("float32"), self.bias.astype("float32")])
        return layer


def fit_whitening(x: np.ndarray, dim: int, seed: int = 0) -> Affine:
    """Centre and PCA-whiten to at most ``dim`` components (fewer when there are fewer samples or features)."""
    n = max(1, min(dim, x.shape[0] - 1, x.shape[1]))
    pca = PCA(n, whiten=True, random_state=seed).fit(x)
    weights = pca.components_.T / np.sqrt(np.maximum(pca.explained_variance_, 1e-12))
    return Affine(weights, -pca.mean_ @ weights)


def head_affine(head: FittedHead) -> Affine:
    """The fitted head's standardisation and logistic regression as one affine map to logits."""
    weights = head.weights / head.scale[:, None]
    return Affine(weights, head.bias - (head.mean / head.scale) @ head.weights)


def signed_sqrt(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.sqrt(np.abs(x))


@dataclass(frozen=True)
class FrozenHead:
    """A head on one feature family: whitening of the square-rooted features, then the logistic regression."""

    family: str
    whitening: Affine
    head: FittedHead

    @property
    def logits(self) -> Affine:
        return self.whitening.then(head_affine(self.head))

    def predict_proba(self, features: dict[str, np.ndarray]) -> np.ndarray:
        return self.head.predict_proba(self.whitening(signed_sqrt(select(features, self.family))))


def fit_frozen_head(
    fit_x: dict[str, np.ndarray],
    fit_y: np.ndarray,
    val_x: dict[str, np.ndarray] | None,
    val_y: np.ndarray,
    n_classes: int,
    name: str,
    seed: int = 0,
    refit: tuple[dict[str, np.ndarray], np.ndarray] | None = None,
) -> FrozenHead:
    """C chosen on the validation covers (``fit_head``); with ``refit`` = (x, y), refitted on those with that C."""
    whitening = fit_whitening(signed_sqrt(select(fit_x if refit is None else refit[0], name)), HEAD_DIM, seed)

    def prepared(x: dict[str, np.ndarray]) -> np.ndarray:
        return whitening(signed_sqrt(select(x, name)))

    x_val = prepared(val_x) if val_x is not None else np.zeros((0, whitening.weights.shape[1]))
    chosen = fit_head(prepared(fit_x), fit_y, x_val, val_y, n_classes, name, seed)
    if refit is None:
        return FrozenHead(name, whitening, chosen)
    head = train_head(prepared(refit[0]), refit[1], n_classes, name, chosen.C, seed)
    head.val = chosen.val
    return FrozenHead(name, whitening, head)


def serving_graph(inputs, backbone: keras.Model, embedding: Affine, heads: dict[str, FrozenHead]) -> dict:
    """{"embedding", "nsfw", and one softmax output per head} on ``inputs``: the network runs once."""
    outputs = feature_graph(inputs, backbone)
    result = {
        "embedding": L2Normalize(name="embedding")(embedding.dense("whiten")(outputs["features"])),
        "nsfw": keras.layers.Identity(name="nsfw")(outputs["nsfw"]),
    }
    for name, head in heads.items():
        x = SignedSqrt(name=f"sqrt_{name}")(outputs["features" if head.family == "fused" else head.family])
        result[name] = head.logits.dense(name, activation="softmax")(x)
    return result


def feature_extractor(backbone: keras.Model):
    """``fn(arrays, progress=False, desc=...)`` → {"cnn", "handcrafted"} of letterboxed 224×224 images ([0, 255]),
    in batches through one traced graph."""
    run = compiled(feature_model(backbone), INPUT_SIZE)

    def extract(arrays: np.ndarray, progress: bool = False, desc: str = "features") -> dict:
        return run_batched(run, arrays, progress=progress, desc=desc)

    return extract
