"""Names: author names never repeat, titles get unique slugs and are labelled as demo titles."""

from __future__ import annotations

import numpy as np

from catalog.demo.names import author_names, slugify, title_name, word_pairs


def test_word_pairs():
    assert word_pairs("별빛=Starlit, 푸른=Blue,") == (("별빛", "Starlit"), ("푸른", "Blue"))


def test_slugify():
    assert slugify("[DEMO] Starlit  Promise!") == "demo-starlit-promise"


def test_author_names_are_unique_and_labelled_even_past_the_word_tables():
    names = author_names(600, np.random.default_rng(0))  # more than the 400 Korean and 100 pen names
    assert len(set(names)) == 600
    assert all(n.endswith(("(demo)", "(데모)")) for n in names)
    assert "Demo Artist 600 (demo)" in names


def test_a_repeated_title_gets_a_number():
    rng = np.random.default_rng(0)
    used: set[str] = set()
    nouns = (("약속", "Promise"),)
    slugs = [title_name(nouns, used, rng) for _ in range(200)]
    assert len({s for s, _, _ in slugs}) == 200 == len(used)
    numbered = [(slug, title, title_en) for slug, title, title_en in slugs if slug[-1].isdigit()]
    assert numbered, "30 adjectives, one noun: 200 titles must repeat a name"
    for slug, title, title_en in numbered:
        k = slug.rsplit("-", 1)[1]
        assert title_en is None or title_en.endswith(f" {k}")
        assert f" {k}" in title
    assert all("[DEMO]" in title or "(데모)" in title for _, title, _ in slugs)
