"""Training loops: the multi-task backbone (supervised contrastive + genre + author) and the paper-style CNN."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import keras
import numpy as np
import tensorflow as tf
from PIL import Image
from tqdm import tqdm

from catalog.format import Title
from ml.embedding import compiled, run_batched, stack_images
from ml.preprocess import letterbox
from ml.pretrained.nsfwjs import INPUT_SIZE as PRETRAINED_INPUT_SIZE
from ml.run import DEFAULT_N_TREES
from ml.train.augment import eval_perturbation, training_view
from ml.train.dataset import Labels
from ml.train.metrics import classification_metrics
from ml.train.models import ModelSpec, build_paper_cnn, build_trainer, supcon_loss

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    seed: int = 0
    spec: ModelSpec = field(default_factory=lambda: ModelSpec(input_size=80, widths=(32, 48, 96, 128, 192)))
    batch_titles: int = 48
    learning_rate: float = 2e-3
    temperature: float = 0.1
    genre_weight: float = 0.5
    author_weight: float = 0.25
    paper_epochs: int = 15
    genre_views: int = 2  # augmented views per training image when fitting the genre head
    genre_features: str = "fused"  # which features the shipped genre head uses: cnn, handcrafted or fused
    genre_prior: bool = True  # choose a class-prior correction of the genre head on validation (else none)
    gram: bool = False  # pretrained: add second-order (channel covariance) style features to embedding and heads
    gram_weight: float = 1.0  # their block's total variance relative to the other features' before the PCA
    genre_flip: bool = False  # pretrained: genre/author outputs averaged over the image and its mirror (2× the rows)
    author_positive_weight: float = 0.2  # same-author titles count as weak positives in the contrastive loss
    n_trees: int = DEFAULT_N_TREES
    backbone: str = "pretrained"  # "pretrained" (frozen MobileNetV2 from nsfwjs, ml.pretrained) or "scratch"
    backbone_fallback: str | None = None  # why a "pretrained" run fell back to "scratch" (set by the pipeline)
    feature_cache: bool = True  # reuse the frozen backbone's per-image features across runs (ml.train.feature_cache)
    preset: str = "default"

    @property
    def input_size(self) -> int:
        """The run's input size: the pretrained network's 224 px, else the from-scratch backbone's."""
        return PRETRAINED_INPUT_SIZE if self.backbone == "pretrained" else self.spec.input_size

    @property
    def index_flips(self) -> bool:
        """Index every image in both orientations (the pretrained embedding is not flip-averaged: one pass a query)."""
        return self.backbone == "pretrained"

    @classmethod
    def preset_named(cls, name: str, **overrides) -> TrainConfig:
        presets = {
            "default": {},
            "quick": {
                "epochs": 16,
                "paper_epochs": 6,
                "genre_views": 1,
                "n_trees": 20,
                "spec": ModelSpec(input_size=80, widths=(24, 48, 64, 96, 128), embed_dim=64),
            },
            "tiny": {
                "epochs": 2,
                "paper_epochs": 1,
                "genre_views": 0,
                "n_trees": 5,
                "batch_titles": 16,
                "backbone": "scratch",
                "feature_cache": False,
                "spec": ModelSpec(input_size=32, widths=(8, 16, 16), embed_dim=16),
            },
        }
        values = {**presets[name], **{k: v for k, v in overrides.items() if v is not None}, "preset": name}
        return cls(**values)

    def to_json(self) -> dict:
        return asdict(self)


