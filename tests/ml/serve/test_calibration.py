"""The calibrated similarity: measured on the index's own items, stored with its generation, monotone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ml.serve.calibration import KNOTS, Calibration
from ml.serve.index import IDS_FILE, TitleIndex, index_paths

DIM = 32


def clustered(n_titles: int = 60, per_title: int = 3, seed: int = 0):
    """Titles of a few images each, near their own centre; centres random (unrelated titles)."""
    rng = np.random.default_rng(seed)
    rows, owners = [], []
    for t in range(n_titles):
        centre = rng.normal(size=DIM)
        for _ in range(per_title):
            rows.append(centre + 0.6 * rng.normal(size=DIM))
            owners.append(f"t{t}")
    return np.array(rows, np.float32), owners


@pytest.fixture(scope="module")
def index() -> TitleIndex:
    emb, owners = clustered()
    return TitleIndex.build(emb, owners, n_trees=20)


def test_scores_are_monotone_in_the_cosine_and_span_zero_to_one(index):
    cosines = np.linspace(-1, 1, 401)
    scores = index.calibration.score(cosines)
    assert np.all(np.diff(scores) >= 0)
    assert scores[0] == 0.0 and scores[-1] == 1.0


def test_a_near_copy_reads_high_and_an_unrelated_title_low(index):
    emb, owners = clustered()
    copy = emb[0] + 0.05 * np.random.default_rng(1).normal(size=DIM)
    hits = index.query(copy, 24)
    assert hits[0].title_id == owners[0] and hits[0].similarity >= 0.95
    random_pairs = index.calibration.score(np.array([0.0]))[0]
    assert random_pairs < 0.5  # an unrelated (orthogonal) pair reads low
    assert hits[-1].similarity < hits[0].similarity


def test_ranking_is_unchanged_by_the_calibration(index):
    emb, owners = clustered()
    raw = TitleIndex.build(emb, owners, n_trees=20, calibrate=False)
    query = emb[7] + 0.3 * np.random.default_rng(2).normal(size=DIM)
    assert [h.title_id for h in index.query(query, 24)] == [h.title_id for h in raw.query(query, 24)]


def test_the_calibration_is_saved_with_its_generation_and_loaded_back(index, tmp_path):
    index.save(tmp_path)
    meta = json.loads(index_paths(tmp_path)[1].read_text(encoding="utf-8"))
    assert len(meta["calibration"]["neighbours"]) == len(meta["calibration"]["nearest"]) == KNOTS
    loaded = TitleIndex.load(tmp_path)
    emb, _ = clustered()
    assert [(h.title_id, round(h.similarity, 5)) for h in loaded.query(emb[3], 10)] == [
        (h.title_id, round(h.similarity, 5)) for h in index.query(emb[3], 10)
    ]


def test_an_index_saved_before_calibrations_still_loads_with_raw_similarities(index, tmp_path, caplog):
    index.save(tmp_path)
    ids = index_paths(tmp_path)[1]
    meta = json.loads(ids.read_text(encoding="utf-8"))
    del meta["calibration"]
    ids.write_text(json.dumps(meta), encoding="utf-8")
    with caplog.at_level("INFO", logger="ml.serve.index"):
        loaded = TitleIndex.load(tmp_path)
    assert loaded.calibration is None and "without a score calibration" in caplog.text
    emb, _ = clustered()
    query = loaded.prepare(emb[3:4])[0]
    hit = loaded.query(query, 1, prepared=True)[0]
    items = np.array([loaded.ann.get_item_vector(i) for i in loaded.title_items[hit.title_id]])
    assert hit.similarity == pytest.approx(float(np.clip((items @ query).max(), 0, 1)), abs=1e-4)
    assert ids.name == IDS_FILE


def test_one_title_has_nothing_to_calibrate_against():
    assert Calibration.fit(np.eye(3, dtype=np.float32), ["a", "a", "a"]) is None


def test_a_stored_calibration_of_the_wrong_size_is_refused():
    with pytest.raises(ValueError):
        Calibration.from_json({"neighbours": [0.0, 1.0], "nearest": [0.0, 1.0]})
