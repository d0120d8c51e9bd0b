"""Catalogue refresh and hot reload on a 10,000-title synthetic catalogue.

    .venv/bin/python bench/refresh.py [--run RUN] [--titles 10000]

Copies the run's models into a temporary run folder (the given run is never written), draws a synthetic catalogue of
``--titles`` titles (one small cover each: random blocks, fast to draw), builds the first index (every cover
embedded once, into the run's vector store), then adds **one** title and times the index refresh
(``ml.train.refresh.refresh_index``, what ``scripts.refresh`` runs after reading the source; the network part is
O(listing + changed titles) HTTP and not measured here), checks only that title's cover was embedded, times a
second refresh with no change (which must write nothing), and times the hot reload a bot process does
(``Engine.reload``: load the new generation's index, snapshot, title search and title vectors; the model is kept).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import machine_note, resolve_run, setup_env  # noqa: E402

TARGET_REFRESH_S = 60.0  # one new title on 10k: well under a minute (the full build is the O(catalogue) cost)
TARGET_RELOAD_S = 5.0


def draw_catalog(folder: Path, n: int, genres: list[str], seed: int = 0) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    images = folder / "images"
    images.mkdir(parents=True)
    with open(folder / "catalog.jsonl", "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps(cover_row(images, i, rng, genres), ensure_ascii=False) + "\n")


def cover_row(images: Path, i: int, rng, genres: list[str]) -> dict:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (72, 100), tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(4):
        x, y = (int(v) for v in rng.integers(0, 60, 2))
        draw.rectangle((x, y, x + 20, y + 30), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    name = f"t{i:05d}.jpg"
    img.save(images / name, "JPEG", quality=85)
    return {
        "id": f"bench:{i}",
        "title": f"벤치 제목 {i}",
        "title_en": f"Bench title {i}",
        "authors": [f"작가{i % 997}"],
        "genres": [genres[i % len(genres)]],
        "adult": False,
        "popularity_rank": i + 1,
        "images": [f"images/{name}"],
    }


def copy_models(run: Path, dest: Path, catalog: Path, n: int) -> None:
    dest.mkdir()
    for path in run.iterdir():
        if path.suffix == ".keras" or path.name in ("config.json", "split.json"):
            shutil.copy2(path, dest / path.name)
    config = json.loads((dest / "config.json").read_text(encoding="utf-8"))
    config["catalog"] = {"path": str(catalog), "sha256": "", "n_titles": n, "synthetic": True}
    config.pop("index", None)
    (dest / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", type=Path, help="run folder whose models to use (default: the demo run)")
    p.add_argument("--titles", type=int, default=10_000)
    args = p.parse_args(argv)
    setup_env()
    import numpy as np

    from ml.run import RunConfig
    from ml.serve.engine import Engine
    from ml.train.indexing import build_run_index
    from ml.train.refresh import refresh_index

    source = resolve_run(args.run)
    print(machine_note())
    genres = list(RunConfig.read(source).genres)
    with tempfile.TemporaryDirectory(prefix="toonmatch-bench-refresh-") as tmp:
        root = Path(tmp)
        catalog, run = root / "catalog", root / "run"
        started = time.perf_counter()
        draw_catalog(catalog, args.titles, genres)
        print(f"drew {args.titles} synthetic covers in {time.perf_counter() - started:.1f} s")
        copy_models(source, run, catalog, args.titles)
        started = time.perf_counter()
        stats = build_run_index(run, progress=False)
        first_s = time.perf_counter() - started
        print(f"first build: {stats['n_titles']} titles, {stats['images_embedded']} images embedded in {first_s:.1f} s")
        engine = Engine.load(run)
        with open(catalog / "catalog.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(cover_row(catalog / "images", args.titles, np.random.default_rng(1), genres)) + "\n")
        started = time.perf_counter()
        result = refresh_index(run, progress=False)
        refresh_s = time.perf_counter() - started
        print(
            f"refresh, one new title: {refresh_s:.1f} s; {result.images_embedded} image(s) embedded, "
            f"{result.images_reused} reused; new {len(result.changes.new)}, unchanged {result.changes.unchanged}"
        )
        started = time.perf_counter()
        again = refresh_index(run, progress=False)
        idle_s = time.perf_counter() - started
        print(f"refresh, no change: {idle_s:.1f} s; new generation written: {again.generation is not None}")
        reloads = []
        for _ in range(3):
            started = time.perf_counter()
            new = engine.reload()
            reloads.append(time.perf_counter() - started)
            assert new is not None and f"bench:{args.titles}" in new.titles
        reload_s = min(reloads)
        print(f"hot reload in a bot process (Engine.reload, best of 3): {reload_s:.2f} s")
        checks = [
            ("only the new title's cover embedded", result.images_embedded == 1),
            ("no-change refresh writes nothing", again.generation is None),
            (f"refresh of one new title ≤ {TARGET_REFRESH_S:.0f} s", refresh_s <= TARGET_REFRESH_S),
            (f"reload ≤ {TARGET_RELOAD_S:.0f} s", reload_s <= TARGET_RELOAD_S),
        ]
        for what, ok in checks:
            print(f"{'PASS' if ok else 'MISS'}  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
