"""Memory per bot process, and what several processes serving the same run folder share.

    python bench/memory.py [--run RUN] [--requests 48] [--index-items 200000] [--processes 2]

Part 1, the run folder: each process does what a bot process does with it. It imports what the bot runs on
(discord.py, aiohttp, SQLAlchemy), loads the engine (models, catalogue snapshot, Annoy index memory-mapped with
``prefault=False`` as the bot does), answers ``--requests`` /similar requests with contact sheets and queries every
index item once, so that the index pages it would touch in service are resident. Measured alone, then with
``--processes`` of them running at once.

Part 2, the index at scale: a synthetic Annoy index of ``--index-items`` vectors of the run's dimension, loaded
(memory-mapped, every page faulted in) by one process, then by ``--processes`` at once.

Numbers come from ``/proc/<pid>/smaps_rollup`` (RSS, PSS: each shared page divided by the processes mapping it;
private = pages only this process maps, what one more process costs at least) and, for the index file, from its
mapping in ``/proc/<pid>/smaps``. Linux only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # `python bench/memory.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import ROOT, machine_note, print_table, resolve_run, setup_env

MIB = 1024.0
ROLLUP_KEYS = ("Rss", "Pss", "Pss_Anon", "Pss_File", "Shared_Clean", "Private_Clean", "Private_Dirty")


# ---- measuring a process (runs in the child) ------------------------------------------------------------------------
def smaps_rollup(pid: str = "self") -> dict[str, float]:
    """The process's totals in MiB (``Rss``, ``Pss``, …)."""
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        if key in ROLLUP_KEYS:
            out[key] = int(rest.split()[0]) / MIB
    return out


def file_mapping(name: str, pid: str = "self") -> dict[str, float]:
    """``Size``/``Rss``/``Pss``/``Shared_Clean`` (MiB) summed over the mappings of files named ``name``."""
    totals = dict.fromkeys(("Size", "Rss", "Pss", "Shared_Clean"), 0.0)
    inside = False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5 and ":" not in head[0]:  # a mapping's first line
            inside = len(head) >= 6 and head[-1].endswith(name)
        elif inside and head and head[0].rstrip(":") in totals:
            totals[head[0].rstrip(":")] += int(head[1]) / MIB
    return totals


def _serve_child(run: Path, requests: int) -> None:
    import asyncio

    setup_env()
    # What a bot process holds besides the engine (the bot's own modules are small; bench may not import them).
    import aiohttp  # noqa: F401
    import discord.ext.commands  # noqa: F401

    import db.session  # noqa: F401  (SQLAlchemy async, alembic)
    from bench import cover_paths, upload_bytes
    from ml.serve.engine import Engine
    from ml.serve.recommender import Recommender

    engine = Engine.load(run)
    uploads = upload_bytes(cover_paths(run), requests)

    async def warm() -> None:
        rec = Recommender(engine)
        try:
            for data in uploads:
                answer, img = await rec.similar(data)
                await rec.contact_sheet(answer, img)
        finally:
            await rec.aclose()

    asyncio.run(warm())
    ann = engine.index.ann
    for i in range(ann.get_n_items()):  # every item once: the index pages a long-running bot ends up touching
        ann.get_nns_by_item(i, 24)
    _report_loop("index.ann")


def _annoy_child(path: Path, dim: int) -> None:
    from annoy import AnnoyIndex

    ann = AnnoyIndex(dim, "angular")
    ann.load(str(path), prefault=True)  # every page of the file mapped
    ann.get_nns_by_item(0, 24)
    _report_loop(path.name)


def _report_loop(index_name: str) -> None:
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "measure":
            break
        print(json.dumps({"total": smaps_rollup(), "index": file_mapping(index_name)}), flush=True)


