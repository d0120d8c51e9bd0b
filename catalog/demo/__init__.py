"""A synthetic demo catalogue: procedurally drawn covers so the whole pipeline runs with no real data.

Every fictional author works in one or two genres and has several titles. The primary genre drives a cover's palette
family, background and motifs (romance: pastel pinks, soft bubbles, hearts; action: high contrast, speed lines, thick
strokes; thriller: dark desaturated, shards, noise; ...). The drawing author adds a signature on top (line weight,
a texture such as hatching / halftone / grain, favourite accent shape and colour, eye style, border, a hue shift),
so genre is easy to learn from the pixels and author is learnable but not trivial. Each title has its own seeded
layout; its 1–3 images (a cover and "episode" images) share the title's look with variations.

Everything is labelled synthetic: ``source: "demo"``, ids ``demo:<slug>``, ``[DEMO]`` / ``(데모)`` in titles and
author names, a synopsis saying so, and a ``README.md`` in the output folder. Output is deterministic for a seed
(same bytes on re-run). Images are PNG.

``styles`` holds the genre and author looks, ``names`` the word tables, ``plan`` decides the titles, ``layout``
places a title's elements, ``painters`` draw them, ``render`` composes one image and ``write`` the folder.
"""

from catalog.demo.plan import number_of_authors
from catalog.demo.render import render_cover
from catalog.demo.styles import GENRE_STYLES, GENRES, AuthorStyle, GenreStyle
from catalog.demo.write import DEFAULT_TITLES, MAX_IMAGES_PER_TITLE, MAX_TITLES, README_MARKER, generate_demo_catalog

__all__ = [
    "DEFAULT_TITLES",
    "GENRES",
    "GENRE_STYLES",
    "MAX_IMAGES_PER_TITLE",
    "MAX_TITLES",
    "AuthorStyle",
    "GenreStyle",
    "README_MARKER",
    "generate_demo_catalog",
    "number_of_authors",
    "render_cover",
]
