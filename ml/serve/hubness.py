"""Hubness correction and the multi-image title score: what the index ranks by, on top of Annoy's cosines.

Two effects make a few titles everyone's neighbour:

- **hubs**: some images sit near the centre of the catalogue and are close to everything. CSLS (cross-domain
  similarity local scaling) corrects for it: an item's *hubness* ``r`` is its mean cosine to its ``k`` nearest items
  of other titles, measured when the index is built; a query's cosine to an item is lowered by ``beta · (r − r̄)``
  (``r̄``: the catalogue's mean, so a typical item keeps its cosine; ``beta = 0.5`` ranks as CSLS's
  ``2·cos − r_item − r_query``), scaled by ``1 − cos`` so that it fades out towards a near-copy (an exact copy of a
  hub's image still scores 1): ``cos' = cos − beta · (r − r̄) · (1 − cos)``;
- **many draws**: a title with dozens of images has dozens of chances to match by accident, and a title scored at
  its best image profits. A title's score moves from its best item towards its items' mean,
  ``best − (1 − alpha) · (best − mean) · (1 − best)`` (``alpha = 1``: the best image alone, as before; again nothing
  moves for a near-copy, ``best`` ≈ 1).

Both keep the cosine scale (a typical item's score is its cosine), so :mod:`ml.serve.calibration` is fitted on the
corrected title scores and a near-copy still reads ~100 %. The per-item ``r`` are stored with the index generation
(``ids.json``'s ``hubness``), so an index and its correction are swapped in together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_K = 10  # neighbours an item's hubness is measured over
BLOCK = 512  # rows of the item × item cosine matrix at a time (memory ~ BLOCK × items)


@dataclass(frozen=True)
class HubnessParams:
    """How the index scores titles: ``beta`` (0: no hubness correction), ``alpha`` (1: best image only), ``k``."""

    beta: float = 0.5
    alpha: float = 1.0
    k: int = DEFAULT_K

    @property
    def identity(self) -> bool:
        return self.beta == 0.0 and self.alpha == 1.0


#: The shipped setting, chosen on the validation titles of split seed 0 (docs/results/quality-round2.md).
DEFAULT_PARAMS = HubnessParams(beta=0.5, alpha=0.5, k=DEFAULT_K)


def corrected(cosines: np.ndarray | float, offsets: np.ndarray | float) -> np.ndarray | float:
    """Item cosines with their hubness offsets applied, fading out towards 1."""
    return cosines + offsets * (1.0 - cosines)


def combine(best: np.ndarray | float, mean: np.ndarray | float, alpha: float) -> np.ndarray | float:
    """A title's score from its best and mean corrected item scores."""
    return best - (1.0 - alpha) * (best - mean) * (1.0 - best)


