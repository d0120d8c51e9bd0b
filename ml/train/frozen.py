"""Stages 2–5 with a frozen pretrained backbone (nsfwjs's MobileNetV2 α=1.4, :mod:`ml.pretrained`), the default:
the builder :func:`build`; :mod:`ml.train.scratch` trains one from scratch instead.

- **Features**: channel statistics at five depths of the network (means; standard deviations too at the middle
  depths, where texture and line work live) joined with the hand-crafted colour/texture histograms.
- **Embedding**: those features centred and PCA-whitened (fitted on the train + val images in both orientations),
  L2-normalised. The index holds every image in both orientations, so a query needs a single pass of the backbone.
- **Genre and author heads**: logistic regression (class-balanced, C chosen on the validation covers) on the
  square-rooted, PCA-whitened features, folded with the whitening into one Dense softmax layer; the genre head's
  class-prior correction (``TrainConfig.genre_prior``, strength chosen on validation) is part of its bias.
- **Off by default** (measured in ``docs/results/quality-round2.md``): second-order style features
  (``TrainConfig.gram``: channel covariances of three mid-level maps) and genre/author outputs averaged over the
  image and its mirror (``TrainConfig.genre_flip``, :func:`flip_averaged`).
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
from ml.layers import ChannelCovariance, FirstHalf, HalvesMean, L2Normalize, SignedSqrt, SpatialStats, WithMirror
from ml.pretrained import INPUT_SIZE
from ml.train import stages
from ml.train.feature_cache import FeatureCache, weights_fingerprint
from ml.train.genre_fit import GRAM_VARIANTS, PRIOR_GRID, VARIANTS, FittedHead, fit_head, refit_with_prior, select
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
# second-order style statistics (``gram``, with ``TrainConfig.gram``): the channel covariance of these mid-level maps
# (indices into STYLE_LAYERS: 14×14×136, 14×14×88, 28×28×48), each projected to GRAM_DIM channels first
GRAM_LAYERS = (2, 3, 4)
GRAM_DIM = 32  # → 528 features per map


def feature_graph(inputs, backbone: keras.Model, gram: bool = False) -> dict:
    """Symbolic outputs on ``inputs`` (RGB in [0, 255], 224×224): ``cnn`` (pooled network statistics),
    ``handcrafted``, with ``gram`` the ``gram`` family too (:class:`ml.layers.ChannelCovariance` of the maps of
    :data:`GRAM_LAYERS`), and ``nsfw`` (5 probabilities in :data:`ml.pretrained.CLASSES` order).
    """
    taps = [backbone.get_layer(_NET + name).output for name, _ in STYLE_LAYERS]
    net = keras.Model(backbone.input, [*taps, backbone.output["nsfw"]], name="pretrained_backbone")
    *maps, nsfw = net(keras.layers.Rescaling(1 / 255.0, name="to_unit_range")(inputs))
    stds = [std for _, std in STYLE_LAYERS]
    pooled = [SpatialStats(std, name=f"stats_{i}")(m) for i, (m, std) in enumerate(zip(maps, stds, strict=True))]
    cnn = keras.layers.Concatenate(name="cnn_stats")(pooled)
    hand = handcrafted_features(inputs)
    out = {"cnn": cnn, "handcrafted": hand, "nsfw": nsfw}
    if gram:
        grams = [ChannelCovariance(GRAM_DIM, seed=i, name=f"covariance_{i}")(maps[i]) for i in GRAM_LAYERS]
        out["gram"] = keras.layers.Concatenate(name="gram_stats")(grams)
    return out


def family_tensor(outputs: dict, family: str):
    """The Keras tensor of a feature family (:func:`ml.train.genre_fit.select`'s order) from :func:`feature_graph`."""
    parts = {"fused": ("cnn", "handcrafted"), "fused_gram": ("cnn", "handcrafted", "gram")}.get(family, (family,))
    if len(parts) == 1:
        return outputs[parts[0]]
    return keras.layers.Concatenate(name=f"{family}_features")([outputs[p] for p in parts])


def feature_model(backbone: keras.Model, gram: bool = False) -> keras.Model:
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 3), name="image")
    outputs = feature_graph(inputs, backbone, gram)
    families = ("cnn", "handcrafted", "gram") if gram else ("cnn", "handcrafted")
    return keras.Model(inputs, {k: outputs[k] for k in families}, name="pretrained_features")


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


