"""Building a run's index from a catalogue: embed the images (reusing the run's vector store), Annoy index, recall vs
exact, and the catalogue snapshot, all swapped in as one index generation.

A build is two steps: :func:`prepare_index` embeds what the vector store (:mod:`ml.vectors`) does not hold yet and
lays out the items and the snapshot rows; :func:`write_index` builds the Annoy index and swaps in the generation
``RUN/index/<g>/`` (``index.ann``, ``ids.json``, ``catalog.jsonl``, ``generation.json``). Between the two,
:func:`compare_snapshots` says what changed against the generation being served (a refresh writes nothing when
nothing did). Cover thumbnails live in ``RUN/covers/``, named by the cover's content hash, so generations share
them and a generation's files never change under a process still serving it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from catalog.format import CATALOG_FILE, Catalog, load_catalog, write_catalog
from core.errors import BadImageError, EmptyCatalogError
from ml.embedding import compiled, run_batched
from ml.preprocess import load_panels, open_image, split_panels
from ml.run import MODEL_FILES, RunConfig, load_model, model_path, now_iso, write_json
from ml.serve import TITLES_PER_ANSWER
from ml.serve.hubness import DEFAULT_PARAMS
from ml.serve.index import INDEX_DIR, TitleIndex, current_generation, generations, recall_vs_exact
from ml.vectors import VectorStore, file_sha256, image_key

log = logging.getLogger(__name__)
COVERS_DIR = "covers"
COVER_MAX_SIDE = 192
GENERATION_FILE = "generation.json"
EMBED_CHUNK = 256  # images decoded and embedded at a time (bounds memory on a large refresh)
RANK_FIELDS = ("popularity_rank", "star_score")  # move every day on a live source: an update, not a change
VOLATILE_FIELDS = ("images", "scraped_at", "added")  # never compared


# ---- what a build lays out -------------------------------------------------------------------------------------
@dataclass
class Prepared:
    """The items of an index (embeddings, their titles) and the snapshot rows of the titles they cover."""

    catalog: Catalog
    embeddings: np.ndarray
    owners: list[str]
    rows: dict[str, dict[str, Any]]  # id → snapshot row (served and removed titles), images = the source images
    covers: dict[str, Path]  # id → the cover file a thumbnail is made from
    cover_sha: dict[str, str]
    embedded: int = 0  # images embedded now (the others came from the store)
    reused: int = 0
    unreadable: int = 0
    embed_seconds: float = 0.0


@dataclass
class Changes:
    """What a snapshot changes against the one served: new, changed (the fields), removed titles; rank updates."""

    new: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    reranked: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def any(self) -> bool:
        return bool(self.new or self.changed or self.removed or self.reranked)

    def to_json(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "changed": self.changed,
            "removed": self.removed,
            "reranked": len(self.reranked),
            "unchanged": self.unchanged,
        }


def model_identity(run: Path, config: RunConfig) -> dict[str, Any]:
    """What the stored vectors depend on: the serving model's bytes and how images become items."""
    return {
        "serving_sha256": file_sha256(model_path(run, "serving")),
        "input_size": config.input_size,
        "flips": bool(config.index_flips),
        "models": config.models.get("serving", MODEL_FILES["serving"]),
    }


def _decode(path: Path) -> list[Image.Image] | None:
    try:
        return split_panels(open_image(path))
    except BadImageError as exc:
        log.warning("skipping image %s: %s", path, exc)
        return None


