"""The converted backbone against nsfwjs itself, on deterministic synthetic images.

REFERENCE was produced by ``reference/make_reference.mjs`` (see ``reference/README.md``): nsfwjs 4.4.0 with
@tensorflow/tfjs 4.22.0 on its pure-JS ``cpu`` backend in Node 20, ``nsfwjs.load("MobileNetV2Mid")``; each image
(the integer formulas of ``synthetic.py``, checked here by the pixels' sha256) went in as an int32 224×224×3 tensor
through nsfwjs's ``infer`` (÷255, no resize at 224 px) for ``nsfw``, and through ``model.execute`` of the graph's
``feature_vector/SpatialSqueeze`` node for the features (first 8 values and the L2 norm of all 1792). Numbers are
rounded to 9 significant digits. The model tests use the cached backbone (``TOONMATCH_CACHE`` or
``~/.cache/toonmatch``), fetching it with npm if needed, and skip when that is impossible.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from ml.pretrained import nsfwjs
from ml.pretrained.errors import BackboneUnavailableError
from ml.pretrained.fetch import backbone_source, default_cache_dir, load_backbone
from tests.ml.pretrained import synthetic

REFERENCE_VERSIONS = {"nsfwjs": "4.4.0", "tfjs": "4.22.0", "backend": "cpu"}
REFERENCE = {
    "gradient": {
        "pixels_sha256": "cc2bc00f2b3dfd2cbe06d81d60d3fea1d63e5bb35aceecafd479c76c2d77e189",
        "nsfw": [0.0722651631, 0.0230616648, 0.902410269, 0.000970152731, 0.00129275874],
        "features_head": [0.00373256439, 0.158753291, 0.0, 0.413012743, 0.0, 0.0, 2.15196013, 1.74527562],
        "features_norm": 17.2742932,
    },
    "checkerboard": {
        "pixels_sha256": "c759c9f7769bcad6f028854b7da42f5c145abc87c9851c000c5172e22c43a52e",
        "nsfw": [0.0195650999, 0.00537158083, 0.974825799, 0.000169032413, 6.84757906e-05],
        "features_head": [0.031354554, 0.0, 0.0, 0.123491645, 0.0, 0.0, 0.0314794853, 0.0],
        "features_norm": 25.5064172,
    },
    "blocks": {
        "pixels_sha256": "7575addbeddbfdc1f93e9be28fa2876608580e5a9c8b1a5d02f7358ee0e329d3",
        "nsfw": [0.0460494496, 0.00785109773, 0.944057822, 0.000678032113, 0.00136354286],
        "features_head": [0.00489233946, 0.0211588219, 0.0, 0.219633251, 0.0, 0.0, 3.10618401, 1.75513756],
        "features_norm": 17.5479979,
    },
    "noise": {
        "pixels_sha256": "a21077e0d39cba8ff7cd2008cd4af73e3f13730ad4fbd6ecfa57e56c05b5c9db",
        "nsfw": [0.515753925, 0.188148662, 0.28418836, 0.00142545043, 0.0104836309],
        "features_head": [0.054211881, 0.0, 0.0, 0.0965775847, 0.0, 0.0, 0.300001055, 0.00853308849],
        "features_norm": 15.0659537,
    },
    "radial": {
        "pixels_sha256": "2744cb3fa112836c4010c24a9df24a05b60ec83ad18b2350b3df2db7218856f4",
        "nsfw": [0.0212190114, 0.0143063357, 0.961783111, 0.0019858554, 0.000705692102],
        "features_head": [0.0, 0.0, 0.0, 1.18087256, 0.0, 0.0, 1.26989067, 1.1847496],
        "features_norm": 17.3103674,
    },
}
# nsfwjs's classify() on "noise" named its top classes Drawing 0.5158, Neutral 0.2842, Hentai 0.1881: index order
TOP_CLASSES = {"noise": ["Drawing", "Neutral", "Hentai"], "gradient": ["Neutral", "Drawing", "Hentai"]}


def test_synthetic_images_are_the_ones_nsfwjs_saw():
    assert list(synthetic.IMAGES) == list(REFERENCE)
    for name, ref in REFERENCE.items():
        assert hashlib.sha256(synthetic.image(name).tobytes()).hexdigest() == ref["pixels_sha256"], name


def test_class_order_matches_nsfwjs():
    assert nsfwjs.CLASSES == ("Drawing", "Hentai", "Neutral", "Porn", "Sexy")
    assert REFERENCE_VERSIONS["nsfwjs"] == nsfwjs.VERSION
    for name, top in TOP_CLASSES.items():
        probabilities = REFERENCE[name]["nsfw"]
        ranked = [nsfwjs.CLASSES[i] for i in np.argsort(probabilities)[::-1]]
        assert ranked[: len(top)] == top


@pytest.fixture(scope="module")
def backbone():
    cache = default_cache_dir()
    try:
        return load_backbone(cache), backbone_source(cache)
    except BackboneUnavailableError as exc:
        pytest.skip(f"the real nsfwjs {nsfwjs.VERSION} backbone is neither cached in {cache} nor fetchable: {exc}")


@pytest.fixture(scope="module")
def outputs(backbone):
    model, _ = backbone
    pixels = np.stack([synthetic.image(name) for name in REFERENCE])
    return model.predict(synthetic.as_input(pixels), batch_size=len(REFERENCE), verbose=0)


def test_probabilities_match_nsfwjs(outputs):
    expected = np.array([ref["nsfw"] for ref in REFERENCE.values()])
    assert outputs["nsfw"].shape == expected.shape
    np.testing.assert_allclose(outputs["nsfw"], expected, rtol=0, atol=1e-3)


def test_features_match_nsfwjs(outputs):
    features = outputs["features"]
    assert features.shape == (len(REFERENCE), nsfwjs.FEATURE_DIM)
    assert (features >= 0).all() and (features <= 6).all()  # the mean of ReLU6 activations
    for row, ref in zip(features, REFERENCE.values(), strict=True):
        np.testing.assert_allclose(row[:8], ref["features_head"], rtol=0, atol=1e-3)
        np.testing.assert_allclose(np.linalg.norm(row), ref["features_norm"], rtol=1e-4)


def test_source_records_the_pinned_package(backbone):
    _, source = backbone
    assert source["package"] == "nsfwjs" and source["version"] == nsfwjs.VERSION and source["license"] == "MIT"
    assert source["tarball_sha256"] == nsfwjs.TARBALL_SHA256
    assert source["classes"] == list(nsfwjs.CLASSES) and source["feature_dim"] == nsfwjs.FEATURE_DIM
