"""Motifs made of small figures: scattered bubbles, hearts, sparkles, stars, shards, blobs and confetti, a burst,
a ball, a halftone patch."""

from __future__ import annotations

import math

from catalog.demo.colour import hsv, mix, rgba
from catalog.demo.painters.canvas import Canvas, circle_box, heart_points, star_points


def bubbles(c: Canvas) -> None:
    for x, y in c.scatter(4, 10):
        r = c.u * c.rng.uniform(0.04, 0.2)
        col = mix(c.colour(), (255, 255, 255), c.rng.uniform(0.3, 0.7))
        c.draw.ellipse(
            circle_box(x, y, r),
            fill=rgba(col, int(c.rng.integers(70, 150))),
            outline=rgba((255, 255, 255), 160),
            width=c.width(0.6),
        )


def hearts(c: Canvas) -> None:
    for x, y in c.scatter(1, 4):
        col = hsv(0.96 + c.rng.uniform(-0.02, 0.03), c.rng.uniform(0.35, 0.7), 0.97)
        c.draw.polygon(heart_points(x, y, c.u * c.rng.uniform(0.06, 0.15)), fill=rgba(col, 210))


def sparkles(c: Canvas) -> None:
    for x, y in c.scatter(3, 7):
        r = c.u * c.rng.uniform(0.03, 0.08)
        c.draw.polygon(star_points(x, y, r, 4, 0.18, 0), fill=rgba((255, 255, 250), 220))


def stars(c: Canvas) -> None:
    for i, (x, y) in enumerate(c.scatter(8, 22)):
        r = c.u * (c.rng.uniform(0.05, 0.09) if i < 2 else c.rng.uniform(0.008, 0.03))
        col = (255, 250, 200) if c.rng.random() < 0.5 else (235, 240, 255)
        c.draw.polygon(star_points(x, y, r, 5, 0.45, float(c.rng.uniform(0, 1))), fill=rgba(col, 235))


def burst(c: Canvas) -> None:
    x, y = c.pt()
    r = c.u * c.rng.uniform(0.15, 0.3)
    spikes = int(c.rng.integers(9, 15))
    pts = [
        (px + c.rng.uniform(-0.06, 0.06) * r, py + c.rng.uniform(-0.06, 0.06) * r)
        for px, py in star_points(x, y, r, spikes, 0.6, float(c.rng.uniform(0, 1)))
    ]
    col = hsv(c.rng.uniform(0.1, 0.16), 0.9, 1.0) if c.rng.random() < 0.6 else c.colour()
    c.draw.polygon(pts, fill=col, outline=c.ink, width=c.width(0.8))


def shards(c: Canvas) -> None:
    for x, y in c.scatter(4, 10):
        a = c.rng.uniform(0, 2 * math.pi)
        ln, wd = c.u * c.rng.uniform(0.3, 0.8), c.u * c.rng.uniform(0.03, 0.09)
        dx, dy = math.cos(a), math.sin(a)
        pts = [(x, y), (x + dx * ln - dy * wd, y + dy * ln + dx * wd), (x + dx * ln * 0.8 + dy * wd, y + dy * ln * 0.8)]
        col = (200, 205, 210) if c.rng.random() < 0.6 else (150, 20, 25)
        c.draw.polygon(pts, fill=rgba(col, int(c.rng.integers(80, 170))))


def halftone(c: Canvas) -> None:
    x0, y0 = c.rng.uniform(-0.2, 0.5) * c.w, c.rng.uniform(-0.2, 0.5) * c.h
    x1, y1 = x0 + c.w * c.rng.uniform(0.4, 0.8), y0 + c.h * c.rng.uniform(0.4, 0.8)
    step = c.u * c.rng.uniform(0.05, 0.08)
    col = c.colour()
    y = y0
    while y < y1:
        x = x0
        while x < x1:
            r = step * 0.45 * (0.3 + 0.7 * (x - x0) / max(x1 - x0, 1))
            c.draw.ellipse(circle_box(x, y, r), fill=col)
            x += step
        y += step


def blobs(c: Canvas) -> None:
    for x, y in c.scatter(2, 5):
        rx, ry = c.u * c.rng.uniform(0.06, 0.18), c.u * c.rng.uniform(0.06, 0.18)
        c.draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=c.colour(), outline=c.ink, width=c.width(1.0))


def confetti(c: Canvas) -> None:
    for x, y in c.scatter(6, 16):
        s = c.u * c.rng.uniform(0.015, 0.04)
        a = c.rng.uniform(0, math.pi)
        dx, dy = math.cos(a) * s, math.sin(a) * s
        c.draw.polygon(
            [(x - dx, y - dy), (x + dy * 0.5, y - dx * 0.5), (x + dx, y + dy), (x - dy * 0.5, y + dx * 0.5)],
            fill=hsv(float(c.rng.choice([0.0, 0.15, 0.6, 0.33])), 0.95, 1.0),
        )


def ball(c: Canvas) -> None:
    x, y = c.pt()
    r = c.u * c.rng.uniform(0.06, 0.12)
    kind = int(c.rng.integers(3))
    fill = [(250, 250, 250), (235, 120, 40), (245, 235, 120)][kind]
    c.draw.ellipse(circle_box(x, y, r), fill=fill, outline=(30, 30, 30), width=c.width(0.4))
    if kind == 0:
        c.draw.polygon(star_points(x, y, r * 0.4, 5, 0.8, 0), fill=(30, 30, 30))
    else:
        c.draw.arc((x - r * 1.6, y - r, x + r * 0.4, y + r), -60, 60, fill=(30, 30, 30), width=c.width(0.3))
        c.draw.line((x - r, y, x + r, y), fill=(30, 30, 30), width=c.width(0.3))
