"""Title recommendations: art style blended with shared genres, tags and authors, with reasons; style-only unchanged."""

from __future__ import annotations

import pytest

from core.i18n import translator
from ml.serve.ranking import Ranker
from ml.serve.results import TasteProfile
from ml.serve.title_blend import STYLE_ONLY, STYLE_REASON, BlendWeights, blend, jaccard, reason
from tests.ml.serve.constructed import e, ids, make_engine, make_ranker, make_title, vec

SOURCE = {"authors": ("Kim",), "genres": ("fantasy", "action"), "tags": ("회귀", "먼치킨", "복수")}
# cosines to S: C1 .92 (nothing shared), C4 .88 (nothing shared), AU .80 (same author), GT .80 (fantasy + 회귀 먼치킨),
# G .82 (fantasy only), far .30 (same author, but drawn nothing alike)
LAYOUT = {
    "S": ([e(0)], SOURCE),
    "C1": ([vec(e0=0.92, e1=0.39192)], {"genres": ("romance",), "tags": ("학원",)}),
    "C4": ([vec(e0=0.88, e2=0.47497)], {"genres": ("comedy",)}),
    "AU": ([vec(e0=0.80, e3=0.6)], {"authors": ("Kim", "Lee"), "genres": ("drama",)}),
    "GT": ([vec(e0=0.80, e4=0.6)], {"genres": ("fantasy",), "tags": ("회귀", "먼치킨")}),
    "G": ([vec(e0=0.82, e5=0.57236)], {"genres": ("fantasy", "romance")}),
    "far": ([vec(e0=0.30, e6=0.95394)], {"authors": ("Kim",), "genres": ("sports",)}),
}


@pytest.fixture(scope="module")
def ranker() -> Ranker:
    return make_ranker(LAYOUT)


def source(r: Ranker):
    return r.titles["S"]


def test_shared_author_genre_and_tags_rank_up(ranker):
    plain = ids(make_ranker(LAYOUT, title_weights=STYLE_ONLY).answer_title(source(ranker), k=6))
    assert plain[:2] == ["C1", "C4"]  # by art style alone, the two that share nothing come first
    blended = ids(ranker.answer_title(source(ranker), k=6))
    assert set(blended[:2]) == {"AU", "GT"}
    assert blended.index("G") < blended.index("C1")  # a shared genre outweighs a small style gap
    assert "S" not in blended  # never itself


def test_each_line_says_what_it_shares(ranker):
    answer = ranker.answer_title(source(ranker), k=6)
    why = {r.title.id: r.reason for r in answer.results}
    assert why["AU"] == "same author"
    assert why["GT"] == "also Fantasy · 회귀 · 먼치킨"
    assert why["G"] == "also Fantasy"
    assert why["C1"] == why["C4"] == STYLE_REASON
    assert all(r.reason for r in answer.results)


def test_reasons_are_said_in_the_readers_language(ranker):
    """A reason is a Msg: English as a str (logs, JSON), Korean for a Korean reader, genre names included."""
    why = {r.title.id: r.reason for r in ranker.answer_title(source(ranker), k=6).results}
    ko = translator("ko")
    assert ko._(why["GT"]) == "판타지 · 회귀 · 먼치킨도 같아요"
    assert ko._(why["AU"]) == "같은 작가예요"
    assert ko._(why["C1"]) == "그림체가 비슷해요"


def test_the_shown_similarity_stays_the_style_similarity(ranker):
    answer = ranker.answer_title(source(ranker), k=6)
    sims = {r.title.id: r.similarity for r in answer.results}
    assert sims["AU"] == pytest.approx(0.80, abs=1e-3) and sims["C1"] == pytest.approx(0.92, abs=1e-3)
    au = next(r for r in answer.results if r.title.id == "AU")
    assert au.score > au.similarity  # ranked by the blend, shown by style


def test_style_only_is_the_old_ranking(ranker):
    plain = make_ranker(LAYOUT, title_weights=STYLE_ONLY)
    old = plain.answer(plain.title_vector("S"), k=6, exclude={"S"}, prepared=True)
    new = plain.answer_title(source(plain), k=6)
    assert ids(new) == ids(old)
    assert [r.similarity for r in new.results] == [r.similarity for r in old.results]
    assert all(r.reason is None for r in new.results)


def test_a_taste_still_moves_a_blended_answer(ranker):
    liked = ranker.answer_title(source(ranker), k=6, taste=TasteProfile(disliked=("AU",)))
    assert "AU" not in ids(liked)


def test_the_engine_blends_unless_style_only():
    blended = make_engine(LAYOUT).answer_title("S", k=6)
    assert set(ids(blended)[:2]) == {"AU", "GT"} and blended.source.id == "S"
    plain = make_engine(LAYOUT, style_only=True).answer_title("S", k=6)
    assert ids(plain)[:2] == ["C1", "C4"]


def test_zero_weights_change_nothing_and_jaccard():
    s = make_title("S", **SOURCE)
    assert jaccard(("a", "b"), ("b", "c")) == pytest.approx(1 / 3) and jaccard((), ()) == 0.0
    assert reason(s, make_title("x", authors=("Kim",), genres=("fantasy",), tags=("복수",))) == (
        "same author, also Fantasy · 복수"
    )
    assert BlendWeights(0.0, 0.0, 0.0).style_only and not BlendWeights().style_only
    assert blend(s, [], {}, BlendWeights()) == []


def test_a_title_drawn_nothing_alike_is_not_lifted_and_genre_tags_do_not_count():
    s = make_title(
        "S",
        **SOURCE,
    )
    titles = {
        "alike": make_title("alike", genres=("comedy",)),
        "unlike": make_title("unlike", authors=("Kim",), genres=("fantasy", "action"), tags=SOURCE["tags"]),
    }
    from ml.serve.index import Hit

    ranked = blend(s, [Hit("alike", 0.5), Hit("unlike", 0.0)], titles)
    assert [b.title_id for b in ranked] == ["alike", "unlike"]  # 0 % style: sharing everything lifts nothing
    fantasy_tag = make_title("x", genres=("fantasy",), tags=("판타지", "완결판타지"))
    assert reason(make_title("S2", genres=("fantasy",), tags=("판타지", "완결판타지")), fantasy_tag) == "also Fantasy"
    assert jaccard(("판타지",), ("판타지",)) == 1.0  # plain Jaccard; blend() drops genre-naming tags first
