"""Embeds stay within Discord's limits and say what matters (numbering, %, reasons, low confidence, demo)."""

from __future__ import annotations

from pathlib import Path

from bot import embeds
from catalog.format import Title
from ml.serve.results import Answer, GenreGuess, Result


def _title(i: int, *, name: str | None = None, url: str | None = "https://comic.naver.com/webtoon/list?titleId=1"):
    return Title(
        id=f"naver:{i}",
        title=name or f"제목 {i}",
        authors=("작가",),
        genres=("romance",),
        images=(Path("/x.png"),),
        title_en=f"Title number {i}",
        url=url,
    )


def _answer(n=24, *, name=None, low=False, reason=None):
    results = [Result(_title(i, name=name), 0.9 - i / 100, 0.9, reason) for i in range(n)]
    return Answer([GenreGuess("romance", 0.62), GenreGuess("drama", 0.2)], results, low, message="no close match")


def _results(embed) -> str:
    [field] = embed.fields
    return field.value


def test_answer_shows_the_first_page_with_percentages_links_and_reasons():
    embed = embeds.answer(
        _answer(reason="because you liked 제목 9"), heading="h", synthetic=False, image_name="toonmatch.png", per_page=5
    )
    assert "**Romance** 62%" in embed.description
    text = _results(embed)
    assert [line[:4] for line in text.splitlines()] == [f"`{n:>2}`" for n in range(1, 6)]
    assert embed.fields[0].name == "Closest styles · 1–5 of 24"
    # An English reader: the English title first, the Korean one in brackets.
    assert "[Title number 0 (제목 0)](https://comic.naver.com" in text and "90%" in text
    assert "*because you liked 제목 9*" in text
    assert embed.image.url == "attachment://toonmatch.png"
    assert "[DEMO]" not in embed.footer.text


def test_a_later_page_replaces_only_the_results():
    embed = embeds.answer(_answer(), heading="h", synthetic=False, image_name=None, per_page=5)
    description = embed.description
    lines = embeds.lines_of(_answer().results)
    embeds.results_page(embed, lines, 4, per_page=5)
    assert embed.description == description and len(embed.fields) == 1
    assert embed.fields[0].name == "Closest styles · 21–24 of 24"
    assert "`24`" in _results(embed) and "`20`" not in _results(embed)
    gone = embeds.Line(3, "떠난 제목", 0.5)  # a title no longer in the catalogue: its name, no link
    embeds.results_page(embed, [gone], 0, per_page=5)
    assert embed.fields[0].name == "Closest style" and "**떠난 제목** · 50%" in _results(embed)


def test_answer_with_very_long_titles_still_fits():
    embed = embeds.answer(
        _answer(name="아주 긴 제목 " * 30, reason="because you liked " + "x" * 80),
        heading="h",
        synthetic=True,
        image_name=None,
        per_page=5,
    )
    assert len(embed.description) <= 4096 and len(_results(embed)) <= 1024 and len(embed) <= 6000
    assert "` 5`" in _results(embed) and "[DEMO]" in embed.footer.text


def test_low_confidence_is_said_plainly():
    embed = embeds.answer(_answer(low=True), heading="h", synthetic=False, image_name=None, per_page=5)
    assert "No close match" in embed.description and embed.colour == embeds.WARN


def test_markdown_in_titles_cannot_break_links():
    embed = embeds.answer(
        _answer(1, name="[evil](http://x) *bold*"), heading="h", synthetic=False, image_name=None, per_page=5
    )
    assert _results(embed).count("](") == 1  # only the real link
    assert "\\*bold\\*" in _results(embed)


def test_rating_feedback_for_each_state():
    assert "you like" in embeds.rating_feedback("A", 1, 1)
    assert "not for you" in embeds.rating_feedback("A", -1, -1)
    assert "Removed your 👍" in embeds.rating_feedback("A", 1, 0)


def test_recommend_answer_lists_the_catalogue_genres_and_what_the_cover_reads_as():
    ans = _answer()
    ans.source = Title(id="naver:7", title="원작", authors=("작가",), genres=("fantasy", "action"), images=())
    text = embeds.answer(ans, heading="h", synthetic=False, image_name=None, per_page=5).description
    assert "Genres of" in text and "**Fantasy** · **Action**" in text
    assert "Its cover reads as: **Romance** 62%" in text


def test_a_naver_title_without_url_links_to_its_page():
    answer = Answer([], [Result(_title(7, url=None), 0.9, 0.9)], False)
    embed = embeds.answer(answer, heading="h", synthetic=False, image_name=None, per_page=5)
    assert "(https://comic.naver.com/webtoon/list?titleId=7)" in _results(embed)
