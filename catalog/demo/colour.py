"""Colour helpers shared by the styles, layouts and painters: 0..255 RGB tuples."""

from __future__ import annotations

import colorsys
from collections.abc import Sequence

RGB = tuple[int, int, int]


def hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return round(r * 255), round(g * 255), round(b * 255)


def mix(a: Sequence[float], b: Sequence[float], t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def shade(c: RGB, f: float) -> RGB:
    return tuple(min(255, max(0, round(x * f))) for x in c)  # type: ignore[return-value]


def rgba(c: RGB, a: int) -> tuple[int, int, int, int]:
    return c[0], c[1], c[2], a
