"""The frozen-pretrained path: fitted linear maps folded into Keras layers, and a real run on the real network."""

import json
import logging

import numpy as np
import pytest
from PIL import Image, ImageOps
from sklearn.decomposition import PCA

from ml.train import frozen
from ml.train.genre_fit import VARIANTS, train_head


def test_whitening_matches_scikit_learn_and_whitens():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 12)) @ rng.normal(size=(12, 12)) + 5.0
    whiten = frozen.fit_whitening(x, 8)
    reference = PCA(8, whiten=True, random_state=0).fit(x).transform(x)
    np.testing.assert_allclose(whiten(x), reference, atol=1e-6)
    np.testing.assert_allclose(np.cov(whiten(x).T), np.eye(8), atol=1e-2)


def test_whitening_never_asks_for_more_components_than_samples():
    assert frozen.fit_whitening(np.random.default_rng(1).normal(size=(5, 40)), 256).weights.shape == (40, 4)


def test_folded_head_gives_the_heads_probabilities():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(120, 6))
    y = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    head = train_head(x, y, 3, "fused", 1.0)
    logits = frozen.head_affine(head)(x)
    probs = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(probs / probs.sum(1, keepdims=True), head.predict_proba(x), atol=1e-9)


def test_affines_compose_like_functions():
    rng = np.random.default_rng(3)
    a = frozen.Affine(rng.normal(size=(4, 3)), rng.normal(size=3))
    b = frozen.Affine(rng.normal(size=(3, 2)), rng.normal(size=2))
    x = rng.normal(size=(7, 4))
    np.testing.assert_allclose(a.then(b)(x), b(a(x)), atol=1e-12)
    dense = a.dense("probe")
    np.testing.assert_allclose(np.asarray(dense(x.astype("float32"))), a(x), atol=1e-5)


# ---- a real run on the real network ---------------------------------------------------------------------------------
def _config(run):
    return json.loads((run / "config.json").read_text())


def test_pretrained_run_records_its_backbone_and_serves_one_pass(pretrained_run):
    from ml.pretrained import CLASSES, INPUT_SIZE

    config = _config(pretrained_run)
    assert config["backbone"]["kind"] == "pretrained"
    assert config["backbone"]["source"]["package"] == "nsfwjs" and config["backbone"]["source"]["tarball_sha256"]
    assert config["input_size"] == INPUT_SIZE and config["index_flips"] is True
    assert config["nsfw_classes"] == list(CLASSES)
    metrics = json.loads((pretrained_run / "metrics.json").read_text())
    assert metrics["backbone"]["kind"] == "pretrained"
    assert set(metrics["genre_parts"]) == set(VARIANTS)
    assert "Pretrained backbone" in (pretrained_run / "report.md").read_text()


