"""The catalogue plan: the fictional authors, who draws which titles in which genres, their names, tags, ranks,
scores, adult flags and image sizes. Every random choice comes from one stream seeded by the catalogue seed."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from catalog.demo.colour import hsv
from catalog.demo.names import author_names, title_name
from catalog.demo.styles import (
    BORDERS,
    EYES,
    GENRES,
    INKS,
    RELATED,
    SHAPES,
    STYLE_BY_GENRE,
    TEXTURES,
    AuthorStyle,
)

TITLES_PER_AUTHOR = 6  # on average; the default 240 titles give 40 authors
# (width, height) of real thumbnails and how often a cover has that size; episode images are mostly 202×120.
COVER_SIZES: tuple[tuple[tuple[int, int], float], ...] = (
    ((125, 101), 0.55),
    ((83, 90), 0.22),
    ((308, 400), 0.15),
    ((480, 623), 0.03),
    ((202, 120), 0.05),
)
EPISODE_SIZE = (202, 120)


@dataclass
class TitlePlan:
    """One title to draw and describe; filled in by :func:`plan_titles`."""

    artist: AuthorStyle
    genres: list[str]
    writer: str | None = None
    slug: str = ""
    title: str = ""
    title_en: str | None = None
    adult: bool = False
    rank: int = 0
    star: float = 0.0
    tags: list[str] = field(default_factory=list)
    sizes: list[tuple[int, int]] = field(default_factory=list)


def make_authors(n: int, rng: np.random.Generator) -> list[AuthorStyle]:
    """``n`` fictional authors, primary genres in turn, half with a related second genre, each with a signature."""
    names = author_names(n, rng)
    authors = []
    for i, name in enumerate(names):
        primary = GENRES[i % len(GENRES)]
        genres: tuple[str, ...] = (primary,)
        if rng.random() < 0.5:
            related = RELATED[primary]
            genres = (primary, related[int(rng.integers(len(related)))])
        authors.append(
            AuthorStyle(
                name=name,
                genres=genres,
                hue_shift=float(rng.uniform(-0.04, 0.04)),
                sat_mult=float(rng.uniform(0.85, 1.15)),
                line_mult=float(rng.choice([0.6, 1.0, 1.6])),
                texture=TEXTURES[int(rng.integers(len(TEXTURES)))],
                texture_period=int(rng.integers(3, 6)),
                shape=SHAPES[int(rng.integers(len(SHAPES)))],
                accent=hsv(float(rng.uniform(0, 1)), float(rng.uniform(0.55, 0.95)), float(rng.uniform(0.6, 1.0))),
                border=BORDERS[int(rng.integers(len(BORDERS)))],
                eyes=EYES[int(rng.integers(len(EYES)))],
                ink=INKS[int(rng.integers(len(INKS)))],
                hair=int(rng.integers(4)),
            )
        )
    return authors


def _image_count(spec: int | tuple[int, int], rng: np.random.Generator) -> int:
    """A fixed count, or one from an inclusive range where fewer images are likelier."""
    if isinstance(spec, int):
        return spec
    lo, hi = spec
    counts = np.arange(lo, hi + 1)
    weights = 1.0 / (counts - lo + 1.0) ** 1.2  # most titles have one image, some have more
    return int(rng.choice(counts, p=weights / weights.sum()))


def number_of_authors(n_titles: int) -> int:
    """About one author per six titles, at least one per genre when there are enough titles, two titles each."""
    return max(1, min(n_titles // 2, max(len(GENRES), round(n_titles / TITLES_PER_AUTHOR))))


def plan_titles(
    n_titles: int, seed: int, images_per_title: int | tuple[int, int], size: tuple[int, int] | None
) -> tuple[list[TitlePlan], list[AuthorStyle]]:
    """Plan a catalogue of ``n_titles`` (arguments already checked); the same arguments give the same plan."""
    rng = np.random.default_rng([seed, 0])
    authors = make_authors(number_of_authors(n_titles), rng)
    plans = _assign_titles(authors, n_titles, rng)
    used: set[str] = set()
    for p in plans:
        gs = STYLE_BY_GENRE[p.genres[0]]
        p.slug, p.title, p.title_en = title_name(gs.nouns, used, rng)
        picks = rng.choice(len(gs.tags), size=2, replace=False)
        p.tags = ["demo", "데모", *(gs.tags[int(i)] for i in picks)]
        p.star = round(float(rng.uniform(7.0, 9.99)), 2)
        p.sizes = _image_sizes(_image_count(images_per_title, rng), size, rng)
    for rank, i in enumerate(rng.permutation(n_titles), start=1):
        plans[int(i)].rank = rank
    n_adult = max(1, round(0.03 * n_titles)) if n_titles >= 10 else 0
    darker = [i for i, p in enumerate(plans) if p.genres[0] in ("thriller", "drama", "romance")]
    pool = darker if len(darker) >= n_adult else list(range(n_titles))
    for i in rng.choice(pool, size=n_adult, replace=False):
        plans[int(i)].adult = True
    return plans, authors


def _assign_titles(authors: list[AuthorStyle], n_titles: int, rng: np.random.Generator) -> list[TitlePlan]:
    """Who draws (and now and then writes) which title in which genres, in a shuffled order."""
    n_authors = len(authors)
    # Every author gets two titles in their primary genre; the rest go to authors with uneven popularity.
    popularity = rng.lognormal(0.0, 0.45, n_authors)
    extra = rng.choice(n_authors, size=n_titles - 2 * n_authors, p=popularity / popularity.sum())
    plans: list[TitlePlan] = []
    for a in [*range(n_authors), *range(n_authors), *extra.tolist()]:
        author = authors[a]
        first_two = sum(p.artist is author for p in plans) < 2
        genre = author.genres[0] if first_two or len(author.genres) == 1 or rng.random() < 0.7 else author.genres[1]
        genres = [genre]
        if rng.random() < 0.3:
            others = [g for g in RELATED[genre] if g != genre]
            genres.append(others[int(rng.integers(len(others)))])
        writer = None
        if n_authors >= 3 and rng.random() < 0.08:  # a writer credit next to the artist, as on real pages
            w = int(rng.integers(n_authors - 1))
            writer = authors[w if w < a else w + 1].name
        plans.append(TitlePlan(artist=author, genres=genres, writer=writer))
    return [plans[i] for i in rng.permutation(len(plans))]


def _image_sizes(n_img: int, size: tuple[int, int] | None, rng: np.random.Generator) -> list[tuple[int, int]]:
    """``size`` for every image, else a cover size as common as on real pages and mostly 202×120 episode images."""
    if size is not None:
        return [size] * n_img
    sizes, weights = zip(*COVER_SIZES, strict=True)
    w = np.array(weights) / sum(weights)
    cover = sizes[int(rng.choice(len(sizes), p=w))]
    return [cover] + [EPISODE_SIZE if rng.random() < 0.7 else cover for _ in range(n_img - 1)]