def fit_whitening(x: np.ndarray, dim: int, seed: int = 0, column_scale: np.ndarray | None = None) -> Affine:
    """Centre and PCA-whiten to at most ``dim`` components (fewer when there are fewer samples or features); with
    ``column_scale``, of ``x`` × ``column_scale`` (folded into the returned map, which still takes ``x``)."""
    n = max(1, min(dim, x.shape[0] - 1, x.shape[1]))
    scaled = x if column_scale is None else x * column_scale
    pca = PCA(n, whiten=True, random_state=seed).fit(scaled)
    weights = pca.components_.T / np.sqrt(np.maximum(pca.explained_variance_, 1e-12))
    bias = -pca.mean_ @ weights
    return Affine(weights if column_scale is None else column_scale[:, None] * weights, bias)


def block_scale(x: np.ndarray, n_second: int, weight: float = 1.0) -> np.ndarray | None:
    """Column scales that give the last ``n_second`` columns of ``x`` (the ``gram`` block) ``weight`` × the total
    variance of the other columns, so the PCA of the joined features hears both blocks (None: nothing to balance)."""
    if n_second <= 0 or n_second >= x.shape[1]:
        return None
    variance = x.var(axis=0)
    first, second = variance[:-n_second].sum(), variance[-n_second:].sum()
    scale = np.ones(x.shape[1])
    scale[-n_second:] = np.sqrt(weight * first / max(second, 1e-12))
    return scale


def family_whitening(
    features: dict[str, np.ndarray], family: str, dim: int, seed: int = 0, gram_weight: float = 1.0, sqrt: bool = False
) -> Affine:
    """The whitening of a family's features (``sqrt``: of their signed square roots); the ``gram`` block of a
    ``fused_gram`` family is balanced against the rest first (:func:`block_scale`)."""
    x = select(features, family)
    x = signed_sqrt(x) if sqrt else x
    n_gram = features["gram"].shape[1] if family == "fused_gram" else 0
    return fit_whitening(x, dim, seed, block_scale(x, n_gram, gram_weight))


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
    gram_weight: float = 1.0,
) -> FrozenHead:
    """C and the class-prior strength (among ``priors``) chosen on the validation covers (``fit_head``); with
    ``refit`` = (x, y), refitted on those with that C and strength."""
    whitening = family_whitening(fit_x if refit is None else refit[0], name, HEAD_DIM, seed, gram_weight, sqrt=True)

    def prepared(x: dict[str, np.ndarray]) -> np.ndarray:
        return whitening(signed_sqrt(select(x, name)))

    x_val = prepared(val_x) if val_x is not None else np.zeros((0, whitening.weights.shape[1]))
    chosen = fit_head(prepared(fit_x), fit_y, x_val, val_y, n_classes, name, seed, priors)
    if refit is None:
        return FrozenHead(name, whitening, chosen)
    return FrozenHead(name, whitening, refit_with_prior(prepared(refit[0]), refit[1], n_classes, chosen, seed))


def serving_graph(
    inputs,
    backbone: keras.Model,
    embedding: Affine,
    heads: dict[str, FrozenHead],
    embedding_family: str = "fused",
) -> dict:
    """{"embedding", "nsfw", and one softmax output per head} on ``inputs``: the network runs once."""
    gram = embedding_family == "fused_gram" or any("gram" in head.family for head in heads.values())
    outputs = feature_graph(inputs, backbone, gram)
    families: dict[str, object] = {}

    def family(name: str):
        if name not in families:
            families[name] = family_tensor(outputs, name)
        return families[name]

    result = {
        "embedding": L2Normalize(name="embedding")(embedding.dense("whiten")(family(embedding_family))),
        "nsfw": keras.layers.Identity(name="nsfw")(outputs["nsfw"]),
    }
    for name, head in heads.items():
        x = SignedSqrt(name=f"sqrt_{name}")(family(head.family))
        result[name] = head.logits.dense(name, activation="softmax")(x)
    return result


def flip_averaged(model: keras.Model, averaged: tuple[str, ...] = ("genre", "author")) -> keras.Model:
    """``model`` run once on a batch of the images and their mirror images (:class:`ml.layers.WithMirror`): the
    ``averaged`` outputs (a single-output model: its output) are the mean over both orientations, the others those
    of the images themselves. Still one traced model and one network call, on twice the rows."""
    inputs = keras.Input(model.input_shape[1:], name="image")
    out = model(WithMirror(name="with_mirror")(inputs))
    if not isinstance(out, dict):
        return keras.Model(inputs, HalvesMean(name="flip_mean")(out), name=f"{model.name}_flip")
    result = {
        k: (HalvesMean(name=f"{k}_flip_mean") if k in averaged else FirstHalf(name=f"{k}_own"))(v)
        for k, v in out.items()
    }
    return keras.Model(inputs, result, name=f"{model.name}_flip")


#: Names the feature graph of :func:`feature_model` for the feature cache: change it when the features change.
FEATURE_SPEC = f"v1|{STYLE_LAYERS!r}|colour_hist(12,3,4)+16|gradient_hist(9,4)"
#: The same with the ``gram`` family (:func:`feature_spec`).
GRAM_SPEC = f"gram-v1|ChannelCovariance(dim={GRAM_DIM},seed=i,centred,triu,ssqrt,l2)|{GRAM_LAYERS!r}"