def test_serving_model_outputs_unit_embeddings_genres_and_nsfw(pretrained_run, tiny_catalog):
    from catalog.format import load_catalog
    from ml.embedding import compiled, stack_images
    from ml.preprocess import open_image
    from ml.run import load_model

    config = _config(pretrained_run)
    title = load_catalog(tiny_catalog).titles[0]
    image = open_image(tiny_catalog / title.images[0])
    out = compiled(load_model(pretrained_run, "serving"), config["input_size"])(
        stack_images([image, ImageOps.mirror(image)], config["input_size"])
    )
    assert out["embedding"].shape[0] == 2
    np.testing.assert_allclose(np.linalg.norm(out["embedding"], axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(out["genre"].sum(axis=1), 1.0, atol=1e-5)
    assert out["genre"].shape[1] == len(config["genres"])
    assert out["nsfw"].shape == (2, 5) and np.allclose(out["nsfw"].sum(axis=1), 1.0, atol=1e-4)


def test_a_mirrored_cover_finds_its_title_first(pretrained_run, tiny_catalog):
    """The index holds both orientations, so a mirrored screenshot still lands on its own title."""
    from catalog.format import load_catalog
    from ml.serve.engine import Engine

    engine = Engine.load(pretrained_run)
    for title in load_catalog(tiny_catalog).titles[:5]:
        mirrored = ImageOps.mirror(Image.open(tiny_catalog / title.images[0]).convert("RGB"))
        path = pretrained_run.parent / f"mirror-{title.id.replace(':', '_')}.png"
        mirrored.save(path)
        answer = engine.similar(path)
        assert answer.results[0].title.id == title.id


def test_unavailable_backbone_falls_back_to_scratch_with_a_warning(tiny_catalog, tmp_path, monkeypatch, caplog):
    import ml.pretrained
    from ml.pretrained import BackboneUnavailableError
    from ml.train.pipeline import train_run
    from ml.train.training import TrainConfig

    def unavailable(*_args, **_kwargs):
        raise BackboneUnavailableError("npm is not installed")

    monkeypatch.setattr(ml.pretrained, "load_backbone", unavailable)
    caplog.set_level(logging.WARNING)
    train_run(tiny_catalog, tmp_path / "run", TrainConfig.preset_named("tiny", backbone="pretrained"), progress=False)
    config = _config(tmp_path / "run")
    assert config["backbone"] == {"kind": "scratch", "fallback_reason": "npm is not installed"}
    assert config["index_flips"] is False and "nsfw_classes" not in config
    assert any("pretrained backbone unavailable" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("std", [False, True])
def test_spatial_stats_layer(std):
    from ml.layers import SpatialStats

    x = np.random.default_rng(4).normal(size=(2, 5, 6, 3)).astype("float32")
    out = np.asarray(SpatialStats(std)(x))
    expected = x.mean(axis=(1, 2))
    if std:
        expected = np.concatenate([expected, x.std(axis=(1, 2))], axis=1)
    np.testing.assert_allclose(out, expected, atol=1e-5)


# ---- second-order features, block balance, flip averaging ------------------------------------------------------------
def test_whitening_with_a_column_scale_is_the_whitening_of_the_scaled_features():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 10)) @ rng.normal(size=(10, 10))
    scale = np.linspace(0.5, 3.0, 10)
    folded = frozen.fit_whitening(x, 6, column_scale=scale)
    np.testing.assert_allclose(folded(x), frozen.fit_whitening(x * scale, 6)(x * scale), atol=1e-8)


def test_block_scale_gives_the_second_block_the_chosen_share_of_the_variance():
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.normal(scale=5.0, size=(300, 8)), rng.normal(scale=0.01, size=(300, 4))], axis=1)
    for weight in (0.5, 1.0, 2.0):
        scaled = (x * frozen.block_scale(x, 4, weight)).var(axis=0)
        assert scaled[-4:].sum() == pytest.approx(weight * scaled[:-4].sum(), rel=1e-9)
        np.testing.assert_allclose(scaled[:-4], x.var(axis=0)[:-4])  # the first block is left as it is
    assert frozen.block_scale(x, 0) is None and frozen.block_scale(x, 12) is None


def test_fused_gram_whitening_hears_the_small_gram_block():
    rng = np.random.default_rng(7)
    gram = rng.normal(scale=1e-3, size=(400, 3))  # tiny next to the other features
    features = {"cnn": rng.normal(scale=10.0, size=(400, 20)), "handcrafted": rng.normal(size=(400, 5)), "gram": gram}
    joined = np.concatenate([features["cnn"], features["handcrafted"], gram], axis=1)
    assert frozen.family_whitening(features, "fused", 4).weights.shape == (25, 4)

    def gram_heard(whitening) -> float:  # the share of the gram block's variance the 4 components explain (R²)
        out = np.column_stack([whitening(joined), np.ones(len(joined))])
        residual = gram - out @ np.linalg.lstsq(out, gram, rcond=None)[0]
        return 1.0 - residual.var(axis=0).sum() / gram.var(axis=0).sum()

    assert gram_heard(frozen.family_whitening(features, "fused_gram", 4)) > 0.9  # balanced: its own components
    assert gram_heard(frozen.fit_whitening(joined, 4)) < 0.3  # unbalanced, the PCA ignores it