def prepare_index(
    run: Path,
    config: RunConfig,
    catalog: Catalog,
    *,
    serving=None,
    title_images: dict[str, list[Image.Image]] | None = None,
    progress: bool = True,
) -> Prepared:
    """Embed the catalogue's images the vector store lacks (in chunks, with a progress bar), store them, and lay out
    the index items (each title's panels; with flips, all mirror images after all originals, so a title's first
    item is its cover) and the snapshot rows. Removed titles get a row but no items. ``title_images`` (training's
    decoded images) spare decoding single-image titles again."""
    store = VectorStore.open(run, model_identity(run, config))
    flips = bool(config.index_flips)
    served = [t for t in catalog.titles if t.removed is None]
    keys: dict[str, list[tuple[str, str]]] = {}  # title → [(key, sha)] of its images, in order
    missing: dict[str, tuple[Path, str]] = {}  # key → (path, title)
    for title in tqdm(served, desc="hashing images", unit="title", disable=not progress, leave=False):
        entries = []
        for path in title.images:
            try:
                sha = file_sha256(path)
            except OSError as exc:
                log.warning("skipping image of %s: %s", title.id, exc)
                continue
            key = image_key(os.path.relpath(path, catalog.root), sha)
            entries.append((key, sha))
            if store.get(key) is None and key not in missing:
                missing[key] = (path, title.id)
        keys[title.id] = entries
    started = time.perf_counter()
    embedded = unreadable = 0
    if missing:
        serving = serving or compiled(load_model(run, "serving"), config.input_size)
        todo = list(missing.items())
        bar = tqdm(total=len(todo), desc="embedding new images", unit="img", disable=not progress, leave=False)
        for start in range(0, len(todo), EMBED_CHUNK):
            chunk = todo[start : start + EMBED_CHUNK]
            panels: list[tuple[str, list[Image.Image]]] = []
            for key, (path, title_id) in chunk:
                given = (title_images or {}).get(title_id)
                images = given if given is not None and len(keys[title_id]) == 1 else _decode(path)
                if images:
                    panels.append((key, images))
                else:
                    store.put(key, np.zeros((0, 1), np.float32))  # known unreadable: not decoded again
                    unreadable += 1
            if panels:
                arrays = np.stack([load_panels(img, config.input_size)[0] for _, imgs in panels for img in imgs])
                if flips:
                    arrays = np.concatenate([arrays, arrays[:, :, ::-1]])
                out = run_batched(lambda x: serving(x)["embedding"], arrays)
                n = sum(len(imgs) for _, imgs in panels)
                at = 0
                for key, imgs in panels:
                    rows = out[at : at + len(imgs)]
                    if flips:
                        rows = np.concatenate([rows, out[n + at : n + at + len(imgs)]])
                    store.put(key, rows)
                    at += len(imgs)
                    embedded += 1
            bar.update(len(chunk))
        bar.close()
        store.flush()  # stored before the index is built: a kill from here on re-embeds nothing
    embed_s = time.perf_counter() - started
    originals: list[np.ndarray] = []
    mirrored: list[np.ndarray] = []
    owners: list[str] = []
    rows: dict[str, dict[str, Any]] = {}
    covers: dict[str, Path] = {}
    cover_sha: dict[str, str] = {}
    for title in served:
        vectors, shas = [], []
        for (key, sha), path in zip(keys[title.id], title.images, strict=False):
            vec = store.get(key)
            if vec is None or len(vec) == 0:
                continue
            n = len(vec) // 2 if flips else len(vec)
            vectors.append((vec[:n], vec[n:]))
            shas.append(sha)
            if title.id not in covers:
                covers[title.id], cover_sha[title.id] = path, sha
        if not vectors:
            continue
        for orig, mirror in vectors:
            originals.append(orig)
            mirrored.append(mirror)
            owners += [title.id] * len(orig)
        row = title.to_json(catalog.root)
        row["image_sha256"] = shas
        rows[title.id] = row
    for title in catalog.titles:
        if title.removed is not None:
            row = title.to_json(catalog.root)
            row["images"] = []
            rows[title.id] = row
    if not owners:
        raise EmptyCatalogError(f"no readable images in catalogue {catalog.root}")
    embeddings = np.concatenate(originals + (mirrored if flips else []))
    if flips:
        owners = owners + owners
    return Prepared(
        catalog,
        embeddings.astype(np.float32),
        owners,
        rows,
        covers,
        cover_sha,
        embedded=embedded,
        reused=sum(len(v) for v in keys.values()) - len(missing),
        unreadable=unreadable,
        embed_seconds=embed_s,
    )


