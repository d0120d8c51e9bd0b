"""Fuzzy title search (autocomplete, --title): Korean and English titles, misspellings, authors, and resolve()."""

from __future__ import annotations

import unicodedata

import pytest

from catalog.format import Title
from core.errors import AmbiguousTitleError, UnknownTitleError
from ml.serve.search import MAX_QUERY, TitleSearch, cut_query, normalise


def make_title(tid: str, title: str, title_en: str | None = None, authors=(), alt_titles=None) -> Title:
    extra = {"alt_titles": alt_titles} if alt_titles else {}
    return Title(id=tid, title=title, title_en=title_en, authors=tuple(authors), genres=(), images=(), extra=extra)


TITLES = [
    make_title("naver:183559", "신의 탑", "Tower of God", ["SIU"]),
    make_title("naver:solo", "나 혼자만 레벨업", "Solo Leveling", ["추공", "장성락"]),
    make_title("naver:look", "외모지상주의", "Lookism", ["박태준"]),
    make_title("naver:beauty", "여신강림", "True Beauty", ["야옹이"]),
    make_title("naver:orv", "전지적 독자 시점", "Omniscient Reader", ["싱숑", "슬리피-C"]),
    make_title("naver:yumi", "유미의 세포들", "Yumi's Cells", ["이동건"], alt_titles=["Yumi no Saibou"]),
    make_title("naver:rev1", "연애혁명 1부", "Love Revolution Part 1", ["232"]),
    make_title("naver:rev2", "연애혁명 2부", "Love Revolution Part 2", ["232"]),
    make_title("naver:heart1", "마음의 소리", "The Sound of Your Heart", ["조석"]),
    make_title("naver:heart2", "마음의 소리", "Sound of Heart Remake", ["조석"]),
    make_title("Lookism", "가짜 룩키즘", "Fake Title", ["누군가"]),  # an id that is another title's name
]


@pytest.fixture(scope="module")
def search() -> TitleSearch:
    return TitleSearch(TITLES)


def first(search: TitleSearch, text: str) -> str:
    found = search.search(text)
    assert found, f"nothing found for {text!r}"
    return found[0].title_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("신의", "naver:183559"),  # Korean partial
        ("외모", "naver:look"),
        ("세포", "naver:yumi"),
        ("신의 탐", "naver:183559"),  # Korean misspelling (탑 → 탐)
        ("외모지상주이", "naver:look"),
        ("Tower of Gd", "naver:183559"),  # English misspelling
        ("Solo Levelling", "naver:solo"),
        ("tower of god", "naver:183559"),  # English title, any case
        ("Omniscient Reader", "naver:orv"),
        ("SIU", "naver:183559"),  # author name
        ("야옹이", "naver:beauty"),
        ("Yumi no Saibou", "naver:yumi"),  # alternate title
    ],
)
def test_search_finds_the_title_first(search, text, expected):
    assert first(search, text) == expected


def test_search_lists_each_title_once_with_the_name_that_matched(search):
    found = search.search("연애혁명")
    assert [m.title_id for m in found[:2]] == ["naver:rev1", "naver:rev2"]
    assert len({m.title_id for m in found}) == len(found)
    assert found[0].matched == "연애혁명 1부"
    assert search.search("SIU")[0].matched == "SIU"


def test_search_scores_are_best_first_and_at_most_100(search):
    scores = [m.score for m in search.search("of")]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 100 for s in scores)


def test_search_returns_at_most_25_suggestions():
    many = TitleSearch([make_title(f"t{i}", f"Title number {i:02d}") for i in range(60)])
    assert len(many.search("title")) == 25
    assert len(many.search("title", limit=5)) == 5


@pytest.mark.parametrize("text", ["", "   ", "!!!", None])
def test_empty_text_finds_nothing(search, text):
    assert search.search(text) == []


def test_nonsense_finds_nothing(search):
    assert search.search("zzqqxxwv") == []