def _view_batch(items: list[tuple[Image.Image, int]], size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([letterbox(training_view(img, rng), size) for img, _ in items])


class BatchMaker:
    """Batches of two augmented views of ``batch_titles`` distinct titles, built ahead in a worker thread."""

    def __init__(
        self, title_images: dict[str, list[Image.Image]], titles: dict[str, Title], labels: Labels, config: TrainConfig
    ):
        self.ids = sorted(title_images)
        self.title_images = title_images
        self.config = config
        self.genre = np.array([labels.genre_index(titles[t]) for t in self.ids])
        self.author = np.array([labels.author_index(titles[t]) for t in self.ids])

    def steps_per_epoch(self) -> int:
        return max(1, len(self.ids) // self.config.batch_titles)

    def epoch(self, epoch: int, pool: ThreadPoolExecutor) -> Iterator[tuple[np.ndarray, ...]]:
        rng = np.random.default_rng((self.config.seed, epoch))
        order = rng.permutation(len(self.ids))
        b = min(self.config.batch_titles, len(order))
        chunks = [order[i * b : (i + 1) * b] for i in range(self.steps_per_epoch())]

        def make(step: int, chunk: np.ndarray):
            r = np.random.default_rng((self.config.seed, epoch, step))
            picked = [(imgs[int(r.integers(len(imgs)))], i) for i in chunk for imgs in [self.title_images[self.ids[i]]]]
            views = _view_batch(picked + picked, self.config.spec.input_size, int(r.integers(2**31)))
            idx = np.concatenate([chunk, chunk])
            return views, idx, self.genre[idx], self.author[idx]

        futures = [pool.submit(make, s, c) for s, c in enumerate(chunks[:2])]
        for step in range(len(chunks)):
            if step + 2 < len(chunks):
                futures.append(pool.submit(make, step + 2, chunks[step + 2]))
            yield futures[step].result()


def _masked_ce(logits, labels, weights=None):
    mask = tf.cast(labels >= 0, tf.float32)
    safe = tf.maximum(labels, 0)
    ce = tf.keras.losses.sparse_categorical_crossentropy(safe, logits, from_logits=True)
    w = mask if weights is None else mask * tf.gather(weights, safe)
    return tf.reduce_sum(ce * w) / tf.maximum(tf.reduce_sum(w), 1.0)


def class_weights(indices: np.ndarray, n: int) -> np.ndarray:
    counts = np.bincount(indices[indices >= 0], minlength=n).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max(1, (counts > 0).sum()), 0.0)
    return np.sqrt(weights).astype(np.float32)  # softened: full inverse frequency over-fits the rare genres


def train_backbone(
    config: TrainConfig,
    train_images: dict[str, list[Image.Image]],
    val_images: dict[str, list[Image.Image]],
    titles: dict[str, Title],
    labels: Labels,
    progress: bool = True,
):
    """Multi-task training; returns (trainer, backbone, projection, history: list of per-epoch dicts)."""
    keras.utils.set_random_seed(config.seed)
    trainer, backbone, projection = build_trainer(config.spec, len(labels.genres), len(labels.authors))
    maker = BatchMaker(train_images, titles, labels, config)
    total = config.epochs * maker.steps_per_epoch()
    schedule = keras.optimizers.schedules.CosineDecay(
        config.learning_rate, decay_steps=max(1, total), alpha=0.05, warmup_target=None
    )
    optimizer = keras.optimizers.Adam(schedule)
    genre_w = tf.constant(class_weights(maker.genre, max(1, len(labels.genres))))

    @tf.function(reduce_retracing=True)
    def step(x, title_idx, genre_idx, author_idx):
        with tf.GradientTape() as tape:
            out = trainer(tf.cast(x, tf.float32), training=True)
            contrastive = supcon_loss(
                out["embedding"], title_idx, config.temperature, author_idx, config.author_positive_weight
            )
            genre = _masked_ce(out["genre"], genre_idx, genre_w)
            author = _masked_ce(out["author"], author_idx)
            loss = contrastive + config.genre_weight * genre + config.author_weight * author
        grads = tape.gradient(loss, trainer.trainable_variables)
        optimizer.apply_gradients(zip(grads, trainer.trainable_variables, strict=True))
        return loss, contrastive, genre, author

    val_probe = _ValProbe(trainer, val_images, titles, labels, config)
    history = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        bar = tqdm(range(config.epochs), desc="training embedding + heads", unit="epoch", disable=not progress)
        for epoch in bar:
            sums = np.zeros(4)
            for batch in maker.epoch(epoch, pool):
                sums += [float(v) for v in step(*batch)]
            sums /= maker.steps_per_epoch()
            row = {
                "epoch": epoch + 1,
                "loss": sums[0],
                "contrastive": sums[1],
                "genre_ce": sums[2],
                "author_ce": sums[3],
            }
            row.update(val_probe(epoch))
            history.append(row)
            bar.set_postfix(loss=f"{sums[0]:.3f}", val_hit1=f"{row.get('val_hit@1', float('nan')):.2f}")
    return trainer, backbone, projection, history


class _ValProbe:
    """Cheap per-epoch validation: genre head macro-F1 on val covers and perturbed-cover hit@1 among val titles."""

    def __init__(self, trainer, val_images, titles, labels: Labels, config: TrainConfig):
        self.trainer, self.labels, self.config = trainer, labels, config
        self.ids = sorted(val_images)
        size = config.spec.input_size
        if len(self.ids) < 2:
            self.x = None
            return
        rng = np.random.default_rng(0)
        covers = [val_images[t][0] for t in self.ids]
        self.x = stack_images(covers, size)
        self.x_pert = np.stack([letterbox(eval_perturbation(img, rng), size) for img in covers])
        self.genre = np.array([labels.genre_index(titles[t]) for t in self.ids])
        self.fn = None

    def __call__(self, epoch: int) -> dict:
        if self.x is None:
            return {}
        if self.fn is None:
            self.fn = compiled(self.trainer, self.config.spec.input_size)
        clean = run_batched(self.fn, self.x)
        pert = run_batched(self.fn, self.x_pert)
        hit1 = float(np.mean(np.argmax(pert["embedding"] @ clean["embedding"].T, axis=1) == np.arange(len(self.ids))))
        known = self.genre >= 0
        f1 = (
            classification_metrics(self.genre[known], np.argmax(clean["genre"][known], axis=1))["f1"]
            if known.any()
            else None
        )
        return {"val_hit@1": hit1, "val_genre_f1_head": f1}


def train_paper_cnn(
    config: TrainConfig,
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    progress: bool = True,
    input_size: int | None = None,
):
    """The paper's recipe: plain CNN, Adam, sparse categorical cross-entropy, no tricks. Returns (model, history).
    ``input_size``: the run's input size, when it differs from the CNN's own (the model resizes)."""
    keras.utils.set_random_seed(config.seed + 1)
    model = build_paper_cnn(config.spec, n_classes, input_size)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    bar = tqdm(total=config.paper_epochs, desc="training paper-style CNN", unit="epoch", disable=not progress)

    class _Bar(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            bar.update(1)
            bar.set_postfix(loss=f"{(logs or {}).get('loss', math.nan):.3f}")

    hist = model.fit(
        x.astype("float32"), y, epochs=config.paper_epochs, batch_size=32, verbose=0, shuffle=True, callbacks=[_Bar()]
    )
    bar.close()
    return model, [{"epoch": i + 1, "loss": float(v)} for i, v in enumerate(hist.history["loss"])]