# ---- comparing snapshots -----------------------------------------------------------------------------------------
def served_rows(run: Path) -> dict[str, dict[str, Any]]:
    """The snapshot rows of the generation ``run`` serves (``{}`` without one), by id."""
    run = Path(run)
    generation = current_generation(run)
    path = run / INDEX_DIR / generation / CATALOG_FILE if generation else run / CATALOG_FILE
    if not path.is_file():
        path = run / CATALOG_FILE
    if not path.is_file():
        return {}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {r["id"]: r for r in rows}


def _comparable(row: dict[str, Any], *, shas: bool) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in VOLATILE_FIELDS and v not in (None, [], "")}
    if not shas:
        out.pop("image_sha256", None)
    return out


def compare_snapshots(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> Changes:
    """What ``new`` changes against ``old`` (snapshot rows by id). A title gone from ``new`` or marked ``removed``
    there is removed; one back from removal is changed (``removed``); only rank fields differing is a rank update.
    Rows of older snapshots, without image hashes, are compared on their metadata alone."""
    changes = Changes()
    for tid, row in new.items():
        before = old.get(tid)
        if row.get("removed"):
            if before is not None and not before.get("removed"):
                changes.removed.append(tid)
            continue
        if before is None:
            changes.new.append(tid)
            continue
        shas = "image_sha256" in before
        a, b = _comparable(before, shas=shas), _comparable(row, shas=shas)
        fields = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        major = [f for f in fields if f not in RANK_FIELDS]
        if major:
            changes.changed[tid] = major
        elif fields:
            changes.reranked.append(tid)
        else:
            changes.unchanged += 1
    changes.removed += [tid for tid, row in old.items() if tid not in new and not row.get("removed")]
    return changes


def carry_added(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], changes: Changes) -> None:
    """Stamp each title's ``added`` (the day a refresh first indexed it; titles of the first build have none):
    today for the new ones, the old snapshot's for the others."""
    today = now_iso()[:10]
    fresh = set(changes.new) if old else set()
    for tid, row in new.items():
        if tid in fresh:
            row["added"] = today
        elif old.get(tid, {}).get("added"):
            row["added"] = old[tid]["added"]


# ---- writing a generation ---------------------------------------------------------------------------------------
def _cover_name(sha: str) -> str:
    return f"{sha[:32]}.jpg"


def _write_covers(run: Path, prepared: Prepared, title_images: dict[str, list[Image.Image]] | None) -> None:
    """A small JPEG per cover in RUN/covers/ (named by the source's hash: existing ones are reused as they are)."""
    folder = run / COVERS_DIR
    folder.mkdir(exist_ok=True)
    for tid, sha in prepared.cover_sha.items():
        final = folder / _cover_name(sha)
        if final.is_file():
            continue
        given = (title_images or {}).get(tid)
        try:
            img = (given[0] if given else open_image(prepared.covers[tid])).copy()
        except BadImageError:  # readable when embedded moments ago; a cover unreadable now gets a placeholder
            continue
        img.thumbnail((COVER_MAX_SIDE, COVER_MAX_SIDE), Image.Resampling.LANCZOS)
        tmp = folder / f".{final.name}.tmp"
        img.convert("RGB").save(tmp, format="JPEG", quality=88)
        os.replace(tmp, final)


def _snapshot(prepared: Prepared, prefix: str) -> list[dict[str, Any]]:
    """The snapshot rows in catalogue order, each with its cover thumbnail (``prefix``: the way from the snapshot's
    folder to the run folder)."""
    out = []
    position = {t.id: i for i, t in enumerate(prepared.catalog.titles)}
    for tid in sorted(prepared.rows, key=position.__getitem__):
        row = dict(prepared.rows[tid])
        sha = prepared.cover_sha.get(tid)
        row["images"] = [f"{prefix}{COVERS_DIR}/{_cover_name(sha)}"] if sha and not row.get("removed") else []
        out.append(row)
    return out


