"""The genre backgrounds, drawn in numpy as float RGB in 0..255 at the supersampled size."""

from __future__ import annotations

import math

import numpy as np

from catalog.demo.colour import hsv, mix
from catalog.demo.layout import Layout
from catalog.demo.styles import GenreStyle


def background(gs: GenreStyle, lay: Layout, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    ys /= max(h - 1, 1)
    xs /= max(w - 1, 1)
    pal = [np.array(c, np.float32) for c in lay.palette]
    fx, fy = lay.focal
    kind = gs.background

    def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
        return a + (b - a) * t[..., None]

    if kind == "radial":
        d = np.clip(np.hypot(xs - fx, ys - fy) / 0.8, 0, 1)
        img = lerp(np.array(mix(lay.palette[0], (255, 255, 255), 0.55), np.float32), pal[1], d)
    elif kind == "night":
        img = lerp(pal[0] * 0.3, pal[1] * 1.05, ys**1.3)
        for _ in range(int(rng.integers(2, 5))):  # glows
            gx, gy = rng.uniform(0, 1), rng.uniform(0, 1)
            sig = rng.uniform(0.08, 0.25)
            g = np.exp(-((xs - gx) ** 2 + (ys - gy) ** 2) / (2 * sig * sig))
            col = np.array(mix(lay.palette[int(rng.integers(2, 6))], (255, 255, 255), 0.5), np.float32)
            img = img + g[..., None] * col * rng.uniform(0.4, 0.8)
    elif kind == "split":
        ca, cb = math.cos(lay.angle + 1.2), math.sin(lay.angle + 1.2)
        side = ((xs - fx) * ca + (ys - fy) * cb) > 0
        other = np.array((250, 248, 240) if rng.random() < 0.6 else (18, 16, 20), np.float32)
        img = np.where(side[..., None], pal[0], other)
    elif kind == "dark":
        d = np.hypot(xs - fx, ys - fy)
        img = pal[0] * np.clip(1.15 - 0.9 * d**2, 0.2, 1.2)[..., None]
    elif kind == "floor":
        floor = ys > lay.horizon + 0.15
        img = np.where(floor[..., None], pal[1], pal[0])
    elif kind == "gradient":
        img = lerp(pal[0], pal[1], ys)
    elif kind == "field":
        sky = np.array(hsv(0.57, 0.35, 0.95), np.float32)
        stripes = (np.floor((xs + (ys - lay.horizon) * (xs - 0.5) * 1.5) * 8) % 2)[..., None]
        grass = pal[0] * (0.9 + 0.12 * stripes)
        img = np.where((ys < lay.horizon)[..., None], lerp(sky, sky * 0.85, ys / max(lay.horizon, 1e-3)), grass)
    else:  # flat
        img = np.broadcast_to(pal[0], (h, w, 3)).copy()
    return np.clip(img, 0, 255)
