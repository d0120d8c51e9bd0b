"""The catalogue contract: a folder with ``catalog.jsonl`` (one title per line) and its image files.

Loading validates everything and raises :class:`CatalogError` with a precise, human message (file, line number,
title id) — never a traceback for bad data. Writing is atomic (temp file + rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.errors import CatalogError, EmptyCatalogError

CATALOG_FILE = "catalog.jsonl"
REQUIRED_FIELDS = ("id", "title", "authors", "genres", "images")
OPTIONAL_FIELDS = (
    "title_en",
    "adult",
    "source",
    "url",
    "popularity_rank",
    "star_score",
    "tags",
    "synopsis",
    "removed",
)
#: A title's public page from its id (``<source>:<key>``), for sources whose page scheme is known.
PAGE_URLS = {"naver": ("https://comic.naver.com/webtoon/list?titleId={}", re.compile(r"\d+"))}


def page_url_of(title_id: str) -> str | None:
    """The public page of ``naver:<titleId>`` and other ids of a known scheme, else ``None``."""
    source, sep, key = title_id.partition(":")
    scheme = PAGE_URLS.get(source) if sep else None
    if scheme is None or not scheme[1].fullmatch(key):
        return None
    return scheme[0].format(key)


@dataclass(frozen=True)
class Title:
    """One title of a catalogue. ``images`` are absolute paths; the first is the cover."""

    id: str
    title: str
    authors: tuple[str, ...]
    genres: tuple[str, ...]
    images: tuple[Path, ...]
    title_en: str | None = None
    adult: bool | None = None
    source: str | None = None
    url: str | None = None
    popularity_rank: int | None = None
    star_score: float | None = None
    tags: tuple[str, ...] = ()
    synopsis: str | None = None
    removed: str | None = None  # the date (ISO) the source stopped listing the title: kept, never answered or posted
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def primary_genre(self) -> str | None:
        return self.genres[0] if self.genres else None

    @property
    def first_author(self) -> str | None:
        return self.authors[0] if self.authors else None

    @property
    def page_url(self) -> str | None:
        """Where to read the title: its ``url``, else the page its id leads to (:func:`page_url_of`)."""
        return self.url or page_url_of(self.id)

    @property
    def cover(self) -> Path | None:
        return self.images[0] if self.images else None

    def to_json(self, root: Path) -> dict[str, Any]:
        """The catalogue line for this title, image paths relative to ``root``."""
        data = asdict(self)
        extra = data.pop("extra")
        data["authors"] = list(self.authors)
        data["genres"] = list(self.genres)
        data["tags"] = list(self.tags)
        data["images"] = [os.path.relpath(p, root) for p in self.images]
        keep = {"title_en", "adult", *REQUIRED_FIELDS}  # the contract's fields stay even when null or empty
        return {**{k: v for k, v in data.items() if v not in (None, []) or k in keep}, **extra}


@dataclass(frozen=True)
class Catalog:
    root: Path
    titles: tuple[Title, ...]

    def __len__(self) -> int:
        return len(self.titles)

    def by_id(self) -> dict[str, Title]:
        return {t.id: t for t in self.titles}

    def fingerprint(self) -> str:
        """SHA-256 of ``catalog.jsonl``: lets a run folder record exactly which catalogue it was built from."""
        return hashlib.sha256((self.root / CATALOG_FILE).read_bytes()).hexdigest()


def _str_list(value: Any, name: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where}: '{name}' must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def _parse_title(obj: Any, root: Path, where: str, check_images: bool) -> Title:
    if not isinstance(obj, dict):
        raise CatalogError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    missing = [f for f in REQUIRED_FIELDS if f not in obj]
    if missing:
        raise CatalogError(f"{where}: missing field(s) {', '.join(missing)}")
    if not isinstance(obj["id"], str) or not obj["id"].strip():
        raise CatalogError(f"{where}: 'id' must be a non-empty string")
    tid = obj["id"]
    where = f"{where} (id {tid})"
    if not isinstance(obj["title"], str) or not obj["title"].strip():
        raise CatalogError(f"{where}: 'title' must be a non-empty string")
    adult = obj.get("adult")
    if adult is not None and not isinstance(adult, bool):
        raise CatalogError(f"{where}: 'adult' must be true, false or null")
    rank = obj.get("popularity_rank")
    if rank is not None and (not isinstance(rank, int) or isinstance(rank, bool) or rank < 1):
        raise CatalogError(f"{where}: 'popularity_rank' must be a positive integer or null")
    star = obj.get("star_score")
    if star is not None and (not isinstance(star, int | float) or isinstance(star, bool)):
        raise CatalogError(f"{where}: 'star_score' must be a number or null")
    images = []
    for rel in _str_list(obj["images"], "images", where):
        path = (root / rel).resolve()
        if check_images and not path.is_file():
            raise CatalogError(f"{where}: image not found: {rel}")
        images.append(path)
    for key in ("title_en", "source", "url", "synopsis", "removed"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise CatalogError(f"{where}: '{key}' must be a string or null")
    known = set(REQUIRED_FIELDS) | set(OPTIONAL_FIELDS)
    return Title(
        id=tid,
        title=obj["title"].strip(),
        authors=_str_list(obj["authors"], "authors", where),
        genres=_str_list(obj["genres"], "genres", where),
        images=tuple(images),
        title_en=obj.get("title_en"),
        adult=adult,
        source=obj.get("source"),
        url=obj.get("url"),
        popularity_rank=rank,
        star_score=float(star) if star is not None else None,
        tags=_str_list(obj.get("tags"), "tags", where),
        synopsis=obj.get("synopsis"),
        removed=obj.get("removed"),
        extra={k: v for k, v in obj.items() if k not in known},
    )


def load_catalog(folder: str | os.PathLike, *, check_images: bool = True, require_images: bool = False) -> Catalog:
    """Load and validate a catalogue folder.

    ``check_images``: every listed image must exist. ``require_images``: titles without images are dropped (for
    training/indexing); if none remain, :class:`EmptyCatalogError`.
    """
    root = Path(folder).expanduser()
    path = root / CATALOG_FILE
    if not root.is_dir():
        raise CatalogError(f"catalogue folder not found: {root}")
    if not path.is_file():
        raise CatalogError(f"no {CATALOG_FILE} in {root}")
    root = root.resolve()
    titles: list[Title] = []
    seen: dict[str, int] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not UTF-8 text ({exc.reason})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CatalogError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
        title = _parse_title(obj, root, where, check_images)
        if title.id in seen:
            raise CatalogError(f"{where}: duplicate id {title.id!r} (first on line {seen[title.id]})")
        seen[title.id] = number
        if require_images and not title.images:
            continue
        titles.append(title)
    if not titles:
        what = "titles with images" if require_images else "titles"
        raise EmptyCatalogError(f"catalogue {root} has no {what}")
    return Catalog(root=root, titles=tuple(titles))


def write_jsonl_atomic(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write JSON lines to ``path`` via a temp file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_catalog(folder: str | os.PathLike, rows: Iterable[dict[str, Any]]) -> Path:
    """Write ``catalog.jsonl`` atomically from plain dicts in the catalogue format (images relative to ``folder``)."""
    path = Path(folder) / CATALOG_FILE
    write_jsonl_atomic(path, rows)
    return path
