"""Image perturbations: the training views that teach invariance, and the fixed evaluation perturbation."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageEnhance, ImageOps


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out.convert("RGB")


def _crop(img: Image.Image, rng: np.random.Generator, max_frac: float) -> Image.Image:
    w, h = img.size
    left, right = (rng.uniform(0, max_frac, 2) * w).astype(int)
    top, bottom = (rng.uniform(0, max_frac, 2) * h).astype(int)
    if w - left - right < 8 or h - top - bottom < 8:
        return img
    return img.crop((left, top, w - right, h - bottom))


def _resize(img: Image.Image, scale: float) -> Image.Image:
    w, h = img.size
    return img.resize((max(8, round(w * scale)), max(8, round(h * scale))), Image.Resampling.BILINEAR)


def eval_perturbation(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The evaluation contract: crop ≤ 10 % per side, flip p=0.5, white border ≤ 8 px, JPEG q60, resize 0.7–1.3."""
    img = _crop(img, rng, 0.10)
    if rng.random() < 0.5:
        img = ImageOps.mirror(img)
    border = int(rng.integers(0, 9))
    if border:
        img = ImageOps.expand(img, border=border, fill=(255, 255, 255))
    img = _jpeg(img, 60)
    return _resize(img, float(rng.uniform(0.7, 1.3)))


def training_view(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A random view for contrastive training: a superset of what users (and the evaluation) do to a cover."""
    img = _crop(img, rng, 0.18)
    if rng.random() < 0.5:
        img = ImageOps.mirror(img)
    if rng.random() < 0.5:
        border = int(rng.integers(1, 14))
        fill = tuple(int(v) for v in (rng.integers(0, 256, 3) if rng.random() < 0.3 else (255, 255, 255)))
        img = ImageOps.expand(img, border=border, fill=fill)
    if rng.random() < 0.8:
        img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.75, 1.25))
        img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.75, 1.25))
        img = ImageEnhance.Color(img).enhance(rng.uniform(0.7, 1.3))
    if rng.random() < 0.25:
        img = _screenshot(img, rng)
    img = _resize(img, float(rng.uniform(0.5, 1.4)))
    if rng.random() < 0.6:
        img = _jpeg(img, int(rng.integers(35, 95)))
    return img


def _screenshot(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Place the image, scaled down, on a flat app-like background (as in a phone screenshot)."""
    w, h = img.size
    scale = rng.uniform(0.8, 0.95)
    inner = _resize(img, scale)
    shade = int(rng.choice([255, 245, 30, 18]))
    canvas = Image.new("RGB", (w, h), (shade, shade, shade))
    canvas.paste(inner, (int(rng.integers(0, w - inner.width + 1)), int(rng.integers(0, h - inner.height + 1))))
    return canvas
