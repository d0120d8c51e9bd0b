"""Similarity as a reader can read it: a raw cosine placed on the catalogue's own distributions.

A whitened embedding's cosines are small and catalogue-dependent (on the shared data a typical title's closest other
title sits at 0.31, a cropped re-encoded copy of a cover at 0.57), so a raw cosine shown as a percentage says
nothing. When an index is built, two distributions are measured on its items and stored with it:

- ``random``: cosines between random pairs of items of different titles (what "unrelated" looks like);
- ``nearest``: each item's best cosine to an item of another title (what "the closest other title" looks like).

The shown score is the mean of the two cumulative shares, ``(F_random(c) + F_nearest(c)) / 2``:

- about 25 % for a typical unrelated pair, 50 % for a cosine beyond almost every random pair;
- about 75 % as close as a typical title's closest other title in the catalogue;
- 100 % closer than almost every title's closest other title (a near-copy).

It is monotone in the cosine, so ranking never changes. docs/results/calibration.md has the measured numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

KNOTS = 101  # quantiles stored per distribution (0 %, 1 %, …, 100 %)
RANDOM_PAIRS = 20_000
NEAREST_ITEMS = 2_000  # items whose nearest other title is measured (each one a full pass over the index)


@dataclass(frozen=True)
class Calibration:
    random: tuple[float, ...]  # KNOTS quantiles of random different-title item-pair cosines
    nearest: tuple[float, ...]  # KNOTS quantiles of each item's best cosine to another title

    def score(self, cosine: float | np.ndarray) -> float | np.ndarray:
        """Cosine(s) in index space → calibrated similarity in [0, 1] (monotone)."""
        levels = np.linspace(0.0, 1.0, KNOTS)
        out = 0.5 * (np.interp(cosine, self.random, levels) + np.interp(cosine, self.nearest, levels))
        return float(out) if np.ndim(out) == 0 else out

    @classmethod
    def fit(
        cls,
        vectors: np.ndarray,
        item_titles: Sequence[str],
        *,
        seed: int = 0,
        pairs: int = RANDOM_PAIRS,
        nearest_items: int = NEAREST_ITEMS,
    ) -> Calibration | None:
        """Measure both distributions on unit-length index vectors; ``None`` when the catalogue has fewer than two
        titles (nothing to compare)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        titles = np.asarray(item_titles)
        if len(set(item_titles)) < 2:
            return None
        rng = np.random.default_rng(seed)
        a, b = rng.integers(0, len(titles), pairs), rng.integers(0, len(titles), pairs)
        other = titles[a] != titles[b]
        random = np.einsum("ij,ij->i", vectors[a[other]], vectors[b[other]])
        picks = rng.choice(len(titles), size=min(nearest_items, len(titles)), replace=False)
        nearest = np.empty(len(picks), np.float32)
        for start in range(0, len(picks), 256):  # a block of rows at a time: memory stays ~256 × items
            rows = picks[start : start + 256]
            sims = vectors[rows] @ vectors.T
            sims[titles[rows][:, None] == titles[None, :]] = -np.inf
            nearest[start : start + len(rows)] = sims.max(axis=1)
        levels = np.linspace(0.0, 1.0, KNOTS)
        return cls(_knots(random, levels), _knots(nearest, levels))

    def to_json(self) -> dict[str, Any]:
        return {"random": [round(v, 6) for v in self.random], "nearest": [round(v, 6) for v in self.nearest]}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Calibration | None:
        if not data:
            return None
        random, nearest = tuple(map(float, data["random"])), tuple(map(float, data["nearest"]))
        if len(random) != KNOTS or len(nearest) != KNOTS:
            raise ValueError(f"a calibration has {KNOTS} quantiles per distribution")
        return cls(random, nearest)


def _knots(values: np.ndarray, levels: np.ndarray) -> tuple[float, ...]:
    """Strictly increasing quantiles (np.interp needs increasing x; ties nudged apart by a hair)."""
    q = np.quantile(values, levels).astype(np.float64) if len(values) else np.linspace(-1.0, 1.0, len(levels))
    q = q + np.arange(len(q)) * 1e-9
    return tuple(float(v) for v in np.maximum.accumulate(q))
