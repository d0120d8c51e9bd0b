"""The custom Keras layers saved inside run folders: second-order style statistics and the flip-averaging pieces."""

import keras
import numpy as np
import pytest

from ml.layers import ChannelCovariance, FirstHalf, HalvesMean, WithMirror


def covariance_reference(x: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """ChannelCovariance's recipe in numpy, one image at a time."""
    rows = []
    for image in x:
        z = image.reshape(-1, image.shape[-1]) @ projection
        z = z - z.mean(axis=0)
        cov = z.T @ z / len(z)
        upper = cov[np.triu_indices(projection.shape[1])]
        v = np.sign(upper) * np.sqrt(np.abs(upper))
        rows.append(v / np.linalg.norm(v))
    return np.stack(rows)


@pytest.mark.parametrize(("channels", "dim"), [(12, 4), (3, 5)])
def test_channel_covariance_is_the_normalised_upper_triangle_of_the_projected_covariance(channels, dim):
    x = np.random.default_rng(0).normal(size=(3, 6, 5, channels)).astype("float32")
    layer = ChannelCovariance(dim, seed=1)
    out = np.asarray(layer(x))
    assert out.shape == (3, dim * (dim + 1) // 2) == (3, layer.compute_output_shape(x.shape)[1])
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    projection = np.asarray(layer.projection)
    if channels >= dim:
        np.testing.assert_allclose(projection.T @ projection, np.eye(dim), atol=1e-5)  # orthonormal columns
    np.testing.assert_allclose(out, covariance_reference(x, projection), atol=1e-4)


def test_channel_covariance_ignores_where_things_are_but_not_what_they_look_like():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1, 4, 4, 8)).astype("float32")
    shuffled = x.reshape(1, 16, 8)[:, rng.permutation(16)].reshape(1, 4, 4, 8)
    layer = ChannelCovariance(6, seed=0)
    np.testing.assert_allclose(np.asarray(layer(shuffled)), np.asarray(layer(x)), atol=1e-5)
    other = x.copy()
    other[..., 0] = other[..., 1]  # two channels perfectly correlated: a different texture
    assert np.abs(np.asarray(layer(other)) - np.asarray(layer(x))).max() > 0.05


def test_a_saved_and_reloaded_model_with_channel_covariance_gives_the_same_outputs(tmp_path):
    inputs = keras.Input((7, 7, 10))
    feats = keras.layers.Conv2D(9, 3, padding="same")(inputs)
    out = keras.layers.Concatenate()([ChannelCovariance(5, seed=0)(feats), ChannelCovariance(4, seed=1)(inputs)])
    model = keras.Model(inputs, out)
    x = np.random.default_rng(3).normal(size=(2, 7, 7, 10)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.output_shape == (None, 15 + 10)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)


def test_flip_averaging_layers_are_the_mean_of_the_two_orientations():
    inputs = keras.Input((4, 5, 3))
    inner = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(6, activation="softmax")])
    both = inner(WithMirror()(inputs))
    model = keras.Model(inputs, {"mean": HalvesMean()(both), "own": FirstHalf()(both)})
    x = np.random.default_rng(4).normal(size=(3, 4, 5, 3)).astype("float32")
    out = model(x)
    plain, mirrored = np.asarray(inner(x)), np.asarray(inner(x[:, :, ::-1]))
    np.testing.assert_allclose(np.asarray(out["mean"]), (plain + mirrored) / 2, atol=1e-6)
    np.testing.assert_allclose(np.asarray(out["own"]), plain, atol=1e-6)
    np.testing.assert_allclose(np.asarray(model(x[:, :, ::-1])["mean"]), np.asarray(out["mean"]), atol=1e-6)
