"""The cover store: covers read once and shared, unreadable ones a placeholder, thumbnails, the demo banner."""

from __future__ import annotations

import io
import logging

import numpy as np
from PIL import Image

from ml.serve import contact_sheet as cs
from ml.serve.covers import CoverStore
from ml.serve.results import Answer, Result
from tests.ml.serve.constructed import make_title


def store(tmp_path, *, synthetic: bool = False) -> CoverStore:
    good = tmp_path / "good.png"
    Image.new("RGB", (120, 170), (0, 90, 200)).save(good)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    titles = {
        "good": make_title("good", images=(good,)),
        "broken": make_title("broken", images=(broken,)),
        "none": make_title("none"),
    }
    return CoverStore(titles, synthetic=synthetic)


def answer_of(covers: CoverStore, *title_ids: str) -> Answer:
    return Answer([], [Result(covers.titles[t], 0.9, 0.9) for t in title_ids], low_confidence=False)


def test_a_cover_is_read_once_and_shared(tmp_path):
    covers = store(tmp_path)
    first = covers.cover("good")
    assert first.size == (120, 170) and covers.cover("good") is first


def test_missing_unknown_or_unreadable_covers_are_none(tmp_path, caplog):
    covers = store(tmp_path)
    caplog.set_level(logging.WARNING)
    assert covers.cover("none") is None and covers.cover("no-such-title") is None
    assert covers.cover("broken") is None
    assert any("cover of broken unreadable" in r.getMessage() for r in caplog.records)
    assert covers.thumbnail("broken") is None


def test_a_thumbnail_is_a_small_webp(tmp_path):
    data = store(tmp_path).thumbnail("good", 64)
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert max(Image.open(io.BytesIO(data)).size) <= 64


def test_a_sheet_draws_each_result_cover_and_a_placeholder_for_an_unreadable_one(tmp_path):
    covers = store(tmp_path)
    data, fmt = covers.contact_sheet(answer_of(covers, "good", "broken"), include_query=False)
    assert fmt == "jpg"
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)
    top = pixels.shape[0] - cs.GRID_H
    rows = slice(top + cs.MARGIN, top + cs.MARGIN + cs.IMAGE_H)

    def blue(col: int) -> float:
        x = cs.MARGIN + col * (cs.CELL_W + cs.GAP)
        return float((np.abs(pixels[rows, x : x + cs.CELL_W] - np.array([0, 90, 200])) <= 30).all(axis=-1).mean())

    assert blue(0) > 0.3 and blue(1) < 0.01  # result #1 is the good cover, #2 a placeholder


def test_a_synthetic_catalogue_puts_the_demo_banner_on_every_sheet(tmp_path):
    plain = store(tmp_path)
    demo = store(tmp_path, synthetic=True)
    plain_sheet, _ = plain.contact_sheet(answer_of(plain, "good"))
    demo_sheet, _ = demo.contact_sheet(answer_of(demo, "good"))
    height = Image.open(io.BytesIO(plain_sheet)).height
    assert Image.open(io.BytesIO(demo_sheet)).height > height  # the banner row on top
    assert height == cs.sheet_size(banner=False)[1]
