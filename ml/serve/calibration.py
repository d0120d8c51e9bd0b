"""Similarity as a reader can read it: a raw cosine placed on the catalogue's own distributions.

A whitened embedding's cosines are small and catalogue-dependent (on the shared data a typical title's closest other
title sits at 0.31, a cropped re-encoded copy of a cover at 0.57), so a raw cosine shown as a percentage says
nothing. When an index is built, two distributions are measured on a sample of its items, each item taken as a query
for titles other than its own (as a cover of a title the catalogue lacks would be):

- ``neighbours``: the cosines of its 24 best other titles, pooled (what an answer's list looks like);
- ``nearest``: the cosine of its best other title (what an answer's first line looks like).

The shown score is the mean of the two cumulative shares, ``(F_neighbours(c) + F_nearest(c)) / 2``:

- about 0 % for an unrelated pair (cosine 0), 25 % for a typical answer's middle line;
- about 75 % as close as a typical title's closest other title in the catalogue;
- 100 % closer than almost every title's closest other title (a near-copy).

It is monotone in the cosine, so ranking never changes. docs/results/calibration.md has the measured numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

KNOTS = 101  # quantiles stored per distribution (0 %, 1 %, …, 100 %)
SAMPLED_ITEMS = 2_000  # items taken as queries (each one a full pass over the index)
NEIGHBOURS = 24  # = TITLES_PER_ANSWER (not imported: ml.serve imports this module)


@dataclass(frozen=True)
class Calibration:
    neighbours: tuple[float, ...]  # KNOTS quantiles of the pooled cosines of an item's 24 best other titles
    nearest: tuple[float, ...]  # KNOTS quantiles of each item's best cosine to another title

    def score(self, cosine: float | np.ndarray) -> float | np.ndarray:
        """Cosine(s) in index space → calibrated similarity in [0, 1] (monotone)."""
        levels = np.linspace(0.0, 1.0, KNOTS)
        out = 0.5 * (np.interp(cosine, self.neighbours, levels) + np.interp(cosine, self.nearest, levels))
        return float(out) if np.ndim(out) == 0 else out

    @classmethod
    def fit(
        cls,
        vectors: np.ndarray,
        item_titles: Sequence[str],
        *,
        seed: int = 0,
        items: int = SAMPLED_ITEMS,
        k: int = NEIGHBOURS,
        title_scores: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> Calibration | None:
        """Measure both distributions on unit-length index vectors; ``None`` when the catalogue has fewer than two
        titles (nothing to compare). ``title_scores`` maps a block of item cosines (rows × items) to the scores the
        index ranks titles by (rows × titles, in ``np.unique`` order; :mod:`ml.serve.hubness`), else the best item's
        cosine."""
        vectors = np.asarray(vectors, dtype=np.float32)
        titles = np.asarray(item_titles)
        names, title_of = np.unique(titles, return_inverse=True)
        if len(names) < 2:
            return None
        order = np.argsort(title_of, kind="stable")  # columns grouped by title, for a per-title max
        starts = np.flatnonzero(np.r_[True, np.diff(title_of[order]) != 0])
        k = min(k, len(names) - 1)
        picks = np.random.default_rng(seed).choice(len(titles), size=min(items, len(titles)), replace=False)
        neighbours, nearest = [], []
        for start in range(0, len(picks), 256):  # a block of rows at a time: memory stays ~256 × items
            rows = picks[start : start + 256]
            if title_scores is None:
                per_title = np.maximum.reduceat(vectors[rows] @ vectors[order].T, starts, axis=1)
            else:
                per_title = title_scores(vectors[rows] @ vectors.T)
            per_title[np.arange(len(rows)), title_of[rows]] = -np.inf  # its own title does not count
            best = -np.sort(-np.partition(per_title, -k, axis=1)[:, -k:], axis=1)
            neighbours.append(best.ravel())
            nearest.append(best[:, 0])
        levels = np.linspace(0.0, 1.0, KNOTS)
        return cls(_knots(np.concatenate(neighbours), levels), _knots(np.concatenate(nearest), levels))

    def to_json(self) -> dict[str, Any]:
        return {"neighbours": [round(v, 6) for v in self.neighbours], "nearest": [round(v, 6) for v in self.nearest]}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Calibration | None:
        if not data or not {"neighbours", "nearest"} <= data.keys():  # none, or of a shape this code does not know
            return None
        neighbours, nearest = tuple(map(float, data["neighbours"])), tuple(map(float, data["nearest"]))
        if len(neighbours) != KNOTS or len(nearest) != KNOTS:
            raise ValueError(f"a calibration has {KNOTS} quantiles per distribution")
        return cls(neighbours, nearest)


def _knots(values: np.ndarray, levels: np.ndarray) -> tuple[float, ...]:
    """Strictly increasing quantiles (np.interp needs increasing x: ties are nudged apart by a hair)."""
    q = np.quantile(values, levels).astype(np.float64) + np.arange(len(levels)) * 1e-9
    return tuple(float(v) for v in q)
