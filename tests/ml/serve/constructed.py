"""Constructed serving fixtures (no model): unit vectors on named axes, titles laid out around a query, and the
index, ranker and engine over them."""

from __future__ import annotations

import numpy as np

from catalog.format import Title
from ml.serve.engine import Engine
from ml.serve.index import TitleIndex
from ml.serve.ranking import Ranker

DIM = 12
GENRES = ["action", "drama", "comedy", "romance"]


def vec(**axes: float) -> np.ndarray:
    """A unit vector from named axes: vec(e0=0.9, e1=0.436)."""
    v = np.zeros(DIM, np.float32)
    for name, value in axes.items():
        v[int(name[1:])] = value
    return v / np.linalg.norm(v)


def e(i: int) -> np.ndarray:
    return vec(**{f"e{i}": 1.0})


QUERY = e(0)
# title id → (item vectors, extra Title fields). Cosines to QUERY: X .99 (adult), A .90, B .85, L .50, fillers ≤ .30.
# B sits near L (cos ≈ .88); A is far from L (cos .45). M matches both panel directions e5 and e6; P only e5, Q only e6.
LAYOUT: dict[str, tuple[list[np.ndarray], dict]] = {
    "A": ([vec(e0=0.9, e1=0.43589)], {"popularity_rank": 1, "genres": ("action",)}),
    "B": ([vec(e0=0.85, e2=0.52678)], {"popularity_rank": 2, "genres": ("drama",)}),
    "L": ([vec(e0=0.5, e2=0.86603)], {"popularity_rank": 3, "genres": ("drama", "romance", "comedy", "fantasy")}),
    "X": ([vec(e0=0.99, e3=0.14107)], {"popularity_rank": 4, "adult": True}),
    "F1": ([vec(e0=0.3, e4=0.95394)], {"popularity_rank": 5}),
    "F2": ([vec(e0=0.25, e4=0.96825)], {"popularity_rank": 6}),
    "F3": ([vec(e0=0.2, e4=0.9798)], {"popularity_rank": 7}),
    "M": ([vec(e5=0.9, e8=0.43589), vec(e6=0.9, e8=0.43589)], {"popularity_rank": 8}),
    "P": ([vec(e5=0.97, e9=0.24310)], {"popularity_rank": 9}),
    "Q": ([vec(e6=0.97, e10=0.24310)], {"popularity_rank": 10}),
}


def make_title(tid: str, **fields) -> Title:
    defaults = {"authors": (f"author of {tid}",), "genres": ("action",), "images": (), "adult": False}
    return Title(id=tid, title=f"Title {tid}", **{**defaults, **fields})


def make_index(layout=LAYOUT) -> tuple[TitleIndex, list[Title]]:
    rows, owners, titles = [], [], []
    for tid, (vectors, fields) in layout.items():
        rows += vectors
        owners += [tid] * len(vectors)
        titles.append(make_title(tid, **fields))
    return TitleIndex.build(np.stack(rows), owners, n_trees=10, centre=False, calibrate=False), titles


def make_ranker(layout=LAYOUT, **kwargs) -> Ranker:
    index, titles = make_index(layout)
    return Ranker(index, {t.id: t for t in titles}, **kwargs)


def make_engine(layout=LAYOUT, **kwargs) -> Engine:
    index, titles = make_index(layout)
    return Engine(index, titles, genres=GENRES, **kwargs)


def ids(answer_or_results) -> list[str]:
    results = getattr(answer_or_results, "results", answer_or_results)
    return [r.title.id for r in results]