def _tidy_covers(run: Path) -> None:
    """Remove cover thumbnails no kept generation (nor the top-level snapshot) names; best effort."""
    folder = run / COVERS_DIR
    if not folder.is_dir():
        return
    wanted: set[str] = set()
    snapshots = [run / INDEX_DIR / g / CATALOG_FILE for g in generations(run)] + [run / CATALOG_FILE]
    for path in snapshots:
        try:
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    wanted.update(Path(p).name for p in json.loads(line).get("images") or [])
        except (OSError, ValueError):
            return  # cannot tell what is in use: keep everything
    for cover in folder.iterdir():
        if cover.is_file() and cover.name not in wanted:
            cover.unlink(missing_ok=True)


def write_index(
    run: Path,
    config: RunConfig,
    prepared: Prepared,
    changes: Changes,
    *,
    n_trees: int | None = None,
    title_images: dict[str, list[Image.Image]] | None = None,
    progress: bool = True,
) -> dict:
    """Build the Annoy index over ``prepared`` and swap it in with its snapshot as one new generation; returns the
    index stats (also written to config.json's ``index``)."""
    n_trees = int(n_trees or config.n_trees)
    index = TitleIndex.build(
        prepared.embeddings, prepared.owners, n_trees=n_trees, seed=config.split_seed, hubness=DEFAULT_PARAMS
    )
    recall = recall_vs_exact(index, prepared.embeddings, k=TITLES_PER_ANSWER)
    _write_covers(run, prepared, title_images)
    catalog = prepared.catalog
    previous = current_generation(run)
    info = {
        "created_at": now_iso(),
        "previous": previous,
        "catalog": {"path": str(catalog.root), "sha256": catalog.fingerprint(), "n_titles": len(catalog)},
        "n_titles": index.n_titles,
        "changes": changes.to_json(),
    }

    def extra(folder: Path) -> None:
        write_catalog(folder, _snapshot(prepared, "../../"))
        write_json(folder / GENERATION_FILE, info)

    final = index.save(run, extra)
    write_catalog(run, _snapshot(prepared, ""))  # the top-level copy (older readers, scripts.rate)
    _tidy_covers(run)
    stats = {
        "n_titles": index.n_titles,
        "n_items": len(prepared.owners),
        "n_trees": n_trees,
        "dim": index.dim,
        "recall@24_vs_exact": recall,
        "embed_seconds": round(prepared.embed_seconds, 2),
        "images_embedded": prepared.embedded,
        "images_reused": prepared.reused,
        "generation": final.name,
        "built_at": info["created_at"],
        "catalog": info["catalog"],
    }
    replace(RunConfig.read(run), index=stats, n_trees=n_trees).write(run)
    log.info(
        "indexed %d images of %d titles (%d embedded now, %d from the vector store); recall@24 vs exact %.3f",
        len(prepared.owners),
        index.n_titles,
        prepared.embedded,
        prepared.reused,
        recall,
    )
    return stats


def build_run_index(
    run_dir: str | Path,
    catalog_dir: str | Path | None = None,
    *,
    n_trees: int | None = None,
    catalog: Catalog | None = None,
    title_images: dict[str, list[Image.Image]] | None = None,
    progress: bool = True,
) -> dict:
    """(Re)build RUN's index from a catalogue (default: the one recorded in config.json). Returns index stats."""
    run = Path(run_dir)
    config = RunConfig.read(run)
    if catalog is None:
        catalog = load_catalog(catalog_dir or config.catalog.path, require_images=True)
    prepared = prepare_index(run, config, catalog, title_images=title_images, progress=progress)
    old = served_rows(run)
    changes = compare_snapshots(old, prepared.rows)
    carry_added(old, prepared.rows, changes)
    return write_index(run, config, prepared, changes, n_trees=n_trees, title_images=title_images, progress=progress)
