"""Embedding throughput, index query latency and fuzzy title search latency.

    python bench/embed.py [--run RUN] [--seconds 3]

- the run's serving model through ``ml.embedding.compiled`` (the one traced graph serving uses): images/s at batch 1
  (one request, one panel) and batched (32, 64), on real covers letterboxed by the shared loader;
- ``TitleIndex.query`` (k=24, title-level: over-fetch + dedupe) and the raw ``get_nns_by_vector`` beneath it, with
  query vectors embedded from covers;
- ``TitleSearch.search`` at 10,000 titles: the real catalogue's titles (``../shared/data/metadata/catalog.jsonl``
  when present, else the run's) replicated with sequel/season/variant suffixes up to 10k, queried with ~200
  keystroke-like partial queries in Korean and English.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # `python bench/embed.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import Target, machine_note, pct, print_table, print_targets, resolve_run, setup_env, timed

REAL_CATALOG = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "metadata" / "catalog.jsonl"
SEARCH_TITLES = 10_000
SEARCH_QUERIES = 200
SEARCH_TARGET_MS = 5.0


def bench_model(run: Path, seconds: float, batch_sizes: tuple[int, ...]):
    import numpy as np

    from bench import cover_paths
    from ml.embedding import compiled
    from ml.preprocess import load_panels
    from ml.run import RunConfig, load_model

    size = RunConfig.read(run).input_size
    model = load_model(run, "serving")
    fn = compiled(model, size)
    paths = cover_paths(run, limit=max(batch_sizes) * 2)
    images = np.concatenate([load_panels(p, size) for p in paths])
    while len(images) < max(batch_sizes):
        images = np.concatenate([images, images])
    fn(images[:1])  # the one trace (Engine.load does the same before serving)
    rows, emb_all = [], []
    for bs in (1, *batch_sizes):
        for _ in range(2):  # warm-up at this size (allocator, oneDNN primitives)
            fn(images[:bs])
        calls, started, lat = 0, time.perf_counter(), []
        while time.perf_counter() - started < seconds or calls < 5:
            start = (calls * bs) % max(1, len(images) - bs + 1)
            ms, out = timed(fn, images[start : start + bs])
            lat.append(ms)
            calls += 1
            if bs == 1:
                emb_all.append(out["embedding"])
        elapsed = time.perf_counter() - started
        rows.append([f"batch {bs}", calls, calls * bs / elapsed, pct(lat, 50), pct(lat, 99), pct(lat, 50) / bs])
    embeddings = np.concatenate(emb_all) if emb_all else fn(images)["embedding"]
    return rows, embeddings, size


def bench_index(run: Path, embeddings, n_queries: int = 500):
    import numpy as np

    from ml.serve.index import TitleIndex

    index = TitleIndex.load(run)
    rng = np.random.default_rng(0)
    vecs = embeddings[rng.integers(0, len(embeddings), n_queries)]
    vecs = vecs + rng.normal(0, 0.05, vecs.shape).astype(np.float32)  # no two queries alike
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    k = 24
    want = index.first_fetch(k)
    for v in vecs[:20]:
        index.query(v, k)  # page the memory-mapped index in
    q_ms = [timed(index.query, v, k)[0] for v in vecs]
    lists = [v.tolist() for v in vecs]
    raw_ms = [timed(index.ann.get_nns_by_vector, v, want, include_distances=True)[0] for v in lists]
    return [
        [f"TitleIndex.query k={k}", n_queries, pct(q_ms, 50), pct(q_ms, 99)],
        [f"get_nns_by_vector n={want} (raw)", n_queries, pct(raw_ms, 50), pct(raw_ms, 99)],
    ], (len(index.item_titles), index.n_titles)


# ---- fuzzy search ---------------------------------------------------------------------------------------------------
SUFFIXES_KO = ("시즌2", "2부", "외전", "리메이크", "완전판", "시즌3", "번외편", "리마스터")
SUFFIXES_EN = ("Season 2", "Part 2", "Side Story", "Remake", "Complete", "Season 3", "Extra", "Remastered")


def _slug_english(title_id: str) -> str | None:
    """A plausible English title from an id slug (``daum:1punchTeacher`` → ``1punch Teacher``); None if numeric."""
    import re

    slug = title_id.split(":", 1)[-1]
    if not re.search("[A-Za-z]{3}", slug):
        return None
    words = re.sub(r"(?<=[a-z])(?=[A-Z])|[_\-]+", " ", slug).split()
    return " ".join(w.capitalize() if w.islower() else w for w in words)


def search_corpus(run: Path):
    """~10,000 titles: real (or run) titles, then suffixed variants with varied authors until 10k."""
    from catalog.format import Title, load_catalog

    base = _real_titles() if REAL_CATALOG.is_file() else []
    if base:
        source = f"{len(base):,} real titles from {REAL_CATALOG}"
    else:
        base = list(load_catalog(run, check_images=False).titles)
        source = f"{len(base):,} titles of the run's catalogue"
    seeds = [t if t.title_en else _with_en(t, _slug_english(t.id)) for t in base]
    titles = list(seeds)
    n = 0
    while len(titles) < SEARCH_TITLES:
        t = seeds[n % len(seeds)]
        rep = n // len(seeds)
        ko, en = SUFFIXES_KO[rep % len(SUFFIXES_KO)], SUFFIXES_EN[rep % len(SUFFIXES_EN)]
        titles.append(
            Title(
                id=f"{t.id}~{rep}",
                title=f"{t.title} {ko}",
                title_en=f"{t.title_en} {en}" if t.title_en else None,
                authors=tuple(f"{a}{rep}" for a in t.authors),
                genres=t.genres,
                images=(),
            )
        )
        n += 1
    return titles, source


def _real_titles():
    """The real metadata's titles, leniently (a few raw rows have no title: skipped, as search would never see
    them)."""
    import json

    from catalog.format import Title

    out = []
    for line in REAL_CATALOG.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(row.get("title"), str) or not row["title"].strip() or not row.get("id"):
            continue
        authors = tuple(a for a in row.get("authors") or () if isinstance(a, str) and a.strip())
        en = row.get("title_en") if isinstance(row.get("title_en"), str) else None
        out.append(Title(str(row["id"]), row["title"].strip(), authors, tuple(row.get("genres") or ()), (), en))
    return out


def _with_en(t, english: str | None):
    from dataclasses import replace

    return replace(t, title_en=english) if english else t


def search_queries(titles, n: int = SEARCH_QUERIES, seed: int = 0) -> list[tuple[str, str]]:
    """Keystroke-like partial queries: prefixes of 1–8 characters (Korean) / 2–12 (English), some mid-word,
    some with a typo; half Korean, half English."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ko = [t.title for t in titles]
    en = [t.title_en for t in titles if t.title_en] or ["solo leveling", "tower of god", "lookism"]
    out = []
    for i in range(n):
        if i % 2 == 0:
            name = ko[int(rng.integers(len(ko)))]
            q = name[: int(rng.integers(1, min(8, len(name)) + 1))]
            lang = "ko"
        else:
            name = en[int(rng.integers(len(en)))]
            q = name[: int(rng.integers(2, min(12, len(name)) + 1))].lower()
            lang = "en"
        if i % 7 == 3 and len(q) > 3:  # a typo: drop one character
            j = int(rng.integers(1, len(q) - 1))
            q = q[:j] + q[j + 1 :]
        out.append((lang, q))
    return out


