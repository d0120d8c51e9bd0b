"""Stages 2–5 with a frozen pretrained backbone (nsfwjs's MobileNetV2 α=1.4, :mod:`ml.pretrained`), the default:
the builder :func:`build`; :mod:`ml.train.scratch` trains one from scratch instead.

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
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
from sklearn.decomposition import PCA

from ml.embedding import compiled, run_batched, stack_images
from ml.features import handcrafted_features
from ml.layers import L2Normalize, SignedSqrt, SpatialStats
from ml.pretrained import INPUT_SIZE
from ml.train import stages
from ml.train.feature_cache import FeatureCache, weights_fingerprint
from ml.train.genre_fit import PRIOR_GRID, FittedHead, fit_head, refit_with_prior, select
from ml.train.stages import LabelledFeatures, TrainingData
from ml.train.training import TrainConfig

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
    priors: tuple[float, ...] = (0.0,),
) -> FrozenHead:
    """C and the class-prior strength (among ``priors``) chosen on the validation covers (``fit_head``); with
    ``refit`` = (x, y), refitted on those with that C and strength."""
    whitening = fit_whitening(signed_sqrt(select(fit_x if refit is None else refit[0], name)), HEAD_DIM, seed)

    def prepared(x: dict[str, np.ndarray]) -> np.ndarray:
        return whitening(signed_sqrt(select(x, name)))

    x_val = prepared(val_x) if val_x is not None else np.zeros((0, whitening.weights.shape[1]))
    chosen = fit_head(prepared(fit_x), fit_y, x_val, val_y, n_classes, name, seed, priors)
    if refit is None:
        return FrozenHead(name, whitening, chosen)
    return FrozenHead(name, whitening, refit_with_prior(prepared(refit[0]), refit[1], n_classes, chosen, seed))


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


#: Names the feature graph of :func:`feature_model` for the feature cache: change it when the features change.
FEATURE_SPEC = f"v1|{STYLE_LAYERS!r}|colour_hist(12,3,4)+16|gradient_hist(9,4)"


def feature_cache(backbone: keras.Model, cache_dir=None) -> FeatureCache:
    """The feature cache of ``backbone`` (``<TOONMATCH_CACHE>/features/…`` unless ``cache_dir``)."""
    from ml.pretrained import default_cache_dir

    root = default_cache_dir() if cache_dir is None else cache_dir
    return FeatureCache(root, weights_fingerprint(backbone), INPUT_SIZE, FEATURE_SPEC)


def feature_extractor(backbone: keras.Model, cache: FeatureCache | None = None):
    """``fn(arrays, progress=False, desc=...)`` → {"cnn", "handcrafted"} of letterboxed 224×224 images ([0, 255]),
    in batches through one traced graph; with ``cache``, rows seen before (same array, network, spec) are read
    from it instead (:mod:`ml.train.feature_cache`)."""
    run = compiled(feature_model(backbone), INPUT_SIZE)

    def compute(arrays: np.ndarray, progress: bool = False, desc: str = "features") -> dict:
        return run_batched(run, arrays, progress=progress, desc=desc)

    def extract(arrays: np.ndarray, progress: bool = False, desc: str = "features") -> dict:
        if cache is None:
            return compute(arrays, progress, desc)
        return cache.extract(lambda missing: compute(missing, progress, desc), arrays)

    return extract


# ---- the builder: stages 2–5 on the frozen network -------------------------------------------------------------------
def build(data: TrainingData, config: TrainConfig, backbone: keras.Model, progress: bool = True) -> stages.Built:
    """One feature pass over the train + val images in both orientations plus ``config.genre_views`` augmented views;
    the embedding's whitening and both heads are fitted on those rows, each head's C chosen on the validation
    covers; the genre head's feature families are each reported on the test covers."""
    size = config.input_size
    ids = data.split["train"] + data.split["val"]
    x, _, owners = stages.labelled_samples(data.images, ids, lambda t: 0, size, config.genre_views, config.seed)
    x = np.concatenate([x, x[:, :, ::-1]])
    owners = np.concatenate([owners, owners])
    extract = feature_extractor(backbone, feature_cache(backbone) if config.feature_cache else None)
    feats = extract(x, progress, desc="pretrained features")
    del x
    embedding = fit_whitening(select(feats, "fused"), EMBED_DIM, config.seed)
    covers = {s: _split_covers(extract, data, s, size) for s in ("val", "test")}
    genre_task = _HeadTask.of(data, feats, owners, covers, data.genre_of)
    author_task = _HeadTask.of(data, feats, owners, covers, data.author_of)
    priors = PRIOR_GRID if config.genre_prior else (0.0,)
    genre = genre_task.ship("genre", data.n_genres, config.genre_features, config.seed, priors)
    author = author_task.ship("author", data.n_authors, config.genre_features, config.seed)
    genre_parts = stages.family_parts(
        genre_task.test, lambda family: genre_task.on_train(data.n_genres, family, config.seed, priors)
    )
    inputs = stages.image_input(size)
    out = serving_graph(inputs, backbone, embedding, {"genre": genre, "author": author})
    models = stages.ServingModels(
        keras.Model(inputs, {k: out[k] for k in ("embedding", "genre", "nsfw")}, name="serving"),
        keras.Model(inputs, out["embedding"], name="embedder"),
        keras.Model(inputs, out["genre"], name="genre"),
        keras.Model(inputs, out["author"], name="author"),
    )
    heads = stages.FittedHeads(genre.head, author.head, genre_parts)  # each FittedHead's variant is its family
    return stages.Built(models, heads)


