"""A disk cache of the frozen backbone's per-image features, so repeated runs and split seeds skip the network pass.

The backbone is frozen, so an image's features depend only on the exact input array, the network's weights, the
input size and which features are read off the network. The key of one row is the sha256 of those four:

- the input array's bytes (letterboxed, [0, 255]; an augmented view is a different array, so a different key);
- a fingerprint of the network's weights (sha256 over every weight tensor, in order);
- the input size and a ``spec`` string naming the feature families and their settings (a change of the feature
  graph must change the spec, or stale rows would be served).

Rows are stored in shards (``<cache>/features/<namespace>/<uuid>.npz``: the keys and one array per family), written to
a temporary file and renamed into place, so concurrent runs never see half a shard; a damaged shard is skipped with a
warning. Nothing here is needed at serving time (serving runs the whole graph once per query).
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

log = logging.getLogger(__name__)
FOLDER = "features"


def weights_fingerprint(model: keras.Model) -> str:
    """sha256 over a model's weight tensors (shapes and values), in order: equal for the same network."""
    digest = hashlib.sha256()
    for w in model.weights:
        value = np.ascontiguousarray(keras.ops.convert_to_numpy(w))
        digest.update(str((value.shape, value.dtype.str)).encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def array_keys(arrays: np.ndarray, namespace: str) -> list[str]:
    """One key per row of ``arrays`` (sha256 of the namespace and the row's dtype, shape and bytes)."""
    keys = []
    for row in arrays:
        row = np.ascontiguousarray(row)
        digest = hashlib.sha256(namespace.encode())
        digest.update(str((row.shape, row.dtype.str)).encode())
        digest.update(row.tobytes())
        keys.append(digest.hexdigest())
    return keys


class FeatureCache:
    """Cached feature rows of one (network, input size, spec) namespace under ``root``."""

    def __init__(self, root: str | Path, backbone_sha: str, input_size: int, spec: str):
        self.namespace = hashlib.sha256(f"{backbone_sha}|{input_size}|{spec}".encode()).hexdigest()[:24]
        self.folder = Path(root) / FOLDER / self.namespace
        self._rows: dict[str, dict[str, np.ndarray]] | None = None
        self.hits = self.misses = 0

    def _load(self) -> dict[str, dict[str, np.ndarray]]:
        if self._rows is not None:
            return self._rows
        rows: dict[str, dict[str, np.ndarray]] = {}
        for shard in sorted(self.folder.glob("*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as data:
                    keys = [str(k) for k in data["keys"]]
                    families = {name: data[name] for name in data.files if name != "keys"}
            except (OSError, ValueError, KeyError) as exc:
                log.warning("feature cache: skipping unreadable shard %s (%s)", shard, exc)
                continue
            for i, key in enumerate(keys):
                rows[key] = {name: values[i] for name, values in families.items()}
        self._rows = rows
        return rows

    def _store(self, keys: list[str], features: dict[str, np.ndarray]) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = uuid.uuid4().hex
            tmp = self.folder / f".{name}.tmp.npz"
            np.savez(tmp, keys=np.array(keys), **features)
            os.replace(tmp, self.folder / f"{name}.npz")
        except OSError as exc:  # a full or read-only cache never fails a run
            log.warning("feature cache: cannot write to %s (%s); continuing without caching", self.folder, exc)

    def extract(self, compute: Callable[[np.ndarray], dict[str, np.ndarray]], arrays: np.ndarray) -> dict:
        """``compute(arrays)`` (a dict of per-row arrays), computing only the rows not cached yet."""
        rows = self._load()
        keys = array_keys(arrays, self.namespace)
        missing = [i for i, k in enumerate(keys) if k not in rows]
        self.misses += len(missing)
        self.hits += len(keys) - len(missing)
        if missing:
            fresh = compute(arrays[missing])
            new_keys = [keys[i] for i in missing]
            self._store(new_keys, fresh)
            for j, key in enumerate(new_keys):
                rows[key] = {name: values[j] for name, values in fresh.items()}
        if len(missing) < len(keys):
            log.info("feature cache: %d of %d rows cached", len(keys) - len(missing), len(keys))
        families = rows[keys[0]].keys() if keys else ()
        return {name: np.stack([rows[k][name] for k in keys]) for name in families}
