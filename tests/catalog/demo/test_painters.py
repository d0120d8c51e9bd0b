"""Painters: every motif a genre names has a painter that draws, and the canvas helpers keep the random stream."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from catalog.demo.painters import FOREGROUND, MOTIFS
from catalog.demo.painters.canvas import Canvas, circle_box
from catalog.demo.painters.signature import accents
from catalog.demo.styles import GENRE_STYLES, SHAPES, AuthorStyle


def _canvas(seed: int = 0) -> tuple[Image.Image, Canvas]:
    img = Image.new("RGB", (120, 90), (128, 128, 128))
    canvas = Canvas(
        draw=ImageDraw.Draw(img, "RGBA"),
        w=120,
        h=90,
        lw=2.0,
        pal=[(200, 30, 40), (30, 200, 40), (30, 40, 200), (220, 220, 30), (20, 20, 20), (240, 240, 240)],
        ink=(15, 15, 20),
        rng=np.random.default_rng(seed),
        focal=(0.5, 0.5),
        angle=0.5,
        horizon=0.45,
    )
    return img, canvas


def test_every_motif_of_every_genre_has_a_painter():
    named = {m for g in GENRE_STYLES for m in g.motifs}
    assert named | FOREGROUND <= set(MOTIFS)


@pytest.mark.parametrize("motif", sorted(MOTIFS))
def test_each_painter_draws_something(motif):
    img, canvas = _canvas()
    before = np.asarray(img).copy()
    MOTIFS[motif](canvas)
    assert (np.asarray(img) != before).any()


def test_scatter_draws_like_a_loop_that_picks_its_point_first():
    _, canvas = _canvas(seed=3)
    rng = np.random.default_rng(3)
    expected = []
    for _ in range(int(rng.integers(4, 10))):
        point = float(rng.uniform(0, 120)), float(rng.uniform(0, 90))
        expected.append((point, rng.uniform()))
    got = [(point, canvas.rng.uniform()) for point in canvas.scatter(4, 10)]
    assert got == expected


def test_circle_box():
    assert circle_box(10.0, 20.0, 3.0) == (7.0, 17.0, 13.0, 23.0)


@pytest.mark.parametrize("shape", SHAPES)
def test_accents_draw_every_shape_in_the_author_colour(shape):
    author = AuthorStyle(
        name="x", genres=("romance",), hue_shift=0.0, sat_mult=1.0, line_mult=1.0, texture="none", texture_period=3,
        shape=shape, accent=(250, 0, 250), border="none", eyes="dots", ink=(0, 0, 0), hair=0,
    )  # fmt: skip
    img, canvas = _canvas()
    accents(canvas, author)
    pixels = np.asarray(img).reshape(-1, 3)
    assert ((pixels[:, 0] > 200) & (pixels[:, 1] < 100)).any()  # magenta-ish pixels on grey
