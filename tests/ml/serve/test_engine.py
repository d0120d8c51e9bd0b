"""The engine's ranking rules on constructed embeddings (no model), then the real thing on the tiny run."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from catalog.format import Title
from core.errors import RunFolderError, UnknownTitleError
from ml.serve.engine import LOW_CONFIDENCE_MESSAGE, Engine, TasteProfile
from ml.serve.index import TitleIndex

DIM = 12


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


def make_engine(layout=LAYOUT, **kwargs) -> Engine:
    rows, owners, titles = [], [], []
    for tid, (vectors, fields) in layout.items():
        rows += vectors
        owners += [tid] * len(vectors)
        titles.append(make_title(tid, **fields))
    index = TitleIndex.build(np.stack(rows), owners, n_trees=10, centre=False)
    return Engine(index, titles, genres=["action", "drama", "comedy", "romance"], **kwargs)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return make_engine()


def ids(answer_or_results) -> list[str]:
    results = getattr(answer_or_results, "results", answer_or_results)
    return [r.title.id for r in results]


# ---- taste rerank ------------------------------------------------------------------------------------------------


def test_without_taste_the_most_similar_title_comes_first(engine):
    answer = engine.answer_vectors(QUERY, None, k=3)
    assert ids(answer) == ["A", "B", "L"]  # X is adult, filtered by default
    assert answer.results[0].similarity == pytest.approx(0.9, abs=1e-3)
    assert all(r.reason is None and r.score == r.similarity for r in answer.results)


def test_a_like_lifts_the_title_near_it_above_a_slightly_closer_match(engine):
    answer = engine.answer_vectors(QUERY, None, k=3, taste=TasteProfile(liked=("L",)))
    assert ids(answer).index("B") < ids(answer).index("A")
    lifted = answer.results[0]
    assert lifted.title.id == "B"
    assert lifted.similarity == pytest.approx(0.85, abs=1e-3)  # similarity stays the raw one; score moved
    assert lifted.score > answer.results[ids(answer).index("A")].score


def test_because_you_liked_reason_is_attached_only_where_a_like_lifted_a_title(engine):
    answer = engine.answer_vectors(QUERY, None, k=4, taste=TasteProfile(liked=("L",)))
    reasons = {r.title.id: r.reason for r in answer.results}
    assert reasons["B"] == "because you liked Title L"
    assert reasons["A"] is None  # pushed down, not lifted
    assert reasons["L"] is None  # close to the like (it is the like) but kept its place: nothing to explain


def test_disliked_title_is_never_returned(engine):
    taste = TasteProfile(disliked=("A",))
    for k in (1, 3, 9):
        assert "A" not in ids(engine.answer_vectors(QUERY, None, k=k, taste=taste))
    assert "A" not in ids(engine.answer_vectors(QUERY, None, k=9, taste=taste, allow_adult=True))


def test_disliked_title_is_never_returned_by_recommend(engine):
    taste = TasteProfile(disliked=("A", "L"))
    for source in ("B", "F1", "M"):
        found = ids(engine.recommend(source, k=9, taste=taste))
        assert "A" not in found and "L" not in found


def test_shown_titles_in_taste_exclude_are_not_returned(engine):
    answer = engine.answer_vectors(QUERY, None, k=3, taste=TasteProfile(exclude=("A", "B")))
    assert ids(answer) == ["L", "F1", "F2"]


def test_exclude_argument_is_honoured(engine):
    assert "A" not in ids(engine.answer_vectors(QUERY, None, k=5, exclude={"A"}))


def test_adult_titles_are_filtered_unless_allowed(engine):
    assert "X" not in ids(engine.answer_vectors(QUERY, None, k=9))
    allowed = engine.answer_vectors(QUERY, None, k=3, allow_adult=True)
    assert ids(allowed)[0] == "X"
    assert "X" not in ids(engine.recommend("A", k=9))
    assert "X" in ids(engine.recommend("A", k=9, allow_adult=True))


# ---- confidence --------------------------------------------------------------------------------------------------


def test_low_confidence_is_flagged_with_a_message_and_k_results_still_returned(engine):
    weak = vec(e0=0.3, e11=0.95394)  # nothing in the index is close to this
    answer = engine.answer_vectors(weak, None, k=4)
    assert answer.low_confidence is True
    assert answer.message == LOW_CONFIDENCE_MESSAGE
    assert len(answer.results) == 4
    assert max(r.similarity for r in answer.results) < engine.low_confidence_threshold


def test_close_match_is_not_low_confidence(engine):
    answer = engine.answer_vectors(QUERY, None, k=4)
    assert answer.low_confidence is False and answer.message is None


def test_low_confidence_looks_at_the_best_similarity_not_the_reranked_first():
    # threshold between B (.85, lifted to first by the like) and A (.90, still in the results)
    engine = make_engine(low_confidence_threshold=0.88)
    answer = engine.answer_vectors(QUERY, None, k=3, taste=TasteProfile(liked=("L",)))
    assert ids(answer)[0] == "B" and "A" in ids(answer)
    assert answer.low_confidence is False


# ---- panels, recommend, genres -----------------------------------------------------------------------------------


def test_panels_merge_so_titles_matching_every_panel_win(engine):
    assert ids(engine.answer_vectors(e(5), None, k=1)) == ["P"]  # one panel alone: P is closest
    merged = engine.answer_vectors(np.stack([e(5), e(6)]), None, k=3)
    assert merged.panels == 2
    assert ids(merged)[0] == "M"
    assert set(ids(merged)[1:]) == {"P", "Q"}
    assert merged.results[0].similarity == pytest.approx(0.9, abs=1e-3)


def test_recommend_excludes_the_title_itself(engine):
    for source in LAYOUT:
        if source == "X":
            continue
        answer = engine.recommend(source, k=len(LAYOUT))
        assert source not in ids(answer)
        assert answer.source.id == source
    assert len(engine.recommend("A", k=len(LAYOUT)).results) == len(LAYOUT) - 2  # minus itself and the adult X


def test_recommend_without_model_genres_takes_the_catalogue_ones(engine):
    answer = engine.recommend("L", k=2)
    assert [(g.genre, g.probability) for g in answer.genres] == [("drama", 1.0), ("romance", 1.0), ("comedy", 1.0)]


def test_recommend_unknown_id_raises_unknown_title(engine):
    with pytest.raises(UnknownTitleError, match="nope"):
        engine.recommend("nope")
    with pytest.raises(UnknownTitleError, match="nope"):
        engine.recommend_title("nope")


def test_recommend_title_without_a_cover_to_read_keeps_the_catalogue_genres(engine):
    assert engine.cover_genre_input("L") is None  # no cover: no model call (this engine has no model)
    answer = engine.recommend_title("L", k=2)
    assert [g.genre for g in answer.genres] == ["drama", "romance", "comedy"] and answer.source.id == "L"


def test_taste_from_stored_ratings_keeps_their_order():
    from types import SimpleNamespace

    taste = TasteProfile.from_ratings(SimpleNamespace(liked=["B", "A"], disliked=["L"]))
    assert taste == TasteProfile(liked=("B", "A"), disliked=("L",))


def test_genre_guesses_average_panels_and_keep_the_top_three(engine):
    probs = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.5, 0.3, 0.1]])
    guesses = engine.genre_guesses(probs)
    assert [g.genre for g in guesses] == ["action", "drama", "comedy"]
    assert guesses[0].probability == pytest.approx(0.4)


def test_an_engine_without_a_model_says_so(engine):
    with pytest.raises(RunFolderError, match="without a model"):
        engine.infer(np.zeros((1, 8, 8, 3), np.float32))


# ---- discovery -------------------------------------------------------------------------------------------------

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
def discovery_engine() -> Engine:
    return make_engine(DISCOVERY)


def test_discovery_prefers_lesser_known_titles_that_fit_the_taste(discovery_engine):
    picks = discovery_engine.discovery_picks({"T": 3}, n=3, exclude={"E"})
    assert ids(picks) == ["O1", "O3", "O2"]
    assert all(p.reason == "fits this server's taste" for p in picks)
    assert all(0.0 <= p.similarity <= 1.0 for p in picks)


def test_discovery_never_returns_excluded_rated_or_adult_titles(discovery_engine):
    for seed in range(5):
        picks = ids(discovery_engine.discovery_picks({"T": 2, "O1": -1}, n=10, exclude={"E"}, seed=seed))
        assert picks and not {"E", "T", "O1", "XX"} & set(picks)
    assert "XX" in ids(discovery_engine.discovery_picks({"T": 2}, n=10, exclude={"E"}, allow_adult=True))


def test_discovery_without_ranks_uses_the_least_known_titles():
    layout = {tid: (vectors, {**fields, "popularity_rank": None}) for tid, (vectors, fields) in DISCOVERY.items()}
    engine = make_engine(layout)
    counts = {"P1": 50, "P2": 40, "O3": 30}  # shown/liked a lot; O1, O2, E never
    picks = ids(engine.discovery_picks({"T": 1}, n=2, known_counts=counts))
    assert picks == ["E", "O1"]


def test_discovery_with_nothing_left_returns_nothing(discovery_engine):
    assert discovery_engine.discovery_picks({}, exclude=set(DISCOVERY)) == []


# ---- the real tiny run ---------------------------------------------------------------------------------------------


def test_loaded_engine_finds_the_catalogue_cover_itself_first(real_engine, cover_title):
    answer = real_engine.similar(cover_title.cover.read_bytes())
    eligible = sum(1 for t in real_engine.titles.values() if t.adult is not True)
    assert len(answer.results) == min(24, eligible)
    assert answer.results[0].title.id == cover_title.id
    assert answer.results[0].similarity == pytest.approx(1.0, abs=1e-3)
    assert answer.low_confidence is False
    sims = [r.similarity for r in answer.results]
    assert sims == sorted(sims, reverse=True) and all(0.0 <= s <= 1.0 for s in sims)


def test_loaded_engine_genre_guesses_are_top_three_probabilities(real_engine, cover_title):
    answer = real_engine.similar(cover_title.cover.read_bytes())
    assert 1 <= len(answer.genres) <= 3
    assert {g.genre for g in answer.genres} <= set(real_engine.genres)
    assert all(0.0 <= g.probability <= 1.0 for g in answer.genres)
    assert sum(g.probability for g in answer.genres) <= 1.0 + 1e-5
    probs = [g.probability for g in answer.genres]
    assert probs == sorted(probs, reverse=True)


def test_loaded_engine_contact_sheet_is_an_image_under_1_mb(real_engine, cover_title):
    answer = real_engine.similar(cover_title.cover.read_bytes())
    data, fmt = real_engine.contact_sheet(answer, Image.open(cover_title.cover))
    assert fmt == "jpg"
    assert len(data) < 1_000_000
    Image.open(io.BytesIO(data)).verify()
    recommended = real_engine.recommend(cover_title.id)
    data, _ = real_engine.contact_sheet(recommended)
    assert len(data) < 1_000_000


def test_loaded_engine_recommend_never_returns_the_source(real_engine, cover_title):
    answer = real_engine.recommend(cover_title.id)
    assert cover_title.id not in ids(answer)
    assert answer.results


def test_loaded_engine_recommend_title_reads_the_genres_from_the_cover(real_engine, cover_title):
    answer = real_engine.recommend_title(cover_title.id, k=5)
    assert answer.source.id == cover_title.id and cover_title.id not in ids(answer) and len(answer.results) == 5
    assert answer.genres and {g.genre for g in answer.genres} <= set(real_engine.genres)
    assert sum(g.probability for g in answer.genres) <= 1.0 + 1e-5  # the model's probabilities, not the catalogue's
