"""Parsing Naver's responses: built-in payloads in the real shapes, and the shared samples when present."""

import copy

import pytest

from catalog.scrape import naver
from catalog.scrape.errors import BadResponseError
from tests.catalog.scrape import replay_server as rs

CANONICAL = {
    "romance",
    "fantasy",
    "action",
    "slice_of_life",
    "comedy",
    "thriller",
    "historical",
    "martial_arts",
    "drama",
    "sensibility",
    "sports",
    "school",
    "horror",
    "mystery",
    "romance_fantasy",
    "bl",
    "gl",
}
needs_samples = pytest.mark.skipif(not rs.samples_available(), reason="../shared/data/naver-api samples not present")


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("PURE", "romance"),
        ("FANTASY", "fantasy"),
        ("ACTION", "action"),
        ("DAILY", "slice_of_life"),
        ("COMIC", "comedy"),
        ("COMEDY", "comedy"),
        ("THRILL", "thriller"),
        ("THRILLER", "thriller"),
        ("HISTORICAL", "historical"),
        ("DRAMA", "drama"),
        ("SENSIBILITY", "sensibility"),
        ("SPORTS", "sports"),
        ("pure", "romance"),
        ("BL", "bl"),
    ],
)
def test_genre_codes_map_to_canonical_names(code, name):
    assert naver.genre_name(code) == name


def test_the_ten_naver_codes_all_land_on_canonical_names():
    codes = ["PURE", "FANTASY", "ACTION", "DAILY", "COMIC", "THRILL", "HISTORICAL", "DRAMA", "SENSIBILITY", "SPORTS"]
    assert {naver.genre_name(c) for c in codes} <= CANONICAL
    assert len({naver.genre_name(c) for c in codes}) == 10


def test_split_authors():
    assert naver.split_authors("이동화 / 이금성, 이승우") == ["이동화", "이금성", "이승우"]
    assert naver.split_authors("SIU / SIU") == ["SIU"]
    assert naver.split_authors("") == []


def test_detail_with_curation_genres_and_custom_tags():
    payload = rs.detail(
        7, "제목", writers=["A"], painters=["B", "A"], origin=["C"], genres=("ACTION", "COMIC"), tags=("배틀", "먼치킨")
    )
    d = naver.parse_detail(payload, 7)
    assert d.title == "제목"
    assert d.authors == ("A", "B", "C")
    assert d.genres_raw == ("ACTION", "COMIC") and d.genres == ("action", "comedy")
    assert d.tags == ("배틀", "먼치킨")
    assert d.adult is False and d.age_rating == "RATE_ALL"
    assert d.thumbnail_url == rs.thumb_url(7)


def test_detail_with_gfp_genres_only_and_adult_flag():
    payload = rs.detail(8, "제목", writers=["A"], genres=("PURE",), style="gfp", age="RATE_18")
    d = naver.parse_detail(payload, 8)
    assert d.genres == ("romance",) and d.genres_raw == ("PURE",)
    assert d.adult is True and d.age_rating == "RATE_18"


def test_detail_genres_from_both_places_are_merged_once():
    payload = rs.detail(9, "제목", writers=["A"], genres=("FANTASY", "PURE"), style="both")
    assert naver.parse_detail(payload, 9).genres == ("fantasy", "romance")


def test_detail_authors_from_community_artists_or_the_list_entry():
    payload = rs.detail(10, "제목", writers=["W"], painters=["P"], community=True)
    assert naver.parse_detail(payload, 10).authors == ("W", "P")
    bare = rs.detail(11, "제목")
    item = naver.parse_list_item(rs.list_item(11, "제목", "X / Y, Z", adult=True))
    d = naver.parse_detail(bare, 11, item)
    assert d.authors == ("X", "Y", "Z")
    assert d.adult is True, "the list's adult flag counts even when the detail says RATE_ALL"


def test_detail_without_genres_has_empty_genres():
    assert naver.parse_detail(rs.detail(12, "제목", genres=()), 12).genres == ()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.update(titleId="12"),
        lambda p: p.update(titleId=13),
        lambda p: p.pop("titleId"),
        lambda p: p.update(titleName=None),
        lambda p: p.update(titleName=["x"]),
        lambda p: p.update(author="A / B"),
        lambda p: p.update(curationTagList="GENRE_PURE"),
        lambda p: p.update(curationTagList=["GENRE_PURE"]),
        lambda p: p["author"].update(writers={"name": "A"}),
        lambda p: p["author"].update(writers=["A"]),
    ],
)
def test_bad_detail_shapes_raise_bad_response(mutate):
    payload = rs.detail(12, "제목", writers=["A"])
    mutate(payload)
    with pytest.raises(BadResponseError):
        naver.parse_detail(payload, 12)


@pytest.mark.parametrize("payload", [None, [], "<html>", 12])
def test_non_object_detail_raises_bad_response(payload):
    with pytest.raises(BadResponseError, match="title 5 detail"):
        naver.parse_detail(payload, 5)


