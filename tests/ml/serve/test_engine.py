"""The engine's steps on a constructed index (no model, or a fake one), then the real thing on the tiny run.
The ranking rules themselves: tests/ml/serve/test_ranking.py."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core.errors import RunFolderError, UnknownTitleError
from ml.serve.engine import Engine
from ml.serve.results import ModelOutputs, TasteProfile
from tests.ml.serve.constructed import LAYOUT, QUERY, e, ids, make_engine


@pytest.fixture(scope="module")
def engine() -> Engine:
    return make_engine()


def fake_model(batch: np.ndarray) -> ModelOutputs:
    """Every panel embeds as QUERY; genre probabilities favour "drama"."""
    n = len(batch)
    return ModelOutputs(np.tile(QUERY, (n, 1)), np.tile([0.1, 0.6, 0.2, 0.1], (n, 1)))


# ---- recommend from a title ------------------------------------------------------------------------------------


def test_recommend_excludes_the_title_itself(engine):
    for source in LAYOUT:
        if source == "X":
            continue
        answer = engine.recommend(source, k=len(LAYOUT))
        assert source not in ids(answer)
        assert answer.source.id == source
    assert len(engine.recommend("A", k=len(LAYOUT)).results) == len(LAYOUT) - 2  # minus itself and the adult X


def test_disliked_and_adult_titles_are_left_out_of_recommendations(engine):
    taste = TasteProfile(disliked=("A", "L"))
    for source in ("B", "F1", "M"):
        found = ids(engine.recommend(source, k=9, taste=taste))
        assert "A" not in found and "L" not in found
    assert "X" not in ids(engine.recommend("A", k=9))
    assert "X" in ids(engine.recommend("A", k=9, allow_adult=True))


def test_a_title_without_a_cover_to_read_keeps_the_catalogue_genres(engine):
    assert engine.cover_input("L") is None  # no cover: no model call (this engine has no model)
    answer = engine.recommend("L", k=2)
    assert [(g.genre, g.probability) for g in answer.genres] == [("drama", 1.0), ("romance", 1.0), ("comedy", 1.0)]
    assert answer.source.id == "L"


def test_recommend_unknown_id_raises_unknown_title(engine):
    with pytest.raises(UnknownTitleError, match="nope"):
        engine.recommend("nope")
    with pytest.raises(UnknownTitleError, match="nope"):
        engine.cover_input("nope")


def test_the_genres_of_a_recommendation_come_from_the_model_on_the_cover(engine):
    answer = engine.answer_title("L", fake_model(np.zeros((1, 8, 8, 3))), k=2)
    assert [g.genre for g in answer.genres] == ["drama", "comedy", "action"]
    assert answer.genres[0].probability == pytest.approx(0.6)


# ---- an upload --------------------------------------------------------------------------------------------------


def test_an_upload_answer_ranks_by_the_embedding_and_guesses_genres():
    engine = make_engine(model=fake_model)
    answer = engine.answer_upload(engine.run_model(np.zeros((2, 8, 8, 3))), k=3)
    assert ids(answer) == ["A", "B", "L"] and answer.panels == 2
    assert answer.genres[0].genre == "drama" and answer.screen is None  # no nsfw output: no screen


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
        engine.run_model(np.zeros((1, 8, 8, 3), np.float32))


def test_the_ranking_knobs_reach_the_ranker():
    engine = make_engine(taste_weight=0.0, low_confidence_threshold=0.95)
    assert (engine.ranking.taste_weight, engine.ranking.low_confidence_threshold) == (0.0, 0.95)
    assert engine.ranking.answer(e(0), k=1).low_confidence  # A's .90 is under .95


# ---- the real tiny runs --------------------------------------------------------------------------------------------


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


def test_loaded_engine_recommend_reads_the_genres_from_the_cover(real_engine, cover_title):
    answer = real_engine.recommend(cover_title.id, k=5)
    assert answer.source.id == cover_title.id and cover_title.id not in ids(answer) and len(answer.results) == 5
    assert answer.genres and {g.genre for g in answer.genres} <= set(real_engine.genres)
    assert sum(g.probability for g in answer.genres) <= 1.0 + 1e-5  # the model's probabilities, not the catalogue's
