"""On-demand benchmarks (``make bench``): scripts that print numbers and PASS/MISS per target, never assert.

Shared plumbing: finding the run folder (the demo run by default), real upload bytes made from catalogue covers,
percentiles and the printed tables.
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def setup_env() -> None:
    """Quiet TensorFlow's C++ logging before it is imported. oneDNN is left as the bot gets it (TensorFlow's default,
    on for x86 CPUs, as in the scripts): set ``TF_ENABLE_ONEDNN_OPTS=0`` to compare."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import logging

    for noisy in ("tensorflow", "absl", "h5py", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def resolve_run(run: Path | None) -> Path:
    """``--run`` as given, else the demo run (built once under ``ROOT/demo``, reused afterwards)."""
    if run is not None:
        return run.expanduser()
    from scripts.demo import ensure_run

    return ensure_run(ROOT / "demo", progress=True)


def machine_note() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)")
    return (
        f"{os.cpu_count()} logical cores, load average {load:.2f} at start "
        f"(other processes share the machine: treat numbers as indicative); TF_ENABLE_ONEDNN_OPTS={onednn}"
    )


# ---- numbers ------------------------------------------------------------------------------------------------------
def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else float("nan")


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """(milliseconds, result) of one call."""
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    return (time.perf_counter() - started) * 1000, out


@dataclass
class Target:
    name: str
    value: float
    limit: float
    unit: str
    higher_is_better: bool = False

    @property
    def ok(self) -> bool:
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit

    def line(self) -> str:
        op = "≥" if self.higher_is_better else "≤"
        verdict = "PASS" if self.ok else "MISS"
        return f"  {verdict}  {self.name}: {self.value:.2f} {self.unit} (target {op} {self.limit:g})"


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(h) for h in header]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for n, row in enumerate(cells):
        padded = (c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        print("  " + "  ".join(padded))
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


def print_targets(targets: Sequence[Target]) -> int:
    print("\ntargets")
    for t in targets:
        print(t.line())
    missed = sum(not t.ok for t in targets)
    print(f"  {len(targets) - missed}/{len(targets)} met")
    return missed


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.2f}"
    return str(value)


# ---- inputs -------------------------------------------------------------------------------------------------------
def cover_paths(run: Path, limit: int | None = None) -> list[Path]:
    """Cover images of the run's catalogue snapshot (thumbnails in ``RUN/covers``), those that exist."""
    from catalog.format import load_catalog

    catalog = load_catalog(run, check_images=False)
    paths = [t.cover for t in catalog.titles if t.cover is not None and t.cover.is_file()]
    if not paths:
        sys.exit(f"{run}: the catalogue snapshot has no readable covers to benchmark with")
    return paths[:limit] if limit else paths


def upload_bytes(paths: Sequence[Path], n: int, seed: int = 0) -> list[bytes]:
    """``n`` distinct uploads (PNG or JPEG) made from covers: each a different crop/scale/quality, so no layer can
    answer from a cache, sized like real screenshots (a few hundred pixels a side)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        with Image.open(paths[i % len(paths)]) as src:
            img = src.convert("RGB")
        w, h = img.size
        cut = [int(rng.integers(0, max(1, side // 10))) for side in (w, h, w, h)]
        img = img.crop((cut[0], cut[1], w - cut[2], h - cut[3]))
        scale = float(rng.uniform(1.2, 2.5))  # screenshots are usually larger than the thumbnail
        img = img.resize((max(8, round(img.width * scale)), max(8, round(img.height * scale))))
        buf = io.BytesIO()
        if i % 2:
            img.save(buf, format="JPEG", quality=int(rng.integers(70, 95)))
        else:
            img.save(buf, format="PNG")
        out.append(buf.getvalue())
    return out
