"""Turning a catalogue into training data: the seeded title split, label vocabularies and decoded images."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

import numpy as np
from PIL import Image
from tqdm import tqdm

from catalog.format import Catalog, Title
from core.errors import BadImageError, EmptyCatalogError
from ml.preprocess import open_image, split_panels

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")
SPLIT_FRACTIONS = (0.65, 0.15, 0.20)


def split_titles(titles: list[Title], seed: int, fractions=SPLIT_FRACTIONS) -> dict[str, list[str]]:
    """Split by title, stratified by primary genre: each genre's titles are shuffled and dealt 65/15/20.

    Rare genres still get at least one training title; titles without a genre are split the same way as a group.
    """
    rng = np.random.default_rng(seed)
    groups: dict[str | None, list[str]] = {}
    for t in sorted(titles, key=lambda t: t.id):
        groups.setdefault(t.primary_genre, []).append(t.id)
    out: dict[str, list[str]] = {name: [] for name in SPLITS}
    for key in sorted(groups, key=lambda k: (k is None, k or "")):
        ids = list(groups[key])
        rng.shuffle(ids)
        n = len(ids)
        n_test = int(round(n * fractions[2])) if n >= 3 else 0
        n_val = int(round(n * fractions[1])) if n >= 4 else 0
        out["test"] += ids[:n_test]
        out["val"] += ids[n_test : n_test + n_val]
        out["train"] += ids[n_test + n_val :]
    return {name: sorted(ids) for name, ids in out.items()}


@dataclass(frozen=True)
class Labels:
    genres: tuple[str, ...]
    authors: tuple[str, ...]

    def genre_index(self, title: Title) -> int:
        return self.genres.index(title.primary_genre) if title.primary_genre in self.genres else -1

    def author_index(self, title: Title) -> int:
        return self.authors.index(title.first_author) if title.first_author in self.authors else -1


def build_labels(train: list[Title]) -> Labels:
    """Vocabularies from the training titles only: primary genres and first authors, most frequent first."""
    genres = Counter(t.primary_genre for t in train if t.primary_genre)
    authors = Counter(t.first_author for t in train if t.authors)
    return Labels(
        genres=tuple(sorted(genres, key=lambda g: (-genres[g], g))),
        authors=tuple(sorted(authors, key=lambda a: (-authors[a], a))),
    )


def load_title_images(
    catalog: Catalog, titles: list[Title] | None = None, *, progress: bool = True, desc: str = "decoding images"
) -> dict[str, list[Image.Image]]:
    """Decode every image of every title (tall strips become several panels). Unreadable files are skipped with a
    warning; titles left without any image are dropped."""
    titles = list(catalog.titles if titles is None else titles)
    out: dict[str, list[Image.Image]] = {}
    bad = 0
    for title in tqdm(titles, desc=desc, unit="title", disable=not progress, leave=False):
        panels: list[Image.Image] = []
        for path in title.images:
            try:
                panels += split_panels(open_image(path))
            except BadImageError as exc:
                bad += 1
                log.warning("skipping image of %s: %s", title.id, exc)
        if panels:
            out[title.id] = panels
    if bad:
        log.warning("%d unreadable image(s) skipped", bad)
    if not out:
        raise EmptyCatalogError(f"no readable images in catalogue {catalog.root}")
    return out