def test_flip_averaged_model_is_the_mean_of_the_image_and_its_mirror(tmp_path):
    import keras

    from ml.run import load_model  # noqa: F401  (registers the toonmatch layers for loading)

    inputs = keras.Input((6, 6, 3))
    flat = keras.layers.Flatten()(inputs)
    model = keras.Model(
        inputs,
        {"embedding": keras.layers.Dense(4)(flat), "genre": keras.layers.Dense(3, activation="softmax")(flat)},
    )
    flipped = frozen.flip_averaged(model)
    x = np.random.default_rng(8).uniform(0, 255, size=(3, 6, 6, 3)).astype("float32")
    out, plain, mirrored = flipped(x), model(x), model(x[:, :, ::-1])
    np.testing.assert_allclose(np.asarray(out["genre"]), (np.asarray(plain["genre"]) + mirrored["genre"]) / 2, 1e-6)
    np.testing.assert_allclose(np.asarray(out["embedding"]), np.asarray(plain["embedding"]), atol=1e-6)
    flipped.save(tmp_path / "f.keras")
    again = keras.models.load_model(tmp_path / "f.keras")
    np.testing.assert_allclose(np.asarray(again(x)["genre"]), np.asarray(out["genre"]), atol=1e-6)


@pytest.fixture(scope="module")
def gram_flip_run(tiny_catalog, tmp_path_factory):
    """A tiny pretrained-path run with the second-order features and the flip-averaged genre head switched on."""
    from ml.train.pipeline import train_run
    from ml.train.training import TrainConfig
    from tests.helpers.tiny_backbone import tiny_backbone_cache

    run = tmp_path_factory.mktemp("gram_flip_run")
    cache, work = tmp_path_factory.mktemp("gram_backbone"), tmp_path_factory.mktemp("gram_nsfwjs")
    config = TrainConfig.preset_named("tiny", backbone="pretrained")
    config = type(config)(**{**config.__dict__, "gram": True, "genre_flip": True})
    with tiny_backbone_cache(cache, work):
        train_run(tiny_catalog, run, config, progress=False)
    return run


def test_a_gram_run_reports_the_gram_families_and_serves_a_flip_averaged_genre(gram_flip_run, tiny_catalog):
    from catalog.format import load_catalog
    from ml.embedding import compiled, stack_images
    from ml.preprocess import open_image
    from ml.run import load_model
    from ml.train.genre_fit import GRAM_VARIANTS

    config = _config(gram_flip_run)
    assert config["backbone"]["kind"] == "pretrained" and config["train"]["gram"] is True
    assert config["genre_head"]["variant"] == "fused_gram"
    metrics = json.loads((gram_flip_run / "metrics.json").read_text())
    assert set(metrics["genre_parts"]) == {*VARIANTS, *GRAM_VARIANTS}
    size = config["input_size"]
    serving = load_model(gram_flip_run, "serving")
    assert any(layer.name.startswith("covariance_") for layer in _all_layers(serving))
    images = [open_image(tiny_catalog / t.images[0]) for t in load_catalog(tiny_catalog).titles[:3]]
    batch = stack_images(images, size)
    out = compiled(serving, size)(batch)
    mirrored = compiled(serving, size)(batch[:, :, ::-1].copy())
    np.testing.assert_allclose(out["genre"], mirrored["genre"], atol=1e-5)  # the same guess for a mirrored upload
    assert not np.allclose(out["embedding"], mirrored["embedding"], atol=1e-3)  # the embedding is the image's own
    embedder = compiled(load_model(gram_flip_run, "embedder"), size)
    np.testing.assert_allclose(out["embedding"], embedder(batch), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(out["embedding"], axis=1), 1.0, atol=1e-5)


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)
