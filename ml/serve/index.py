"""The Annoy index over image embeddings, with title-level results.

Every image (panel) of every title is one item; ``ids.json`` maps items to titles. A query asks Annoy for more items
than needed and keeps each title once, at its best score, until ``k`` titles are found.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from annoy import AnnoyIndex

from core.errors import RunFolderError
from ml.serve import TITLES_PER_ANSWER

INDEX_FILE = "index.ann"
IDS_FILE = "ids.json"


def cosine_to_similarity(cos: np.ndarray | float) -> np.ndarray | float:
    """Cosine → similarity in [0, 1]: negative cosines (unrelated) count as 0."""
    return np.clip(cos, 0.0, 1.0)


@dataclass(frozen=True)
class Hit:
    title_id: str
    similarity: float


class TitleIndex:
    """Items are stored centred (the catalogue's mean embedding subtracted) and normalised: a small network's
    embeddings share a large common component, which would squeeze every cosine towards 1 and make "similarity"
    meaningless; centred, unrelated covers score near 0 % and near-copies near 100 %. Ranking is unchanged."""

    def __init__(self, ann: AnnoyIndex, item_titles: list[str], dim: int, center: np.ndarray | None = None):
        self.ann = ann
        self.item_titles = item_titles
        self.dim = dim
        self.center = np.zeros(dim, np.float32) if center is None else np.asarray(center, np.float32)
        self.title_items: dict[str, list[int]] = {}
        for item, title_id in enumerate(item_titles):
            self.title_items.setdefault(title_id, []).append(item)

    @property
    def n_titles(self) -> int:
        return len(self.title_items)

    def prepare(self, embeddings: np.ndarray) -> np.ndarray:
        """Model embeddings → index space (centred, unit length), one row per embedding."""
        v = np.atleast_2d(np.asarray(embeddings, dtype=np.float32)) - self.center
        return v / (np.linalg.norm(v, axis=1, keepdims=True) + 1e-12)

    @classmethod
    def build(
        cls, embeddings: np.ndarray, item_titles: list[str], n_trees: int = 50, seed: int = 0, centre: bool = True
    ) -> TitleIndex:
        if len(embeddings) != len(item_titles):
            raise ValueError("one title id per embedding row expected")
        embeddings = np.asarray(embeddings, dtype=np.float32)
        dim = int(embeddings.shape[1])
        ann = AnnoyIndex(dim, "angular")
        ann.set_seed(seed)
        index = cls(ann, list(item_titles), dim, embeddings.mean(axis=0) if centre and len(embeddings) > 1 else None)
        for i, vec in enumerate(index.prepare(embeddings)):
            ann.add_item(i, vec.tolist())
        ann.build(n_trees, n_jobs=1)
        return index

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        tmp = folder / (INDEX_FILE + ".tmp")
        self.ann.save(str(tmp))
        tmp.replace(folder / INDEX_FILE)
        (folder / IDS_FILE).write_text(
            json.dumps(
                {"dim": self.dim, "metric": "angular", "center": self.center.tolist(), "items": self.item_titles},
                ensure_ascii=False,
            )
        )

    @classmethod
    def load(cls, folder: Path) -> TitleIndex:
        folder = Path(folder)
        try:
            meta = json.loads((folder / IDS_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunFolderError(
                f"{folder}: no {IDS_FILE}; build the index with `python -m scripts.build_index`"
            ) from None
        ann = AnnoyIndex(int(meta["dim"]), "angular")
        if not (folder / INDEX_FILE).is_file():
            raise RunFolderError(f"{folder}: no {INDEX_FILE}; build it with `python -m scripts.build_index`")
        ann.load(str(folder / INDEX_FILE), prefault=False)  # memory-mapped
        return cls(ann, list(meta["items"]), int(meta["dim"]), meta.get("center"))

    def first_fetch(self, k: int) -> int:
        """How many items :meth:`query` first asks Annoy for, to find ``k`` distinct titles."""
        return min(len(self.item_titles), max(4 * k, k + 16))

    def title_vector(self, title_id: str) -> np.ndarray:
        """Mean of a title's item vectors, normalised, in index space: what ``recommend(title)`` queries with."""
        vecs = np.array([self.ann.get_item_vector(i) for i in self.title_items[title_id]], dtype=np.float32)
        mean = vecs.mean(axis=0)
        return mean / (np.linalg.norm(mean) + 1e-12)

    def query(
        self,
        vector: np.ndarray,
        k: int,
        *,
        exclude: Iterable[str] = (),
        keep: Callable[[str], bool] | None = None,
        prepared: bool = False,
    ) -> list[Hit]:
        """The ``k`` most similar titles, each once at its best item score, skipping ``exclude`` and titles
        ``keep`` rejects. Returns fewer only when the index has fewer eligible titles. ``vector`` is a model
        embedding, or already in index space with ``prepared`` (e.g. a :meth:`title_vector`)."""
        exclude = set(exclude)
        n_items = len(self.item_titles)
        want = self.first_fetch(k)
        vec = (np.asarray(vector, dtype=np.float32) if prepared else self.prepare(vector)[0]).tolist()
        while True:
            items, dists = self.ann.get_nns_by_vector(vec, want, include_distances=True)
            best: dict[str, float] = {}
            for item, dist in zip(items, dists, strict=True):
                title_id = self.item_titles[item]
                if title_id in exclude or title_id in best or (keep is not None and not keep(title_id)):
                    continue
                # cosine_to_similarity for one float, without numpy's per-call overhead (~5 µs × every hit)
                best[title_id] = min(1.0, max(0.0, 1.0 - dist * dist / 2.0))
            if len(best) >= k or want >= n_items:
                break
            want = min(n_items, want * 4)
        hits = sorted(best.items(), key=lambda kv: -kv[1])[:k]
        return [Hit(t, s) for t, s in hits]


def exact_title_neighbours(embeddings: np.ndarray, item_titles: list[str], query: np.ndarray, k: int) -> list[str]:
    """Brute-force title-level top-k (the ground truth Annoy's recall is measured against)."""
    sims = embeddings @ (query / (np.linalg.norm(query) + 1e-12))
    order = np.argsort(-sims)
    out: list[str] = []
    for item in order:
        if item_titles[item] not in out:
            out.append(item_titles[item])
            if len(out) == k:
                break
    return out


def recall_vs_exact(
    index: TitleIndex, embeddings: np.ndarray, k: int = TITLES_PER_ANSWER, n_queries: int = 200, seed: int = 0
) -> float:
    """Mean overlap of Annoy's title top-k with the exact top-k, over items used as queries."""
    rng = np.random.default_rng(seed)
    normed = index.prepare(embeddings)
    picks = rng.choice(len(embeddings), size=min(n_queries, len(embeddings)), replace=False)
    k = min(k, index.n_titles)
    recalls = []
    for item in picks:
        exact = set(exact_title_neighbours(normed, index.item_titles, normed[item], k))
        approx = {h.title_id for h in index.query(normed[item], k, prepared=True)}
        recalls.append(len(exact & approx) / k)
    return float(np.mean(recalls))
