"""Orchestration: list titles, fetch details (and episode lists), download images, write the catalogue.

Phases: ``listing`` (weekday list(s), then finished pages), then every pending title runs through ``details`` → images
concurrently (bounded by the client). Titles finished in an earlier run (in the journal, images on disk) are not
fetched again. At the end ``catalog.jsonl`` (titles sorted by numeric id) and ``skipped.jsonl`` are rewritten
atomically from the journal and this run's listing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import catalog.scrape.naver as naver
from catalog.format import CATALOG_FILE
from catalog.scrape.client import (
    DEFAULT_CONCURRENCY,
    DEFAULT_RATE,
    DEFAULT_USER_AGENT,
    RETRYABLE_STATUS,
    PoliteClient,
    RetryPolicy,
)
from catalog.scrape.errors import BadResponseError, FetchError, NothingListedError
from catalog.scrape.naver import Episode, ListItem, TitleDetail
from catalog.scrape.store import Store

log = logging.getLogger(__name__)

MAX_FINISHED_PAGES = 1000
MAX_EPISODE_PAGES = 50


# --------------------------------------------------------------------------------------------------- config & report


@dataclass(frozen=True)
class ScrapeConfig:
    out: Path
    api_base: str = naver.DEFAULT_API_BASE
    weekdays: tuple[str, ...] | None = None  # None: every day (one request) + dailyPlus; else keys of naver.WEEKDAYS
    finished: bool = True
    limit: int | None = None
    episodes: int = 0
    concurrency: int = DEFAULT_CONCURRENCY
    rate: float | None = DEFAULT_RATE
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    user_agent: str = DEFAULT_USER_AGENT

    def __post_init__(self) -> None:
        if self.weekdays is not None:
            unknown = [d for d in self.weekdays if d not in naver.WEEKDAYS]
            if unknown:
                raise ValueError(f"unknown weekday(s): {', '.join(unknown)}")
        if self.limit is not None and self.limit < 1:
            raise ValueError("limit must be at least 1")
        if self.episodes < 0:
            raise ValueError("episodes must be >= 0")

    def api(self, path: str) -> str:
        return self.api_base.rstrip("/") + path


@dataclass
class Skip:
    title_id: int
    title: str
    reason: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": naver.catalog_id(self.title_id),
            "title_id": self.title_id,
            "title": self.title,
            "reason": self.reason,
            "detail": self.detail,
        }


@dataclass
class ScrapeSummary:
    out: Path
    listed: int = 0
    listed_weekday: int = 0
    listed_finished: int = 0
    duplicates: int = 0
    limited_out: int = 0
    list_warnings: list[str] = field(default_factory=list)
    bad_list_entries: int = 0
    reused: int = 0
    fetched: int = 0
    in_catalog: int = 0
    with_images: int = 0
    adult: int = 0
    images_downloaded: int = 0
    images_reused: int = 0
    image_failures: Counter = field(default_factory=Counter)
    skipped: list[Skip] = field(default_factory=list)
    kept_previous: list[Skip] = field(default_factory=list)  # failed now, but complete from an earlier run
    requests: int = 0
    retries: Counter = field(default_factory=Counter)
    elapsed: float = 0.0

    @property
    def skipped_by_reason(self) -> Counter:
        return Counter(s.reason for s in self.skipped)

    def format(self) -> str:
        def counts(counter: Counter) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))

        lines = [
            f"listed      {self.listed} titles (weekday {self.listed_weekday}, finished {self.listed_finished}; "
            f"{self.duplicates} duplicates dropped"
            + (f", {self.limited_out} over --limit" if self.limited_out else "")
            + (f", {self.bad_list_entries} bad entries" if self.bad_list_entries else "")
            + ")",
            f"detailed    {self.in_catalog} titles in the catalogue ({self.fetched} fetched now, "
            f"{self.reused} already complete); {self.adult} adult",
            f"with images {self.with_images} titles; images downloaded {self.images_downloaded}, "
            f"reused {self.images_reused}"
            + (
                f", failed {sum(self.image_failures.values())} ({counts(self.image_failures)})"
                if self.image_failures
                else ""
            ),
            f"skipped     {len(self.skipped)} titles" + (f": {counts(self.skipped_by_reason)}" if self.skipped else ""),
            f"requests    {self.requests}, retries {sum(self.retries.values())}"
            + (f" ({counts(self.retries)})" if self.retries else ""),
        ]
        for skip in self.skipped[:20]:
            lines.append(f"  skipped {naver.catalog_id(skip.title_id)} {skip.title!r}: {skip.reason} — {skip.detail}")
        if len(self.skipped) > 20:
            lines.append(f"  … {len(self.skipped) - 20} more in {self.out / 'skipped.jsonl'}")
        for keep in self.kept_previous[:20]:
            lines.append(f"  not updated {naver.catalog_id(keep.title_id)} (earlier record kept): {keep.reason}")
        for warning in self.list_warnings[:10]:
            lines.append(f"  warning: {warning}")
        lines.append(f"catalogue   {self.out / CATALOG_FILE} ({self.in_catalog} titles) in {self.elapsed:.1f} s")
        return "\n".join(lines)


class Bar(Protocol):
    def update(self, n: int = 1) -> None: ...
    def add_total(self, n: int) -> None: ...
    def close(self) -> None: ...


class Progress(Protocol):
    def bar(self, phase: str, total: int | None, unit: str) -> Bar: ...


class _NullBar:
    def update(self, n: int = 1) -> None:
        pass

    def add_total(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


class NullProgress:
    def bar(self, phase: str, total: int | None, unit: str) -> Bar:
        return _NullBar()


# --------------------------------------------------------------------------------------------------- listing


@dataclass
class Listing:
    items: list[ListItem]
    ranks: dict[int, int]


async def _list_weekdays(
    client: PoliteClient, config: ScrapeConfig, summary: ScrapeSummary, bar: Bar
) -> list[list[ListItem]]:
    url = config.api(naver.WEEKDAY_PATH)
    day_lists: list[list[ListItem]] = []
    if config.weekdays is None:
        requests = [("all days", {"order": "user"}, True), ("dailyPlus", {"week": "dailyPlus", "order": "user"}, False)]
    else:
        requests = [(d, {"week": d, "order": "user"}, False) for d in config.weekdays]
    bar.add_total(len(requests))
    for what, params, is_map in requests:
        try:
            payload = await client.get_json(url, params)
            if is_map:
                days, errors = naver.parse_weekday_map(payload)
                day_lists += list(days.values())
            else:
                items, errors = naver.parse_title_list(payload, f"weekday list {what}")
                day_lists.append(items)
            summary.bad_list_entries += len(errors)
            for error in errors:
                log.warning("%s", error)
        except (FetchError, BadResponseError) as exc:
            summary.list_warnings.append(f"weekday list ({what}): {exc}")
            log.warning("weekday list (%s) failed: %s", what, exc)
        finally:
            bar.update()
    return day_lists


async def _list_finished(
    client: PoliteClient,
    config: ScrapeConfig,
    summary: ScrapeSummary,
    bar: Bar,
    enough: int | None,
    known: set[int],
) -> list[ListItem]:
    """Finished titles, page by page; stops early once ``enough`` titles not in ``known`` are found (``--limit``)."""
    url = config.api(naver.FINISHED_PATH)
    items: list[ListItem] = []
    seen: set[int] = set()
    page, pages = 1, None
    bar.add_total(1)
    while page <= MAX_FINISHED_PAGES:
        try:
            payload = await client.get_json(url, {"page": page, "order": "UPDATE"})
            page_items, errors = naver.parse_title_list(payload, f"finished page {page}")
        except (FetchError, BadResponseError) as exc:
            summary.list_warnings.append(f"finished page {page}: {exc}")
            log.warning("finished list page %d failed, stopping there: %s", page, exc)
            bar.update()
            break
        bar.update()
        summary.bad_list_entries += len(errors)
        for error in errors:
            log.warning("%s", error)
        new = [it for it in page_items if it.title_id not in seen]
        if not new:  # empty page, or a page past the end that repeats the last one
            break
        seen.update(it.title_id for it in new)
        items += new
        if pages is None:
            pages = naver.total_pages(payload)
            if pages and pages > 1:
                bar.add_total(min(pages, MAX_FINISHED_PAGES) - 1)
        fresh = sum(1 for it in items if it.title_id not in known)
        if (pages is not None and page >= pages) or (enough is not None and fresh >= enough):
            break
        if pages is None:
            bar.add_total(1)
        page += 1
    return items


async def list_titles(
    client: PoliteClient, config: ScrapeConfig, summary: ScrapeSummary, progress: Progress
) -> Listing:
    bar = progress.bar("listing", 0, "req")
    try:
        day_lists = await _list_weekdays(client, config, summary, bar)
        ranked = naver.interleave_ranks(day_lists)
        total_weekday_entries = sum(len(lst) for lst in day_lists)
        finished: list[ListItem] = []
        if config.finished:
            enough = None if config.limit is None else max(0, config.limit - len(ranked))
            if enough != 0:
                known = {it.title_id for it in ranked}
                finished = await _list_finished(client, config, summary, bar, enough, known)
    finally:
        bar.close()
    merged: dict[int, ListItem] = {it.title_id: it for it in ranked}
    ranks = {it.title_id: rank for rank, it in enumerate(ranked, start=1)}
    finished_new = [it for it in finished if it.title_id not in merged]
    summary.duplicates = (total_weekday_entries - len(ranked)) + (len(finished) - len(finished_new))
    for it in finished_new:
        merged[it.title_id] = it
    items = list(merged.values())
    if config.limit is not None and len(items) > config.limit:
        summary.limited_out = len(items) - config.limit
        items = items[: config.limit]
    kept = {it.title_id for it in items}
    summary.listed = len(items)
    summary.listed_weekday = sum(1 for tid in ranks if tid in kept)
    summary.listed_finished = summary.listed - summary.listed_weekday
    if not items:
        warnings = summary.list_warnings
        why = warnings[0] if warnings else "the lists were empty"
        if len(warnings) > 1:
            why += f" (and {len(warnings) - 1} more failed list request(s))"
        raise NothingListedError(f"nothing could be listed from {config.api_base}: {why}")
    return Listing(items=items, ranks={tid: r for tid, r in ranks.items() if tid in kept})


# --------------------------------------------------------------------------------------------------- one title


class _TitleFailed(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _entry_usable(store: Store, entry: dict[str, Any] | None, episodes: int) -> bool:
    """A journal entry can go into the catalogue: the images it lists (up to ``episodes``) are on disk."""
    if entry is None:
        return False
    paths = [entry.get("cover")] + list(entry.get("episodes") or [])[:episodes]
    return all(store.has(p) for p in paths if p is not None)


def _entry_satisfies(store: Store, entry: dict[str, Any] | None, episodes: int) -> bool:
    """A journal entry is enough for this run: usable, and it covers the episodes asked for."""
    if entry is None:
        return False
    if entry.get("episodes_requested", 0) < episodes and not entry.get("episodes_exhausted", False):
        return False
    return _entry_usable(store, entry, episodes)


class _Runner:
    def __init__(self, config: ScrapeConfig, client: PoliteClient, store: Store, summary: ScrapeSummary, images: Bar):
        self.config = config
        self.client = client
        self.store = store
        self.summary = summary
        self.images_bar = images

    async def episodes(self, title_id: int) -> tuple[list[Episode], bool]:
        """The first ``config.episodes`` episodes (ascending); ``exhausted`` when the title has no more."""
        want = self.config.episodes
        url = self.config.api(naver.EPISODES_PATH)
        found: dict[int, Episode] = {}
        page = 1
        while len(found) < want and page <= MAX_EPISODE_PAGES:
            payload = await self.client.get_json(url, {"titleId": title_id, "page": page, "sort": "ASC"})
            episodes, pages = naver.parse_episode_page(payload, title_id)
            new = [e for e in episodes if e.no not in found]
            for e in new:
                found[e.no] = e
            if not new or (pages is not None and page >= pages):
                break
            page += 1
        chosen = sorted(found.values(), key=lambda e: e.no)
        return chosen[:want], len(chosen) < want

    async def image(self, title_id: int, index: int, url: str) -> str | None:
        """An image slot: reused if on disk, else downloaded, verified and saved.

        An episode image that is gone for good (4xx) is left out (None). Any failure of the cover, and transient
        failures of episode images, make the whole title fail: it is tried again, images kept, on the next run.
        """
        existing = self.store.find_image(title_id, index)
        if existing:
            self.summary.images_reused += 1
            self.images_bar.update()
            return existing
        try:
            data, fmt = await self.client.get_image(url)
        except FetchError as exc:
            self.images_bar.update()
            gone = exc.status is not None and 400 <= exc.status < 500 and exc.status not in RETRYABLE_STATUS
            if gone and index > 1:
                self.summary.image_failures[exc.reason] += 1
                log.warning("title %d: image %d (%s) left out: %s", title_id, index, url, exc)
                return None
            raise _TitleFailed(exc.reason, f"image {index}: {exc.detail}") from None
        rel = await asyncio.to_thread(self.store.save_image, title_id, index, data, fmt)
        self.summary.images_downloaded += 1
        self.images_bar.update()
        return rel

    async def title(self, item: ListItem) -> None:
        tid = item.title_id
        try:
            payload = await self.client.get_json(self.config.api(naver.DETAIL_PATH), {"titleId": tid})
            detail = naver.parse_detail(payload, tid, item)
        except FetchError as exc:
            raise _TitleFailed(exc.reason, f"detail: {exc.detail}") from None
        except BadResponseError as exc:
            raise _TitleFailed("bad_response", str(exc)) from None
        episodes: list[Episode] = []
        exhausted = bool(detail.adult)  # adult episode lists need a login: there is nothing more to get anonymously
        if self.config.episodes and not detail.adult:
            try:
                episodes, exhausted = await self.episodes(tid)
            except FetchError as exc:
                raise _TitleFailed(exc.reason, f"episode list: {exc.detail}") from None
            except BadResponseError as exc:
                raise _TitleFailed("bad_response", str(exc)) from None
        cover_url = None if detail.adult else detail.thumbnail_url  # adult covers are placeholders for anonymous users
        slots = ([(1, cover_url)] if cover_url else []) + [
            (index, ep.thumbnail_url) for index, ep in enumerate(episodes, start=2) if ep.thumbnail_url
        ]
        self.images_bar.add_total(len(slots))
        results = await asyncio.gather(*(self.image(tid, i, u) for i, u in slots), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        paths = dict(zip((i for i, _ in slots), results, strict=True))
        self.store.append(
            {
                "title_id": tid,
                "row": _detail_row(detail, _now()),
                "cover": paths.get(1),
                "episodes": [paths.get(i) for i in range(2, 2 + len(episodes))],
                "episodes_requested": self.config.episodes,
                "episodes_exhausted": exhausted,
                "listed": list_signature(item),  # what a refresh compares the lists against (catalog.scrape.refresh)
                "cover_url": cover_url,
            }
        )


def image_path_of(url: str | None) -> str | None:
    """An image URL without its scheme and host: the same image whichever CDN host serves it."""
    if not url:
        return None
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def list_signature(item: ListItem) -> dict[str, Any]:
    """The fields of a list entry whose change means a title's details (or cover) need fetching again."""
    return {
        "title": item.title,
        "author": item.author,
        "thumbnail": image_path_of(item.thumbnail_url),
        "adult": item.adult,
        "finished": item.finished,
    }


