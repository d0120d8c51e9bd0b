"""The one image loader: bytes or path → checked, normalised RGB arrays at the model's input size.

Used by training, indexing and serving alike, so a cover looks the same to the model everywhere. Handles EXIF
orientation, transparency (composited on white), palette/CMYK/16-bit/greyscale modes, animated images (first frame),
refuses decompression bombs, oversized and truncated/corrupt files with a clear :class:`BadImageError`, and splits very
tall webtoon strips into panels.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from core.errors import BadImageError, ImageTooLargeError
from core.i18n import Msg

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is an error, never silently grey

Source = bytes | bytearray | memoryview | str | os.PathLike
BACKGROUND = (255, 255, 255)


@dataclass(frozen=True)
class ImageLimits:
    """Refuse inputs above these before decoding pixels (a 40 kB PNG can claim 50,000 × 50,000 pixels)."""

    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 40_000_000
    tall_ratio: float = 2.5  # height / width above which an image is treated as a strip and split into panels
    max_panels: int = 12


DEFAULT_LIMITS = ImageLimits()


def _human(n: int) -> str:
    """A byte count for people: "512 bytes", "1.5 kB", "30.2 MB" (small limits no longer read "0 MB")."""
    if n < 1024:
        return f"{n} bytes"
    if n < 2**20:
        return f"{n / 1024:.1f} kB"
    return f"{n / 2**20:.1f} MB"


def _read_source(source: Source, limits: ImageLimits) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        data, name = bytes(source), "upload"
    else:
        path = Path(source)
        name = path.name
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise BadImageError(f"{name}: cannot read file ({exc.strerror or exc})") from None
        if size > limits.max_bytes:
            raise ImageTooLargeError(f"{name}: file is {_human(size)}; the limit is {_human(limits.max_bytes)}")
        try:
            data = path.read_bytes()
        except OSError as exc:  # a folder, no permission, vanished since stat: still a clear message
            raise BadImageError(f"{name}: cannot read file ({exc.strerror or exc})") from None
    if len(data) > limits.max_bytes:
        raise ImageTooLargeError(
            Msg(
                "{name}: file is {size}; the limit is {limit}",
                name=name,
                size=_human(len(data)),
                limit=_human(limits.max_bytes),
            )
        )
    if not data:
        raise BadImageError(Msg("{name}: the file is empty", name=name))
    return data, name


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode → RGB, alpha composited on white, 16-bit scaled (not clipped) to 8-bit."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        arr = np.clip(arr / top * 255.0, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, "L").convert("RGB")
    if mode == "P" and "transparency" in img.info or mode in ("LA", "PA", "La", "RGBa"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        canvas = Image.new("RGB", img.size, BACKGROUND)
        canvas.paste(img, mask=img.getchannel("A"))
        return canvas
    return img.convert("RGB") if img.mode != "RGB" else img


def open_image(source: Source, limits: ImageLimits = DEFAULT_LIMITS) -> Image.Image:
    """Decode ``source`` fully into an upright RGB image, or raise :class:`BadImageError` saying why."""
    data, name = _read_source(source, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            width, height = img.size
            if width * height > limits.max_pixels:
                raise ImageTooLargeError(
                    Msg(
                        "{name}: {width}×{height} pixels is too large (limit {limit} megapixels)",
                        name=name,
                        width=width,
                        height=height,
                        limit=round(limits.max_pixels / 1e6),
                    )
                )
            if getattr(img, "n_frames", 1) > 1:
                img.seek(0)  # animated GIF/WebP/PNG: the first frame stands for the whole
            img.load()
            img = ImageOps.exif_transpose(img) or img
            return _to_rgb(img)
    except BadImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageTooLargeError(
            Msg("{name}: image dimensions are too large (possible decompression bomb)", name=name)
        ) from None
    except UnidentifiedImageError:
        raise BadImageError(
            Msg("{name}: not an image, or a format we can't read (try PNG, JPEG, WebP or GIF)", name=name)
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        error = BadImageError(Msg("{name}: the image is corrupt or truncated", name=name))
        error.detail = f"{type(exc).__name__}: {exc}"  # the decoder's words, for logs (not for readers)
        raise error from None


def split_panels(img: Image.Image, limits: ImageLimits = DEFAULT_LIMITS) -> list[Image.Image]:
    """Cut a very tall strip into roughly square-ish panels; other images come back whole."""
    width, height = img.size
    if height <= width * limits.tall_ratio:
        return [img]
    panel_h = max(1, int(width * 1.4))
    count = min(limits.max_panels, -(-height // panel_h))
    step = (height - panel_h) / max(1, count - 1)
    return [img.crop((0, round(i * step), width, round(i * step) + panel_h)) for i in range(count)]


def letterbox(img: Image.Image, size: int) -> np.ndarray:
    """Fit ``img`` inside a ``size``×``size`` white square, keeping its aspect ratio; uint8 HWC."""
    width, height = img.size
    scale = size / max(width, height)
    new = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = img.resize(new, Image.Resampling.BILINEAR, reducing_gap=2.0)
    canvas = Image.new("RGB", (size, size), BACKGROUND)
    canvas.paste(resized, ((size - new[0]) // 2, (size - new[1]) // 2))
    return np.asarray(canvas, dtype=np.uint8)


def load_panels(source: Source | Image.Image, size: int, limits: ImageLimits = DEFAULT_LIMITS) -> np.ndarray:
    """The loader: ``source`` → uint8 array of shape (panels, size, size, 3); one panel unless it is a tall strip."""
    img = source if isinstance(source, Image.Image) else open_image(source, limits)
    return np.stack([letterbox(panel, size) for panel in split_panels(img, limits)])
