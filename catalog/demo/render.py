"""One image of a title: its layout, then background, motifs, characters and the author's signature, in that order."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from catalog.demo.layout import episode_layout, title_layout
from catalog.demo.painters import FOREGROUND, MOTIFS
from catalog.demo.painters.background import background
from catalog.demo.painters.canvas import Canvas
from catalog.demo.painters.character import character
from catalog.demo.painters.signature import accents, border, texture
from catalog.demo.styles import STYLE_BY_GENRE, AuthorStyle


def render_cover(
    genre: str,
    author: AuthorStyle,
    size: tuple[int, int],
    *,
    title_seed: Sequence[int],
    image_index: int = 0,
    secondary: str | None = None,
) -> Image.Image:
    """Draw image ``image_index`` of a title (0 = the cover) as an RGB PIL image of ``size`` (width, height).

    ``genre`` drives the look; a ``secondary`` genre may lend it colours and a motif. ``title_seed`` fixes the
    title's layout, so the same arguments always give the same pixels.
    """
    gs = STYLE_BY_GENRE[genre]
    second = STYLE_BY_GENRE[secondary] if secondary and secondary != genre else None
    lay = title_layout(gs, author, np.random.default_rng([*title_seed, 1]), second)
    rng = np.random.default_rng([*title_seed, 2, image_index])
    if image_index > 0:
        lay = episode_layout(lay, rng)
    w, h = size
    ss = 2 if max(w, h) < 300 else 1  # supersample small images for anti-aliased shapes
    zw, zh = round(w * ss * lay.zoom), round(h * ss * lay.zoom)
    img = Image.fromarray(background(gs, lay, zw, zh, rng).astype(np.uint8))
    canvas = Canvas(
        draw=ImageDraw.Draw(img, "RGBA"),
        w=zw,
        h=zh,
        lw=gs.line * author.line_mult * min(zw, zh),
        pal=lay.palette,
        ink=author.ink,
        rng=rng,
        focal=lay.focal,
        angle=lay.angle,
        horizon=lay.horizon,
    )
    for motif in lay.motifs:
        if motif not in FOREGROUND:
            MOTIFS[motif](canvas)
    for k in range(len(lay.heads)):
        character(canvas, gs, author, lay, k)
    for motif in lay.motifs:
        if motif in FOREGROUND:
            MOTIFS[motif](canvas)
    accents(canvas, author)
    if lay.zoom > 1.0:  # episode images are a closer crop of the same scene
        left = round(rng.uniform(0, zw - w * ss))
        top = round(rng.uniform(0, zh - h * ss))
        img = img.crop((left, top, left + w * ss, top + h * ss))
    if ss > 1:
        img = img.resize((w, h), Image.LANCZOS)
    arr = np.asarray(img, np.float32)
    if gs.noise > 0:
        arr = np.clip(arr + rng.normal(0, gs.noise * 255, (h, w, 1)).astype(np.float32), 0, 255)
    arr = texture(arr, author, rng)
    return border(Image.fromarray(np.clip(arr, 0, 255).round().astype(np.uint8)), author)