def _detail_row(detail: TitleDetail, scraped_at: str) -> dict[str, Any]:
    return {
        "id": naver.catalog_id(detail.title_id),
        "title": detail.title,
        "title_en": None,
        "authors": list(detail.authors),
        "genres": list(detail.genres),
        "genres_raw": list(detail.genres_raw),
        "adult": detail.adult,
        "age_rating": detail.age_rating,
        "source": naver.SOURCE,
        "url": naver.title_url(detail.title_id),
        "finished": detail.finished,
        "tags": list(detail.tags),
        "synopsis": detail.synopsis,
        "scraped_at": scraped_at,
    }


def catalog_row(entry: dict[str, Any], item: ListItem, rank: int | None, episodes: int) -> dict[str, Any]:
    """The ``catalog.jsonl`` line of a journalled title, with list-time fields (rank, star score) of this run."""
    row = dict(entry["row"])
    images = ([entry["cover"]] if entry.get("cover") else []) + [
        p for p in list(entry.get("episodes") or [])[:episodes] if p
    ]
    scraped_at = row.pop("scraped_at", None)
    order = ["id", "title", "title_en", "authors", "genres", "genres_raw", "adult", "age_rating", "source", "url"]
    out = {k: row.pop(k, None) for k in order}
    out["popularity_rank"] = rank
    out["star_score"] = item.star_score
    out.update(row)
    out["images"] = images
    out["scraped_at"] = scraped_at
    return out


