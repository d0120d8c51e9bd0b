"""Refreshing a run's index from its (refreshed) catalogue with the run's own frozen serving model: no retraining.

:func:`refresh_index` embeds only the images the run's vector store lacks (new and changed covers), compares the
result with the generation being served and writes a new generation only when something changed. It holds
``RUN/.refresh.lock`` (``flock``: dropped by the kernel when the process dies, even on kill -9) so two refreshes of
one run never interleave; a killed refresh leaves the served generation as it was and the next one completes (the
vectors embedded before the kill are kept). Each refresh appends one line to ``RUN/refresh.jsonl``.

A run says a **retrain is due** when more than ``retrain_share`` of the served titles arrived after its heads were
fitted (titles not in ``split.json``); it never retrains on its own.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.format import load_catalog
from core.errors import RunFolderError
from ml.run import RunConfig, now_iso
from ml.train.indexing import Changes, carry_added, compare_snapshots, prepare_index, served_rows, write_index

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
LOG_FILE = "refresh.jsonl"
LOCK_FILE = ".refresh.lock"
DEFAULT_RETRAIN_SHARE = 0.2


@dataclass
class IndexRefresh:
    changes: Changes
    generation: str | None  # the new generation; None: nothing changed, nothing written
    n_titles: int = 0  # served titles after the refresh
    after_training: int = 0  # of them, titles the heads never saw
    retrain_share: float = DEFAULT_RETRAIN_SHARE
    images_embedded: int = 0
    images_reused: int = 0
    catalog_sha256: str = ""
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def share_after_training(self) -> float:
        return self.after_training / self.n_titles if self.n_titles else 0.0

    @property
    def retrain_due(self) -> bool:
        return self.share_after_training > self.retrain_share


@contextmanager
def run_lock(run: Path):
    fd = os.open(run / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise RunFolderError(f"another refresh of {run} is running; wait for it") from None
        yield
    finally:
        os.close(fd)


def trained_titles(run: Path) -> set[str] | None:
    """The titles the run's heads were fitted on (every split of ``split.json``); ``None`` without one."""
    config = RunConfig.read(run)
    path = run / config.split_file
    try:
        split = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {t for part in ("train", "val", "test") for t in split.get(part) or []}


def titles_after_training(run: Path, served: set[str]) -> int:
    """How many of ``served`` arrived after the run's heads were fitted (0 when the run has no split)."""
    trained = trained_titles(run)
    return 0 if trained is None else len(served - trained)


def refresh_index(
    run_dir: str | Path,
    catalog_dir: str | Path | None = None,
    *,
    retrain_share: float = DEFAULT_RETRAIN_SHARE,
    progress: bool = True,
    locked: bool = False,
) -> IndexRefresh:
    """Re-index RUN from its catalogue (default: the one it was trained on) reusing stored vectors; a new
    generation only when something changed. ``locked``: the caller already holds :func:`run_lock`."""
    run = Path(run_dir).expanduser()
    config = RunConfig.read(run)
    if config.index is None:
        raise RunFolderError(f"{run}: no index yet; build it with `python -m scripts.build_index --run {run}`")
    with run_lock(run) if not locked else nullcontext():
        catalog = load_catalog(catalog_dir or config.catalog.path, require_images=True)
        prepared = prepare_index(run, config, catalog, progress=progress)
        old = served_rows(run)
        changes = compare_snapshots(old, prepared.rows)
        carry_added(old, prepared.rows, changes)
        served = {tid for tid, row in prepared.rows.items() if not row.get("removed")}
        result = IndexRefresh(
            changes,
            None,
            n_titles=len(served),
            after_training=titles_after_training(run, served),
            retrain_share=retrain_share,
            images_embedded=prepared.embedded,
            images_reused=prepared.reused,
            catalog_sha256=catalog.fingerprint(),
        )
        if changes.any:
            result.stats = write_index(run, config, prepared, changes, progress=progress)
            result.generation = result.stats["generation"]
            note_in_report(run, result)
    return result


REPORT_MARK = "<!-- catalogue refresh -->"


def note_in_report(run: Path, result: IndexRefresh) -> None:
    """Keep one "Catalogue refreshes" section at the end of ``report.md``: the titles served now and how many the
    heads were never fitted on (the report's metrics are those of training time)."""
    path = Path(run) / "report.md"
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    text = text.split(REPORT_MARK)[0].rstrip() + "\n\n"
    due = " — **a retrain is due**" if result.retrain_due else ""
    text += (
        f"{REPORT_MARK}\n## Catalogue refreshes\n\nAfter the last refresh ({now_iso()}, generation "
        f"`{result.generation}`): {result.n_titles} titles served, {result.after_training} of them "
        f"({result.share_after_training:.0%}) arrived after the heads were fitted{due}. The metrics above are those of "
        "training time; `refresh.jsonl` has every refresh.\n"
    )
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def append_log(run: Path, entry: dict[str, Any]) -> None:
    """One line of ``RUN/refresh.jsonl`` (appended and synced)."""
    with open(Path(run) / LOG_FILE, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"at": now_iso(), **entry}, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_log(run: Path) -> list[dict[str, Any]]:
    path = Path(run) / LOG_FILE
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:  # a torn last line of a killed refresh
            continue
    return out
