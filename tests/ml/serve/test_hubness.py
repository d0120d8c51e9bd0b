"""The hubness correction (CSLS) and the best-image / title-mean blend, on real Annoy indexes of constructed vectors."""

import json

import numpy as np
import pytest

from ml.serve.hubness import Hubness, HubnessParams, hub_share, item_hubness
from ml.serve.index import TitleIndex, index_paths

DIM = 64


def catalogue(n_titles=80, per_title=2, seed=0, hub=True):
    """Titles near their own random centre; with ``hub``, a title "hub" whose images sit between 15 titles' centres
    (close to all of them, belonging to none)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_titles, DIM))
    rows, owners = [], []
    for t in range(n_titles):
        for _ in range(per_title):
            rows.append(centres[t] + 0.5 * rng.normal(size=DIM))
            owners.append(f"t{t}")
    if hub:
        for _ in range(per_title):
            rows.append(centres[:15].mean(axis=0) * 2.0 + 0.1 * rng.normal(size=DIM))
            owners.append("hub")
    return np.array(rows, np.float32), owners, centres


def hub_appearances(index, centres, k=10):
    """In how many answers (top ``k``) to a fresh image of each title, its own title excluded, the hub appears."""
    rng = np.random.default_rng(5)
    found = 0
    for t in range(len(centres)):
        query = centres[t] + 0.5 * rng.normal(size=DIM)
        found += "hub" in [h.title_id for h in index.query(query, k, exclude={f"t{t}"})]
    return found


def test_item_hubness_is_high_for_the_hub():
    emb, owners, _ = catalogue()
    v = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    r = item_hubness(v, owners, k=5)
    hub = [i for i, t in enumerate(owners) if t == "hub"]
    assert r[hub].min() > np.quantile(r, 0.95)


def test_csls_demotes_a_synthetic_hub():
    emb, owners, centres = catalogue()
    plain = hub_appearances(TitleIndex.build(emb, owners, n_trees=20), centres)
    csls = hub_appearances(TitleIndex.build(emb, owners, n_trees=20, hubness=HubnessParams(beta=0.5, k=5)), centres)
    strong = hub_appearances(TitleIndex.build(emb, owners, n_trees=20, hubness=HubnessParams(beta=1.0, k=5)), centres)
    assert plain >= 12  # uncorrected, the hub is in the top 10 of many answers (it belongs to none)
    assert csls <= 0.6 * plain and strong <= plain / 2


def test_a_near_copy_still_ranks_first_and_reads_near_100_percent():
    emb, owners, _ = catalogue()
    csls = TitleIndex.build(emb, owners, n_trees=20, hubness=HubnessParams(beta=0.5, alpha=0.7, k=10))
    rng = np.random.default_rng(3)
    for item in range(0, 160, 7):
        copy = emb[item] + 0.05 * rng.normal(size=DIM)
        hits = csls.query(copy, 24)
        assert hits[0].title_id == owners[item]
        assert hits[0].similarity >= 0.95
    copy = emb[-1] + 0.05 * rng.normal(size=DIM)  # the hub itself, queried with a copy of its image, is still found
    assert csls.query(copy, 24)[0].title_id == "hub"


def test_title_mean_blend_demotes_a_title_that_wins_by_many_draws():
    """A title of 40 unrelated images has one close to almost anything by chance; scored by the best image it
    crowds answers, blended with its mean it does not."""
    rng = np.random.default_rng(7)
    emb, owners, centres = catalogue(hub=False)
    many = rng.normal(size=(40, DIM)) * 1.2
    emb = np.concatenate([emb, many]).astype(np.float32)
    owners = owners + ["many"] * 40
    best = TitleIndex.build(emb, owners, n_trees=20)
    blend = TitleIndex.build(emb, owners, n_trees=20, hubness=HubnessParams(beta=0.0, alpha=0.5))

    def appearances(index):
        q = np.random.default_rng(11)
        return sum(
            "many" in [h.title_id for h in index.query(centres[t] + 0.5 * q.normal(size=DIM), 5, exclude={f"t{t}"})]
            for t in range(80)
        )

    assert appearances(blend) < appearances(best) / 2


def test_the_correction_is_saved_with_its_generation_and_gives_the_same_answers(tmp_path):
    emb, owners, _ = catalogue()
    index = TitleIndex.build(emb, owners, n_trees=20, hubness=HubnessParams(beta=0.5, alpha=0.8, k=5))
    index.save(tmp_path)
    meta = json.loads(index_paths(tmp_path)[1].read_text(encoding="utf-8"))
    assert meta["hubness"]["beta"] == 0.5 and len(meta["hubness"]["r"]) == len(owners)
    loaded = TitleIndex.load(tmp_path)
    query = emb[9] + 0.3 * np.random.default_rng(2).normal(size=DIM)
    a, b = index.query(query, 24), loaded.query(query, 24)
    assert [h.title_id for h in a] == [h.title_id for h in b]
    np.testing.assert_allclose([h.similarity for h in a], [h.similarity for h in b], atol=1e-4)


def test_a_correction_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="items"):
        Hubness.from_json({"beta": 0.5, "alpha": 1.0, "k": 10, "r": [0.1, 0.2]}, 3)


def test_identity_params_build_a_plain_index():
    emb, owners, _ = catalogue()
    assert TitleIndex.build(emb, owners, n_trees=5, hubness=HubnessParams(beta=0.0, alpha=1.0)).hubness is None


def test_hub_share():
    answers = [["a", "b"], ["a", "c"], ["a", "d"], ["a", "e"]]
    assert hub_share(answers, n_titles=100) == pytest.approx(4 / 8)  # the top 1 % (one title) takes half the slots
    assert hub_share([], n_titles=100) == 0.0
    uniform = [[f"t{i}"] for i in range(200)]
    assert hub_share(uniform, n_titles=200) == pytest.approx(2 / 200)
