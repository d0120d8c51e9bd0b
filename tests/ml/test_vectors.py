"""The run's vector store: round trip, crash leftovers, shard merging, another model's vectors cleared."""

import numpy as np

from ml import vectors
from ml.vectors import VectorStore, image_key

MODEL = {"serving_sha256": "a" * 64, "input_size": 64, "flips": False}


def test_round_trip_across_opens(tmp_path):
    store = VectorStore.open(tmp_path, MODEL)
    store.put(image_key("images/a.jpg", "1" * 64), np.ones((2, 3)))
    store.put(image_key("images/b.jpg", "2" * 64), np.zeros((0, 1)))  # a known-unreadable image
    assert store.flush() == 2 and store.flush() == 0
    again = VectorStore.open(tmp_path, MODEL)
    assert again.get(image_key("images/a.jpg", "1" * 64)).tolist() == [[1, 1, 1], [1, 1, 1]]
    assert len(again.get(image_key("images/b.jpg", "2" * 64))) == 0
    assert again.get(image_key("images/a.jpg", "3" * 64)) is None  # same path, new bytes: a new image


def test_leftovers_of_a_killed_writer_and_damaged_shards_are_ignored(tmp_path):
    store = VectorStore.open(tmp_path, MODEL)
    store.put("k", np.ones((1, 3)))
    store.flush()
    folder = tmp_path / vectors.VECTORS_DIR
    (folder / ".shard-x.npz.tmp").write_bytes(b"half")
    (folder / "shard-99999999T000000000000Z-1.npz").write_bytes(b"not a zip")
    again = VectorStore.open(tmp_path, MODEL)
    assert again.get("k") is not None and not (folder / ".shard-x.npz.tmp").exists()


def test_many_shards_are_merged(tmp_path, monkeypatch):
    monkeypatch.setattr(vectors, "MAX_SHARDS", 3)
    for n in range(6):
        store = VectorStore.open(tmp_path, MODEL)
        store.put(f"k{n}", np.full((1, 2), n))
        store.flush()
    assert len(list((tmp_path / vectors.VECTORS_DIR).glob("shard-*.npz"))) <= 3
    final = VectorStore.open(tmp_path, MODEL)
    assert [float(final.get(f"k{n}")[0, 0]) for n in range(6)] == [0, 1, 2, 3, 4, 5]


def test_another_model_clears_the_store(tmp_path):
    store = VectorStore.open(tmp_path, MODEL)
    store.put("k", np.ones((1, 3)))
    store.flush()
    other = VectorStore.open(tmp_path, {**MODEL, "serving_sha256": "b" * 64})
    assert other.get("k") is None and len(other) == 0
