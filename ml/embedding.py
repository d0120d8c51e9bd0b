"""Running models on images: fixed-signature ``tf.function`` calls in batches (never per-call ``model.predict``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import keras
import numpy as np
import tensorflow as tf
from PIL import Image
from tqdm import tqdm

from ml.preprocess import load_panels


def compiled(model: keras.Model, input_size: int) -> Callable[[np.ndarray], object]:
    """One traced graph for any batch size: ``fn(uint8 or float batch) → model outputs`` (numpy)."""
    fn = tf.function(
        lambda x: model(x, training=False),
        reduce_retracing=True,
        input_signature=[tf.TensorSpec([None, input_size, input_size, 3], tf.float32)],
    )

    def run(batch: np.ndarray):
        out = fn(tf.convert_to_tensor(np.asarray(batch, dtype=np.float32)))
        return tf.nest.map_structure(lambda t: t.numpy(), out)

    return run


def run_batched(
    fn: Callable[[np.ndarray], object],
    arrays: np.ndarray,
    batch_size: int = 64,
    progress: bool = False,
    desc: str = "embedding",
):
    """Apply ``fn`` over ``arrays`` in batches, concatenating (dict or array) outputs."""
    outs = []
    for start in tqdm(range(0, len(arrays), batch_size), desc=desc, disable=not progress, leave=False, unit="batch"):
        outs.append(fn(arrays[start : start + batch_size]))
    if not outs:
        raise ValueError("nothing to run")
    if isinstance(outs[0], dict):
        return {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
    return np.concatenate(outs)


def stack_images(images: Iterable[Image.Image], size: int) -> np.ndarray:
    """PIL images (already panels) → one uint8 batch through the shared loader's letterbox."""
    return np.concatenate([load_panels(img, size) for img in images])


def item_arrays(
    title_images: dict[str, list[Image.Image]], size: int, flips: bool = False
) -> tuple[np.ndarray, list[str]]:
    """Every panel of every title as one batch, with the title id of each row (the index's items). With ``flips``,
    the mirror images follow as further items (for embeddings that are not flip-averaged), so each title's first
    item is still its cover."""
    arrays, owners = [], []
    for title_id, images in title_images.items():
        for img in images:
            arrays.append(load_panels(img, size)[0])
            owners.append(title_id)
    batch = np.stack(arrays)
    if flips:
        return np.concatenate([batch, batch[:, :, ::-1]]), owners + owners
    return batch, owners
