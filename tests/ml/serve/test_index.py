"""The Annoy title index over constructed embeddings: title-level answers, filters, persistence and recall."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from core.errors import RunFolderError
from ml.serve import index as index_module
from ml.serve.index import (
    CURRENT_FILE,
    IDS_FILE,
    INDEX_DIR,
    INDEX_FILE,
    TitleIndex,
    cosine_to_similarity,
    exact_title_neighbours,
    index_paths,
    recall_vs_exact,
)

DIM = 8


def unit(*values: float) -> np.ndarray:
    v = np.zeros(DIM, np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


def at_cosine(cos: float, axis: int = 1) -> np.ndarray:
    """A unit vector whose cosine with e0 is exactly ``cos`` (the rest along ``axis``)."""
    v = np.zeros(DIM, np.float32)
    v[0] = cos
    v[axis] = np.sqrt(1 - cos * cos)
    return v


QUERY = unit(1.0)


@pytest.fixture(scope="module")
def small_index() -> TitleIndex:
    """Title a has three items (cos 0.5, 0.95, 0.7 to the query), b one (0.9), c one (0.8), d one (opposite)."""
    rows = [
        ("a", at_cosine(0.5)),
        ("b", at_cosine(0.9)),
        ("a", at_cosine(0.95, axis=2)),
        ("c", at_cosine(0.8, axis=3)),
        ("a", at_cosine(0.7, axis=4)),
        ("d", -QUERY),
    ]
    return TitleIndex.build(
        np.stack([v for _, v in rows]), [t for t, _ in rows], n_trees=10, centre=False, calibrate=False
    )


def test_a_title_with_several_items_appears_once_at_its_best_score(small_index):
    hits = small_index.query(QUERY, 3)
    assert [h.title_id for h in hits] == ["a", "b", "c"]
    assert hits[0].similarity == pytest.approx(0.95, abs=1e-4)
    assert hits[1].similarity == pytest.approx(0.9, abs=1e-4)
    assert hits[2].similarity == pytest.approx(0.8, abs=1e-4)


def test_results_are_best_first_and_titles_unique(small_index):
    hits = small_index.query(QUERY, 10)
    ids = [h.title_id for h in hits]
    assert len(ids) == len(set(ids))
    sims = [h.similarity for h in hits]
    assert sims == sorted(sims, reverse=True)


def test_exclude_removes_titles_even_their_best_item(small_index):
    hits = small_index.query(QUERY, 3, exclude={"a"})
    assert [h.title_id for h in hits] == ["b", "c", "d"]


def test_keep_filters_titles(small_index):
    hits = small_index.query(QUERY, 5, keep=lambda t: t in {"c", "d"})
    assert [h.title_id for h in hits] == ["c", "d"]


def test_k_larger_than_eligible_titles_returns_all_eligible(small_index):
    assert {h.title_id for h in small_index.query(QUERY, 50)} == {"a", "b", "c", "d"}
    assert [h.title_id for h in small_index.query(QUERY, 50, exclude={"b", "d"})] == ["a", "c"]


def test_similarity_is_within_0_and_1_and_opposite_is_0(small_index):
    hits = small_index.query(QUERY, 4)
    assert all(0.0 <= h.similarity <= 1.0 for h in hits)
    assert {h.title_id: h.similarity for h in hits}["d"] == pytest.approx(0.0, abs=1e-6)
    assert float(cosine_to_similarity(-0.3)) == 0.0
    assert float(cosine_to_similarity(1.2)) == 1.0


def test_title_vector_is_the_normalised_mean_of_its_items(small_index):
    items = [small_index.ann.get_item_vector(i) for i in small_index.title_items["a"]]
    expected = np.mean(items, axis=0)
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(small_index.title_vector("a"), expected, atol=1e-6)
    assert small_index.n_titles == 4


def test_build_refuses_mismatched_ids():
    with pytest.raises(ValueError, match="one title id per embedding"):
        TitleIndex.build(np.zeros((3, DIM), np.float32) + 1, ["a", "b"])


def test_save_load_round_trip_is_memory_mapped_and_answers_the_same(tmp_path, small_index):
    folder = small_index.save(tmp_path)
    assert index_paths(tmp_path) == (folder / INDEX_FILE, folder / IDS_FILE)
    assert (tmp_path / INDEX_DIR / CURRENT_FILE).read_text().strip() == folder.name
    meta = json.loads((folder / IDS_FILE).read_text())
    assert meta["dim"] == DIM and meta["items"] == small_index.item_titles
    assert {p.name for p in (tmp_path / INDEX_DIR).iterdir()} == {folder.name, CURRENT_FILE}  # nothing temporary

    loaded = TitleIndex.load(tmp_path)
    assert loaded.dim == DIM and loaded.item_titles == small_index.item_titles
    for k in (1, 3, 10):
        assert loaded.query(QUERY, k) == small_index.query(QUERY, k)
    maps = Path("/proc/self/maps")
    if maps.is_file():  # Annoy maps the file instead of reading it into memory
        assert str((folder / INDEX_FILE).resolve()) in maps.read_text()


def test_load_without_index_files_says_how_to_build_one(tmp_path):
    with pytest.raises(RunFolderError, match="build_index"):
        TitleIndex.load(tmp_path)
    (tmp_path / IDS_FILE).write_text(json.dumps({"dim": DIM, "items": []}))
    with pytest.raises(RunFolderError, match=INDEX_FILE):
        TitleIndex.load(tmp_path)


# ---- swapping the pair in: a crash never leaves index.ann and ids.json out of step ------------------------------


def other_index(n_titles: int, seed: int = 1) -> TitleIndex:
    """An index of ``n_titles`` one-item titles ``o0…``: a different item count than any other index here."""
    rng = np.random.default_rng(seed)
    return TitleIndex.build(rng.normal(size=(n_titles, DIM)), [f"o{i}" for i in range(n_titles)], n_trees=5)


def save_old_layout(index: TitleIndex, run: Path) -> None:
    """What run folders looked like before generations: the pair at the top (as the old ``save`` wrote it)."""
    index.ann.save(str(run / INDEX_FILE))
    meta = {"dim": index.dim, "metric": "angular", "center": index.center.tolist(), "items": index.item_titles}
    (run / IDS_FILE).write_text(json.dumps(meta))


def assert_matching_pair(index: TitleIndex, titles: list[str]) -> None:
    assert index.item_titles == titles
    assert index.ann.get_n_items() == len(index.item_titles)  # ids.json describes this very index.ann
    assert index.query(QUERY, 2)  # and it answers


class Crash(BaseException):
    """The process dies here (a BaseException: nothing on the way may catch it)."""


def crash(*args, **kwargs):
    raise Crash


@pytest.mark.parametrize(
    "where",
    [
        "_write_ids",  # index.ann written, ids.json not yet: the two writes of the old code
        "_point_to",  # the new pair complete on disk, CURRENT not yet switched
    ],
)
@pytest.mark.parametrize("layout", ["generations", "old top-level pair"])
def test_a_crash_between_the_writes_leaves_the_previous_pair(tmp_path, small_index, monkeypatch, where, layout):
    if layout == "generations":
        small_index.save(tmp_path)
    else:
        save_old_layout(small_index, tmp_path)
    newer = other_index(9)
    with monkeypatch.context() as patched:
        patched.setattr(index_module, where, crash)
        with pytest.raises(Crash):
            newer.save(tmp_path)
    assert_matching_pair(TitleIndex.load(tmp_path), small_index.item_titles)  # the old pair, whole

    newer.save(tmp_path)  # the next build succeeds, leftovers or not
    assert_matching_pair(TitleIndex.load(tmp_path), newer.item_titles)
    assert not (tmp_path / INDEX_FILE).exists() and not (tmp_path / IDS_FILE).exists()  # moved to the new layout


def test_a_crash_after_the_switch_already_serves_the_new_pair(tmp_path, small_index, monkeypatch):
    small_index.save(tmp_path)
    newer = other_index(9)
    monkeypatch.setattr(index_module, "_tidy", crash)
    with pytest.raises(Crash):
        newer.save(tmp_path)
    assert_matching_pair(TitleIndex.load(tmp_path), newer.item_titles)


def test_old_run_folders_still_load(tmp_path, small_index):
    save_old_layout(small_index, tmp_path)
    assert index_paths(tmp_path) == (tmp_path / INDEX_FILE, tmp_path / IDS_FILE)
    assert_matching_pair(TitleIndex.load(tmp_path), small_index.item_titles)


def test_old_generations_are_pruned_while_their_readers_keep_reading(tmp_path):
    first = other_index(5, seed=1)
    first.save(tmp_path)
    reader = TitleIndex.load(tmp_path)  # e.g. a running bot, its index memory-mapped
    for n in (6, 7, 8):
        other_index(n, seed=n).save(tmp_path)
    generations = [p for p in (tmp_path / INDEX_DIR).iterdir() if p.is_dir()]
    assert len(generations) == 2  # the current one and the one before
    assert_matching_pair(TitleIndex.load(tmp_path), [f"o{i}" for i in range(8)])
    assert_matching_pair(reader, first.item_titles)  # its files are gone, its mapping is not


def test_readers_always_see_a_matching_pair_while_the_index_is_rebuilt(tmp_path):
    """One thread swaps indexes of different sizes in, another loads all the while: every load is one pair."""
    indexes = [other_index(n, seed=n) for n in (3, 11)]
    indexes[0].save(tmp_path)
    done = threading.Event()
    seen: list[tuple[int, int]] = []

    def read() -> None:
        while not done.is_set():
            loaded = TitleIndex.load(tmp_path)
            seen.append((loaded.ann.get_n_items(), len(loaded.item_titles)))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for i in range(1000):  # at least 40 swaps, and until the reader has met both indexes
            indexes[i % 2].save(tmp_path)
            if i >= 40 and {n for n, _ in seen} == {3, 11}:
                break
    finally:
        done.set()
        thread.join()
    assert {n for n, _ in seen} == {3, 11}
    assert all(n_ann == n_ids for n_ann, n_ids in seen)


def clustered(n_titles=120, per_title=3, n_clusters=12, dim=16, seed=0):
    """Random titles grouped in style clusters; each title's items scatter around its own centre."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim))
    rows, owners = [], []
    for t in range(n_titles):
        title_centre = centres[t % n_clusters] + 0.5 * rng.normal(size=dim)
        for _ in range(per_title):
            rows.append(title_centre + 0.2 * rng.normal(size=dim))
            owners.append(f"t{t:03d}")
    emb = np.array(rows, np.float32)
    return emb / np.linalg.norm(emb, axis=1, keepdims=True), owners