def bench_search(run: Path):
    from ml.serve.search import TitleSearch

    titles, source = search_corpus(run)
    build_ms, searcher = timed(TitleSearch, titles)
    queries = search_queries(titles)
    for _, q in queries[:10]:
        searcher.search(q)
    per_lang: dict[str, list[float]] = {"ko": [], "en": []}
    hits = 0
    for lang, q in queries:
        ms, found = timed(searcher.search, q)
        per_lang[lang].append(ms)
        hits += bool(found)
    all_ms = per_lang["ko"] + per_lang["en"]
    rows = [[f"{lang} partial queries", len(v), pct(v, 50), pct(v, 99), max(v)] for lang, v in per_lang.items() if v]
    rows.append(["all", len(all_ms), pct(all_ms, 50), pct(all_ms, 99), max(all_ms)])
    info = (
        f"{len(titles):,} titles ({source}, replicated with suffixes), "
        f"{len(searcher._choices):,} searchable names; built in {build_ms:.0f} ms; {hits}/{len(queries)} queries "
        "had results"
    )
    return rows, info, all_ms


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/embed.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--run", type=Path, default=None, help="run folder (default: build/reuse the demo run)")
    p.add_argument("--seconds", type=float, default=3.0, help="time spent per batch size")
    args = p.parse_args(argv)
    setup_env()
    print(machine_note())
    run = resolve_run(args.run)
    print(f"run: {run}")

    import tensorflow as tf

    print(
        f"TensorFlow {tf.__version__}: intra-op threads {tf.config.threading.get_intra_op_parallelism_threads()}, "
        f"inter-op {tf.config.threading.get_inter_op_parallelism_threads()} (0 = one per core)"
    )
    model_rows, embeddings, size = bench_model(run, args.seconds, (32, 64))
    print_table(
        f"embedding (serving model via ml.embedding.compiled, {size}×{size} input)",
        ["", "calls", "images/s", "p50 ms/call", "p99 ms/call", "p50 ms/image"],
        model_rows,
    )
    index_rows, (items, n_titles) = bench_index(run, embeddings)
    print_table(
        f"index query latency ({items:,} items, {n_titles:,} titles, Annoy angular)",
        ["", "queries", "p50 ms", "p99 ms"],
        index_rows,
    )
    search_rows, info, all_ms = bench_search(run)
    print_table(
        f"fuzzy title search (TitleSearch.search, limit 25): {info}",
        ["", "queries", "p50 ms", "p99 ms", "max ms"],
        search_rows,
    )
    single = model_rows[0][2]
    best = max(r[2] for r in model_rows[1:])
    print(f"\nbatching speed-up (best batched images/s ÷ batch-1 images/s): {best / single:.1f}×")
    targets = [
        Target("fuzzy search p50 at 10k titles", pct(all_ms, 50), SEARCH_TARGET_MS, "ms"),
        Target("fuzzy search p99 at 10k titles", pct(all_ms, 99), SEARCH_TARGET_MS, "ms"),
    ]
    print_targets(targets)
    return 0


if __name__ == "__main__":
    from scripts.cli import run_main

    sys.exit(run_main(main))
