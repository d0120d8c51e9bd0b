"""Building a run's index from a catalogue: embed every image, Annoy index, recall vs exact, catalogue snapshot."""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import replace
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from catalog.format import Catalog, load_catalog, write_catalog
from ml.embedding import compiled, item_arrays, run_batched
from ml.run import RunConfig, load_model, now_iso
from ml.serve import TITLES_PER_ANSWER
from ml.serve.hubness import DEFAULT_PARAMS
from ml.serve.index import TitleIndex, recall_vs_exact
from ml.train.dataset import load_title_images

log = logging.getLogger(__name__)
COVERS_DIR = "covers"
COVER_MAX_SIDE = 192


def write_snapshot(
    run_dir: Path, catalog: Catalog, title_images: dict[str, list[Image.Image]], progress: bool = True
) -> None:
    """RUN/catalog.jsonl + RUN/covers/: the indexed titles' metadata with a small cover each, so serving (titles,
    links, contact sheets) needs nothing outside the run folder. The snapshot is itself a valid catalogue."""
    covers = run_dir / COVERS_DIR
    tmp = run_dir / (COVERS_DIR + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    rows = []
    for n, title in enumerate(
        tqdm(catalog.titles, desc="writing cover thumbnails", unit="title", disable=not progress, leave=False)
    ):
        if title.id not in title_images:
            continue
        img = title_images[title.id][0].copy()
        img.thumbnail((COVER_MAX_SIDE, COVER_MAX_SIDE), Image.Resampling.LANCZOS)
        name = f"{n:06d}.jpg"
        img.save(tmp / name, format="JPEG", quality=88)
        row = title.to_json(catalog.root)
        row["images"] = [f"{COVERS_DIR}/{name}"]
        rows.append(row)
    shutil.rmtree(covers, ignore_errors=True)
    tmp.replace(covers)
    write_catalog(run_dir, rows)


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
        source = catalog_dir or config.catalog.path
        catalog = load_catalog(source, require_images=True)
    if title_images is None:
        title_images = load_title_images(catalog, progress=progress)
    size = config.input_size
    n_trees = int(n_trees or config.n_trees)
    serving = compiled(load_model(run, "serving"), size)
    started = time.perf_counter()
    arrays, owners = item_arrays(title_images, size, flips=config.index_flips)
    embeddings = run_batched(lambda x: serving(x)["embedding"], arrays, progress=progress, desc="embedding images")
    embed_s = time.perf_counter() - started
    index = TitleIndex.build(embeddings, owners, n_trees=n_trees, seed=config.split_seed, hubness=DEFAULT_PARAMS)
    recall = recall_vs_exact(index, embeddings, k=TITLES_PER_ANSWER)
    index.save(run)
    write_snapshot(run, catalog, title_images, progress=progress)
    stats = {
        "n_titles": index.n_titles,
        "n_items": len(owners),
        "n_trees": n_trees,
        "dim": index.dim,
        "recall@24_vs_exact": recall,
        "embed_seconds": round(embed_s, 2),
        "built_at": now_iso(),
        "catalog": {"path": str(catalog.root), "sha256": catalog.fingerprint(), "n_titles": len(catalog)},
    }
    replace(config, index=stats, n_trees=n_trees).write(run)
    log.info("indexed %d images of %d titles; recall@24 vs exact %.3f", len(owners), index.n_titles, recall)
    return stats
