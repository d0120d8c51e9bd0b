"""The run's vector store: the serving model's embeddings of every indexed image, kept so a rebuild re-embeds only
images it has not seen.

An image's identity is its path (relative to its catalogue) and the SHA-256 of its bytes: a cover replaced by new
bytes at the same path, or moved, is a new image. Each image maps to its rows of index items (its panels, then their
mirror images when the run indexes flips).

On disk, ``RUN/vectors/``::

    meta.json                  which model the vectors are of (sha256 of serving.keras, input size, flips)
    shard-<time>-<pid>.npz     keys + vectors written by one build; written to a temporary name and renamed, so a
                               kill leaves whole shards only (at worst the last build's new vectors are missing)

Shards are merged into one when there are more than :data:`MAX_SHARDS`. A store of another model (a retrain into
the same run folder) is cleared rather than reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
VECTORS_DIR = "vectors"
META_FILE = "meta.json"
MAX_SHARDS = 16


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def image_key(rel_path: str, sha256: str) -> str:
    """The store's key of one image: its path in the catalogue and its content hash."""
    return f"{rel_path}\x00{sha256}"


class VectorStore:
    """Load with :meth:`open` (reads every shard); look up with :meth:`get`; add with :meth:`put` and write the
    additions as one new shard with :meth:`flush`."""

    def __init__(self, folder: Path, model_id: dict):
        self.folder = folder
        self.model_id = model_id
        self._vectors: dict[str, np.ndarray] = {}
        self._pending: dict[str, np.ndarray] = {}
        self.hits = 0
        self.misses = 0

    @classmethod
    def open(cls, run: str | os.PathLike, model_id: dict) -> VectorStore:
        """The store of ``run`` for the model ``model_id`` (a store of another model is cleared)."""
        folder = Path(run) / VECTORS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        store = cls(folder, model_id)
        meta_path = folder / META_FILE
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            meta = None
        if meta != model_id:
            if meta is not None:
                log.info("vector store of %s is of another model: cleared (every image is embedded again)", run)
            for shard in folder.glob("shard-*.npz"):
                shard.unlink(missing_ok=True)
            tmp = meta_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(model_id, sort_keys=True), encoding="utf-8")
            os.replace(tmp, meta_path)
            return store
        for tmp in folder.glob(".shard-*"):  # a writer killed mid-shard
            tmp.unlink(missing_ok=True)
        for shard in sorted(folder.glob("shard-*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as data:
                    keys, offsets, vectors = data["keys"], data["offsets"], data["vectors"]
            except Exception as exc:  # a damaged shard: its images are embedded again
                log.warning("vector store shard %s unreadable (%s): ignored", shard.name, exc)
                continue
            for i, key in enumerate(keys.tolist()):
                store._vectors[key] = vectors[offsets[i] : offsets[i + 1]]
        return store

    def __len__(self) -> int:
        return len(self._vectors) + len(self._pending)

    def get(self, key: str) -> np.ndarray | None:
        vec = self._pending.get(key)
        if vec is None:
            vec = self._vectors.get(key)
        if vec is None:
            self.misses += 1
        else:
            self.hits += 1
        return vec

    def put(self, key: str, vectors: np.ndarray) -> None:
        self._pending[key] = np.asarray(vectors, dtype=np.float32)

    def flush(self) -> int:
        """Write the vectors added since opening as one shard (atomic); merge shards when there are many. Returns
        how many images were written."""
        if not self._pending:
            return 0
        written = len(self._pending)
        self._write_shard(self._pending.items())
        self._vectors.update(self._pending)
        self._pending = {}
        shards = sorted(self.folder.glob("shard-*.npz"))
        if len(shards) > MAX_SHARDS:
            self._write_shard(self._vectors.items())  # the merged shard first; then the old ones may go
            newest = sorted(self.folder.glob("shard-*.npz"))[-1]
            for shard in shards:
                if shard != newest:
                    shard.unlink(missing_ok=True)
        return written

    def _write_shard(self, items: Iterable[tuple[str, np.ndarray]]) -> Path:
        dim = max((v.shape[1] for _, v in items if len(v)), default=1)
        items = [(k, v if len(v) else np.zeros((0, dim), np.float32)) for k, v in items]  # unreadable: no rows
        keys = np.array([k for k, _ in items], dtype=str)
        sizes = [len(v) for _, v in items]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        vectors = np.concatenate([v for _, v in items]).astype(np.float32)
        name = f"shard-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{os.getpid()}.npz"
        tmp = self.folder / f".{name}.tmp"
        with open(tmp, "wb") as fh:
            np.savez(fh, keys=keys, offsets=offsets, vectors=vectors)
            fh.flush()
            os.fsync(fh.fileno())
        final = self.folder / name
        os.replace(tmp, final)
        return final
