"""The Annoy index over image embeddings, with title-level results.

Every image (panel) of every title is one item; ``ids.json`` maps items to titles. A query asks Annoy for more items
than needed and keeps each title once, at its best score, until ``k`` titles are found.

On disk, ``index.ann`` and ``ids.json`` only make sense as a pair, so they are swapped in together::

    RUN/index/CURRENT                      the name of the current generation (one line)
    RUN/index/<generation>/index.ann       Annoy index
    RUN/index/<generation>/ids.json        items → titles, dim, centre

:meth:`TitleIndex.save` writes a new generation into a hidden staging folder, syncs it, renames it into place and only
then replaces ``CURRENT`` (a write to a temporary file and an atomic rename). A crash at any point leaves ``CURRENT``
naming a complete pair: the old one, or the new one. Readers resolve ``CURRENT`` once and read both files from that
one folder. Run folders of the older layout (``index.ann`` + ``ids.json`` at the top) still load; saving into one
moves it to the new layout.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from annoy import AnnoyIndex

from core.errors import RunFolderError
from ml.serve import TITLES_PER_ANSWER
from ml.serve.calibration import Calibration
from ml.serve.hubness import Hubness, HubnessParams, TitleScorer

log = logging.getLogger(__name__)
INDEX_FILE = "index.ann"
IDS_FILE = "ids.json"
INDEX_DIR = "index"  # RUN/index/: generations of the pair and the CURRENT pointer
CURRENT_FILE = "CURRENT"
STAGING_PREFIX = ".staging-"
STALE_STAGING_SECONDS = 3600  # a staging folder this old is a crashed writer's, not one at work
KEEP_GENERATIONS = 2  # the current one and the one before (a reader may have just resolved the old pointer)


def _fsync(path: Path) -> None:
    """Make ``path`` (a file, or a folder's entries) durable before anything points at it."""
    if path.is_dir() and not hasattr(os, "O_DIRECTORY"):  # Windows: folders cannot be opened, nor need to be
        return
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_ids(path: Path, meta: dict) -> None:
    path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def _point_to(root: Path, generation: str) -> None:
    """Replace ``root/CURRENT`` atomically: readers see the old name or the new one, never a partial file."""
    tmp = root / f".{CURRENT_FILE}.{os.getpid()}.tmp"
    tmp.write_text(generation + "\n", encoding="utf-8")
    _fsync(tmp)
    os.replace(tmp, root / CURRENT_FILE)
    _fsync(root)


def current_generation(run: Path) -> str | None:
    """The name of the generation ``RUN/index/CURRENT`` points at (``None``: no pointer, e.g. an older run folder)."""
    try:
        generation = (Path(run) / INDEX_DIR / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return generation or None


def generations(run: Path) -> list[str]:
    """The complete generations on disk, oldest first (the names sort by creation time)."""
    root = Path(run) / INDEX_DIR
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def index_paths(run: Path) -> tuple[Path, Path] | None:
    """The matching ``(index.ann, ids.json)`` a reader of ``run`` should use now, or ``None`` if it has no index.

    The pair named by ``RUN/index/CURRENT``, else (older run folders) the pair at the top of the run folder.
    """
    run = Path(run)
    pointer = run / INDEX_DIR / CURRENT_FILE
    try:
        generation = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        legacy = run / INDEX_FILE, run / IDS_FILE
        return legacy if any(p.exists() for p in legacy) else None
    if not generation or "/" in generation or generation.startswith("."):
        raise RunFolderError(f"{pointer}: names no index generation ({generation!r})")
    folder = run / INDEX_DIR / generation
    return folder / INDEX_FILE, folder / IDS_FILE


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

    def __init__(
        self,
        ann: AnnoyIndex,
        item_titles: list[str],
        dim: int,
        center: np.ndarray | None = None,
        calibration: Calibration | None = None,
        hubness: Hubness | None = None,
    ):
        self.ann = ann
        self.hubness = hubness  # None: titles score their best item's cosine (:mod:`ml.serve.hubness`)
        self._scorer: TitleScorer | None = None
        self.calibration = calibration  # None (an index built before calibrations): scores are clipped cosines
        self.item_titles = item_titles
        self.dim = dim
        self.center = np.zeros(dim, np.float32) if center is None else np.asarray(center, np.float32)
        self.title_items: dict[str, list[int]] = {}
        for item, title_id in enumerate(item_titles):
            self.title_items.setdefault(title_id, []).append(item)
        self.generation: str | None = None  # the RUN/index/<generation> it was loaded from ("legacy": the top pair)

    @property
    def n_titles(self) -> int:
        return len(self.title_items)

    def prepare(self, embeddings: np.ndarray) -> np.ndarray:
        """Model embeddings → index space (centred, unit length), one row per embedding."""
        v = np.atleast_2d(np.asarray(embeddings, dtype=np.float32)) - self.center
        return v / (np.linalg.norm(v, axis=1, keepdims=True) + 1e-12)

    @classmethod
    def build(
        cls,
        embeddings: np.ndarray,
        item_titles: list[str],
        n_trees: int = 50,
        seed: int = 0,
        centre: bool = True,
        calibrate: bool = True,
        hubness: HubnessParams | None = None,
    ) -> TitleIndex:
        """Index ``embeddings`` (one row per item); ``calibrate`` measures the score calibration on them
        (:mod:`ml.serve.calibration`; off: similarities are the clipped cosines); ``hubness`` fits the hubness
        correction and title blend (:mod:`ml.serve.hubness`; ``None``: best item's cosine)."""
        if len(embeddings) != len(item_titles):
            raise ValueError("one title id per embedding row expected")
        embeddings = np.asarray(embeddings, dtype=np.float32)
        dim = int(embeddings.shape[1])
        ann = AnnoyIndex(dim, "angular")
        ann.set_seed(seed)
        index = cls(ann, list(item_titles), dim, embeddings.mean(axis=0) if centre and len(embeddings) > 1 else None)
        prepared = index.prepare(embeddings)
        for i, vec in enumerate(prepared):
            ann.add_item(i, vec.tolist())
        ann.build(n_trees, n_jobs=1)
        if hubness is not None and not hubness.identity:
            index.hubness = Hubness.fit(prepared, index.item_titles, hubness)
        scores = index.hubness.block_scorer(index.item_titles) if index.hubness is not None else None
        index.calibration = (
            Calibration.fit(prepared, index.item_titles, seed=seed, title_scores=scores) if calibrate else None
        )
        return index

    def save(self, run: Path, extra: Callable[[Path], None] | None = None) -> Path:
        """Swap this index into ``run`` as one new generation (see the module docstring); returns its folder.
        ``extra(folder)`` writes further files of the generation (the catalogue snapshot) before the swap.

        Older generations beyond the previous one, stale staging folders of crashed writers and the top-level pair of
        the older layout are removed afterwards (a process that has them memory-mapped keeps reading them).
        """
        run = Path(run)
        root = run / INDEX_DIR
        root.mkdir(parents=True, exist_ok=True)
        generation = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{os.getpid()}"
        staging = root / f"{STAGING_PREFIX}{generation}"
        staging.mkdir()
        self.ann.save(str(staging / INDEX_FILE))
        _write_ids(
            staging / IDS_FILE,
            {
                "dim": self.dim,
                "metric": "angular",
                "center": self.center.tolist(),
                "items": self.item_titles,
                "calibration": self.calibration.to_json() if self.calibration else None,
                "hubness": self.hubness.to_json() if self.hubness else None,
            },
        )
        if extra is not None:
            extra(staging)
        for path in (*sorted(p for p in staging.iterdir() if p.is_file()), staging):
            _fsync(path)
        final = root / generation
        staging.rename(final)
        _fsync(root)
        _point_to(root, generation)  # the swap: from here on readers load the new pair
        _tidy(run, root, generation)
        return final

    @classmethod
    def load(cls, run: Path, generation: str | None = None) -> TitleIndex:
        """The index ``run`` currently points at (memory-mapped), ``index.ann`` and ``ids.json`` from one pair;
        ``generation``: that generation's pair instead (no retry: it must be there)."""
        run = Path(run)
        for attempt in range(3):
            if generation is not None:
                folder = run / INDEX_DIR / generation
                paths = folder / INDEX_FILE, folder / IDS_FILE
            else:
                paths = index_paths(run)
            if paths is None:
                raise RunFolderError(f"{run}: no {IDS_FILE}; build the index with `python -m scripts.build_index`")
            ann_path, ids_path = paths
            try:
                meta = json.loads(ids_path.read_text(encoding="utf-8"))
                if not ann_path.is_file():
                    raise FileNotFoundError(ann_path)
                ann = AnnoyIndex(int(meta["dim"]), "angular")
                ann.load(str(ann_path), prefault=False)  # memory-mapped: stays valid if the file is removed later
            except OSError as exc:  # FileNotFoundError, or Annoy's own error for a file gone or unreadable
                if ids_path.parent != run and generation is None and attempt < 2:  # pruned by a newer save: again
                    time.sleep(0.01)
                    continue
                if isinstance(exc, FileNotFoundError):
                    problem = f"no {Path(exc.filename or ann_path).name}"
                else:
                    problem = f"cannot read {ann_path.name} ({exc})"
                raise RunFolderError(f"{run}: {problem}; rebuild it with `python -m scripts.build_index`") from None
            calibration = Calibration.from_json(meta.get("calibration"))
            if calibration is None:
                log.info("%s: index without a score calibration (built before them): similarities are raw", run)
            hubness = Hubness.from_json(meta.get("hubness"), len(meta["items"]))
            index = cls(ann, list(meta["items"]), int(meta["dim"]), meta.get("center"), calibration, hubness)
            index.generation = ids_path.parent.name if ids_path.parent != run else "legacy"
            return index
        raise AssertionError("unreachable")

    def first_fetch(self, k: int) -> int:
        """How many items :meth:`query` first asks Annoy for, to find ``k`` distinct titles."""
        return min(len(self.item_titles), max(4 * k, k + 16))

    def item_vectors(self, title_id: str) -> np.ndarray:
        """A title's item vectors in index space (its images, then their mirrors), one row each."""
        return np.array([self.ann.get_item_vector(i) for i in self.title_items[title_id]], dtype=np.float32)

    def title_vector(self, title_id: str) -> np.ndarray:
        """Mean of a title's item vectors, normalised, in index space: what ``recommend(title)`` queries with."""
        mean = self.item_vectors(title_id).mean(axis=0)
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
        scorer = self.title_scorer()
        while True:
            items, dists = self.ann.get_nns_by_vector(vec, want, include_distances=True)
            best: dict[str, float] = {}
            picked: list[tuple[int, float, str]] = []
            for item, dist in zip(items, dists, strict=True):
                title_id = self.item_titles[item]
                if title_id in exclude or (scorer is None and title_id in best):
                    continue
                if title_id not in best and keep is not None and not keep(title_id):
                    exclude.add(title_id)
                    continue
                cosine = 1.0 - dist * dist / 2.0  # Annoy's angular distance is sqrt(2 - 2 cos)
                best.setdefault(title_id, cosine)  # items come best first
                picked.append((item, cosine, title_id))
            if len(best) >= k or want >= n_items:
                break
            want = min(n_items, want * 4)
        if scorer is not None and picked:
            best = scorer.scores(np.asarray(vec, np.float32), *zip(*picked, strict=True))
        hits = sorted(best.items(), key=lambda kv: -kv[1])[:k]  # ranked by (corrected) cosine, then scored
        if not hits:
            return []
        scores = self.similarity(np.array([c for _, c in hits]))
        return [Hit(t, float(s)) for (t, _), s in zip(hits, scores, strict=True)]

    def title_scorer(self) -> TitleScorer | None:
        """The hubness correction's scorer (built on first use: a title-mean blend reads every item vector once)."""
        if self.hubness is None:
            return None
        if self._scorer is None:
            vectors = None
            if self.hubness.params.alpha < 1.0:
                vectors = np.array([self.ann.get_item_vector(i) for i in range(len(self.item_titles))], np.float32)
            self._scorer = TitleScorer(self.hubness, self.item_titles, vectors)
        return self._scorer

    def similarity(self, cosines: np.ndarray) -> np.ndarray:
        """Index-space cosines → the similarity readers see, in [0, 1] (:mod:`ml.serve.calibration`)."""
        if self.calibration is None:
            return np.asarray(cosine_to_similarity(cosines))
        return np.asarray(self.calibration.score(cosines))


def _tidy(run: Path, root: Path, current: str) -> None:
    """After a swap: drop generations older than the previous one, crashed writers' staging folders and the
    older layout's top-level pair (best effort: a failure here never undoes the swap)."""
    generations = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    keep = set(generations[-KEEP_GENERATIONS:]) | {current}
    for name in generations:
        if name not in keep:
            shutil.rmtree(root / name, ignore_errors=True)
    now = time.time()
    for staging in root.glob(f"{STAGING_PREFIX}*"):
        try:
            if now - staging.stat().st_mtime > STALE_STAGING_SECONDS:
                shutil.rmtree(staging, ignore_errors=True)
        except FileNotFoundError:
            pass
    for name in (INDEX_FILE, IDS_FILE, INDEX_FILE + ".tmp"):
        (run / name).unlink(missing_ok=True)


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
    """Mean overlap of Annoy's title top-k with the exact top-k, over items used as queries. With a hubness
    correction, the exact side is scored the same way over every item (else this would measure the correction)."""
    rng = np.random.default_rng(seed)
    normed = index.prepare(embeddings)
    picks = rng.choice(len(embeddings), size=min(n_queries, len(embeddings)), replace=False)
    k = min(k, index.n_titles)
    scorer = index.title_scorer()
    every = list(range(len(normed)))
    recalls = []
    for item in picks:
        if scorer is None:
            exact = set(exact_title_neighbours(normed, index.item_titles, normed[item], k))
        else:
            scored = scorer.scores(normed[item], every, (normed @ normed[item]).tolist(), index.item_titles)
            exact = set(sorted(scored, key=lambda t: -scored[t])[:k])
        approx = {h.title_id for h in index.query(normed[item], k, prepared=True)}
        recalls.append(len(exact & approx) / k)
    return float(np.mean(recalls))
