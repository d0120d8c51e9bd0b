"""The ranking rules on constructed embeddings: taste rerank, filters, confidence, panels, discovery picks."""

from __future__ import annotations

import numpy as np
import pytest

from ml.serve.index import Hit
from ml.serve.ranking import LOW_CONFIDENCE_MESSAGE, Ranker, merge_panels
from ml.serve.results import TasteProfile
from tests.ml.serve.constructed import QUERY, e, ids, make_ranker, vec


@pytest.fixture(scope="module")
def ranker() -> Ranker:
    return make_ranker()


# ---- taste rerank ------------------------------------------------------------------------------------------------


def test_without_taste_the_most_similar_title_comes_first(ranker):
    answer = ranker.answer(QUERY, k=3)
    assert ids(answer) == ["A", "B", "L"]  # X is adult, filtered by default
    assert answer.results[0].similarity == pytest.approx(0.9, abs=1e-3)
    assert all(r.reason is None and r.score == r.similarity for r in answer.results)
    assert answer.genres == []  # genres are the engine's part


def test_a_like_lifts_the_title_near_it_above_a_slightly_closer_match(ranker):
    answer = ranker.answer(QUERY, k=3, taste=TasteProfile(liked=("L",)))
    assert ids(answer).index("B") < ids(answer).index("A")
    lifted = answer.results[0]
    assert lifted.title.id == "B"
    assert lifted.similarity == pytest.approx(0.85, abs=1e-3)  # similarity stays the raw one; score moved
    assert lifted.score > answer.results[ids(answer).index("A")].score


def test_no_taste_weight_means_a_like_moves_nothing():
    still = make_ranker(taste_weight=0.0).answer(QUERY, k=3, taste=TasteProfile(liked=("L",)))
    assert ids(still) == ["A", "B", "L"]


def test_because_you_liked_reason_is_attached_only_where_a_like_lifted_a_title(ranker):
    answer = ranker.answer(QUERY, k=4, taste=TasteProfile(liked=("L",)))
    reasons = {r.title.id: r.reason for r in answer.results}
    assert reasons["B"] == "because you liked Title L"
    assert reasons["A"] is None  # pushed down, not lifted
    assert reasons["L"] is None  # close to the like (it is the like) but kept its place: nothing to explain


def test_disliked_title_is_never_returned(ranker):
    taste = TasteProfile(disliked=("A",))
    for k in (1, 3, 9):
        assert "A" not in ids(ranker.answer(QUERY, k=k, taste=taste))
    assert "A" not in ids(ranker.answer(QUERY, k=9, taste=taste, allow_adult=True))


def test_exclude_argument_is_honoured(ranker):
    assert "A" not in ids(ranker.answer(QUERY, k=5, exclude={"A"}))


def test_adult_titles_are_filtered_unless_allowed(ranker):
    assert "X" not in ids(ranker.answer(QUERY, k=9))
    assert ids(ranker.answer(QUERY, k=3, allow_adult=True))[0] == "X"


def test_a_title_vector_finds_its_own_title_first(ranker):
    assert ids(ranker.answer(ranker.title_vector("B"), k=1, prepared=True)) == ["B"]


# ---- confidence --------------------------------------------------------------------------------------------------


def test_low_confidence_is_flagged_with_a_message_and_k_results_still_returned(ranker):
    weak = vec(e0=0.3, e11=0.95394)  # nothing in the index is close to this
    answer = ranker.answer(weak, k=4)
    assert answer.low_confidence is True
    assert answer.message == LOW_CONFIDENCE_MESSAGE
    assert len(answer.results) == 4
    assert max(r.similarity for r in answer.results) < ranker.low_confidence_threshold


def test_close_match_is_not_low_confidence(ranker):
    answer = ranker.answer(QUERY, k=4)
    assert answer.low_confidence is False and answer.message is None


def test_low_confidence_looks_at_the_best_similarity_not_the_reranked_first():
    # threshold between B (.85, lifted to first by the like) and A (.90, still in the results)
    answer = make_ranker(low_confidence_threshold=0.88).answer(QUERY, k=3, taste=TasteProfile(liked=("L",)))
    assert ids(answer)[0] == "B" and "A" in ids(answer)
    assert answer.low_confidence is False


# ---- panels ------------------------------------------------------------------------------------------------------