def item_hubness(vectors: np.ndarray, item_titles: Sequence[str], k: int = DEFAULT_K) -> np.ndarray:
    """Each item's mean cosine to its ``k`` nearest items of *other* titles (unit-length ``vectors``)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    _, title_of = np.unique(np.asarray(item_titles), return_inverse=True)
    n = len(vectors)
    out = np.zeros(n, np.float64)
    if n == 0:
        return out
    for start in range(0, n, BLOCK):
        rows = slice(start, min(n, start + BLOCK))
        sims = vectors[rows] @ vectors.T
        sims[title_of[rows][:, None] == title_of[None, :]] = -np.inf  # its own title (its mirror, its episodes)
        kk = min(k, int(np.isfinite(sims).sum(axis=1).min()))
        if kk <= 0:
            continue
        top = np.partition(sims, -kk, axis=1)[:, -kk:]
        out[rows] = top.mean(axis=1)
    return out


@dataclass
class Hubness:
    """The fitted correction of one index: ``params`` and each item's offset ``−beta · (r − r̄)``."""

    params: HubnessParams
    r: np.ndarray  # per item

    @classmethod
    def fit(cls, vectors: np.ndarray, item_titles: Sequence[str], params: HubnessParams = DEFAULT_PARAMS) -> Hubness:
        r = item_hubness(vectors, item_titles, params.k) if params.beta else np.zeros(len(item_titles))
        return cls(params, r)

    @property
    def offsets(self) -> np.ndarray:
        if not len(self.r) or not self.params.beta:
            return np.zeros(len(self.r))
        return -self.params.beta * (self.r - self.r.mean())

    def to_json(self) -> dict[str, Any]:
        p = self.params
        return {"beta": p.beta, "alpha": p.alpha, "k": p.k, "r": [round(float(v), 5) for v in self.r]}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None, n_items: int) -> Hubness | None:
        if not data:
            return None
        r = np.asarray(data.get("r", []), dtype=np.float64)
        if len(r) != n_items:
            raise ValueError(f"the hubness correction has {len(r)} items, the index {n_items}")
        return cls(HubnessParams(float(data["beta"]), float(data["alpha"]), int(data["k"])), r)

    def block_scorer(self, item_titles: Sequence[str]) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """For :meth:`ml.serve.calibration.Calibration.fit`: ``(rows × items cosines) → (rows × titles scores)``,
        titles in ``np.unique`` order, and each title's column index."""
        names, title_of = np.unique(np.asarray(item_titles), return_inverse=True)
        order = np.argsort(title_of, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(title_of[order]) != 0])
        counts = np.diff(np.r_[starts, len(order)])
        offsets = self.offsets[order]
        alpha = self.params.alpha

        def score(cosines: np.ndarray) -> np.ndarray:
            c = corrected(cosines[:, order], offsets)
            best = np.maximum.reduceat(c, starts, axis=1)
            if alpha >= 1.0:
                return best
            return combine(best, np.add.reduceat(c, starts, axis=1) / counts, alpha)

        return score


class TitleScorer:
    """Title scores of one query from Annoy's candidate items: corrected best item, blended with the title mean.

    ``item_vectors`` are the index's unit-length item vectors (for the title means; only needed when
    ``alpha < 1``)."""

    def __init__(self, hubness: Hubness, item_titles: Sequence[str], item_vectors: np.ndarray | None = None):
        self.hubness = hubness
        self.offsets = hubness.offsets
        self.alpha = hubness.params.alpha
        self.means: dict[str, tuple[np.ndarray, float, np.ndarray]] = {}
        if self.alpha < 1.0:
            if item_vectors is None:
                raise ValueError("a title-mean blend needs the item vectors")
            by_title: dict[str, list[int]] = {}
            for i, t in enumerate(item_titles):
                by_title.setdefault(t, []).append(i)
            for t, items in by_title.items():
                off = self.offsets[items]
                vecs = item_vectors[items]
                self.means[t] = (vecs.mean(axis=0), float(off.mean()), (off[:, None] * vecs).mean(axis=0))

    def scores(self, query: np.ndarray, items: Sequence[int], cosines: Sequence[float], titles: Sequence[str]) -> dict:
        """{title: score} over the candidate items (``titles[i]`` owns ``items[i]``)."""
        best: dict[str, float] = {}
        for item, cos, t in zip(items, cosines, titles, strict=True):
            s = corrected(cos, self.offsets[item])
            if s > best.get(t, -np.inf):
                best[t] = s
        if self.alpha >= 1.0:
            return best
        q = np.asarray(query, dtype=np.float32)
        out = {}
        for t, b in best.items():
            mean_vec, mean_off, mean_off_vec = self.means[t]  # mean of c + off·(1 − c) over the title's items
            out[t] = combine(b, float(mean_vec @ q) + mean_off - float(mean_off_vec @ q), self.alpha)
        return out


def hub_share(answers: Sequence[Sequence[str]], n_titles: int, top_fraction: float = 0.01) -> float:
    """The share of all answer slots taken by the most-shown ``top_fraction`` of the catalogue's titles (uniform:
    about ``top_fraction``)."""
    counts: dict[str, int] = {}
    slots = 0
    for answer in answers:
        for t in answer:
            counts[t] = counts.get(t, 0) + 1
            slots += 1
    if not slots:
        return 0.0
    top = max(1, round(n_titles * top_fraction))
    return sum(sorted(counts.values(), reverse=True)[:top]) / slots
