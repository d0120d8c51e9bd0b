"""Naver Webtoon's public JSON API: endpoints, and parsing of its responses into plain records.

Parsers are strict about what they need (ids, names, types) and raise :class:`BadResponseError` with a precise
message for anything else; optional fields of the wrong type are ignored. Shapes are documented in
``../shared/data/naver-api/README.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from catalog.format import page_url_of
from catalog.scrape.errors import BadResponseError

SOURCE = "naver"
DEFAULT_API_BASE = "https://comic.naver.com"
WEEKDAY_PATH = "/api/webtoon/titlelist/weekday"
FINISHED_PATH = "/api/webtoon/titlelist/finished"
DETAIL_PATH = "/api/article/list/info"
EPISODES_PATH = "/api/article/list"

#: ``--weekday`` values → keys of ``titleListMap``.
WEEKDAYS = {
    "mon": "MONDAY",
    "tue": "TUESDAY",
    "wed": "WEDNESDAY",
    "thu": "THURSDAY",
    "fri": "FRIDAY",
    "sat": "SATURDAY",
    "sun": "SUNDAY",
    "dailyPlus": "DAILY_PLUS",
}
DAY_ORDER = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY", "DAILY_PLUS")

#: Naver genre codes → canonical genre names of the catalogue format (``../shared/data/README.md``).
GENRE_NAMES = {
    "PURE": "romance",
    "FANTASY": "fantasy",
    "ACTION": "action",
    "DAILY": "slice_of_life",
    "COMIC": "comedy",
    "COMEDY": "comedy",
    "THRILL": "thriller",
    "THRILLER": "thriller",
    "HISTORICAL": "historical",
    "DRAMA": "drama",
    "SENSIBILITY": "sensibility",
    "SPORTS": "sports",
    "SPORT": "sports",
}


def genre_name(code: str) -> str:
    """Canonical name of a Naver genre code; unknown codes are lower-cased (``"GL"`` → ``"gl"``)."""
    code = code.strip().upper()
    return GENRE_NAMES.get(code, code.lower())


def title_url(title_id: int) -> str:
    url = page_url_of(catalog_id(title_id))
    assert url is not None
    return url


def catalog_id(title_id: int) -> str:
    return f"{SOURCE}:{title_id}"


def split_authors(text: str) -> list[str]:
    """``"이동화 / 이금성, 이승우"`` → ``["이동화", "이금성", "이승우"]`` (each once, order kept)."""
    return _unique(part.strip() for part in re.split(r"[/,]", text or ""))


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        if v and v not in seen:
            seen[v] = None
    return list(seen)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _opt_str(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _expect_dict(payload: Any, what: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise BadResponseError(f"{what}: expected a JSON object, got {type(payload).__name__}")
    return payload


def _opt_list(obj: dict[str, Any], key: str, what: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadResponseError(f"{what}: '{key}' must be a list, got {type(value).__name__}")
    return value


# --------------------------------------------------------------------------------------------------- title lists


@dataclass(frozen=True)
class ListItem:
    """One entry of a title list (weekday or finished)."""

    title_id: int
    title: str
    author: str = ""
    thumbnail_url: str | None = None
    adult: bool | None = None
    finished: bool | None = None
    star_score: float | None = None


def parse_list_item(obj: Any) -> ListItem:
    obj = _expect_dict(obj, "list entry")
    tid = obj.get("titleId")
    if not _is_int(tid) or tid <= 0:
        raise BadResponseError(f"list entry: 'titleId' must be a positive integer, got {tid!r}")
    name = _opt_str(obj.get("titleName"))
    if name is None:
        raise BadResponseError(f"list entry {tid}: 'titleName' missing or not a string")
    star = obj.get("starScore")
    return ListItem(
        title_id=tid,
        title=name,
        author=obj["author"] if isinstance(obj.get("author"), str) else "",
        thumbnail_url=_opt_str(obj.get("thumbnailUrl")),
        adult=_opt_bool(obj.get("adult")),
        finished=_opt_bool(obj.get("finish", obj.get("finished"))),
        star_score=round(float(star), 4) if isinstance(star, int | float) and not isinstance(star, bool) else None,
    )


def parse_items(entries: list[Any], what: str) -> tuple[list[ListItem], list[str]]:
    """Parse list entries; bad ones are left out and described in the second element."""
    items, errors = [], []
    for index, entry in enumerate(entries):
        try:
            items.append(parse_list_item(entry))
        except BadResponseError as exc:
            errors.append(f"{what} #{index + 1}: {exc}")
    return items, errors


def parse_weekday_map(payload: Any) -> tuple[dict[str, list[ListItem]], list[str]]:
    """``{"titleListMap": {"MONDAY": [...], ...}}`` → lists per day, days in week order (unknown keys after)."""
    payload = _expect_dict(payload, "weekday list")
    days = payload.get("titleListMap")
    if not isinstance(days, dict):
        raise BadResponseError("weekday list: 'titleListMap' missing or not an object")
    order = [d for d in DAY_ORDER if d in days] + sorted(d for d in days if d not in DAY_ORDER)
    result, errors = {}, []
    for day in order:
        entries = days[day]
        if entries is None:
            continue
        if not isinstance(entries, list):
            errors.append(f"weekday list {day}: expected a list, got {type(entries).__name__}")
            continue
        result[day], errs = parse_items(entries, f"weekday list {day}")
        errors += errs
    return result, errors


def parse_title_list(payload: Any, what: str) -> tuple[list[ListItem], list[str]]:
    """``{"titleList": [...]}`` (one weekday, dailyPlus, or a finished page)."""
    payload = _expect_dict(payload, what)
    entries = payload.get("titleList")
    if not isinstance(entries, list):
        raise BadResponseError(f"{what}: 'titleList' missing or not a list")
    return parse_items(entries, what)


def total_pages(payload: Any) -> int | None:
    info = payload.get("pageInfo") if isinstance(payload, dict) else None
    value = info.get("totalPages") if isinstance(info, dict) else None
    return value if _is_int(value) and value >= 0 else None


def interleave_ranks(day_lists: list[list[ListItem]]) -> list[ListItem]:
    """Merge popularity-ordered day lists into one ranking: every day's #1, then every day's #2, … (first seen wins).

    With one list this is simply its order, so ``popularity_rank`` is the position in the ``order=user`` list.
    """
    merged: dict[int, ListItem] = {}
    for pos in range(max((len(lst) for lst in day_lists), default=0)):
        for lst in day_lists:
            if pos < len(lst) and lst[pos].title_id not in merged:
                merged[lst[pos].title_id] = lst[pos]
    return list(merged.values())


# --------------------------------------------------------------------------------------------------- title detail


@dataclass(frozen=True)
class TitleDetail:
    title_id: int
    title: str
    authors: tuple[str, ...]
    genres_raw: tuple[str, ...]
    adult: bool | None
    age_rating: str | None
    thumbnail_url: str | None
    finished: bool | None
    synopsis: str | None
    tags: tuple[str, ...]

    @property
    def genres(self) -> tuple[str, ...]:
        return tuple(_unique(genre_name(code) for code in self.genres_raw))


def _names(entries: list[Any], what: str) -> list[str]:
    names = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise BadResponseError(f"{what}: expected objects, got {type(entry).__name__}")
        name = _opt_str(entry.get("name"))
        if name:
            names.append(name)
    return names


def _authors(payload: dict[str, Any], item: ListItem | None, what: str) -> list[str]:
    author = payload.get("author")
    names: list[str] = []
    if author is not None:
        if not isinstance(author, dict):
            raise BadResponseError(f"{what}: 'author' must be an object, got {type(author).__name__}")
        for key in ("writers", "painters", "originAuthors"):
            names += _names(_opt_list(author, key, f"{what} author"), f"{what} author.{key}")
    if not names:
        names = _names(_opt_list(payload, "communityArtists", what), f"{what} communityArtists")
    if not names and item is not None:
        names = split_authors(item.author)
    return _unique(names)


def _genres(payload: dict[str, Any], tags: list[Any], what: str) -> list[str]:
    codes: list[str] = []
    gfp = payload.get("gfpAdCustomParam")
    if isinstance(gfp, dict) and isinstance(gfp.get("genreTypes"), list):
        codes += [c.strip().upper() for c in gfp["genreTypes"] if isinstance(c, str) and c.strip()]
    for tag in tags:
        kind = tag.get("curationType")
        if isinstance(kind, str) and kind.startswith("GENRE_") and len(kind) > len("GENRE_"):
            codes.append(kind[len("GENRE_") :].upper())
    return _unique(codes)


def parse_detail(payload: Any, title_id: int, item: ListItem | None = None) -> TitleDetail:
    """Parse ``/api/article/list/info?titleId=N``. ``item`` (the list entry) fills gaps: authors, thumbnail, adult."""
    what = f"title {title_id} detail"
    payload = _expect_dict(payload, what)
    tid = payload.get("titleId")
    if not _is_int(tid):
        raise BadResponseError(f"{what}: 'titleId' missing or not an integer ({tid!r})")
    if tid != title_id:
        raise BadResponseError(f"{what}: answer is for titleId {tid}")
    name = _opt_str(payload.get("titleName"))
    if name is None:
        raise BadResponseError(f"{what}: 'titleName' missing or not a string")
    tags = _opt_list(payload, "curationTagList", what)
    if not all(isinstance(t, dict) for t in tags):
        raise BadResponseError(f"{what}: 'curationTagList' must hold objects")
    age = payload.get("age")
    age_rating = _opt_str(age.get("type")) if isinstance(age, dict) else None
    gfp = payload.get("gfpAdCustomParam")
    adult_yn = gfp.get("adultYn") if isinstance(gfp, dict) else None
    signals = [
        age_rating == "RATE_18" if age_rating else None,
        item.adult if item else None,
        adult_yn == "Y" if adult_yn in ("Y", "N") else None,
        _opt_bool(payload.get("adult")),
    ]
    known = [s for s in signals if s is not None]
    custom = [t.get("tagName") for t in tags if t.get("curationType") == "CUSTOM_TAG"]
    if not custom and isinstance(gfp, dict) and isinstance(gfp.get("tags"), list):
        custom = gfp["tags"]
    return TitleDetail(
        title_id=tid,
        title=name,
        authors=tuple(_authors(payload, item, what)),
        genres_raw=tuple(_genres(payload, tags, what)),
        adult=any(known) if known else None,
        age_rating=age_rating,
        thumbnail_url=_opt_str(payload.get("thumbnailUrl")) or (item.thumbnail_url if item else None),
        finished=_opt_bool(payload.get("finished")) if "finished" in payload else (item.finished if item else None),
        synopsis=_opt_str(payload.get("synopsis")),
        tags=tuple(_unique(t.strip() for t in custom if isinstance(t, str))),
    )


# --------------------------------------------------------------------------------------------------- episodes


@dataclass(frozen=True)
class Episode:
    no: int
    thumbnail_url: str | None
    subtitle: str | None = None


def parse_episode_page(payload: Any, title_id: int) -> tuple[list[Episode], int | None]:
    """Parse one page of ``/api/article/list``: its episodes and ``pageInfo.totalPages`` (None if absent)."""
    what = f"title {title_id} episode list"
    payload = _expect_dict(payload, what)
    entries = payload.get("articleList")
    if not isinstance(entries, list):
        raise BadResponseError(f"{what}: 'articleList' missing or not a list")
    episodes = []
    for entry in entries:
        if not isinstance(entry, dict) or not _is_int(entry.get("no")):
            raise BadResponseError(f"{what}: entries must be objects with an integer 'no'")
        episodes.append(Episode(entry["no"], _opt_str(entry.get("thumbnailUrl")), _opt_str(entry.get("subtitle"))))
    return episodes, total_pages(payload)
