"""The catalogue plan: authors, genres, names and image sizes, decided before anything is drawn."""

from __future__ import annotations

from collections import Counter

from catalog.demo import GENRES, number_of_authors
from catalog.demo.plan import COVER_SIZES, EPISODE_SIZE, plan_titles
from catalog.demo.styles import RELATED


def test_default_size_is_about_240_titles_and_40_authors():
    assert number_of_authors(240) == 40


def test_few_titles_still_give_every_author_two():
    assert number_of_authors(2) == 1
    assert number_of_authors(10) == 5
    assert number_of_authors(16) == len(GENRES)


def test_same_arguments_give_the_same_plan_and_another_seed_another():
    first, _ = plan_titles(30, 4, (1, 3), None)
    again, _ = plan_titles(30, 4, (1, 3), None)
    other, _ = plan_titles(30, 5, (1, 3), None)
    assert [(p.slug, p.title, p.genres, p.sizes, p.rank, p.star, p.adult) for p in first] == [
        (p.slug, p.title, p.genres, p.sizes, p.rank, p.star, p.adult) for p in again
    ]
    assert [p.slug for p in first] != [p.slug for p in other]


def test_authors_titles_and_genres():
    plans, authors = plan_titles(48, 1, 1, None)
    assert len(authors) == number_of_authors(48) and len({a.name for a in authors}) == len(authors)
    per_artist = Counter(p.artist.name for p in plans)
    assert set(per_artist) == {a.name for a in authors} and min(per_artist.values()) >= 2
    for p in plans:
        assert p.genres[0] in p.artist.genres
        assert len(p.genres) == 1 or p.genres[1] in RELATED[p.genres[0]]
        assert p.writer is None or p.writer != p.artist.name
    assert len({p.slug for p in plans}) == len(plans)
    assert sorted(p.rank for p in plans) == list(range(1, 49))


def test_image_sizes():
    fixed, _ = plan_titles(12, 0, 3, (64, 48))
    assert all(p.sizes == [(64, 48)] * 3 for p in fixed)
    mixed, _ = plan_titles(60, 0, (1, 3), None)
    covers = {size for size, _ in COVER_SIZES}
    assert all(p.sizes[0] in covers and set(p.sizes[1:]) <= {EPISODE_SIZE, p.sizes[0]} for p in mixed)
    assert Counter(len(p.sizes) for p in mixed).most_common(1)[0][0] == 1  # most titles have one image
