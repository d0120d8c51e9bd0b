"""A run folder whose serving model has an ``nsfw`` output (the pretrained-feature stage's contract), built from a
tiny run in seconds: the same model plus a controllable head, so tests choose which images look explicit.

The head reads the image's mean colour: its Porn logit is ``(R − G − B) / 10`` (0–255 pixels), the Neutral logit a
constant 3, the others 0. A plain red square (255, 0, 0) scores Porn ≈ 1.0; ordinary covers score ≈ 0.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

NSFW_CLASSES = ("Drawing", "Hentai", "Neutral", "Porn", "Sexy")  # = ml.pretrained.CLASSES, as config.json lists them
RED_IS_PORN = np.array(
    [  # Drawing, Hentai, Neutral, Porn, Sexy
        [0.0, 0.0, 0.0, 0.1, 0.0],  # mean R
        [0.0, 0.0, 0.0, -0.1, 0.0],  # mean G
        [0.0, 0.0, 0.0, -0.1, 0.0],  # mean B
    ],
    dtype=np.float32,
)
NEUTRAL_BIAS = np.array([0.0, 0.0, 3.0, 0.0, 0.0], dtype=np.float32)


def with_nsfw_head(
    run: Path, out: Path, *, kernel: np.ndarray = RED_IS_PORN, bias: np.ndarray = NEUTRAL_BIAS, classes=NSFW_CLASSES
) -> Path:
    """A copy of ``run`` at ``out`` whose ``serving.keras`` also outputs ``nsfw`` = softmax(mean RGB · kernel + bias)
    and whose ``config.json`` lists ``nsfw_classes``."""
    import keras

    from ml.run import MODEL_FILES, RunConfig, load_model

    shutil.copytree(run, out)
    config = RunConfig.read(out)
    size = config.input_size
    serving = load_model(out, "serving")
    inputs = keras.Input((size, size, 3), name="image")
    outputs = dict(serving(inputs))
    mean_rgb = keras.layers.GlobalAveragePooling2D(name="mean_rgb")(inputs)
    head = keras.layers.Dense(len(classes), activation="softmax", name="nsfw")
    nsfw = head(mean_rgb)
    head.set_weights([np.asarray(kernel, np.float32), np.asarray(bias, np.float32)])
    keras.Model(inputs, {**outputs, "nsfw": nsfw}, name="serving").save(out / MODEL_FILES["serving"])
    replace(config, nsfw_classes=tuple(classes)).write(out)
    return out


def red_square(size: int = 256) -> bytes:
    """An upload the red-is-porn head calls explicit (square: no white letterbox dilutes it)."""
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (255, 0, 0)).save(buf, "PNG")
    return buf.getvalue()


def shows_query_tile(sheet: bytes) -> bool:
    """Whether a contact sheet's first cell is the framed query tile (its accent-coloured frame), not result #1."""
    from ml.serve import contact_sheet as cs

    pixels = np.asarray(Image.open(io.BytesIO(sheet)).convert("RGB"), dtype=np.int16)
    top = pixels.shape[0] - cs.GRID_H  # below the banner, if any
    frame = pixels[top + cs.MARGIN : top + cs.MARGIN + cs.CELL_H, cs.MARGIN : cs.MARGIN + cs.FRAME]
    close = (np.abs(frame - np.array(cs.ACCENT)) <= 24).all(axis=-1)
    return bool(close.mean() > 0.9)
