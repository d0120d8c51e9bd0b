"""Training helpers: the softened class weights of the genre loss and the two-view contrastive batches."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from catalog.format import Title
from ml.train.dataset import build_labels
from ml.train.training import BatchMaker, TrainConfig, class_weights


def test_class_weights_by_hand():
    # 4 × class 0, 1 × class 1, class 2 absent, unknown labels (-1) ignored: inverse frequency over the classes
    # present (5 / count / 2), then square-rooted
    w = class_weights(np.array([0, 0, 0, 0, 1, -1, -1]), 3)
    assert w.dtype == np.float32 and w.shape == (3,)
    assert w == pytest.approx([np.sqrt(5 / 4 / 2), np.sqrt(5 / 1 / 2), 0.0])


def test_balanced_classes_weigh_one_and_rare_classes_more():
    assert class_weights(np.array([0, 1, 2, 0, 1, 2]), 3) == pytest.approx([1.0, 1.0, 1.0])
    w = class_weights(np.array([0] * 9 + [1] * 3 + [2]), 3)
    assert w[0] < w[1] < w[2]
    # softened: the rarest class is not weighted the full 9 × of the commonest
    assert w[2] / w[0] == pytest.approx(3.0)


def test_class_weights_without_known_labels_are_zero():
    assert class_weights(np.array([-1, -1]), 2) == pytest.approx([0.0, 0.0])


def make_titles(n: int) -> tuple[dict[str, list[Image.Image]], dict[str, Title]]:
    rng = np.random.default_rng(0)
    images, titles = {}, {}
    for i in range(n):
        tid = f"t{i:02d}"
        pixels = rng.integers(0, 256, (20 + i, 30, 3), dtype=np.uint8)
        images[tid] = [Image.fromarray(pixels, "RGB")] * (1 + i % 2)
        titles[tid] = Title(tid, tid, (f"author{i % 3}",), (f"genre{i % 2}",), (Path(f"/x/{tid}.png"),))
    return images, titles


def test_batches_hold_two_views_of_distinct_titles():
    images, titles = make_titles(10)
    labels = build_labels(list(titles.values()))
    config = TrainConfig.preset_named("tiny", batch_titles=4)
    maker = BatchMaker(images, titles, labels, config)
    assert maker.steps_per_epoch() == 2  # 10 titles // 4 per batch
    with ThreadPoolExecutor(max_workers=1) as pool:
        batches = list(maker.epoch(0, pool))
    assert len(batches) == 2
    size = config.spec.input_size
    seen = []
    for views, idx, genre, author in batches:
        assert views.shape == (8, size, size, 3) and views.dtype == np.uint8
        assert len(set(idx[:4])) == 4 and (idx[:4] == idx[4:]).all()  # 4 distinct titles, each twice
        assert (genre == maker.genre[idx]).all() and (author == maker.author[idx]).all()
        seen += list(idx[:4])
    assert len(set(seen)) == 8  # no title twice in one epoch


def test_batches_are_seeded_by_epoch():
    images, titles = make_titles(8)
    labels = build_labels(list(titles.values()))
    maker = BatchMaker(images, titles, labels, TrainConfig.preset_named("tiny", batch_titles=4))
    with ThreadPoolExecutor(max_workers=1) as pool:
        first, again, other = (list(maker.epoch(e, pool)) for e in (0, 0, 1))
    assert all((a[0] == b[0]).all() and (a[1] == b[1]).all() for a, b in zip(first, again, strict=True))
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(first, other, strict=True))
