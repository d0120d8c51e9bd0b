"""Custom Keras layers stored inside saved models: importing this module registers them for loading."""

import keras
import numpy as np
import tensorflow as tf


@keras.saving.register_keras_serializable(package="toonmatch")
class L2Normalize(keras.layers.Layer):
    def call(self, x):
        return tf.math.l2_normalize(x, axis=-1)


@keras.saving.register_keras_serializable(package="toonmatch")
class HorizontalFlip(keras.layers.Layer):
    def call(self, x):
        return tf.reverse(x, axis=[2])


@keras.saving.register_keras_serializable(package="toonmatch")
class SpatialStats(keras.layers.Layer):
    """Mean (and, with ``std``, standard deviation) of each channel over the image: (n, h, w, c) → (n, c or 2c).
    Channel statistics of intermediate activations describe texture and drawing style rather than content."""

    def __init__(self, std: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.std = std

    def call(self, x):
        mean = tf.reduce_mean(x, axis=[1, 2])
        if not self.std:
            return mean
        return tf.concat(
            [mean, tf.sqrt(tf.reduce_mean(tf.square(x - mean[:, None, None, :]), axis=[1, 2]) + 1e-12)], -1
        )

    def get_config(self):
        return {**super().get_config(), "std": self.std}


@keras.saving.register_keras_serializable(package="toonmatch")
class SignedSqrt(keras.layers.Layer):
    """sign(x)·√|x| ("power normalisation"): tames the few large activations of pooled features before a linear head."""

    def call(self, x):
        return tf.sign(x) * tf.sqrt(tf.abs(x))


@keras.saving.register_keras_serializable(package="toonmatch")
class ChannelCovariance(keras.layers.Layer):
    """Second-order style statistics of a feature map, (n, h, w, c) → (n, dim·(dim + 1)/2): the channels projected to
    ``dim`` by a fixed random orthonormal matrix (seeded; a weight of the layer, so a saved model keeps it), their
    covariance over the image's positions, its upper triangle (diagonal included), signed square root, L2-normalised.
    The covariance of the channels of a mid-level map describes texture and line work irrespective of where things
    are (the Gram matrix of style transfer, centred)."""

    def __init__(self, dim: int = 32, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.seed = seed

    def build(self, input_shape):
        channels = int(input_shape[-1])
        rng = np.random.default_rng(self.seed)
        if channels >= self.dim:  # orthonormal columns
            initial = np.linalg.qr(rng.normal(size=(channels, self.dim)))[0]
        else:
            initial = rng.normal(size=(channels, self.dim)) / np.sqrt(channels)
        self.projection = self.add_weight(
            name="projection",
            shape=(channels, self.dim),
            initializer=keras.initializers.Constant(initial.astype("float32")),
            trainable=False,
        )
        rows, cols = np.triu_indices(self.dim)
        self._upper = tf.constant(rows * self.dim + cols, dtype=tf.int32)

    def call(self, x):
        z = tf.einsum("nhwc,cd->nhwd", x, tf.cast(self.projection, x.dtype))
        z = tf.reshape(z, [tf.shape(z)[0], -1, self.dim])
        z = z - tf.reduce_mean(z, axis=1, keepdims=True)
        cov = tf.matmul(z, z, transpose_a=True) / tf.cast(tf.shape(z)[1], z.dtype)
        upper = tf.gather(tf.reshape(cov, [-1, self.dim * self.dim]), self._upper, axis=1)
        return tf.math.l2_normalize(tf.sign(upper) * tf.sqrt(tf.abs(upper)), axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim * (self.dim + 1) // 2)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "seed": self.seed}


@keras.saving.register_keras_serializable(package="toonmatch")
class WithMirror(keras.layers.Layer):
    """(n, h, w, c) → (2n, h, w, c): the batch, then its mirror images (one network pass for both orientations)."""

    def call(self, x):
        return tf.concat([x, tf.reverse(x, axis=[2])], axis=0)


@keras.saving.register_keras_serializable(package="toonmatch")
class FirstHalf(keras.layers.Layer):
    """The first half of the batch: the outputs of the images themselves after :class:`WithMirror`."""

    def call(self, x):
        return x[: tf.shape(x)[0] // 2]


@keras.saving.register_keras_serializable(package="toonmatch")
class HalvesMean(keras.layers.Layer):
    """The mean of the batch's two halves: an output averaged over each image and its mirror (:class:`WithMirror`)."""

    def call(self, x):
        n = tf.shape(x)[0] // 2
        return (x[:n] + x[n:]) / 2.0
