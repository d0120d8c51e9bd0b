"""Custom Keras layers stored inside saved models: importing this module registers them for loading."""

import keras
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
