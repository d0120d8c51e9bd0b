"""What every PIL painter draws on: the supersampled image, its stroke width, palette, ink and random stream."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import ImageDraw

from catalog.demo.colour import RGB


@dataclass
class Canvas:
    draw: ImageDraw.ImageDraw
    w: int
    h: int
    lw: float  # stroke width in pixels
    pal: list[RGB]
    ink: RGB
    rng: np.random.Generator
    focal: tuple[float, float]
    angle: float
    horizon: float

    @property
    def u(self) -> float:
        return float(min(self.w, self.h))

    def pt(self) -> tuple[float, float]:
        return float(self.rng.uniform(0, self.w)), float(self.rng.uniform(0, self.h))

    def count(self, lo: int, hi: int) -> int:
        """How many of something to draw: from ``lo`` to ``hi - 1``."""
        return int(self.rng.integers(lo, hi))

    def scatter(self, lo: int, hi: int) -> Iterator[tuple[float, float]]:
        """``count(lo, hi)`` random points, each drawn only when the loop takes it, so the random stream is the
        same as a loop that picks its point first and then draws with it."""
        for _ in range(self.count(lo, hi)):
            yield self.pt()

    def width(self, f: float = 1.0) -> int:
        return max(1, round(self.lw * f))

    def colour(self) -> RGB:
        return self.pal[int(self.rng.integers(len(self.pal)))]


def circle_box(x: float, y: float, r: float) -> tuple[float, float, float, float]:
    """The box PIL's ``ellipse`` and ``arc`` take for a circle of radius ``r`` around ``(x, y)``."""
    return x - r, y - r, x + r, y + r


def star_points(cx: float, cy: float, r: float, spikes: int, inner: float, rot: float) -> list[tuple[float, float]]:
    pts = []
    for i in range(spikes * 2):
        rad = r if i % 2 == 0 else r * inner
        a = rot + math.pi * i / spikes
        pts.append((cx + rad * math.sin(a), cy - rad * math.cos(a)))
    return pts


def heart_points(cx: float, cy: float, s: float) -> list[tuple[float, float]]:
    pts = []
    for i in range(24):
        t = 2 * math.pi * i / 24
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        pts.append((cx + x * s / 16, cy - y * s / 16))
    return pts