def test_weekday_map_keeps_week_order_and_skips_bad_entries():
    ds = rs.synthetic_dataset()
    weekday = copy.deepcopy(ds.weekday)
    weekday = {"SUNDAY": weekday["SUNDAY"], "MONDAY": weekday["MONDAY"] + [{"titleId": "x"}, 5]}
    days, errors = naver.parse_weekday_map({"titleListMap": weekday})
    assert list(days) == ["MONDAY", "SUNDAY"]
    assert [it.title_id for it in days["MONDAY"]] == [101, 102, 103]
    assert len(errors) == 2


def test_list_item_fields():
    item = naver.parse_list_item(rs.list_item(101, "탑", "SIU", finish=True, star=9.84))
    assert (item.title_id, item.title, item.author, item.finished, item.star_score) == (101, "탑", "SIU", True, 9.84)
    assert item.adult is False


@pytest.mark.parametrize("payload", [{"titleListMap": []}, {}, [], {"titleListMap": None}])
def test_bad_weekday_map_raises(payload):
    with pytest.raises(BadResponseError):
        naver.parse_weekday_map(payload)


@pytest.mark.parametrize("payload", [{"titleList": {}}, {}, "x"])
def test_bad_title_list_raises(payload):
    with pytest.raises(BadResponseError):
        naver.parse_title_list(payload, "finished page 1")


def test_interleaved_ranks_dedupe_across_days():
    def items(*ids):
        return [naver.ListItem(i, str(i)) for i in ids]

    ranked = naver.interleave_ranks([items(1, 2, 3), items(4, 2), items(), items(5, 1)])
    assert [it.title_id for it in ranked] == [1, 4, 5, 2, 3]
    assert [it.title_id for it in naver.interleave_ranks([items(3, 1, 2)])] == [3, 1, 2]


def test_total_pages():
    assert naver.total_pages({"pageInfo": {"totalPages": 3}}) == 3
    assert naver.total_pages({"pageInfo": {"totalPages": "3"}}) is None
    assert naver.total_pages({}) is None


def test_episode_page():
    payload = {"articleList": rs.episodes(5, 3), "pageInfo": rs.page_info(1, 3, 20)}
    eps, pages = naver.parse_episode_page(payload, 5)
    assert [e.no for e in eps] == [1, 2, 3] and pages == 1
    assert eps[0].thumbnail_url.endswith("/webtoon/5/1/thumbnail_202x120_0001.jpg")
    with pytest.raises(BadResponseError):
        naver.parse_episode_page({"articleList": [{"no": "1"}]}, 5)
    with pytest.raises(BadResponseError):
        naver.parse_episode_page({"message": "login"}, 5)


# ------------------------------------------------------------------ the shared samples


@needs_samples
def test_real_detail_sample_805671():
    d = naver.parse_detail(rs.load_sample("article-list-info.titleId-805671.REAL.json"), 805671)
    assert d.title == "공작저의 붉은 밤"
    assert d.authors == ("H.C", "타샤토토", "유세라")
    assert d.genres_raw == ("PURE",) and d.genres == ("romance",)
    assert d.age_rating == "RATE_15" and d.adult is False
    assert d.finished is False
    assert "뱀파이어" in d.tags and "소설원작" not in d.tags
    assert d.thumbnail_url.startswith("https://image-comic.pstatic.net/webtoon/805671/thumbnail/")


@needs_samples
def test_reconstructed_current_shape_parses_the_same():
    real = naver.parse_detail(rs.load_sample("article-list-info.titleId-805671.REAL.json"), 805671)
    current = naver.parse_detail(
        rs.load_sample("reconstructed-article-list-info.titleId-805671.current-shape.json"), 805671
    )
    assert current == real


@needs_samples
def test_list_samples_parse():
    days, errors = naver.parse_weekday_map(rs.load_sample("reconstructed-titlelist-weekday.order-user.all-days.json"))
    assert errors == []
    ranked = naver.interleave_ranks(list(days.values()))
    ids = [it.title_id for it in ranked]
    assert len(ids) == len(set(ids)) == 5
    assert ids[:2] == [758037, 805671]
    mon, _ = naver.parse_title_list(rs.load_sample("reconstructed-titlelist-weekday.week-mon.order-user.json"), "mon")
    assert [it.title_id for it in mon] == [it.title_id for it in days["MONDAY"]]
    finished = rs.load_sample("reconstructed-titlelist-finished.page-1.order-UPDATE.json")
    items, _ = naver.parse_title_list(finished, "finished page 1")
    assert [it.finished for it in items] == [True, True] and naver.total_pages(finished) == 1
    assert naver.split_authors(items[1].author) == ["이동화", "이금성", "이승우"]


@needs_samples
def test_episode_samples_parse():
    eps, pages = naver.parse_episode_page(
        rs.load_sample("reconstructed-article-list.titleId-805671.page-1.json"), 805671
    )
    assert sorted(e.no for e in eps) == [1, 2, 3, 4, 5] and pages == 1
    trimmed, pages = naver.parse_episode_page(rs.load_sample("article-list.titleId-183559.TRIMMED-REAL.json"), 183559)
    assert [e.no for e in trimmed] == [654, 653] and pages is None
    assert all(e.thumbnail_url is None for e in trimmed)
