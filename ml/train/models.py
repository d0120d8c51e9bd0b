"""Keras model builders. All take RGB images in [0, 255] at a fixed square input size.

- a shared CNN backbone (trained multi-task: supervised-contrastive embedding + genre + author heads);
- the embedder: L2-normalised, flip-averaged projection of the backbone (retrieval);
- the genre classifier: backbone features fused with hand-crafted colour/texture features, a linear softmax head;
- the author classifier: backbone + softmax head (as in the paper: CNN, Adam, sparse categorical cross-entropy);
- the paper-style genre CNN, whose penultimate layer is the baseline embedding.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf

from ml.layers import HorizontalFlip, L2Normalize


@dataclass(frozen=True)
class ModelSpec:
    input_size: int = 96
    widths: tuple[int, ...] = (32, 64, 96, 160, 224)
    embed_dim: int = 128
    dropout: float = 0.3


def build_backbone(spec: ModelSpec) -> keras.Model:
    """Small VGG-ish CNN with batch norm; global average + max pooling → feature vector."""
    inputs = keras.Input((spec.input_size, spec.input_size, 3), name="image")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    for i, width in enumerate(spec.widths):
        conv = keras.layers.Conv2D if i < 2 else keras.layers.SeparableConv2D
        x = conv(width, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        if i < len(spec.widths) - 1:
            x = keras.layers.MaxPooling2D()(x)
    pooled = keras.layers.Concatenate()(
        [keras.layers.GlobalAveragePooling2D()(x), keras.layers.GlobalMaxPooling2D()(x)]
    )
    return keras.Model(inputs, pooled, name="backbone")


def build_projection(spec: ModelSpec, feature_dim: int) -> keras.Model:
    inputs = keras.Input((feature_dim,))
    x = keras.layers.Dense(256, activation="relu")(inputs)
    x = keras.layers.Dense(spec.embed_dim)(x)
    return keras.Model(inputs, x, name="projection")


def build_trainer(spec: ModelSpec, n_genres: int, n_authors: int) -> tuple[keras.Model, keras.Model, keras.Model]:
    """(trainer, backbone, projection): the trainer maps images → {embedding, genre_logits, author_logits}."""
    backbone = build_backbone(spec)
    feature_dim = backbone.output.shape[-1]
    projection = build_projection(spec, feature_dim)
    inputs = keras.Input((spec.input_size, spec.input_size, 3), name="image")
    feats = backbone(inputs)
    dropped = keras.layers.Dropout(spec.dropout)(feats)
    outputs = {
        "embedding": L2Normalize(name="embedding")(projection(feats)),
        "genre": keras.layers.Dense(n_genres, name="genre_logits")(dropped),
        "author": keras.layers.Dense(max(1, n_authors), name="author_logits")(dropped),
    }
    return keras.Model(inputs, outputs, name="trainer"), backbone, projection


def embed_graph(inputs, backbone: keras.Model, projection: keras.Model, features=None, flipped_features=None):
    """Flip-averaged embedding: exactly invariant to horizontal mirroring (pass the backbone's outputs on the image
    and its mirror image when the graph already computes them)."""
    features = backbone(inputs) if features is None else features
    flipped_features = backbone(HorizontalFlip()(inputs)) if flipped_features is None else flipped_features
    both = keras.layers.Add()([projection(features), projection(flipped_features)])
    return L2Normalize(name="embedding")(both)


def build_paper_cnn(spec: ModelSpec, n_classes: int, input_size: int | None = None) -> keras.Model:
    """The paper's style of classifier: a plain CNN trained with Adam and sparse categorical cross-entropy.
    With ``input_size`` (the run's, when larger) it takes images of that size and resizes them to its own."""
    size = input_size or spec.input_size
    inputs = keras.Input((size, size, 3), name="image")
    x = inputs
    if size != spec.input_size:
        x = keras.layers.Resizing(spec.input_size, spec.input_size, interpolation="area", name="to_cnn_size")(x)
    x = keras.layers.Rescaling(1 / 255.0)(x)
    for width in (32, 64, 128):
        x = keras.layers.Conv2D(width, 3, activation="relu", padding="same")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(keras.layers.MaxPooling2D()(x))
    x = keras.layers.Dropout(0.5)(x)
    x = keras.layers.Dense(128, activation="relu", name="penultimate")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="paper_cnn")


def paper_embedder(paper_model: keras.Model) -> keras.Model:
    """Baseline embedding: the paper-style classifier's penultimate layer, L2-normalised."""
    return keras.Model(
        paper_model.input, L2Normalize()(paper_model.get_layer("penultimate").output), name="paper_embed"
    )


def supcon_loss(embeddings, labels, temperature: float = 0.1, groups=None, group_weight: float = 0.0):
    """Supervised contrastive loss (Khosla et al. 2020): views sharing a label attract, all others repel.

    With ``groups`` (e.g. author ids, -1 = unknown) other titles of the same group are extra positives weighted
    ``group_weight``, so an author's titles drift together without collapsing onto one another."""
    labels = tf.reshape(labels, [-1, 1])
    n = tf.shape(embeddings)[0]
    logits = tf.matmul(embeddings, embeddings, transpose_b=True) / temperature
    self_mask = tf.eye(n)
    logits = logits - self_mask * 1e9
    same = tf.cast(tf.equal(labels, tf.transpose(labels)), tf.float32)
    positives = same - self_mask
    if groups is not None and group_weight > 0:
        groups = tf.reshape(groups, [-1, 1])
        known = tf.cast(groups >= 0, tf.float32)
        same_group = tf.cast(tf.equal(groups, tf.transpose(groups)), tf.float32) * known * tf.transpose(known)
        positives += group_weight * same_group * (1.0 - same)
    log_prob = logits - tf.reduce_logsumexp(logits, axis=1, keepdims=True)
    per_anchor = tf.reduce_sum(positives * log_prob, axis=1) / tf.maximum(tf.reduce_sum(positives, axis=1), 1e-6)
    has_pos = tf.cast(tf.reduce_sum(positives, axis=1) > 0, tf.float32)
    return -tf.reduce_sum(per_anchor * has_pos) / tf.maximum(tf.reduce_sum(has_pos), 1.0)
