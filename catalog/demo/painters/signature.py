"""The drawing author's signature on top of the genre's look: accent shapes on the canvas, then a texture and a
border at the final size."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from catalog.demo.colour import rgba
from catalog.demo.painters.canvas import Canvas, circle_box, star_points
from catalog.demo.styles import AuthorStyle


def accents(c: Canvas, author: AuthorStyle) -> None:
    """The author's favourite little shape, in their signature colour."""
    for x, y in c.scatter(2, 5):
        r = c.u * c.rng.uniform(0.03, 0.07)
        col = rgba(author.accent, 230)
        lw = c.width(0.6)
        if author.shape == "circle":
            c.draw.ellipse(circle_box(x, y, r), fill=col)
        elif author.shape == "ring":
            c.draw.ellipse(circle_box(x, y, r), outline=col, width=max(lw, c.width(0.5)))
        elif author.shape == "triangle":
            c.draw.polygon([(x, y - r), (x + r, y + r * 0.8), (x - r, y + r * 0.8)], fill=col)
        elif author.shape == "square":
            c.draw.rectangle((x - r * 0.8, y - r * 0.8, x + r * 0.8, y + r * 0.8), fill=col)
        elif author.shape == "diamond":
            c.draw.polygon([(x, y - r), (x + r * 0.7, y), (x, y + r), (x - r * 0.7, y)], fill=col)
        elif author.shape == "star":
            c.draw.polygon(star_points(x, y, r, 5, 0.45, 0.0), fill=col)
        else:  # cross
            c.draw.line((x - r, y, x + r, y), fill=col, width=lw)
            c.draw.line((x, y - r, x, y + r), fill=col, width=lw)


def texture(arr: np.ndarray, author: AuthorStyle, rng: np.random.Generator) -> np.ndarray:
    h, w = arr.shape[:2]
    kind, p = author.texture, author.texture_period
    if kind == "none":
        return arr
    ys, xs = np.mgrid[0:h, 0:w]
    lum = arr.mean(axis=2, keepdims=True) / 255.0
    ink = np.array(author.ink, np.float32)
    if kind in ("hatching", "crosshatch"):
        mask = ((xs + ys) % p) == 0
        if kind == "crosshatch":
            mask |= ((xs - ys) % p) == 0
        strength = 0.55 * (1.0 - lum) + 0.12
        return np.where(mask[..., None], arr + (ink - arr) * strength, arr)
    if kind == "halftone":
        hp, wp = -(-h // p) * p, -(-w // p) * p
        padded = np.pad(lum[..., 0], ((0, hp - h), (0, wp - w)), mode="edge")
        cells = padded.reshape(hp // p, p, wp // p, p).mean(axis=(1, 3))
        rad = (p / 2) * np.sqrt(1.0 - cells) * 1.15
        cy, cx = (ys % p) - (p - 1) / 2, (xs % p) - (p - 1) / 2
        dots = np.hypot(cy, cx) < rad[ys // p, xs // p]
        return np.where(dots[..., None], arr + (ink - arr) * 0.45, arr + (255 - arr) * 0.12)
    if kind == "grain":
        return arr + rng.normal(0, 14, (h, w, 1)).astype(np.float32)
    if kind == "scanlines":
        return arr * np.where((ys % p) == 0, 0.78, 1.0)[..., None]
    if kind == "paper":
        small = rng.uniform(0.86, 1.06, (max(2, h // 6), max(2, w // 6))).astype(np.float32)
        low = np.asarray(Image.fromarray(small, mode="F").resize((w, h), Image.BILINEAR))[..., None]
        tint = np.array((250, 240, 220), np.float32)
        return (arr * 0.85 + tint * 0.15) * low
    if kind == "posterize":
        return np.round(arr / 255.0 * 3) / 3 * 255.0
    if kind == "soft":
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        return np.asarray(img.filter(ImageFilter.GaussianBlur(0.9)), np.float32)
    raise ValueError(f"unknown texture {kind!r}")


def border(img: Image.Image, author: AuthorStyle) -> Image.Image:
    kind = author.border
    if kind == "none":
        return img
    w, h = img.size
    u = min(w, h)
    d = ImageDraw.Draw(img)
    if kind == "thin_dark":
        d.rectangle((0, 0, w - 1, h - 1), outline=author.ink, width=1)
    elif kind == "thick_light":
        d.rectangle((0, 0, w - 1, h - 1), outline=(248, 246, 240), width=max(2, round(u * 0.045)))
    elif kind == "double":
        d.rectangle((0, 0, w - 1, h - 1), outline=author.ink, width=1)
        d.rectangle((2, 2, w - 3, h - 3), outline=author.ink, width=1)
    elif kind == "colour_frame":
        d.rectangle((0, 0, w - 1, h - 1), outline=author.accent, width=max(2, round(u * 0.035)))
    elif kind == "rounded":
        mask = Image.new("L", (w, h), 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, w - 1, h - 1), radius=max(3, round(u * 0.14)), fill=255)
        framed = Image.new("RGB", (w, h), (255, 255, 255))
        framed.paste(img, (0, 0), mask)
        return framed
    return img
