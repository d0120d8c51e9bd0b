"""Refreshing a scraped catalogue in place: read the source's lists again and fetch only what changed.

Against the scrape journal (``catalog.scrape.store``) of the catalogue folder:

- a listed title the journal lacks is **new**: details and images are fetched (``max_new`` caps how many);
- a title whose list entry changed (name, authors, thumbnail, adult, finished; ``list_signature``) is fetched again:
  its details (genres, tags, flags) are replaced and its cover downloaded again when its URL changed (a title turned
  adult keeps the cover it had: anonymous clients only get a placeholder). ``full`` fetches every title again and
  downloads every cover (bytes that changed at the same URL are found by their hash when the index is rebuilt);
- a journalled title no list names any more is marked **removed** (with the date) and kept, but only when every
  list request succeeded: a failed page must not look like hundreds of titles gone. A removed title listed again is
  fetched again and restored.

Every step is journalled as the scraper journals titles, so a refresh killed at any point resumes where it stopped;
``catalog.jsonl`` is rewritten atomically at the end, removed titles included (field ``removed``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import catalog.scrape.naver as naver
from catalog.format import CATALOG_FILE
from catalog.scrape.client import PoliteClient
from catalog.scrape.errors import BadResponseError, FetchError, ScrapeError
from catalog.scrape.naver import ListItem
from catalog.scrape.run import (
    NullProgress,
    Progress,
    ScrapeConfig,
    ScrapeSummary,
    Skip,
    _detail_row,
    _entry_usable,
    _now,
    _Runner,
    _TitleFailed,
    catalog_row,
    image_path_of,
    list_signature,
    list_titles,
)
from catalog.scrape.store import JOURNAL, STATE_DIR, Store

log = logging.getLogger(__name__)


@dataclass
class SourceRefresh:
    """What a refresh did at the source."""

    out: Path
    listed: int = 0
    lists_complete: bool = True
    new: list[int] = field(default_factory=list)
    refetched: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    restored: list[int] = field(default_factory=list)
    covers_downloaded: int = 0
    held_back: int = 0  # new titles over max_new, left for a later refresh
    failed: list[Skip] = field(default_factory=list)
    requests: int = 0
    retries: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def format(self) -> str:
        lines = [
            f"source      {self.listed} titles listed; fetched {len(self.new)} new, {len(self.refetched)} changed "
            f"({len(self.restored)} listed again); marked {len(self.removed)} removed; "
            f"{self.covers_downloaded} covers downloaded; {self.requests} requests, "
            f"{sum(self.retries.values())} retries",
        ]
        if self.held_back:
            lines.append(f"  {self.held_back} new titles over --max-new left for the next refresh")
        if not self.lists_complete:
            lines.append("  some list requests failed: no title was marked removed this time")
        for skip in self.failed[:20]:
            cid = naver.catalog_id(skip.title_id)
            lines.append(f"  not fetched {cid} {skip.title!r}: {skip.reason} — {skip.detail}")
        for warning in self.warnings[:10]:
            lines.append(f"  warning: {warning}")
        return "\n".join(lines)


def is_scraped(folder: str | Path) -> bool:
    """Whether ``folder`` is a scraper's output (it has a journal a refresh can compare against)."""
    return (Path(folder) / STATE_DIR / JOURNAL).is_file()


def _stale(entry: dict[str, Any], item: ListItem) -> bool:
    """Whether a journal entry's title must be fetched again for its list entry ``item``."""
    listed = entry.get("listed")
    if listed is not None:
        return listed != list_signature(item)
    row = entry.get("row") or {}  # journalled before signatures: what the row can tell
    return any(
        known is not None and known != now
        for known, now in ((row.get("adult"), item.adult), (row.get("finished"), item.finished))
    ) or (row.get("title") not in (None, item.title))


class _RefreshRunner(_Runner):
    """The scraper's runner, for titles already journalled: replaces a cover whose URL changed, keeps the cover of
    a title turned adult."""

    def __init__(self, *args, full: bool, result: SourceRefresh, **kwargs):
        super().__init__(*args, **kwargs)
        self.full = full
        self.result = result

    async def cover(self, tid: int, url: str, entry: dict[str, Any] | None) -> str | None:
        old = entry.get("cover") if entry else None
        same_url = entry is not None and image_path_of(entry.get("cover_url", url)) == image_path_of(url)
        if old and self.store.has(old) and same_url and not self.full:
            return old
        try:
            data, fmt = await self.client.get_image(url)
        except FetchError as exc:
            raise _TitleFailed(exc.reason, f"cover: {exc.detail}") from None
        self.result.covers_downloaded += 1
        return await asyncio.to_thread(self.store.save_image, tid, 1, data, fmt)

    async def refetch(self, item: ListItem, entry: dict[str, Any] | None) -> None:
        tid = item.title_id
        if entry is None:  # a new title: exactly as the scraper fetches it
            await self.title(item)
            return
        try:
            payload = await self.client.get_json(self.config.api(naver.DETAIL_PATH), {"titleId": tid})
            detail = naver.parse_detail(payload, tid, item)
        except FetchError as exc:
            raise _TitleFailed(exc.reason, f"detail: {exc.detail}") from None
        except BadResponseError as exc:
            raise _TitleFailed("bad_response", str(exc)) from None
        cover_url = None if detail.adult else detail.thumbnail_url
        if cover_url:
            cover = await self.cover(tid, cover_url, entry)
        else:  # turned adult (or lost its thumbnail): keep what we had
            cover = entry.get("cover")
            cover_url = entry.get("cover_url")
        self.store.append(
            {
                **{k: v for k, v in entry.items() if k not in ("v", "removed")},
                "row": _detail_row(detail, _now()),
                "cover": cover,
                "listed": list_signature(item),
                "cover_url": cover_url,
            }
        )