def test_recall_against_exact_search_is_high_with_enough_trees():
    emb, owners = clustered()
    index = TitleIndex.build(emb, owners, n_trees=50)
    assert recall_vs_exact(index, emb, k=24, n_queries=100) >= 0.95


def test_exact_neighbours_are_title_level_and_start_with_the_query_title():
    emb, owners = clustered(n_titles=30)
    top = exact_title_neighbours(emb, owners, emb[4], 10)
    assert len(top) == len(set(top)) == 10
    assert top[0] == owners[4]


def test_centring_spreads_similarities_that_share_a_common_component(tmp_path):
    rng = np.random.default_rng(0)
    dim = 64
    common = rng.normal(size=dim) * 20  # what an undertrained network's embeddings look like: one big shared part
    emb = (common + rng.normal(size=(60, dim))).astype(np.float32)
    owners = [f"t{i}" for i in range(60)]
    raw = TitleIndex.build(emb, owners, n_trees=20, centre=False, calibrate=False).query(emb[0], 10)
    centred = TitleIndex.build(emb, owners, n_trees=20, calibrate=False)
    hits = centred.query(emb[0], 10)
    assert min(h.similarity for h in raw) > 0.9  # squeezed: every title looks "90 %+ similar"
    assert hits[0].title_id == "t0" and hits[0].similarity > 0.99
    assert max(h.similarity for h in hits[1:]) < 0.5  # unrelated titles now look unrelated
    centred.save(tmp_path)
    loaded = TitleIndex.load(tmp_path)
    assert np.allclose(loaded.center, centred.center)
    assert [h.title_id for h in loaded.query(emb[0], 10)] == [h.title_id for h in hits]
    prepared = loaded.prepare(emb[:1])[0]
    assert [h.title_id for h in loaded.query(prepared, 10, prepared=True)] == [h.title_id for h in hits]
