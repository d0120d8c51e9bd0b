"""Where things go in one image: the palette, characters and motifs of a title, and an episode's variation on it."""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from catalog.demo.colour import RGB, hsv
from catalog.demo.styles import RELATED, SKINS, STYLE_BY_GENRE, AuthorStyle, GenreStyle


@dataclass
class Layout:
    palette: list[RGB]
    focal: tuple[float, float]
    angle: float
    horizon: float
    heads: list[tuple[float, float, float]]  # 0-2 characters: cx, cy (fractions of w/h), radius (of the short side)
    hairs: list[int]
    skins: list[RGB]
    motifs: list[str]
    zoom: float


def title_layout(
    gs: GenreStyle, author: AuthorStyle, rng: np.random.Generator, second: GenreStyle | None = None
) -> Layout:
    # Genre is a strong cue but not a perfect one, as on real covers: a title with a second genre often borrows its
    # colours for the foreground and one of its motifs, and now and then a title is coloured like a related genre.
    if rng.random() < 0.08:
        related = RELATED[gs.name]
        colours: list[GenreStyle] = [STYLE_BY_GENRE[related[int(rng.integers(len(related)))]]] * 6
    elif second is not None and rng.random() < 0.5:
        colours = [gs, gs, second, gs, second, second]
    else:
        colours = [gs] * 6
    order = {
        c.name: list(range(len(c.hues))) if c.fixed_hue_order else list(rng.permutation(len(c.hues)))
        for c in dict.fromkeys(colours)
    }
    palette = []
    for i, cs in enumerate(colours):
        hue = cs.hues[order[cs.name][i % len(cs.hues)]] + rng.normal(0.0, cs.hue_spread) + author.hue_shift
        sat = min(1.0, rng.uniform(*cs.sat) * author.sat_mult)
        palette.append(hsv(hue, sat, rng.uniform(*cs.val)))
    motifs = [m for m in gs.motifs if rng.random() < 0.8] or [gs.motifs[int(rng.integers(len(gs.motifs)))]]
    if second is not None and rng.random() < 0.6:
        motifs.append(second.motifs[int(rng.integers(len(second.motifs)))])
    heads = []
    if rng.random() < 0.85:
        heads.append((rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.5), rng.uniform(0.16, 0.28)))
        if rng.random() < 0.25:  # a second, smaller character further back, on the other side
            cx = heads[0][0] + (0.3 if heads[0][0] < 0.5 else -0.3)
            heads.insert(0, (cx, heads[0][1] - 0.05, heads[0][2] * 0.7))
    hairs = [author.hair if rng.random() < 0.7 else int(rng.integers(4)) for _ in heads]
    skins = [SKINS[int(rng.integers(len(SKINS)))] for _ in heads]
    return Layout(
        palette=palette,
        focal=(rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7)),
        angle=rng.uniform(0.35, 0.9) * (1 if rng.random() < 0.5 else -1),
        horizon=rng.uniform(0.35, 0.6),
        heads=heads,
        hairs=hairs,
        skins=skins,
        motifs=motifs,
        zoom=1.0,
    )


def episode_layout(base: Layout, rng: np.random.Generator) -> Layout:
    """Same title, another episode: same palette family and shapes, shifted, re-cropped and re-lit."""

    def jitter(c: RGB) -> RGB:
        h, s, v = colorsys.rgb_to_hsv(*(x / 255 for x in c))
        return hsv(h + rng.normal(0, 0.015), s * rng.uniform(0.9, 1.1), v * rng.uniform(0.92, 1.06))

    dx, dy, scale = rng.uniform(-0.2, 0.2), rng.uniform(-0.05, 0.08), rng.uniform(0.8, 1.3)
    heads = [(min(0.85, max(0.15, cx + dx)), cy + dy, r * scale) for cx, cy, r in base.heads]
    order = list(range(len(base.palette)))
    if rng.random() < 0.5:  # swap two background colours now and then
        order[0], order[1] = order[1], order[0]
    return Layout(
        palette=[jitter(base.palette[i]) for i in order],
        focal=(base.focal[0] + rng.uniform(-0.15, 0.15), base.focal[1] + rng.uniform(-0.15, 0.15)),
        angle=base.angle + rng.uniform(-0.2, 0.2),
        horizon=min(0.7, max(0.3, base.horizon + rng.uniform(-0.1, 0.1))),
        heads=heads,
        hairs=base.hairs,
        skins=base.skins,
        motifs=base.motifs,
        zoom=rng.uniform(1.0, 1.35),
    )
