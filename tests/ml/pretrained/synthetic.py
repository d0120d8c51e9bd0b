"""Deterministic 224×224 RGB test images from integer formulas (mirrored in ``reference/make_reference.mjs``)."""

from __future__ import annotations

import numpy as np

SIZE = 224


def _grid():
    y, x, c = np.meshgrid(np.arange(SIZE), np.arange(SIZE), np.arange(3), indexing="ij")
    return x.astype(np.int64), y.astype(np.int64), c.astype(np.int64)


def _pick(c, channels):
    return np.choose(c, channels)


def gradient():
    x, y, c = _grid()
    return _pick(c, [(x * 255) // 223, (y * 255) // 223, ((x + y) * 255) // 446])


def checkerboard():
    x, y, _ = _grid()
    return np.where((x // 28 + y // 28) % 2, 255, 0)


def blocks():
    x, y, c = _grid()
    colours = np.array([[230, 40, 40], [40, 200, 60], [50, 70, 220], [240, 220, 90]])
    return colours[np.where(y < 112, 0, 2) + np.where(x < 112, 0, 1), c]


def noise():
    x, y, c = _grid()
    return ((x * 73856093) ^ (y * 19349663) ^ (c * 83492791)) & 255  # low 8 bits match JS's Math.imul


def radial():
    x, y, c = _grid()
    v = np.maximum(0, 255 - ((x - 112) ** 2 + (y - 112) ** 2) * 255 // 25088)
    return _pick(c, [v, (v * 3) >> 2, v >> 1])


IMAGES = {"gradient": gradient, "checkerboard": checkerboard, "blocks": blocks, "noise": noise, "radial": radial}


def image(name: str) -> np.ndarray:
    """The named image as uint8 (224, 224, 3)."""
    return IMAGES[name]().astype(np.uint8)


def as_input(images: np.ndarray) -> np.ndarray:
    """uint8 pixels → the float32 [0, 1] nsfwjs feeds its graph (``toFloat().div(255)``, same IEEE division)."""
    return images.astype(np.float32) / np.float32(255)