def _previous_rows(out: Path) -> dict[str, dict[str, Any]]:
    path = out / CATALOG_FILE
    if not path.is_file():
        return {}
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row["id"]] = row
    return rows


async def refresh_catalog(
    config: ScrapeConfig, *, full: bool = False, max_new: int | None = None, progress: Progress | None = None
) -> SourceRefresh:
    """Refresh the scraped catalogue ``config.out`` from its source (see the module docstring). Raises
    :class:`ScrapeError` when the folder is not a scraped catalogue, is busy, or nothing could be listed."""
    progress = progress or NullProgress()
    started = time.monotonic()
    out = Path(config.out)
    if not is_scraped(out):
        raise ScrapeError(
            f"{out} is not a scraped catalogue (no {STATE_DIR}/{JOURNAL}): refresh re-reads the source a catalogue "
            "was scraped from (`python -m scripts.scrape`); for another catalogue rebuild with --no-fetch"
        )
    result = SourceRefresh(out=out)
    summary = ScrapeSummary(out=out)
    config = replace(config, limit=None)  # the whole lists: a title is gone only if no list names it
    today = _now()[:10]
    with Store(out) as store:
        previous = _previous_rows(out)
        async with PoliteClient(
            concurrency=config.concurrency, rate=config.rate, policy=config.policy, user_agent=config.user_agent
        ) as client:
            try:
                listing = await list_titles(client, config, summary, progress)
                result.listed = len(listing.items)
                result.lists_complete = not summary.list_warnings and not summary.bad_list_entries
                result.warnings = list(summary.list_warnings)
                pending: list[tuple[ListItem, dict[str, Any] | None]] = []
                for item in listing.items:
                    entry = store.entries.get(item.title_id)
                    if entry is None or not _entry_usable(store, entry, 0):
                        if max_new is not None and len(result.new) >= max_new:
                            result.held_back += 1
                            continue
                        result.new.append(item.title_id)
                        pending.append((item, None))
                    elif entry.get("removed") or full or _stale(entry, item):
                        if entry.get("removed"):
                            result.restored.append(item.title_id)
                        result.refetched.append(item.title_id)
                        pending.append((item, entry))
                    elif "listed" not in entry:  # journalled before signatures: today's entry is the baseline
                        store.append({**{k: v for k, v in entry.items() if k != "v"}, "listed": list_signature(item)})
                await _fetch(config, client, store, summary, result, progress, pending, full)
            finally:
                result.requests = client.stats.requests
                result.retries = Counter(client.stats.retries)
        listed = {it.title_id: it for it in listing.items}
        if result.lists_complete:
            for tid, entry in list(store.entries.items()):
                if tid not in listed and not entry.get("removed") and _entry_usable(store, entry, 0):
                    store.append({**{k: v for k, v in entry.items() if k != "v"}, "removed": today})
                    result.removed.append(tid)
        rows = []
        for tid, entry in store.entries.items():
            if not _entry_usable(store, entry, config.episodes):
                continue
            item = listed.get(tid)
            if item is not None and not entry.get("removed"):
                rows.append(catalog_row(entry, item, listing.ranks.get(tid), config.episodes))
                continue
            cid = naver.catalog_id(tid)
            star = (previous.get(cid) or {}).get("star_score")
            stub = ListItem(tid, entry["row"].get("title") or cid, star_score=star)
            row = catalog_row(entry, stub, None, config.episodes)
            if entry.get("removed"):
                row["removed"] = entry["removed"]
            rows.append(row)
        rows.sort(key=lambda r: int(r["id"].split(":", 1)[1]))
        store.write_catalog(rows)
    result.elapsed = time.monotonic() - started
    return result


async def _fetch(
    config: ScrapeConfig,
    client: PoliteClient,
    store: Store,
    summary: ScrapeSummary,
    result: SourceRefresh,
    progress: Progress,
    pending: list[tuple[ListItem, dict[str, Any] | None]],
    full: bool,
) -> None:
    details = progress.bar("titles", len(pending), "title")
    images = progress.bar("images", 0, "img")
    runner = _RefreshRunner(config, client, store, summary, images, full=full, result=result)
    queue: asyncio.Queue = asyncio.Queue()
    for job in pending:
        queue.put_nowait(job)

    async def worker() -> None:
        while True:
            try:
                item, entry = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            failure = None
            try:
                await runner.refetch(item, entry)
            except _TitleFailed as exc:
                failure = Skip(item.title_id, item.title, exc.reason, exc.detail)
            except Exception as exc:  # one title never fails the refresh
                failure = Skip(item.title_id, item.title, "error", f"{type(exc).__name__}: {exc}")
                log.exception("title %d %r failed unexpectedly", item.title_id, item.title)
            finally:
                details.update()
            if failure is not None:
                result.failed.append(failure)
                why = f"{failure.reason} — {failure.detail}"
                log.warning("title %d %r not refreshed: %s", item.title_id, item.title, why)
                for done in (result.new, result.refetched, result.restored):
                    if item.title_id in done:
                        done.remove(item.title_id)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(len(pending), max(1, config.concurrency * 2))):
                group.create_task(worker())
    finally:
        details.close()
        images.close()
