"""The run folder: everything needed to serve, self-describing.

```
RUN/config.json     RunConfig: input size, labels, split seed, versions, source catalogue (path + sha256), models
RUN/split.json      the seeded 65/15/20 title split
RUN/*.keras         serving (embedding + genre), embedder, genre, author, paper_genre (baseline)
RUN/index/          CURRENT names the generation <g>/ holding index.ann (Annoy, angular, over every image of every
                    indexed title) + ids.json (items → titles) + catalog.jsonl (the snapshot of its titles, removed
                    ones included) + generation.json (what changed); a rebuild swaps in a new generation as one
                    (ml.serve.index, ml.train.indexing). Older run folders have the pair at the top
RUN/catalog.jsonl   a copy of the latest snapshot (older readers); RUN/covers/ cover thumbnails, named by content
RUN/vectors/        the vector store: embeddings of every indexed image (ml.vectors), reused by rebuilds
RUN/refresh.jsonl   one line per scripts.refresh
RUN/metrics.json, RUN/report.md, RUN/plots/*.png
```
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field, fields
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


DEFAULT_N_TREES = 50  # Annoy trees of runs whose config.json does not say


@dataclass(frozen=True)
class BackboneInfo:
    """``config.json``'s ``backbone``: which kind of network the run stands on and, for ``pretrained``, where the
    weights came from (``source``); ``fallback_reason`` when a pretrained run had to fall back to ``scratch``."""

    kind: str = "scratch"  # "scratch" or "pretrained"
    source: dict[str, Any] | None = None
    fallback_reason: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BackboneInfo:
        return cls(data.get("kind", "scratch"), data.get("source"), data.get("fallback_reason"))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.source is not None:
            out["source"] = self.source
        if self.fallback_reason:
            out["fallback_reason"] = self.fallback_reason
        return out


@dataclass(frozen=True)
class CatalogSource:
    """``config.json``'s ``catalog``: the catalogue the run was trained on."""

    path: str
    sha256: str
    n_titles: int
    synthetic: bool = False  # every title is a generated demo one (answers and reports say so)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CatalogSource:
        return cls(str(data["path"]), str(data["sha256"]), int(data["n_titles"]), bool(data.get("synthetic", False)))

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "n_titles": self.n_titles, "synthetic": self.synthetic}


@dataclass(frozen=True)
class RunConfig:
    """``RUN/config.json``, typed: read (:meth:`read`) and written (:meth:`write`) only here; the defaults for keys
    that older runs lack are the field defaults below. Keys this version does not know are kept in ``extra`` and
    written back as they were, so a run folder survives a round trip through older code.

    The records written for people (``train``: the training config, ``genre_head``/``author_head``, ``models``,
    ``versions``, ``index``: the last index build's stats) stay plain JSON objects."""

    input_size: int
    genres: tuple[str, ...]
    authors: tuple[str, ...]
    catalog: CatalogSource
    backbone: BackboneInfo = field(default_factory=BackboneInfo)
    index_flips: bool = False  # the index holds every image in both orientations
    split_seed: int = 0
    split_file: str = "split.json"
    n_trees: int = DEFAULT_N_TREES
    nsfw_classes: tuple[str, ...] = ()  # the columns of the serving model's nsfw output; empty: it has none
    genre_head: dict[str, Any] = field(default_factory=dict)
    author_head: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=lambda: dict(MODEL_FILES))
    versions: dict[str, str] = field(default_factory=dict)
    index: dict[str, Any] | None = None  # set by each index build (ml.train.indexing); None: no index yet
    created_at: str = field(default_factory=lambda: now_iso())
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, run_dir: str | Path) -> RunConfig:
        """The run folder's config; a :class:`RunFolderError` that says what is wrong when there is none."""
        run = Path(run_dir).expanduser()
        if not run.is_dir():
            raise RunFolderError(
                f"run folder not found: {run} (train one with `python -m scripts.train` or `make demo`)"
            )
        path = run / CONFIG_FILE
        if not path.is_file():
            raise RunFolderError(f"{run} is not a run folder: no {CONFIG_FILE}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RunFolderError(f"{path}: invalid JSON ({exc.msg})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            found = data.get("format") if isinstance(data, dict) else None
            raise RunFolderError(f"{path}: run format {found!r} is not supported (expected {FORMAT_VERSION})")
        try:
            return cls.from_json(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise RunFolderError(f"{path}: incomplete or malformed ({type(exc).__name__}: {exc})") from None

    def write(self, run_dir: str | Path) -> None:
        write_json(Path(run_dir) / CONFIG_FILE, self.to_json())

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunConfig:
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(
            input_size=int(data["input_size"]),
            genres=tuple(data["genres"]),
            authors=tuple(data.get("authors") or ()),
            catalog=CatalogSource.from_json(data["catalog"]),
            backbone=BackboneInfo.from_json(data.get("backbone") or {}),
            index_flips=bool(data.get("index_flips", False)),
            split_seed=int(data.get("split_seed", 0)),
            split_file=str(data.get("split_file", "split.json")),
            n_trees=int(data.get("n_trees", DEFAULT_N_TREES)),
            nsfw_classes=tuple(data.get("nsfw_classes") or ()),
            genre_head=dict(data.get("genre_head") or {}),
            author_head=dict(data.get("author_head") or {}),
            train=dict(data.get("train") or {}),
            models=dict(data.get("models") or MODEL_FILES),
            versions=dict(data.get("versions") or {}),
            index=data.get("index"),
            created_at=str(data.get("created_at", "")),
            extra={k: v for k, v in data.items() if k not in known and k != "format"},
        )

    def to_json(self) -> dict[str, Any]:
        """The on-disk shape (key order as training has always written it; ``nsfw_classes`` and ``index`` only when
        there are some)."""
        out: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "created_at": self.created_at,
            "input_size": self.input_size,
            "backbone": self.backbone.to_json(),
            "index_flips": self.index_flips,
            "genres": list(self.genres),
            "authors": list(self.authors),
            "split_seed": self.split_seed,
            "split_file": self.split_file,
            "genre_head": self.genre_head,
            "author_head": self.author_head,
            "n_trees": self.n_trees,
            "train": self.train,
        }
        if self.nsfw_classes:
            out["nsfw_classes"] = list(self.nsfw_classes)
        out["models"] = self.models
        out["catalog"] = self.catalog.to_json()
        out["versions"] = self.versions
        if self.index is not None:
            out["index"] = self.index
        return {**out, **self.extra}


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
