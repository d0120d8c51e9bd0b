"""The scraper's output folder: crash-safe images, an append-only journal of finished titles, a run lock.

Layout of ``<out>``::

    catalog.jsonl            the catalogue (rewritten atomically at the end of each run)
    skipped.jsonl            titles left out and why (rewritten atomically at the end of each run)
    images/naver_<id>_NN.jpg images, written to a temp file then renamed: a file with its final name is complete
    .scrape/journal.jsonl    one line per finished title, appended and fsynced; a torn last line is dropped
    .scrape/lock             flock()ed while a run is alive; the kernel drops it when the process dies (even kill -9)

A title enters the journal only after all its images are in place, so killing the scraper at any moment loses at most
the titles in flight; the next run picks up everything else and re-downloads nothing that is complete.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from catalog.format import write_catalog, write_jsonl_atomic
from catalog.scrape.errors import ScrapeLockedError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

STATE_DIR = ".scrape"
JOURNAL = "journal.jsonl"
LOCK = "lock"
IMAGES_DIR = "images"
SKIPPED_FILE = "skipped.jsonl"
JOURNAL_VERSION = 1
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp"}
_TMP = re.compile(r"^\..+\.tmp$")


def image_stem(title_id: int, index: int) -> str:
    return f"naver_{title_id}_{index:02d}"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


class Store:
    """Open with ``with Store(out) as store:``; holds the lock until closed."""

    def __init__(self, out: str | os.PathLike):
        self.out = Path(out).expanduser()
        self.images = self.out / IMAGES_DIR
        self.state = self.out / STATE_DIR
        self.journal_path = self.state / JOURNAL
        self.entries: dict[int, dict[str, Any]] = {}
        self.dropped_journal_lines = 0
        self.removed_temp_files = 0
        self._lock_fd: int | None = None
        self._journal = None

    # ------------------------------------------------------------------ life cycle
    def __enter__(self) -> Store:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> Store:
        for folder in (self.out, self.images, self.state):
            folder.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            self._clean_temp_files()
            self._load_journal()
            self._journal = open(self.journal_path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._lock_fd is not None:
            if fcntl is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _lock(self) -> None:
        fd = os.open(self.state / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise ScrapeLockedError(
                    f"another scrape is writing to {self.out} right now; wait for it or use another --out"
                ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _clean_temp_files(self) -> None:
        """Remove temp files a killed run left behind (only ours: hidden ``.*.tmp``)."""
        for folder in (self.out, self.images, self.state):
            for path in folder.iterdir():
                if path.is_file() and _TMP.match(path.name):
                    path.unlink(missing_ok=True)
                    self.removed_temp_files += 1
        if self.removed_temp_files:
            log.info("removed %d temp file(s) left by an interrupted run", self.removed_temp_files)

    def _load_journal(self) -> None:
        if not self.journal_path.exists():
            return
        raw = self.journal_path.read_bytes()
        lines = raw.split(b"\n")
        dirty = bool(raw) and not raw.endswith(b"\n")
        count = 0
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            count += 1
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict) or entry.get("v") != JOURNAL_VERSION:
                    raise ValueError("unknown entry")
                tid = entry["title_id"]
                if not isinstance(tid, int) or not isinstance(entry.get("row"), dict):
                    raise ValueError("bad entry")
            except (ValueError, KeyError, TypeError):
                log.warning("journal line %d is incomplete or invalid; dropped (that title is fetched again)", number)
                self.dropped_journal_lines += 1
                dirty = True
                continue
            self.entries[tid] = entry
        if dirty or count != len(self.entries):
            write_jsonl_atomic(self.journal_path, self.entries.values())

    # ------------------------------------------------------------------ journal
    def append(self, entry: dict[str, Any]) -> None:
        """Record a finished title durably (one line, flushed and fsynced)."""
        if self._journal is None:
            raise RuntimeError("store is not open")
        entry = {"v": JOURNAL_VERSION, **entry}
        self._journal.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())
        self.entries[entry["title_id"]] = entry

    # ------------------------------------------------------------------ images
    def find_image(self, title_id: int, index: int) -> str | None:
        """Relative path of a complete image already on disk for this slot, if any."""
        stem = image_stem(title_id, index)
        for ext in EXTENSIONS.values():
            if (self.images / f"{stem}.{ext}").is_file():
                return f"{IMAGES_DIR}/{stem}.{ext}"
        return None

    def has(self, rel: str | None) -> bool:
        return rel is not None and (self.out / rel).is_file()

    def save_image(self, title_id: int, index: int, data: bytes, fmt: str) -> str:
        """Write an image atomically (temp file, fsync, rename); return its path relative to ``out``."""
        name = f"{image_stem(title_id, index)}.{EXTENSIONS.get(fmt.upper(), 'jpg')}"
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.images)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.images / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(self.images)
        return f"{IMAGES_DIR}/{name}"

    # ------------------------------------------------------------------ outputs
    def write_catalog(self, rows: list[dict[str, Any]]) -> Path:
        path = write_catalog(self.out, rows)
        _fsync_dir(self.out)
        return path

    def write_skipped(self, rows: list[dict[str, Any]]) -> Path:
        path = self.out / SKIPPED_FILE
        write_jsonl_atomic(path, rows)
        return path