# --------------------------------------------------------------------------------------------------- the run


async def scrape(config: ScrapeConfig, progress: Progress | None = None) -> ScrapeSummary:
    """Run a scrape into ``config.out``; return its summary. Raises :class:`ScrapeError` subclasses for whole-run
    failures (nothing listed, folder locked); single titles never make it fail."""
    progress = progress or NullProgress()
    started = time.monotonic()
    summary = ScrapeSummary(out=Path(config.out))
    with Store(config.out) as store:
        async with PoliteClient(
            concurrency=config.concurrency, rate=config.rate, policy=config.policy, user_agent=config.user_agent
        ) as client:
            try:
                listing = await list_titles(client, config, summary, progress)
                pending = []
                for item in listing.items:
                    entry = store.entries.get(item.title_id)
                    if _entry_satisfies(store, entry, config.episodes):
                        summary.reused += 1
                    else:
                        pending.append(item)
                await _process(config, client, store, summary, progress, pending)
            finally:
                summary.requests = client.stats.requests
                summary.retries = Counter(client.stats.retries)
        rows = []
        for item in listing.items:
            entry = store.entries.get(item.title_id)
            if not _entry_usable(store, entry, config.episodes):
                continue
            rows.append(catalog_row(entry, item, listing.ranks.get(item.title_id), config.episodes))
        rows.sort(key=lambda r: int(r["id"].split(":", 1)[1]))
        summary.skipped.sort(key=lambda s: s.title_id)
        summary.kept_previous.sort(key=lambda s: s.title_id)
        store.write_catalog(rows)
        store.write_skipped([s.to_json() for s in summary.skipped])
    summary.in_catalog = len(rows)
    summary.with_images = sum(1 for r in rows if r["images"])
    summary.adult = sum(1 for r in rows if r["adult"])
    summary.elapsed = time.monotonic() - started
    return summary


