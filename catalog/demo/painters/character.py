"""The characters: a simple bust close-up, the subject of most real thumbnails."""

from __future__ import annotations

import math

from catalog.demo.colour import shade
from catalog.demo.layout import Layout
from catalog.demo.painters.canvas import Canvas
from catalog.demo.styles import AuthorStyle, GenreStyle


def character(c: Canvas, gs: GenreStyle, author: AuthorStyle, lay: Layout, k: int) -> None:
    """A simple bust close-up, the subject of most real thumbnails (character ``k`` of the layout)."""
    cx, cy, rr = lay.heads[k]
    hair = lay.hairs[k]
    x, y, r = cx * c.w, cy * c.h, rr * c.u
    hair_col, clothes = lay.palette[(2 + 2 * k) % len(lay.palette)], lay.palette[(3 + 2 * k) % len(lay.palette)]
    if gs.name == "thriller":
        hair_col, clothes = shade(hair_col, 0.6), shade(clothes, 0.7)
    skin = shade(lay.skins[k], gs.skin_dim)
    outline = author.ink if (gs.outline or author.line_mult > 1.2) else None
    ow = c.width(0.7 if outline else 0)
    d = c.draw
    d.ellipse((x - 1.7 * r, y + 0.75 * r, x + 1.7 * r, y + 4.0 * r), fill=clothes, outline=outline, width=ow)
    if hair == 3:  # long hair behind
        d.rounded_rectangle((x - 1.15 * r, y - 1.05 * r, x + 1.15 * r, y + 1.9 * r), radius=r, fill=hair_col)
    d.ellipse((x - 0.85 * r, y - r, x + 0.85 * r, y + r), fill=skin, outline=outline, width=ow)
    if hair == 1:  # spiky
        pts = [(x - 1.0 * r, y - 0.15 * r)]
        for i in range(7):
            t = i / 6 + c.rng.uniform(-0.04, 0.04)
            tip = 1.45 + 0.3 * math.sin(math.pi * t) + c.rng.uniform(-0.15, 0.15)
            pts.append((x + (-0.9 + 1.8 * t) * r, y - (tip if i % 2 == 0 else 1.0) * r))
        pts.append((x + 1.0 * r, y - 0.15 * r))
        pts.append((x, y - 0.55 * r))
        d.polygon(pts, fill=hair_col, outline=outline, width=ow)
    elif hair == 2:  # bob
        d.chord(
            (x - 1.05 * r, y - 1.15 * r, x + 1.05 * r, y + 0.9 * r), 180, 360, fill=hair_col, outline=outline, width=ow
        )
        d.rectangle((x - 1.05 * r, y - 0.15 * r, x - 0.7 * r, y + 0.55 * r), fill=hair_col)
        d.rectangle((x + 0.7 * r, y - 0.15 * r, x + 1.05 * r, y + 0.55 * r), fill=hair_col)
    else:  # fringe (0) and the top of long hair (3)
        d.chord(
            (x - 0.95 * r, y - 1.1 * r, x + 0.95 * r, y + 0.3 * r), 180, 360, fill=hair_col, outline=outline, width=ow
        )
    ey, ex = y + 0.15 * r, 0.38 * r
    if author.eyes == "dots":
        for sx in (-1, 1):
            er = 0.09 * r
            d.ellipse((x + sx * ex - er, ey - er, x + sx * ex + er, ey + er), fill=author.ink)
    elif author.eyes == "anime":
        for sx in (-1, 1):
            ew, eh = 0.16 * r, 0.24 * r
            d.ellipse(
                (x + sx * ex - ew, ey - eh, x + sx * ex + ew, ey + eh),
                fill=author.accent,
                outline=author.ink,
                width=c.width(0.4),
            )
            hr = 0.06 * r
            d.ellipse((x + sx * ex - hr, ey - eh * 0.6 - hr, x + sx * ex + hr, ey - eh * 0.6 + hr), fill="white")
    elif author.eyes == "lines":
        for sx in (-1, 1):
            d.line((x + sx * ex - 0.14 * r, ey, x + sx * ex + 0.14 * r, ey), fill=author.ink, width=c.width(0.5))
    d.line((x - 0.12 * r, y + 0.6 * r, x + 0.12 * r, y + 0.6 * r), fill=shade(skin, 0.6), width=c.width(0.3))
    if gs.name == "thriller":  # half the face in shadow
        d.chord((x - 0.85 * r, y - r, x + 0.85 * r, y + r), 270, 90, fill=(0, 0, 0, 120))