def feature_spec(gram: bool = False) -> str:
    """The feature cache key of :func:`feature_model` (without ``gram``: :data:`FEATURE_SPEC`, so the cache of runs
    without second-order features stays valid)."""
    return f"{FEATURE_SPEC}|{GRAM_SPEC}" if gram else FEATURE_SPEC


def feature_cache(backbone: keras.Model, cache_dir=None, gram: bool = False) -> FeatureCache:
    """The feature cache of ``backbone`` (``<TOONMATCH_CACHE>/features/…`` unless ``cache_dir``)."""
    from ml.pretrained import default_cache_dir

    root = default_cache_dir() if cache_dir is None else cache_dir
    return FeatureCache(root, weights_fingerprint(backbone), INPUT_SIZE, feature_spec(gram))


def feature_extractor(backbone: keras.Model, cache: FeatureCache | None = None, gram: bool = False):
    """``fn(arrays, progress=False, desc=...)`` → {"cnn", "handcrafted"} (with ``gram``: and "gram") of letterboxed
    224×224 images ([0, 255]), in batches through one traced graph; with ``cache``, rows seen before (same array,
    network, spec) are read from it instead (:mod:`ml.train.feature_cache`)."""
    run = compiled(feature_model(backbone, gram), INPUT_SIZE)

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
    gram = config.gram
    cache = feature_cache(backbone, gram=gram) if config.feature_cache else None
    extract = feature_extractor(backbone, cache, gram)
    feats = extract(x, progress, desc="pretrained features")
    del x
    embed_family = "fused_gram" if gram else "fused"
    embedding = family_whitening(feats, embed_family, EMBED_DIM, config.seed, config.gram_weight)
    head_family = "fused_gram" if gram and config.genre_features == "fused" else config.genre_features
    covers = {s: _split_covers(extract, data, s, size) for s in ("val", "test")}
    genre_task = _HeadTask.of(data, feats, owners, covers, data.genre_of)
    author_task = _HeadTask.of(data, feats, owners, covers, data.author_of)
    priors = PRIOR_GRID if config.genre_prior else (0.0,)
    genre = genre_task.ship("genre", data.n_genres, head_family, config.seed, priors, config.gram_weight)
    author = author_task.ship("author", data.n_authors, head_family, config.seed, gram_weight=config.gram_weight)
    genre_parts = stages.family_parts(
        genre_task.test,
        lambda family: genre_task.on_train(data.n_genres, family, config.seed, priors, config.gram_weight),
        families=(*VARIANTS, *GRAM_VARIANTS) if gram else VARIANTS,
    )
    inputs = stages.image_input(size)
    out = serving_graph(inputs, backbone, embedding, {"genre": genre, "author": author}, embed_family)
    serving = keras.Model(inputs, {k: out[k] for k in ("embedding", "genre", "nsfw")}, name="serving")
    genre_model = keras.Model(inputs, out["genre"], name="genre")
    author_model = keras.Model(inputs, out["author"], name="author")
    if config.genre_flip:  # genre (and author) averaged over the image and its mirror; the embedding is the image's
        serving, genre_model, author_model = (flip_averaged(m) for m in (serving, genre_model, author_model))
    models = stages.ServingModels(
        serving, keras.Model(inputs, out["embedding"], name="embedder"), genre_model, author_model
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

    def _fit(self, n_classes: int, family: str, seed: int, refit=None, priors=(0.0,), gram_weight=1.0) -> FrozenHead:
        val_x, val_y = (self.val.features, self.val.labels) if self.val is not None else (None, np.array([], int))
        return fit_frozen_head(
            self.train.features,
            self.train.labels,
            val_x,
            val_y,
            n_classes,
            family,
            seed,
            refit=refit,
            priors=priors,
            gram_weight=gram_weight,
        )

    def on_train(
        self, n_classes: int, family: str, seed: int, priors=(0.0,), gram_weight=1.0
    ) -> tuple[FittedHead, Callable]:
        """The ``family`` head fitted on the training titles alone, and its features → probabilities."""
        head = self._fit(n_classes, family, seed, priors=priors, gram_weight=gram_weight)
        return head.head, head.predict_proba

    def ship(self, name: str, n_classes: int, family: str, seed: int, priors=(0.0,), gram_weight=1.0) -> FrozenHead:
        """The shipped head: C (and the prior strength among ``priors``) chosen on the val covers, refitted on every
        train + val row."""
        rows = (self.rows.features, self.rows.labels)
        head = self._fit(n_classes, family, seed, refit=rows, priors=priors, gram_weight=gram_weight)
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