def test_resolve_exact_id_wins_over_a_title_of_that_name(search):
    assert search.resolve("Lookism").id == "Lookism"
    assert search.resolve("naver:look").id == "naver:look"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("신의 탑", "naver:183559"),
        ("Tower of God", "naver:183559"),
        ("lookism", "naver:look"),
        (" 여신강림 ", "naver:beauty"),
    ],
)
def test_resolve_exact_title_korean_or_english(search, text, expected):
    assert search.resolve(text).id == expected


def test_resolve_a_single_clear_fuzzy_match(search):
    assert search.resolve("외모지상주이").id == "naver:look"
    assert search.resolve("신의").id == "naver:183559"


def test_resolve_two_titles_with_the_same_name_is_ambiguous(search):
    with pytest.raises(AmbiguousTitleError) as info:
        search.resolve("마음의 소리")
    assert "several titles" in str(info.value)
    assert info.value.suggestions == [
        "마음의 소리 / The Sound of Your Heart (naver:heart1)",
        "마음의 소리 / Sound of Heart Remake (naver:heart2)",
    ]


def test_resolve_equally_good_fuzzy_matches_are_ambiguous(search):
    with pytest.raises(AmbiguousTitleError) as info:
        search.resolve("연애혁명")
    assert len(info.value.suggestions) == 2
    assert all("연애혁명" in s for s in info.value.suggestions)


def test_resolve_a_weak_match_is_unknown_but_suggests_the_closest(search):
    with pytest.raises(UnknownTitleError) as info:
        search.resolve("신의 탐")
    assert not isinstance(info.value, AmbiguousTitleError)
    assert "no title matches" in str(info.value)
    assert info.value.suggestions[0] == "신의 탑 / Tower of God (naver:183559)"
    assert len(info.value.suggestions) <= 5


def test_resolve_nonsense_is_unknown(search):
    with pytest.raises(UnknownTitleError, match="no title matches 'zzqqxxwv'") as info:
        search.resolve("zzqqxxwv")
    assert info.value.suggestions == []


def test_a_title_named_like_the_text_beats_titles_by_an_author_named_like_it():
    titles = [
        make_title("a:1", "신의 탑", authors=["SIU"]),
        make_title("a:2", "사이드킥", authors=["신의철"]),
        make_title("a:3", "스쿨홀릭", authors=["신의철"]),
    ]
    found = TitleSearch(titles).search("신의")
    assert found[0].title_id == "a:1"
    assert {m.title_id for m in found} == {"a:1", "a:2", "a:3"}  # authors still match, just lower


# ---- input in any form ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        unicodedata.normalize("NFD", "신의 탑"),  # decomposed Hangul (macOS, some IMEs): jamo, not syllables
        "신\u200b의 탑\u200d",  # zero-width space and joiner pasted along
        "\ufeff신의\u00a0탑",  # a BOM and a no-break space
        "신의 탑\x07",  # a control character
    ],
)
def test_hangul_in_other_forms_finds_the_title(search, typed):
    assert first(search, typed) == "naver:183559"
    assert search.resolve(typed).id == "naver:183559"


@pytest.mark.parametrize("typed", ["ＴＯＷＥＲ ＯＦ ＧＯＤ", "tower \u200bof god", "TOWER OF GOD"])
def test_full_width_and_any_case_latin_finds_the_english_title(search, typed):
    assert first(search, typed) == "naver:183559"


def test_names_in_other_forms_are_found_too():
    name = unicodedata.normalize("NFD", "유미의 세포들")
    decomposed = TitleSearch([make_title("x:1", name, "Ｙｕｍｉ'ｓ Ｃｅｌｌｓ")])
    assert first(decomposed, "유미의 세포들") == "x:1" and first(decomposed, "yumi's cells") == "x:1"


def test_a_huge_query_is_cut_before_matching(search):
    assert normalise("가" * 20_000) and len(cut_query("가" * 20_000)) == MAX_QUERY
    long = "Tower of God " * 2_000
    assert search.search(long) == search.search(long[:MAX_QUERY])  # only the start is matched
    assert search.search("\u200b" * 500) == []  # nothing but invisible characters: nothing typed
