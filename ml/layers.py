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
