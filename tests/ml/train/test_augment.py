"""Image perturbations: training views and the evaluation perturbation keep images usable and are seeded."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ml.preprocess import letterbox
from ml.train.augment import eval_perturbation, training_view


def cover(width: int = 60, height: int = 80) -> Image.Image:
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], axis=-1)
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def test_training_views_are_rgb_images_of_plausible_size():
    img = cover()
    rng = np.random.default_rng(0)
    for _ in range(40):
        view = training_view(img, rng)
        assert view.mode == "RGB"
        # crop ≤ 18 % per side, border ≤ 13 px, resize 0.5–1.4
        assert 8 <= view.width <= round((60 + 26) * 1.4) and 8 <= view.height <= round((80 + 26) * 1.4)


def test_training_views_letterbox_to_the_model_input():
    rng = np.random.default_rng(1)
    batch = np.stack([letterbox(training_view(cover(), rng), 32) for _ in range(6)])
    assert batch.shape == (6, 32, 32, 3) and batch.dtype == np.uint8


def test_views_differ_but_are_seeded():
    img = cover()
    a = [np.asarray(training_view(img, np.random.default_rng(s))) for s in range(4)]
    b = [np.asarray(training_view(img, np.random.default_rng(s))) for s in range(4)]
    assert all(x.shape == y.shape and (x == y).all() for x, y in zip(a, b, strict=True))
    assert len({x.tobytes() for x in a}) == 4


def test_eval_perturbation_follows_its_contract():
    img = cover(100, 100)
    rng = np.random.default_rng(0)
    for _ in range(40):
        out = eval_perturbation(img, rng)
        assert out.mode == "RGB"
        # crop ≤ 10 % per side (≥ 80 px left), border ≤ 8 px per side, then resized 0.7–1.3
        assert round(80 * 0.7) - 1 <= out.width <= round(116 * 1.3) + 1
        assert round(80 * 0.7) - 1 <= out.height <= round(116 * 1.3) + 1


def test_eval_perturbation_is_the_same_for_the_same_seed():
    img = cover()
    first = np.asarray(eval_perturbation(img, np.random.default_rng(5)))
    again = np.asarray(eval_perturbation(img, np.random.default_rng(5)))
    assert first.shape == again.shape and (first == again).all()
