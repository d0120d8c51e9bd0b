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