def test_panels_merge_so_titles_matching_every_panel_win(ranker):
    assert ids(ranker.answer(e(5), k=1)) == ["P"]  # one panel alone: P is closest
    merged = ranker.answer(np.stack([e(5), e(6)]), k=3)
    assert merged.panels == 2
    assert ids(merged)[0] == "M"
    assert set(ids(merged)[1:]) == {"P", "Q"}
    assert merged.results[0].similarity == pytest.approx(0.9, abs=1e-3)


def test_merging_averages_over_panels_with_zero_where_a_panel_missed():
    merged = merge_panels([[Hit("a", 0.8), Hit("b", 0.6)], [Hit("b", 0.9)]])
    assert [(h.title_id, round(h.similarity, 3)) for h in merged] == [("b", 0.75), ("a", 0.4)]
    single = [Hit("a", 0.5)]
    assert merge_panels([single]) is single


# ---- discovery ---------------------------------------------------------------------------------------------------

DISCOVERY = {
    "T": ([vec(e0=1.0)], {"popularity_rank": 5}),  # the liked one
    "P1": ([vec(e0=0.98, e1=0.199)], {"popularity_rank": 1}),  # popular and a great fit
    "P2": ([vec(e0=0.6, e2=0.8)], {"popularity_rank": 2}),
    "O1": ([vec(e0=0.9, e3=0.43589)], {"popularity_rank": 9}),  # lesser-known, good fit
    "O2": ([vec(e0=0.1, e4=0.99499)], {"popularity_rank": 10}),  # lesser-known, poor fit
    "O3": ([vec(e0=0.5, e5=0.86603)], {"popularity_rank": 8}),  # lesser-known, middling fit
    "E": ([vec(e0=0.99, e6=0.14107)], {"popularity_rank": 11}),  # lesser-known, best fit, but already posted
    "XX": ([vec(e0=0.97, e7=0.24310)], {"popularity_rank": 12, "adult": True}),
}


@pytest.fixture(scope="module")
def discovery() -> Ranker:
    return make_ranker(DISCOVERY)


def test_discovery_prefers_lesser_known_titles_that_fit_the_taste(discovery):
    picks = discovery.discovery_picks({"T": 3}, n=3, exclude={"E"})
    assert ids(picks) == ["O1", "O3", "O2"]
    assert all(p.reason == "fits this server's taste" for p in picks)
    assert all(0.0 <= p.similarity <= 1.0 for p in picks)


def test_discovery_never_returns_excluded_rated_or_adult_titles(discovery):
    for seed in range(5):
        picks = ids(discovery.discovery_picks({"T": 2, "O1": -1}, n=10, exclude={"E"}, seed=seed))
        assert picks and not {"E", "T", "O1", "XX"} & set(picks)
    assert "XX" in ids(discovery.discovery_picks({"T": 2}, n=10, exclude={"E"}, allow_adult=True))


def test_discovery_without_ranks_uses_the_least_known_titles():
    layout = {tid: (vectors, {**fields, "popularity_rank": None}) for tid, (vectors, fields) in DISCOVERY.items()}
    counts = {"P1": 50, "P2": 40, "O3": 30}  # shown/liked a lot; O1, O2, E never
    picks = ids(make_ranker(layout).discovery_picks({"T": 1}, n=2, known_counts=counts))
    assert picks == ["E", "O1"]


def test_discovery_with_nothing_left_returns_nothing(discovery):
    assert discovery.discovery_picks({}, n=3, exclude=set(DISCOVERY)) == []


def test_discovery_prefers_new_titles_that_fit_and_marks_them():
    ranker = make_ranker(DISCOVERY)
    assert ids(ranker.discovery_picks({"T": 3}, n=3, exclude={"E"}))[0] == "O1"  # nothing new: as before
    ranker.new_titles = frozenset({"P1", "O2"})  # P1: popular but a great fit; O2: a poor fit
    picks = ranker.discovery_picks({"T": 3}, n=3, exclude={"E"})
    assert ids(picks)[0] == "P1" and picks[0].new  # new and fitting: first, whatever its popularity
    assert [p.new for p in picks[1:]] == [False, False] and "O2" not in ids(picks)  # new but unfitting: no bonus
    assert not any(p.new for p in ranker.discovery_picks({"T": 3}, n=3, exclude={"E"}, prefer_new=False))


def test_discovery_without_likes_posts_new_titles_first():
    ranker = make_ranker(DISCOVERY)
    ranker.new_titles = frozenset({"O2", "P2"})
    for seed in range(5):
        picks = ranker.discovery_picks({}, n=3, exclude={"E"}, seed=seed)
        assert set(ids(picks)[:2]) == {"O2", "P2"} and [p.new for p in picks] == [True, True, False]
