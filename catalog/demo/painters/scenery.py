"""Motifs that set a scene: a crescent moon, the sun, a skyline, houses, hills, bands of light."""

from __future__ import annotations

from catalog.demo.colour import hsv, rgba, shade
from catalog.demo.painters.canvas import Canvas, circle_box


def crescent(c: Canvas) -> None:
    x, y = c.rng.uniform(0.15, 0.85) * c.w, c.rng.uniform(0.1, 0.35) * c.h
    r = c.u * c.rng.uniform(0.08, 0.15)
    c.draw.ellipse(circle_box(x, y, r), fill=(250, 240, 190))
    dx = r * 0.45
    c.draw.ellipse((x - r + dx, y - r - dx * 0.5, x + r + dx, y + r - dx * 0.5), fill=shade(c.pal[0], 0.35))


def skyline(c: Canvas) -> None:
    x = -c.rng.uniform(0, 0.1) * c.w
    col = shade(c.pal[0], 0.4)
    while x < c.w:
        bw = c.w * c.rng.uniform(0.08, 0.2)
        top = c.h * c.rng.uniform(0.55, 0.85)
        c.draw.rectangle((x, top, x + bw, c.h), fill=col)
        for _ in range(c.count(0, 3)):  # a lit window here and there
            wx, wy = x + bw * c.rng.uniform(0.2, 0.7), top + (c.h - top) * c.rng.uniform(0.1, 0.6)
            s = c.u * 0.02
            c.draw.rectangle((wx, wy, wx + s, wy + s), fill=(200, 190, 120))
        x += bw


def sun(c: Canvas) -> None:
    x, y = c.rng.uniform(0.1, 0.9) * c.w, c.rng.uniform(0.08, 0.3) * c.h
    r = c.u * c.rng.uniform(0.08, 0.16)
    c.draw.ellipse(circle_box(x, y, r), fill=hsv(c.rng.uniform(0.08, 0.13), 0.6, 1.0))


def houses(c: Canvas) -> None:
    base = (c.horizon + 0.15) * c.h
    for _ in range(c.count(2, 5)):
        x = c.rng.uniform(-0.1, 0.9) * c.w
        bw, bh = c.w * c.rng.uniform(0.15, 0.3), c.h * c.rng.uniform(0.15, 0.35)
        rad = c.u * 0.04
        c.draw.rounded_rectangle((x, base - bh, x + bw, base), radius=rad, fill=c.colour())
        s = min(bw, bh) * 0.25
        c.draw.rounded_rectangle(
            (x + bw * 0.3, base - bh * 0.7, x + bw * 0.3 + s, base - bh * 0.7 + s), radius=s * 0.3, fill=(255, 250, 230)
        )


def bands(c: Canvas) -> None:
    for _ in range(c.count(3, 7)):
        y = c.rng.uniform(0, 1) * c.h
        th = c.h * c.rng.uniform(0.04, 0.15)
        tilt = c.h * c.rng.uniform(-0.1, 0.1)
        c.draw.polygon(
            [(0, y), (c.w, y + tilt), (c.w, y + tilt + th), (0, y + th)],
            fill=rgba(c.colour(), int(c.rng.integers(60, 130))),
        )


def hills(c: Canvas) -> None:
    for i in range(c.count(1, 3)):
        cx = c.rng.uniform(0, 1) * c.w
        r = c.w * c.rng.uniform(0.4, 0.8)
        top = c.h * c.rng.uniform(0.65, 0.85)
        c.draw.ellipse((cx - r, top, cx + r, top + r), fill=shade(c.pal[(2 + i) % len(c.pal)], 0.7))
