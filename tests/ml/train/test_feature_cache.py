"""The frozen backbone's feature cache: rows seen before are read back (equal), new rows computed, keys follow the
array, the network's weights and the spec."""

import keras
import numpy as np
import pytest

from ml.train import frozen
from ml.train.feature_cache import FeatureCache, array_keys, weights_fingerprint


def _counting(fn):
    calls = []

    def compute(arrays):
        calls.append(len(arrays))
        return fn(arrays)

    return compute, calls


def _features(arrays):
    x = arrays.reshape(len(arrays), -1).astype(np.float32)
    return {"a": x.mean(axis=1, keepdims=True), "b": x[:, :3] * 2.0}


def test_second_pass_reads_cached_rows_and_computes_only_new_ones(tmp_path):
    rng = np.random.default_rng(0)
    arrays = rng.integers(0, 256, size=(6, 4, 4, 3), dtype=np.uint8)
    compute, calls = _counting(_features)
    first = FeatureCache(tmp_path, "sha", 4, "spec").extract(compute, arrays)
    more = np.concatenate([arrays[::-1], rng.integers(0, 256, size=(2, 4, 4, 3), dtype=np.uint8)])
    cache = FeatureCache(tmp_path, "sha", 4, "spec")  # a new run: reads the shards written by the first
    second = cache.extract(compute, more)
    assert calls == [6, 2]
    assert (cache.hits, cache.misses) == (6, 2)
    for name in ("a", "b"):
        np.testing.assert_array_equal(second[name][:6], first[name][::-1])
        np.testing.assert_allclose(second[name], _features(more)[name])


@pytest.mark.parametrize("change", ["backbone", "size", "spec"])
def test_another_network_size_or_spec_is_another_namespace(tmp_path, change):
    arrays = np.zeros((2, 4, 4, 3), np.uint8)
    arrays[1] += 7
    FeatureCache(tmp_path, "sha", 4, "spec").extract(_features, arrays)
    other = {"backbone": ("sha2", 4, "spec"), "size": ("sha", 8, "spec"), "spec": ("sha", 4, "spec2")}[change]
    compute, calls = _counting(_features)
    FeatureCache(tmp_path, *other).extract(compute, arrays)
    assert calls == [2]


def test_keys_follow_every_byte_of_the_array():
    a = np.zeros((1, 4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 3, 3, 2] = 1
    assert array_keys(a, "ns") != array_keys(b, "ns")
    assert array_keys(a, "ns") == array_keys(a.copy(), "ns") != array_keys(a, "other")


def test_a_damaged_shard_is_skipped_and_recomputed(tmp_path, caplog):
    arrays = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3)
    cache = FeatureCache(tmp_path, "sha", 4, "spec")
    cache.extract(_features, arrays)
    (shard,) = cache.folder.glob("*.npz")
    shard.write_bytes(b"not a zip")
    compute, calls = _counting(_features)
    out = FeatureCache(tmp_path, "sha", 4, "spec").extract(compute, arrays)
    assert calls == [2] and "unreadable shard" in caplog.text
    np.testing.assert_allclose(out["b"], _features(arrays)["b"])


def test_weights_fingerprint_changes_with_the_weights():
    def model(seed):
        keras.utils.set_random_seed(seed)
        inputs = keras.Input((3,))
        return keras.Model(inputs, keras.layers.Dense(2)(inputs))

    assert weights_fingerprint(model(0)) == weights_fingerprint(model(0)) != weights_fingerprint(model(1))


def test_frozen_feature_extractor_with_cache_equals_without(tmp_path, tiny_catalog):
    """On the tiny nsfwjs-shaped network through the real fetch/convert path: cached features are the features."""
    from catalog.format import load_catalog
    from ml.embedding import stack_images
    from ml.pretrained import INPUT_SIZE, load_backbone
    from ml.train.dataset import load_title_images
    from tests.helpers.tiny_backbone import tiny_backbone_cache

    with tiny_backbone_cache(tmp_path / "cache", tmp_path / "work"):
        backbone = load_backbone()
    images = load_title_images(load_catalog(tiny_catalog), progress=False)
    arrays = stack_images([imgs[0] for imgs in list(images.values())[:5]], INPUT_SIZE)
    plain = frozen.feature_extractor(backbone)(arrays)
    cache = frozen.feature_cache(backbone, tmp_path / "features")
    cold = frozen.feature_extractor(backbone, cache)(arrays)
    warm_cache = frozen.feature_cache(backbone, tmp_path / "features")
    warm = frozen.feature_extractor(backbone, warm_cache)(arrays)
    assert warm_cache.hits == 5 and warm_cache.misses == 0
    for name in ("cnn", "handcrafted"):
        np.testing.assert_allclose(cold[name], plain[name], atol=1e-5)
        np.testing.assert_array_equal(warm[name], cold[name])