# ---- driving the children (runs in the parent) ---------------------------------------------------------------------
def measure(child_args: list[str], n: int) -> list[dict]:
    """Start ``n`` children, wait until every one is loaded, then measure them all at once (while all are alive)."""
    procs = [
        subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", *child_args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    try:
        for p in procs:
            line = p.stdout.readline()
            if line.strip() != "ready":
                sys.exit(f"a measuring process failed to start (exit status {p.wait()})")
        out = []
        for p in procs:
            p.stdin.write("measure\n")
            p.stdin.flush()
            out.append(json.loads(p.stdout.readline()))
        return out
    finally:
        for p in procs:
            if p.poll() is None:
                p.stdin.close()
                p.wait(timeout=60)


def rows(label: str, results: list[dict]) -> list[list[object]]:
    """One row per process; with several, a last row of sums (the sum of PSS is what they take together)."""
    table = []
    for i, r in enumerate(results, start=1):
        t, ix = r["total"], r["index"]
        private = t["Private_Clean"] + t["Private_Dirty"]
        table.append(
            [f"{label}, process {i}", t["Rss"], t["Pss"], private, t["Shared_Clean"], ix["Size"], ix["Rss"], ix["Pss"]]
        )
    if len(table) > 1:
        sums: list[object] = [sum(row[c] for row in table) for c in range(1, len(HEADER))]
        sums[4] = ""  # one file, however many map it
        table.append([f"{label}, sum", *sums])
    return table


HEADER = ["", "RSS MiB", "PSS MiB", "private MiB", "shared clean MiB", "index file MiB", "index RSS", "index PSS"]


def build_index(folder: Path, items: int, dim: int) -> Path:
    import numpy as np
    from annoy import AnnoyIndex

    rng = np.random.default_rng(0)
    ann = AnnoyIndex(dim, "angular")
    for i, vec in enumerate(rng.standard_normal((items, dim), dtype=np.float32)):
        ann.add_item(i, vec)
    ann.build(10, n_jobs=1)
    path = folder / "synthetic.ann"
    ann.save(str(path))
    return path


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", type=Path, help="run folder (default: the demo run, built on first use)")
    p.add_argument("--requests", type=int, default=48, help="/similar requests each process answers before measuring")
    p.add_argument("--index-items", type=int, default=200_000, help="vectors in the synthetic index (0: skip part 2)")
    p.add_argument("--processes", type=int, default=2, help="processes at once in the shared measurements")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "serve":
            _serve_child(Path(rest[0]), int(rest[1]))
        else:
            _annoy_child(Path(rest[0]), int(rest[1]))
        return

    setup_env()
    run = resolve_run(args.run)
    from ml.serve.index import index_paths

    paths = index_paths(run)
    if paths is None:
        sys.exit(f"{run}: no index; build it with `python -m scripts.build_index --run {run}`")
    ann_path, ids_path = paths
    meta = json.loads(ids_path.read_text(encoding="utf-8"))
    dim, items = int(meta["dim"]), len(meta["items"])
    print(f"bench/memory.py — {machine_note()}")
    print(f"run folder {run}: index of {items} items × {dim} dims, {ann_path.stat().st_size / 2**20:.1f} MiB")

    one = measure(["serve", str(run), str(args.requests)], 1)
    many = measure(["serve", str(run), str(args.requests)], args.processes)
    print_table(
        "part 1: a bot process serving the run folder (engine loaded, requests answered, every index item queried)",
        HEADER,
        rows("alone", one) + rows(f"{args.processes} at once", many),
    )
    if args.index_items:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            path = build_index(Path(tmp), args.index_items, dim)
            built = time.perf_counter() - started
            print(f"\nsynthetic index: {args.index_items:,} items × {dim} dims, 10 trees, built in {built:.0f} s")
            one = measure(["annoy", str(path), str(dim)], 1)
            many = measure(["annoy", str(path), str(dim)], args.processes)
        print_table(
            "part 2: the index alone at scale (memory-mapped, every page faulted in)",
            HEADER,
            rows("alone", one) + rows(f"{args.processes} at once", many),
        )
    print(
        "\nPSS counts each shared page once over the processes that map it: the index file's pages (and the shared"
        "\nlibraries') are in the page cache once, however many bot processes map them. What a process adds is about"
        "\nits private memory (models, Python heap, caches), not its RSS."
    )


if __name__ == "__main__":
    main()
