"""The run folder: everything needed to serve, self-describing.

```
RUN/config.json     input size, labels, split seed, versions, source catalogue (path + sha256), model file names
RUN/split.json      the seeded 65/15/20 title split
RUN/*.keras         serving (embedding + genre), embedder, genre, author, paper_genre (baseline)
RUN/index/          CURRENT names the generation <g>/ holding the pair index.ann (Annoy, angular, over every image of
                    every indexed title) + ids.json (items → titles); a rebuild swaps in a new pair as one
                    (ml.serve.index). Older run folders have the pair at the top: RUN/index.ann + RUN/ids.json
RUN/catalog.jsonl   snapshot of the indexed titles' metadata; RUN/covers/ small cover thumbnails for contact sheets
RUN/metrics.json, RUN/report.md, RUN/plots/*.png
```
"""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from core.errors import RunFolderError

CONFIG_FILE = "config.json"
FORMAT_VERSION = 1
MODEL_FILES = {
    "serving": "serving.keras",
    "embedder": "embedder.keras",
    "genre": "genre.keras",
    "author": "author.keras",
    "paper_genre": "paper_genre.keras",
}


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("toonmatch", "tensorflow-cpu", "keras", "annoy", "numpy", "pillow"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_config(run_dir: str | Path) -> dict[str, Any]:
    run = Path(run_dir).expanduser()
    if not run.is_dir():
        raise RunFolderError(f"run folder not found: {run} (train one with `python -m scripts.train` or `make demo`)")
    path = run / CONFIG_FILE
    if not path.is_file():
        raise RunFolderError(f"{run} is not a run folder: no {CONFIG_FILE}")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{path}: invalid JSON ({exc.msg})") from None
    if config.get("format") != FORMAT_VERSION:
        raise RunFolderError(
            f"{path}: run format {config.get('format')!r} is not supported (expected {FORMAT_VERSION})"
        )
    return config


def model_path(run_dir: str | Path, name: str) -> Path:
    path = Path(run_dir) / MODEL_FILES[name]
    if not path.is_file():
        raise RunFolderError(f"{Path(run_dir)}: missing model {path.name}; retrain with `python -m scripts.train`")
    return path


def load_model(run_dir: str | Path, name: str):
    """Load one of the run's Keras models (importing ``ml.layers`` and ``ml.features`` registers the custom layers)."""
    import keras

    import ml.features  # noqa: F401  (registers the custom layers)
    import ml.layers  # noqa: F401

    path = model_path(run_dir, name)
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as exc:  # a damaged or foreign file: say which, not a Keras traceback
        raise RunFolderError(f"{path}: cannot load model ({type(exc).__name__}: {exc})") from None
