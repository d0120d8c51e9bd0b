"""One rendered image: its size and mode, determinism, and episode images that vary the cover."""

from __future__ import annotations

import numpy as np
import pytest

from catalog.demo import GENRES, render_cover
from catalog.demo.plan import make_authors


@pytest.fixture(scope="module")
def author():
    return make_authors(1, np.random.default_rng(0))[0]


@pytest.mark.parametrize("genre", GENRES)
def test_every_genre_renders_an_rgb_image_of_the_size(author, genre):
    img = render_cover(genre, author, (125, 101), title_seed=(0, 1, 0))
    assert img.mode == "RGB" and img.size == (125, 101)
    assert np.asarray(img).std() > 5  # not a flat colour


def test_same_arguments_same_pixels_and_episodes_differ(author):
    cover = np.asarray(render_cover("fantasy", author, (83, 90), title_seed=(1, 1, 4)))
    again = np.asarray(render_cover("fantasy", author, (83, 90), title_seed=(1, 1, 4)))
    episode = np.asarray(render_cover("fantasy", author, (83, 90), title_seed=(1, 1, 4), image_index=1))
    other = np.asarray(render_cover("fantasy", author, (83, 90), title_seed=(1, 1, 5)))
    assert np.array_equal(cover, again)
    assert not np.array_equal(cover, episode) and not np.array_equal(cover, other)


def test_a_large_image_is_drawn_without_supersampling(author):
    img = render_cover("sports", author, (480, 623), title_seed=(0, 1, 2), secondary="action")
    assert img.size == (480, 623)
