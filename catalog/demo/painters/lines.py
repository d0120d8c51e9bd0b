"""Motifs made of strokes: speed lines, streaks, cracks, rain, field markings, motion arcs."""

from __future__ import annotations

import math

from catalog.demo.colour import rgba
from catalog.demo.painters.canvas import Canvas, circle_box


def speed_lines(c: Canvas) -> None:
    fx, fy = c.focal[0] * c.w, c.focal[1] * c.h
    col = c.ink if c.rng.random() < 0.6 else (255, 255, 255)
    for _ in range(c.count(28, 60)):
        a = c.rng.uniform(0, 2 * math.pi)
        r0 = c.u * c.rng.uniform(0.3, 0.5)
        r1 = 2.0 * max(c.w, c.h)
        half = c.u * c.rng.uniform(0.008, 0.03)
        dx, dy = math.cos(a), math.sin(a)
        px, py = -dy * half * 3, dx * half * 3
        pts = [
            (fx + dx * r0, fy + dy * r0),
            (fx + dx * r1 + px, fy + dy * r1 + py),
            (fx + dx * r1 - px, fy + dy * r1 - py),
        ]
        c.draw.polygon(pts, fill=rgba(col, 230))


def streaks(c: Canvas) -> None:
    a = c.angle
    dx, dy = math.cos(a), math.sin(a)
    col = (255, 245, 220) if c.rng.random() < 0.5 else c.ink
    for x, y in c.scatter(5, 12):
        ln = c.u * c.rng.uniform(0.3, 0.9)
        c.draw.line(
            (x - dx * ln / 2, y - dy * ln / 2, x + dx * ln / 2, y + dy * ln / 2),
            fill=rgba(col, 220),
            width=c.width(c.rng.uniform(0.6, 1.4)),
        )


def cracks(c: Canvas) -> None:
    for start in c.scatter(2, 5):
        x, y = start
        pts = [start]
        a = c.rng.uniform(0, 2 * math.pi)
        for _ in range(c.count(5, 10)):
            a += c.rng.uniform(-0.9, 0.9)
            step = c.u * c.rng.uniform(0.04, 0.12)
            x, y = x + math.cos(a) * step, y + math.sin(a) * step
            pts.append((x, y))
        c.draw.line(pts, fill=rgba((225, 225, 230), 170), width=c.width(0.4))


def field_lines(c: Canvas) -> None:
    hy = c.horizon * c.h
    white = rgba((250, 250, 250), 230)
    c.draw.line((0, hy + (c.h - hy) * 0.35, c.w, hy + (c.h - hy) * 0.35), fill=white, width=c.width(0.5))
    for k in (-1.5, -0.5, 0.5, 1.5):
        x_top = c.w * (0.5 + k * 0.12)
        c.draw.line((x_top, hy, c.w * (0.5 + k * 0.55), c.h), fill=white, width=c.width(0.5))
    cx, cy = c.w * c.rng.uniform(0.35, 0.65), hy + (c.h - hy) * 0.6
    rx, ry = c.w * 0.2, (c.h - hy) * 0.18
    c.draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), outline=white, width=c.width(0.5))


def motion_arcs(c: Canvas) -> None:
    x, y = c.pt()
    for i in range(c.count(2, 5)):
        r = c.u * (0.15 + 0.06 * i)
        start = float(c.rng.uniform(0, 360))
        c.draw.arc(circle_box(x, y, r), start, start + 70, fill=rgba((255, 255, 255), 200), width=c.width(0.6))


def rain(c: Canvas) -> None:
    ln = c.u * c.rng.uniform(0.06, 0.14)
    for x, y in c.scatter(20, 45):
        c.draw.line((x, y, x - ln * 0.25, y + ln), fill=rgba((230, 230, 235), 90), width=c.width(0.3))
