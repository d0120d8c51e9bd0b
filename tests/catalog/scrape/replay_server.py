"""A local replay of Naver Webtoon's JSON API for the scraper's tests (127.0.0.1 only, never the real site).

It serves payloads in the real response shapes (``../shared/data/naver-api/README.md``): built in code by
:func:`synthetic_dataset` (always available) or from the shared samples by :func:`sample_dataset` (when
``../shared/data/naver-api`` exists). Image hosts in payloads (``image-comic.pstatic.net``…) are rewritten to this
server, which generates a small JPEG per image path with Pillow. :class:`Fault` rules inject 429s with Retry-After,
5xx, timeouts, truncated or cut image bodies and HTML instead of JSON; every request is logged.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from PIL import Image

SAMPLES_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "naver-api"
IMAGE_HOSTS = {"https://image-comic.pstatic.net/": "ic/", "https://shared-comic.pstatic.net/": "sc/"}
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
WEEK_PARAM = {
    "mon": "MONDAY",
    "tue": "TUESDAY",
    "wed": "WEDNESDAY",
    "thu": "THURSDAY",
    "fri": "FRIDAY",
    "sat": "SATURDAY",
    "sun": "SUNDAY",
}
HTML_BODY = "<!DOCTYPE html><html><head><title>네이버 웹툰</title></head><body>서비스 점검 중입니다</body></html>"


def samples_available() -> bool:
    return SAMPLES_DIR.is_dir() and any(SAMPLES_DIR.glob("*.json"))


def load_sample(name: str) -> Any:
    """A shared sample body, without the ``_reconstructed_note`` key."""
    payload = json.loads((SAMPLES_DIR / name).read_text(encoding="utf-8"))
    if isinstance(payload, dict):
        payload.pop("_reconstructed_note", None)
    return payload


# --------------------------------------------------------------------------------------------------- payload builders


def thumb_url(title_id: int, tag: str = "IMAG21") -> str:
    uid = hashlib.md5(f"{title_id}-{tag}".encode()).hexdigest()
    uuid = f"{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:32]}"
    return f"https://image-comic.pstatic.net/webtoon/{title_id}/thumbnail/thumbnail_{tag}_{uuid}.jpg"


def list_item(
    title_id: int, name: str, author: str, *, adult: bool = False, finish: bool = False, star: float = 9.5
) -> dict[str, Any]:
    """An ``Item`` of the list endpoints, with the keys of the reconstructed samples."""
    return {
        "titleId": title_id,
        "titleName": name,
        "author": author,
        "thumbnailUrl": thumb_url(title_id, "IMAG19"),
        "up": False,
        "rest": False,
        "bm": False,
        "adult": adult,
        "starScore": star,
        "viewCount": 0,
        "openToday": False,
        "potenUp": False,
        "bestChallengeLevelUp": False,
        "finish": finish,
        "new": False,
    }


GENRE_LABELS = {
    "PURE": "로맨스",
    "FANTASY": "판타지",
    "ACTION": "액션",
    "DAILY": "일상",
    "COMIC": "개그",
    "THRILL": "스릴러",
    "HISTORICAL": "무협/사극",
    "DRAMA": "드라마",
    "SENSIBILITY": "감성",
    "SPORTS": "스포츠",
}


def detail(
    title_id: int,
    name: str,
    *,
    writers=(),
    painters=(),
    origin=(),
    genres=("DRAMA",),
    age: str = "RATE_ALL",
    style: str = "curation",
    tags=("성장물",),
    finished: bool = False,
    community: bool = False,
    synopsis: str = "줄거리",
) -> dict[str, Any]:
    """A title detail in the real shape of ``article-list-info.titleId-805671.REAL.json``.

    ``style``: where genres are: ``curation`` (``curationTagList`` ``GENRE_*``), ``gfp``
    (``gfpAdCustomParam.genreTypes`` only) or ``both``. ``community``: authors only in ``communityArtists``.
    """
    person = iter(range(1000 * title_id, 1000 * title_id + 100))
    curation = []
    if style in ("curation", "both"):
        curation += [
            {
                "id": title_id,
                "tagName": GENRE_LABELS.get(g, g),
                "urlPath": f"/webtoon?tab=genre&genre={g}",
                "curationType": f"GENRE_{g}",
            }
            for g in genres
        ]
    curation += [
        {
            "id": 40 + i,
            "tagName": t,
            "urlPath": f"/curation/list?type=CUSTOM_TAG&id={40 + i}",
            "curationType": "CUSTOM_TAG",
        }
        for i, t in enumerate(tags)
    ]
    payload: dict[str, Any] = {
        "titleId": title_id,
        "thumbnailUrl": thumb_url(title_id),
        "sharedThumbnailUrl": thumb_url(title_id, "IMAG19").replace("image-comic", "shared-comic"),
        "titleName": name,
        "webtoonLevelCode": "WEBTOON",
        "author": {
            "writers": [{"id": next(person), "name": n} for n in writers],
            "painters": [{"id": next(person), "name": n} for n in painters],
            "originAuthors": [{"id": next(person), "name": n} for n in origin],
        },
        "thumbnailBadgeList": [],
        "age": {"type": age, "description": {"RATE_18": "18세 이용가"}.get(age, "전체연령가")},
        "publishDescription": "월요웹툰",
        "synopsis": synopsis,
        "favoriteCount": 100,
        "favorite": False,
        "publishDayOfWeekList": ["MONDAY"],
        "rest": False,
        "finished": finished,
        "dailyPass": False,
        "curationTagList": curation,
        "adBannerList": [],
        "chargeBestChallenge": False,
        "contentsNo": 1,
        "new": False,
    }
    if community:
        del payload["author"]
        kinds = [("ARTIST_WRITER", writers), ("ARTIST_PAINTER", painters), ("ARTIST_NOVEL_ORIGIN", origin)]
        payload["communityArtists"] = [
            {"artistId": next(person), "name": n, "artistTypeList": [k]} for k, names in kinds for n in names
        ]
    if style in ("gfp", "both"):
        payload["gfpAdCustomParam"] = {
            "titleId": title_id,
            "titleName": name,
            "adultYn": "Y" if age == "RATE_18" else "N",
            "finishedYn": "Y" if finished else "N",
            "genreTypes": list(genres),
            "rankGenreTypes": list(genres[:1]),
            "tags": list(tags),
        }
    return payload


def episodes(title_id: int, count: int) -> list[dict[str, Any]]:
    """Article entries (ascending by ``no``) in the shape of the reconstructed ``article-list`` sample."""
    return [
        {
            "no": no,
            "subtitle": f"{no}화",
            "starScore": 9.9,
            "bgm": False,
            "up": False,
            "charge": False,
            "serviceDateDescription": "24.01.02",
            "volumeNo": no,
            "hasReadLog": False,
            "recentlyReadLog": False,
            "thumbnailClock": False,
            "thumbnailLock": False,
            "thumbnailUrl": f"https://image-comic.pstatic.net/webtoon/{title_id}/{no}/thumbnail_202x120_{no:04d}.jpg",
        }
        for no in range(1, count + 1)
    ]


def page_info(page: int, total_rows: int, size: int) -> dict[str, int]:
    pages = max(1, math.ceil(total_rows / size))
    return {
        "totalRows": total_rows,
        "pageSize": size,
        "indexSize": 10,
        "page": page,
        "endRowNum": min(page * size, total_rows),
        "rawPage": page,
        "lastPage": pages,
        "totalPages": pages,
        "startRowNum": (page - 1) * size + 1,
        "firstPage": 1,
        "prevPage": max(0, page - 1),
        "nextPage": page + 1 if page < pages else 0,
    }


# --------------------------------------------------------------------------------------------------- datasets


@dataclass
class Dataset:
    weekday: dict[str, list[dict[str, Any]]]
    daily_plus: list[dict[str, Any]] = field(default_factory=list)
    finished: list[dict[str, Any]] = field(default_factory=list)
    finished_page_size: int = 60
    details: dict[int, Any] = field(default_factory=dict)  # a dict payload, or a str body served verbatim
    episodes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    episode_page_size: int = 20

    def all_items(self) -> list[dict[str, Any]]:
        return [it for day in self.weekday.values() for it in day] + self.daily_plus + self.finished

    def adult_ids(self) -> set[int]:
        ids = {it["titleId"] for it in self.all_items() if isinstance(it, dict) and it.get("adult")}
        ids |= {
            tid for tid, d in self.details.items() if isinstance(d, dict) and d.get("age", {}).get("type") == "RATE_18"
        }
        return ids


#: What :func:`synthetic_dataset` holds, for assertions.
SYNTHETIC = {
    "weekday_ids": [101, 102, 103, 104, 105, 106, 107, 108, 109, 110],
    "finished_ids": [201, 202, 203, 204, 205],
    "not_found": 107,
    "malformed": 108,
    "adult": 105,
    "one_episode": 201,
    # interleaved popularity: every day's #1 (Mon…Sun, then dailyPlus), then every day's #2…
    "ranks": {101: 1, 104: 2, 105: 3, 106: 4, 107: 5, 108: 6, 109: 7, 110: 8, 102: 9, 103: 10},
    "duplicates": 3,  # 101 (Sun), 102 (Tue), 103 (also finished)
}


def synthetic_dataset() -> Dataset:
    """Fifteen titles in the real shapes: duplicates across weekdays and lists, an adult title, a 404, a malformed
    detail, every genre code (and the COMEDY/THRILLER spellings), all three places genres and authors can be."""
    mon = [
        list_item(101, "탑의 신", "SIU", star=9.84),
        list_item(102, "붉은 밤", "H.C / 타샤토토 / 유세라"),
        list_item(103, "참교육", "채용택 / 한가람"),
    ]
    tue = [list_item(104, "일상툰", "작가D"), copy.deepcopy(mon[1])]
    wed = [list_item(105, "(adult title)", "작가A / 작가B", adult=True)]
    thu = [list_item(106, "사극 스포츠", "작가E, 작가F")]
    fri = [list_item(107, "(removed title)", "작가G")]
    sat = [list_item(108, "(malformed detail)", "작가H")]
    sun = [list_item(109, "감성 드라마", "작가I"), copy.deepcopy(mon[0])]
    finished = [list_item(tid, f"완결 {tid}", f"작가{tid}", finish=True) for tid in (201, 202)]
    finished += [list_item(103, "참교육", "채용택 / 한가람", finish=True)]
    finished += [list_item(tid, f"완결 {tid}", f"작가{tid}", finish=True) for tid in (203, 204, 205)]
    details = {
        101: detail(101, "탑의 신", writers=["SIU"], painters=["SIU"], genres=("FANTASY",), tags=("명작", "배틀")),
        102: detail(
            102,
            "붉은 밤",
            writers=["H.C"],
            painters=["타샤토토"],
            origin=["유세라"],
            genres=("PURE",),
            style="gfp",
            age="RATE_15",
            tags=("로판",),
        ),
        103: detail(103, "참교육", writers=["채용택"], painters=["한가람"], genres=("ACTION", "COMIC"), style="both"),
        104: detail(104, "일상툰", writers=["작가D"], genres=("DAILY",)),
        105: detail(105, "(adult title)", writers=["작가A"], painters=["작가B"], genres=("THRILL",), age="RATE_18"),
        106: detail(
            106, "사극 스포츠", writers=["작가E"], painters=["작가F"], genres=("HISTORICAL", "SPORTS"), community=True
        ),
        108: {"titleId": "108", "titleName": None, "author": "작가H"},
        109: detail(109, "감성 드라마", writers=["작가I"], genres=("SENSIBILITY", "DRAMA")),
        110: detail(110, "매일 개그", writers=["작가J"], genres=("COMEDY",), style="gfp"),
        201: detail(201, "완결 201", writers=["작가201"], genres=("DRAMA",), finished=True),
        202: detail(202, "완결 202", writers=["작가202"], genres=("THRILLER",), finished=True, style="gfp"),
        203: detail(203, "완결 203", writers=["작가203"], genres=("BL",), finished=True),
        204: detail(204, "완결 204", writers=["작가204"], painters=["작가204b"], genres=(), finished=True, tags=()),
        205: detail(205, "완결 205", writers=["작가205"], genres=("FANTASY", "PURE"), finished=True, style="both"),
    }
    eps = {tid: episodes(tid, 3) for tid in details if tid not in (105, 108)}
    eps[201] = episodes(201, 1)
    return Dataset(
        weekday={
            "MONDAY": mon,
            "TUESDAY": tue,
            "WEDNESDAY": wed,
            "THURSDAY": thu,
            "FRIDAY": fri,
            "SATURDAY": sat,
            "SUNDAY": sun,
        },
        daily_plus=[list_item(110, "매일 개그", "작가J")],
        finished=finished,
        finished_page_size=2,
        details=details,
        episodes=eps,
        episode_page_size=2,
    )


def big_dataset(n: int = 40) -> Dataset:
    """``n`` plain titles spread over the week (no faults of its own): for kill/resume runs that need some length."""
    items = [list_item(1000 + i, f"제목 {i}", f"작가{i} / 그림{i}") for i in range(n)]
    weekday = {day: items[i::7] for i, day in enumerate(DAYS)}
    details = {
        1000 + i: detail(
            1000 + i, f"제목 {i}", writers=[f"작가{i}"], painters=[f"그림{i}"], genres=(list(GENRE_LABELS)[i % 10],)
        )
        for i in range(n)
    }
    return Dataset(
        weekday=weekday, details=details, episodes={tid: episodes(tid, 2) for tid in details}, episode_page_size=2
    )


def sample_dataset() -> Dataset:
    """The shared samples as served by Naver: weekday map, dailyPlus, finished page; real detail of 805671 (current
    shape) and its episode list; 183559's genres and tags from the real curation sample. Details of the other listed
    titles are built from their list entries in the same shape."""
    weekday = load_sample("reconstructed-titlelist-weekday.order-user.all-days.json")["titleListMap"]
    daily = load_sample("reconstructed-titlelist-weekday.week-dailyPlus.json")["titleList"]
    finished = load_sample("reconstructed-titlelist-finished.page-1.order-UPDATE.json")["titleList"]
    details: dict[int, Any] = {}
    curated = load_sample("curation-list.type-ARTIST.id-155779.REAL.json")["curationViewList"][0]
    for it in [it for day in weekday.values() for it in day] + daily + finished:
        tid = it["titleId"]
        if tid in details:
            continue
        names = [p.strip() for p in re.split(r"[/,]", it["author"]) if p.strip()]
        details[tid] = detail(
            tid,
            it["titleName"],
            writers=names[:1],
            painters=names[1:],
            age="RATE_18" if it["adult"] else "RATE_ALL",
            finished=it["finish"],
        )
        details[tid]["thumbnailUrl"] = it["thumbnailUrl"]
    details[183559]["curationTagList"] = curated["tagList"]
    details[805671] = load_sample("reconstructed-article-list-info.titleId-805671.current-shape.json")
    eps = {tid: episodes(tid, 2) for tid in details}
    eps[805671] = sorted(
        load_sample("reconstructed-article-list.titleId-805671.page-1.json")["articleList"], key=lambda a: a["no"]
    )
    return Dataset(weekday=weekday, daily_plus=daily, finished=finished, details=details, episodes=eps)


# --------------------------------------------------------------------------------------------------- faults


@dataclass
class Fault:
    """Make requests whose path+query contains ``match`` fail ``times`` times (None: always).

    kinds: ``500``/``502``/``503`` (that status), ``429`` (with ``Retry-After: retry_after``), ``timeout`` (answer after
    ``delay`` s), ``html`` (200 with an HTML page), ``truncate`` (200 with half the image, Content-Length matching),
    ``cut`` (Content-Length of the whole body, connection closed halfway), ``403``/``404`` (that status).
    """

    kind: str
    match: str
    times: int | None = 1
    retry_after: str = "0"
    delay: float = 1.0
    hits: int = 0

    def applies(self, path_qs: str) -> bool:
        return self.match in path_qs and (self.times is None or self.hits < self.times)


@dataclass
class Hit:
    path_qs: str
    outcome: str
    user_agent: str
    referer: str
    at: float


class ReplayServer:
    def __init__(self, dataset: Dataset | None = None, faults: list[Fault] | None = None, latency: float = 0.0):
        self.dataset = dataset or synthetic_dataset()
        self.faults = list(faults or [])
        self.latency = latency
        self.log: list[Hit] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.on_request: Callable[[web.Request], None] | None = None
        self._images: dict[str, bytes] = {}
        self._adult = self.dataset.adult_ids()
        self._runner: web.AppRunner | None = None
        self.base = ""

    # ------------------------------------------------------------------ life cycle
    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/api/webtoon/titlelist/weekday", self._weekday)
        app.router.add_get("/api/webtoon/titlelist/finished", self._finished)
        app.router.add_get("/api/article/list/info", self._detail)
        app.router.add_get("/api/article/list", self._episodes)
        app.router.add_get("/img/{tail:.*}", self._image)
        app.middlewares.append(self._middleware)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"
        return self.base

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ReplayServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ inspection
    def hits(self, match: str = "", outcome: str | None = None) -> list[Hit]:
        return [h for h in self.log if match in h.path_qs and (outcome is None or h.outcome == outcome)]

    def image_url(self, url: str) -> str:
        for host, prefix in IMAGE_HOSTS.items():
            if url.startswith(host):
                return f"{self.base}/img/{prefix}{url[len(host) :]}"
        return url

    def image_bytes(self, path: str) -> bytes:
        """The image served at ``/img/<path>`` (generated once per path, deterministic)."""
        if path not in self._images:
            digest = hashlib.sha256(path.encode()).digest()
            size = (202, 120) if "202x120" in path else (125, 101)
            title = re.search(r"webtoon/(\d+)/", path)
            if title and int(title.group(1)) in self._adult and "/thumbnail/" in path:
                im = Image.new("RGB", size, (200, 200, 200))  # the 19+ placeholder anonymous clients get
            else:
                im = Image.new("RGB", size, tuple(digest[:3]))
                for i in range(6):
                    x, y = digest[3 + i] % size[0], digest[9 + i] % size[1]
                    im.paste(tuple(digest[15 + i : 18 + i]), (x, y, min(size[0], x + 30), min(size[1], y + 20)))
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=90)
            self._images[path] = buf.getvalue()
        return self._images[path]

    # ------------------------------------------------------------------ plumbing
    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        path_qs = request.path_qs
        outcome = "ok"
        arrived = asyncio.get_running_loop().time()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.on_request is not None:
                self.on_request(request)
            if self.latency:
                await asyncio.sleep(self.latency)
            fault = next((f for f in self.faults if f.applies(path_qs)), None)
            if fault is not None:
                fault.hits += 1
                outcome = fault.kind
                response = await self._fault(request, fault, handler)
            else:
                response = await handler(request)
                outcome = "ok" if response.status == 200 else str(response.status)
            return response
        finally:
            self.in_flight -= 1
            self.log.append(
                Hit(
                    path_qs,
                    outcome,
                    request.headers.get("User-Agent", ""),
                    request.headers.get("Referer", ""),
                    arrived,
                )
            )

    async def _fault(self, request: web.Request, fault: Fault, handler) -> web.StreamResponse:
        kind = fault.kind
        if kind.isdigit() and kind != "429":
            return web.Response(status=int(kind), text=f"{kind} error")
        if kind == "429":
            return web.Response(status=429, text="Too Many Requests", headers={"Retry-After": fault.retry_after})
        if kind == "timeout":
            await asyncio.sleep(fault.delay)
            return await handler(request)
        if kind == "html":
            return web.Response(text=HTML_BODY, content_type="text/html")
        real = await handler(request)
        body = real.body if isinstance(real.body, bytes) else b""
        if kind == "truncate":
            return web.Response(body=body[: len(body) // 2], content_type="image/jpeg")
        if kind == "cut":
            resp = web.StreamResponse(status=200)
            resp.content_type = "image/jpeg"
            resp.content_length = len(body)
            await resp.prepare(request)
            await resp.write(body[: len(body) // 2])
            request.transport.abort()
            return resp
        raise ValueError(f"unknown fault kind {kind!r}")

    def _json(self, payload: Any, status: int = 200) -> web.Response:
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        for host, prefix in IMAGE_HOSTS.items():
            text = text.replace(host, f"{self.base}/img/{prefix}")
        return web.Response(text=text, status=status, content_type="application/json")

    @staticmethod
    def _int(request: web.Request, name: str, default: int | None = None) -> int:
        try:
            return int(request.query[name])
        except (KeyError, ValueError):
            if default is None:
                raise web.HTTPBadRequest(text=f"bad {name}") from None
            return default

    # ------------------------------------------------------------------ endpoints
    async def _weekday(self, request: web.Request) -> web.Response:
        week = request.query.get("week")
        if week is None:
            return self._json({"titleListMap": self.dataset.weekday})
        if week == "dailyPlus":
            return self._json({"titleList": self.dataset.daily_plus})
        if week not in WEEK_PARAM:
            return self._json({"message": "bad week"}, status=400)
        return self._json({"titleList": self.dataset.weekday.get(WEEK_PARAM[week], [])})

    async def _finished(self, request: web.Request) -> web.Response:
        page = max(1, self._int(request, "page", 1))
        size = self.dataset.finished_page_size
        rows = self.dataset.finished
        return self._json(
            {"titleList": rows[(page - 1) * size : page * size], "pageInfo": page_info(page, len(rows), size)}
        )

    async def _detail(self, request: web.Request) -> web.Response:
        tid = self._int(request, "titleId")
        if tid not in self.dataset.details:
            return self._json({"message": "title not found"}, status=404)
        return self._json(self.dataset.details[tid])

    async def _episodes(self, request: web.Request) -> web.Response:
        tid = self._int(request, "titleId")
        if tid not in self.dataset.details:
            return self._json({"message": "title not found"}, status=404)
        if tid in self._adult:
            return self._json({"message": "login required"}, status=403)
        rows = list(self.dataset.episodes.get(tid, []))
        if request.query.get("sort", "DESC").upper() != "ASC":
            rows.reverse()
        size = self.dataset.episode_page_size
        pages = max(1, math.ceil(len(rows) / size))
        page = min(max(1, self._int(request, "page", 1)), pages)  # past the end: the last page again
        return self._json(
            {
                "titleId": tid,
                "webtoonLevelCode": "WEBTOON",
                "totalCount": len(rows),
                "finished": False,
                "dailyPass": False,
                "articleList": rows[(page - 1) * size : page * size],
                "chargeFolderArticleList": [],
                "pageInfo": page_info(page, len(rows), size),
            }
        )

    async def _image(self, request: web.Request) -> web.Response:
        return web.Response(body=self.image_bytes(request.match_info["tail"]), content_type="image/jpeg")
