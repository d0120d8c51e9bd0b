import json

import pytest
from PIL import Image

import catalog.scrape.naver as naver
from catalog.format import Title, load_catalog, page_url_of, write_catalog
from core.errors import CatalogError, EmptyCatalogError


def make(tmp_path, rows, images=("a.png",)):
    for name in images:
        Image.new("RGB", (20, 20), "red").save(tmp_path / name)
    (tmp_path / "catalog.jsonl").write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows))
    return tmp_path


def row(**kw):
    base = {
        "id": "x:1",
        "title": "제목",
        "title_en": None,
        "authors": ["A"],
        "genres": ["drama"],
        "adult": False,
        "source": "x",
        "images": ["a.png"],
    }
    return {**base, **kw}


def test_valid_catalogue_loads_with_absolute_image_paths(tmp_path):
    cat = load_catalog(make(tmp_path, [row(), row(id="x:2", genres=[])]))
    assert [t.id for t in cat.titles] == ["x:1", "x:2"]
    assert cat.titles[0].cover == (tmp_path / "a.png").resolve()
    assert cat.titles[0].primary_genre == "drama" and cat.titles[1].primary_genre is None


def test_missing_folder_and_file_are_clear_errors(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "nope")
    with pytest.raises(CatalogError, match="no catalog.jsonl"):
        load_catalog(tmp_path)


def test_bad_json_line_names_its_line_number(tmp_path):
    with pytest.raises(CatalogError, match=r"line 2: invalid JSON"):
        load_catalog(make(tmp_path, [row(), "{not json"]))


def test_missing_image_is_named(tmp_path):
    with pytest.raises(CatalogError, match=r"line 1 \(id x:1\): image not found: b.png"):
        load_catalog(make(tmp_path, [row(images=["b.png"])]))


def test_duplicate_id_names_both_lines(tmp_path):
    with pytest.raises(CatalogError, match=r"line 3: duplicate id 'x:1' \(first on line 1\)"):
        load_catalog(make(tmp_path, [row(), row(id="x:2"), row()]))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"authors": "A"}, "'authors' must be a list"),
        ({"adult": "no"}, "'adult' must be"),
        ({"popularity_rank": 0}, "popularity_rank"),
        ({"title": ""}, "'title' must be"),
    ],
)
def test_wrong_field_types_are_refused(tmp_path, bad, message):
    with pytest.raises(CatalogError, match=message):
        load_catalog(make(tmp_path, [row(**bad)]))


def test_missing_required_field(tmp_path):
    r = row()
    del r["genres"]
    with pytest.raises(CatalogError, match="missing field"):
        load_catalog(make(tmp_path, [r]))


def test_empty_catalogue_and_titles_without_images(tmp_path):
    with pytest.raises(EmptyCatalogError):
        load_catalog(make(tmp_path, [""]))
    with pytest.raises(EmptyCatalogError, match="with images"):
        load_catalog(make(tmp_path, [row(images=[])]), require_images=True)


def test_write_then_load_round_trip_keeps_optional_fields(tmp_path):
    make(tmp_path, [])
    write_catalog(tmp_path, [row(url="https://x", popularity_rank=3, tags=["t"], extra_field=1)])
    t = load_catalog(tmp_path).titles[0]
    assert (t.url, t.popularity_rank, t.tags, t.extra) == ("https://x", 3, ("t",), {"extra_field": 1})
    assert t.to_json(tmp_path)["images"] == ["a.png"]
    assert not list(tmp_path.glob("*.tmp"))


def test_shared_development_catalogue_is_valid(shared_webtoons):
    cat = load_catalog(shared_webtoons)
    assert len(cat) > 1000


def test_snapshot_line_keeps_required_fields_even_when_empty(tmp_path):
    make(tmp_path, [row(genres=[], authors=[])])
    line = load_catalog(tmp_path).titles[0].to_json(tmp_path)
    assert line["genres"] == [] and line["authors"] == [] and line["title_en"] is None
    write_catalog(tmp_path, [line])
    assert load_catalog(tmp_path).titles[0].genres == ()


@pytest.mark.parametrize(
    ("tid", "url", "page"),
    [
        ("naver:747269", None, "https://comic.naver.com/webtoon/list?titleId=747269"),
        ("naver:747269", "https://elsewhere.example/t", "https://elsewhere.example/t"),  # a given url wins
        ("daum:CatQueen", None, None),  # no known page scheme for the source
        ("naver:abc", None, None),  # not a Naver title id
        ("747269", None, None),
    ],
)
def test_page_url_follows_from_a_known_id_scheme(tid, url, page):
    title = Title(id=tid, title="t", authors=(), genres=(), images=(), url=url)
    assert title.page_url == page
    assert title.url == url  # the catalogue's own field is unchanged (and so is what to_json writes)


def test_the_scraper_url_is_the_derived_page():
    assert naver.title_url(747269) == page_url_of("naver:747269")