Covers = tuple[list[str], dict[str, np.ndarray]]  # a split's title ids and their covers' features


def _split_covers(extract, data: TrainingData, split_name: str, size: int) -> Covers | None:
    ids = list(data.split[split_name])
    if not ids:
        return None
    return ids, extract(stack_images([data.images[t][0] for t in ids], size))


@dataclass(frozen=True)
class _HeadTask:
    """What one head (genre or author) is fitted and judged on: only rows and covers whose label is known."""

    rows: LabelledFeatures  # every train + val row (both orientations, augmented views)
    train: LabelledFeatures  # those of the training titles
    val: LabelledFeatures | None  # the val covers, for choosing C
    test: LabelledFeatures | None  # the test covers, for reporting each family

    @classmethod
    def of(cls, data, feats, owners, covers: dict[str, Covers | None], label_of: Callable[[str], int]) -> _HeadTask:
        rows = LabelledFeatures(feats, np.array([label_of(t) for t in owners]), owners).known()
        val, test = (_known_covers(covers[s], label_of) for s in ("val", "test"))
        return cls(rows, rows.of_titles(data.split["train"]), val, test)

    def _fit(self, n_classes: int, family: str, seed: int, refit=None, priors=(0.0,)) -> FrozenHead:
        val_x, val_y = (self.val.features, self.val.labels) if self.val is not None else (None, np.array([], int))
        return fit_frozen_head(
            self.train.features, self.train.labels, val_x, val_y, n_classes, family, seed, refit=refit, priors=priors
        )

    def on_train(self, n_classes: int, family: str, seed: int, priors=(0.0,)) -> tuple[FittedHead, Callable]:
        """The ``family`` head fitted on the training titles alone, and its features → probabilities."""
        head = self._fit(n_classes, family, seed, priors=priors)
        return head.head, head.predict_proba

    def ship(self, name: str, n_classes: int, family: str, seed: int, priors=(0.0,)) -> FrozenHead:
        """The shipped head: C (and the prior strength among ``priors``) chosen on the val covers, refitted on every
        train + val row."""
        head = self._fit(n_classes, family, seed, refit=(self.rows.features, self.rows.labels), priors=priors)
        log.info(
            "pretrained %s head: C=%s, prior %s, val macro-F1 %.3f",
            name,
            head.head.C,
            head.head.prior,
            head.head.val.get("f1") or 0.0,
        )
        return head


def _known_covers(covers: Covers | None, label_of: Callable[[str], int]) -> LabelledFeatures | None:
    """The covers' features whose label is known (None: no covers, or none labelled)."""
    if covers is None:
        return None
    ids, features = covers
    known = LabelledFeatures(features, np.array([label_of(t) for t in ids]), np.array(ids, dtype=object)).known()
    return known if len(known.labels) else None