async def _process(
    config: ScrapeConfig,
    client: PoliteClient,
    store: Store,
    summary: ScrapeSummary,
    progress: Progress,
    pending: list[ListItem],
) -> None:
    details = progress.bar("titles", len(pending), "title")
    images = progress.bar("images", 0, "img")
    runner = _Runner(config, client, store, summary, images)
    queue: asyncio.Queue[ListItem] = asyncio.Queue()
    for item in pending:
        queue.put_nowait(item)

    async def worker() -> None:
        while True:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                await runner.title(item)
                summary.fetched += 1
            except _TitleFailed as exc:
                failure = Skip(item.title_id, item.title, exc.reason, exc.detail)
                if _entry_usable(store, store.entries.get(item.title_id), config.episodes):
                    summary.kept_previous.append(failure)  # e.g. more --episodes asked for, and that failed
                    log.warning(
                        "title %d %r not updated, previous record kept: %s — %s",
                        item.title_id,
                        item.title,
                        exc.reason,
                        exc.detail,
                    )
                else:
                    summary.skipped.append(failure)
                    log.warning("title %d %r skipped: %s — %s", item.title_id, item.title, exc.reason, exc.detail)
            except Exception as exc:  # a bug or an unforeseen shape: never let one title crash the run
                summary.skipped.append(Skip(item.title_id, item.title, "error", f"{type(exc).__name__}: {exc}"))
                log.exception("title %d %r failed unexpectedly", item.title_id, item.title)
            finally:
                details.update()

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(len(pending), max(1, config.concurrency * 2))):
                group.create_task(worker())
    finally:
        details.close()
        images.close()
