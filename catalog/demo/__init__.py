"""A synthetic demo catalogue: procedurally drawn covers so the whole pipeline runs with no real data.

Every fictional author works in one or two genres and has several titles. The primary genre drives a cover's palette
family, background and motifs (romance: pastel pinks, soft bubbles, hearts; action: high contrast, speed lines, thick
strokes; thriller: dark desaturated, shards, noise; ...). The drawing author adds a signature on top (line weight,
a texture such as hatching / halftone / grain, favourite accent shape and colour, eye style, border, a hue shift),
so genre is easy to learn from the pixels and author is learnable but not trivial. Each title has its own seeded
layout; its 1–3 images (a cover and "episode" images) share the title's look with variations.

Everything is labelled synthetic: ``source: "demo"``, ids ``demo:<slug>``, ``[DEMO]`` / ``(데모)`` in titles and
author names, a synopsis saying so, and a ``README.md`` in the output folder. Output is deterministic for a seed
(same bytes on re-run). Images are PNG.
"""

from __future__ import annotations

import colorsys
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from tqdm import tqdm

from catalog.format import write_catalog
from core.errors import CatalogError

RGB = tuple[int, int, int]

SOURCE = "demo"
README_MARKER = "Toonmatch synthetic demo catalogue"
DEFAULT_TITLES = 240
MAX_TITLES = 10_000
TITLES_PER_AUTHOR = 6  # on average; the default 240 titles give 40 authors
MAX_IMAGES_PER_TITLE = 40

# (width, height) of real thumbnails and how often a cover has that size; episode images are mostly 202×120.
COVER_SIZES: tuple[tuple[tuple[int, int], float], ...] = (
    ((125, 101), 0.55),
    ((83, 90), 0.22),
    ((308, 400), 0.15),
    ((480, 623), 0.03),
    ((202, 120), 0.05),
)
EPISODE_SIZE = (202, 120)


# ---------------------------------------------------------------------------------------------------------------------
# Styles
# ---------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenreStyle:
    name: str
    ko: str
    hues: tuple[float, ...]  # palette hue centres (0..1)
    hue_spread: float
    sat: tuple[float, float]
    val: tuple[float, float]
    background: str
    motifs: tuple[str, ...]
    line: float  # base stroke width as a fraction of the short side
    noise: float  # std of monochrome pixel noise (0..1 scale)
    outline: bool  # bold ink outlines on the character
    skin_dim: float  # multiplies skin brightness (thriller faces are in shadow)
    fixed_hue_order: bool  # palette[0] is always hues[0] (sports: the field is green)
    tags: tuple[str, ...]
    nouns: tuple[tuple[str, str], ...]  # (Korean, English) title nouns


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """``"별빛=Starlit, 푸른=Blue"`` → ``(("별빛", "Starlit"), ("푸른", "Blue"))``: compact word tables."""
    return tuple(tuple(item.strip().split("=", 1)) for item in text.split(",") if item.strip())  # type: ignore[misc]


GENRE_STYLES: tuple[GenreStyle, ...] = (
    GenreStyle(
        name="romance",
        ko="로맨스",
        hues=(0.95, 0.0, 0.03, 0.85),
        hue_spread=0.02,
        sat=(0.15, 0.45),
        val=(0.88, 1.0),
        background="radial",
        motifs=("bubbles", "hearts", "sparkles"),
        line=0.012,
        noise=0.0,
        outline=False,
        skin_dim=1.0,
        fixed_hue_order=False,
        tags=("첫사랑", "학원로맨스", "계약연애", "짝사랑", "설렘", "연상연하"),
        nouns=_pairs(
            "약속=Promise, 고백=Confession, 편지=Letter, 첫사랑=First Love, 연애=Romance, 신부=Bride, "
            "꽃다발=Bouquet, 데이트=Date, 설렘=Flutter, 우산=Umbrella, 약혼=Engagement, 연인=Sweetheart"
        ),
    ),
    GenreStyle(
        name="fantasy",
        ko="판타지",
        hues=(0.72, 0.62, 0.8, 0.52),
        hue_spread=0.03,
        sat=(0.55, 0.95),
        val=(0.35, 0.9),
        background="night",
        motifs=("stars", "crescent", "sparkles"),
        line=0.02,
        noise=0.015,
        outline=False,
        skin_dim=0.95,
        fixed_hue_order=False,
        tags=("마법", "이세계", "회귀", "드래곤", "던전", "마탑"),
        nouns=_pairs(
            "마법사=Mage, 왕국=Kingdom, 용=Dragon, 탑=Tower, 성좌=Constellation, 정령=Spirit, 마녀=Witch, "
            "던전=Dungeon, 예언=Prophecy, 왕관=Crown, 주문=Spell, 차원문=Gate"
        ),
    ),
    GenreStyle(
        name="action",
        ko="액션",
        hues=(0.0, 0.03, 0.07, 0.12),
        hue_spread=0.012,
        sat=(0.85, 1.0),
        val=(0.8, 1.0),
        background="split",
        motifs=("speed_lines", "streaks", "burst"),
        line=0.045,
        noise=0.0,
        outline=True,
        skin_dim=1.0,
        fixed_hue_order=False,
        tags=("격투", "헌터", "복수", "먼치킨", "레이드", "싸움"),
        nouns=_pairs(
            "주먹=Fist, 칼날=Blade, 헌터=Hunter, 전쟁=War, 복수=Revenge, 결투=Duel, 폭주=Rampage, 레이드=Raid, "
            "용병=Mercenary, 전사=Warrior, 총성=Gunshot, 질주=Sprint"
        ),
    ),
    GenreStyle(
        name="slice_of_life",
        ko="일상",
        hues=(0.1, 0.14, 0.25, 0.06),
        hue_spread=0.02,
        sat=(0.3, 0.55),
        val=(0.8, 0.96),
        background="floor",
        motifs=("sun", "houses"),
        line=0.018,
        noise=0.0,
        outline=False,
        skin_dim=1.0,
        fixed_hue_order=False,
        tags=("일상", "힐링", "자취", "직장", "반려동물", "요리"),
        nouns=_pairs(
            "일상=Days, 도시락=Lunchbox, 고양이=Cat, 동네=Neighbourhood, 자취방=Studio Flat, 산책=Walk, "
            "빵집=Bakery, 텃밭=Garden, 출근길=Commute, 방학=Vacation, 이웃=Neighbour, 식탁=Table"
        ),
    ),
    GenreStyle(
        name="comedy",
        ko="코믹",
        hues=(0.0, 0.15, 0.6, 0.33),
        hue_spread=0.01,
        sat=(0.85, 1.0),
        val=(0.9, 1.0),
        background="flat",
        motifs=("halftone", "blobs", "confetti"),
        line=0.04,
        noise=0.0,
        outline=True,
        skin_dim=1.0,
        fixed_hue_order=False,
        tags=("개그", "병맛", "학원", "가족", "동아리", "시트콤"),
        nouns=_pairs(
            "소동=Ruckus, 작전=Scheme, 알바=Part-Timer, 동아리=Club, 사장님=Boss, 오리=Duck, 대작전=Operation, "
            "반장=Class President, 장난=Prank, 하숙집=Boarding House, 가족=Family, 좀비=Zombie"
        ),
    ),
    GenreStyle(
        name="thriller",
        ko="스릴러",
        hues=(0.5, 0.42, 0.58, 0.98),
        hue_spread=0.03,
        sat=(0.08, 0.3),
        val=(0.08, 0.35),
        background="dark",
        motifs=("shards", "cracks", "skyline"),
        line=0.02,
        noise=0.09,
        outline=False,
        skin_dim=0.45,
        fixed_hue_order=False,
        tags=("추리", "미스터리", "서스펜스", "범죄", "복수극", "생존"),
        nouns=_pairs(
            "목격자=Witness, 실종=Disappearance, 비밀=Secret, 밀실=Locked Room, 그림자=Shadow, 거짓말=Lie, "
            "추적=Pursuit, 악몽=Nightmare, 용의자=Suspect, 흔적=Trace, 감옥=Prison, 골목=Alley"
        ),
    ),
    GenreStyle(
        name="drama",
        ko="드라마",
        hues=(0.07, 0.1, 0.16, 0.58),
        hue_spread=0.02,
        sat=(0.12, 0.35),
        val=(0.3, 0.72),
        background="gradient",
        motifs=("bands", "rain", "hills"),
        line=0.016,
        noise=0.025,
        outline=False,
        skin_dim=0.85,
        fixed_hue_order=False,
        tags=("성장", "가족", "감성", "휴먼", "청춘", "직장"),
        nouns=_pairs(
            "유산=Inheritance, 기억=Memory, 계절=Season, 무대=Stage, 초상=Portrait, 이별=Farewell, "
            "집=House, 바다=Sea, 눈물=Tears, 귀향=Homecoming, 초대=Invitation, 약국=Pharmacy"
        ),
    ),
    GenreStyle(
        name="sports",
        ko="스포츠",
        hues=(0.31, 0.58, 0.07, 0.62),
        hue_spread=0.015,
        sat=(0.45, 0.8),
        val=(0.5, 0.85),
        background="field",
        motifs=("field_lines", "ball", "motion_arcs"),
        line=0.025,
        noise=0.0,
        outline=False,
        skin_dim=1.0,
        fixed_hue_order=True,
        tags=("축구", "야구", "농구", "배구", "성장", "청춘"),
        nouns=_pairs(
            "에이스=Ace, 슛=Shot, 골키퍼=Goalkeeper, 스트라이커=Striker, 마운드=Mound, 링=Ring, 코트=Court, "
            "결승=Final, 배구부=Volleyball Club, 레이스=Race, 스파이크=Spike, 챔피언=Champion"
        ),
    ),
)
GENRES: tuple[str, ...] = tuple(g.name for g in GENRE_STYLES)
_STYLE_BY_GENRE = {g.name: g for g in GENRE_STYLES}
# Which second genre an author is likely to also work in.
_RELATED: dict[str, tuple[str, ...]] = {
    "romance": ("drama", "comedy", "fantasy", "slice_of_life"),
    "fantasy": ("action", "romance", "thriller"),
    "action": ("fantasy", "thriller", "sports"),
    "slice_of_life": ("comedy", "drama", "romance"),
    "comedy": ("slice_of_life", "romance", "sports"),
    "thriller": ("drama", "action", "fantasy"),
    "drama": ("romance", "thriller", "slice_of_life"),
    "sports": ("action", "comedy", "drama"),
}

_ADJECTIVES = _pairs(
    "별빛=Starlit, 푸른=Blue, 붉은=Crimson, 조용한=Quiet, 마지막=Last, 비밀의=Secret, 한여름의=Midsummer, "
    "잃어버린=Lost, 작은=Little, 은빛=Silver, 검은=Black, 황금=Golden, 달빛=Moonlit, 겨울=Winter, "
    "봄날의=Springtime, 새벽의=Dawn, 한밤의=Midnight, 영원한=Eternal, 두 번째=Second, 위험한=Dangerous, "
    "수상한=Suspicious, 빛나는=Shining, 부서진=Broken, 눈부신=Dazzling, 서툰=Clumsy, 평범한=Ordinary, "
    "최강의=Strongest, 기묘한=Strange, 따뜻한=Warm, 우리들의=Our"
)
_KO_FAMILY = tuple("김이박최정강조윤장임한오서신권황안송류홍")
_KO_GIVEN_TEXT = "하늘 서연 민준 지우 도윤 하은 예준 수아 시우 지호 유나 은서 태양 별 솔 나래 다온 루미 한결 새봄"
_KO_GIVEN = tuple(_KO_GIVEN_TEXT.split())
_PEN_A = ("Moon", "Ink", "Paper", "Cloud", "Pixel", "Velvet", "Copper", "Maple", "Neon", "Salt")
_PEN_B = ("brush", "fox", "lantern", "crow", "bean", "kite", "moth", "pencil", "tiger", "otter")

TEXTURES = ("none", "hatching", "crosshatch", "halftone", "grain", "scanlines", "paper", "posterize", "soft")
SHAPES = ("circle", "triangle", "square", "diamond", "ring", "star", "cross")
BORDERS = ("none", "thin_dark", "thick_light", "double", "rounded", "colour_frame")
EYES = ("dots", "anime", "lines", "none")
_INKS: tuple[RGB, ...] = ((15, 15, 20), (20, 30, 70), (60, 35, 20), (55, 20, 60))
_SKINS: tuple[RGB, ...] = ((255, 226, 200), (248, 210, 178), (236, 192, 160), (205, 155, 120), (150, 105, 80))


@dataclass(frozen=True)
class AuthorStyle:
    name: str
    genres: tuple[str, ...]
    hue_shift: float
    sat_mult: float
    line_mult: float
    texture: str
    texture_period: int
    shape: str
    accent: RGB
    border: str
    eyes: str
    ink: RGB
    hair: int  # favourite hair shape (0 fringe, 1 spiky, 2 bob, 3 long)


@dataclass
class _TitlePlan:
    artist: AuthorStyle
    genres: list[str]
    writer: str | None = None
    slug: str = ""
    title: str = ""
    title_en: str | None = None
    adult: bool = False
    rank: int = 0
    star: float = 0.0
    tags: list[str] = field(default_factory=list)
    sizes: list[tuple[int, int]] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------------------
# Colour helpers
# ---------------------------------------------------------------------------------------------------------------------


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return round(r * 255), round(g * 255), round(b * 255)


def _mix(a: Sequence[float], b: Sequence[float], t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _shade(c: RGB, f: float) -> RGB:
    return tuple(min(255, max(0, round(x * f))) for x in c)  # type: ignore[return-value]


def _rgba(c: RGB, a: int) -> tuple[int, int, int, int]:
    return c[0], c[1], c[2], a


# ---------------------------------------------------------------------------------------------------------------------
# Layout of one image
# ---------------------------------------------------------------------------------------------------------------------


@dataclass
class _Layout:
    palette: list[RGB]
    focal: tuple[float, float]
    angle: float
    horizon: float
    heads: list[tuple[float, float, float]]  # 0-2 characters: cx, cy (fractions of w/h), radius (of the short side)
    hairs: list[int]
    skins: list[RGB]
    motifs: list[str]
    zoom: float


def _title_layout(
    gs: GenreStyle, author: AuthorStyle, rng: np.random.Generator, second: GenreStyle | None = None
) -> _Layout:
    # Genre is a strong cue but not a perfect one, as on real covers: a title with a second genre often borrows its
    # colours for the foreground and one of its motifs, and now and then a title is coloured like a related genre.
    if rng.random() < 0.08:
        related = _RELATED[gs.name]
        colours: list[GenreStyle] = [_STYLE_BY_GENRE[related[int(rng.integers(len(related)))]]] * 6
    elif second is not None and rng.random() < 0.5:
        colours = [gs, gs, second, gs, second, second]
    else:
        colours = [gs] * 6
    order = {
        c.name: list(range(len(c.hues))) if c.fixed_hue_order else list(rng.permutation(len(c.hues)))
        for c in dict.fromkeys(colours)
    }
    palette = []
    for i, cs in enumerate(colours):
        hue = cs.hues[order[cs.name][i % len(cs.hues)]] + rng.normal(0.0, cs.hue_spread) + author.hue_shift
        sat = min(1.0, rng.uniform(*cs.sat) * author.sat_mult)
        palette.append(_hsv(hue, sat, rng.uniform(*cs.val)))
    motifs = [m for m in gs.motifs if rng.random() < 0.8] or [gs.motifs[int(rng.integers(len(gs.motifs)))]]
    if second is not None and rng.random() < 0.6:
        motifs.append(second.motifs[int(rng.integers(len(second.motifs)))])
    heads = []
    if rng.random() < 0.85:
        heads.append((rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.5), rng.uniform(0.16, 0.28)))
        if rng.random() < 0.25:  # a second, smaller character further back, on the other side
            cx = heads[0][0] + (0.3 if heads[0][0] < 0.5 else -0.3)
            heads.insert(0, (cx, heads[0][1] - 0.05, heads[0][2] * 0.7))
    hairs = [author.hair if rng.random() < 0.7 else int(rng.integers(4)) for _ in heads]
    skins = [_SKINS[int(rng.integers(len(_SKINS)))] for _ in heads]
    return _Layout(
        palette=palette,
        focal=(rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7)),
        angle=rng.uniform(0.35, 0.9) * (1 if rng.random() < 0.5 else -1),
        horizon=rng.uniform(0.35, 0.6),
        heads=heads,
        hairs=hairs,
        skins=skins,
        motifs=motifs,
        zoom=1.0,
    )


def _episode_layout(base: _Layout, rng: np.random.Generator) -> _Layout:
    """Same title, another episode: same palette family and shapes, shifted, re-cropped and re-lit."""

    def jitter(c: RGB) -> RGB:
        h, s, v = colorsys.rgb_to_hsv(*(x / 255 for x in c))
        return _hsv(h + rng.normal(0, 0.015), s * rng.uniform(0.9, 1.1), v * rng.uniform(0.92, 1.06))

    dx, dy, scale = rng.uniform(-0.2, 0.2), rng.uniform(-0.05, 0.08), rng.uniform(0.8, 1.3)
    heads = [(min(0.85, max(0.15, cx + dx)), cy + dy, r * scale) for cx, cy, r in base.heads]
    order = list(range(len(base.palette)))
    if rng.random() < 0.5:  # swap two background colours now and then
        order[0], order[1] = order[1], order[0]
    return _Layout(
        palette=[jitter(base.palette[i]) for i in order],
        focal=(base.focal[0] + rng.uniform(-0.15, 0.15), base.focal[1] + rng.uniform(-0.15, 0.15)),
        angle=base.angle + rng.uniform(-0.2, 0.2),
        horizon=min(0.7, max(0.3, base.horizon + rng.uniform(-0.1, 0.1))),
        heads=heads,
        hairs=base.hairs,
        skins=base.skins,
        motifs=base.motifs,
        zoom=rng.uniform(1.0, 1.35),
    )


# ---------------------------------------------------------------------------------------------------------------------
# Backgrounds (numpy, float RGB in 0..255)
# ---------------------------------------------------------------------------------------------------------------------


def _background(gs: GenreStyle, lay: _Layout, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    ys /= max(h - 1, 1)
    xs /= max(w - 1, 1)
    pal = [np.array(c, np.float32) for c in lay.palette]
    fx, fy = lay.focal
    kind = gs.background

    def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
        return a + (b - a) * t[..., None]

    if kind == "radial":
        d = np.clip(np.hypot(xs - fx, ys - fy) / 0.8, 0, 1)
        img = lerp(np.array(_mix(lay.palette[0], (255, 255, 255), 0.55), np.float32), pal[1], d)
    elif kind == "night":
        img = lerp(pal[0] * 0.3, pal[1] * 1.05, ys**1.3)
        for _ in range(int(rng.integers(2, 5))):  # glows
            gx, gy = rng.uniform(0, 1), rng.uniform(0, 1)
            sig = rng.uniform(0.08, 0.25)
            g = np.exp(-((xs - gx) ** 2 + (ys - gy) ** 2) / (2 * sig * sig))
            col = np.array(_mix(lay.palette[int(rng.integers(2, 6))], (255, 255, 255), 0.5), np.float32)
            img = img + g[..., None] * col * rng.uniform(0.4, 0.8)
    elif kind == "split":
        ca, cb = math.cos(lay.angle + 1.2), math.sin(lay.angle + 1.2)
        side = ((xs - fx) * ca + (ys - fy) * cb) > 0
        other = np.array((250, 248, 240) if rng.random() < 0.6 else (18, 16, 20), np.float32)
        img = np.where(side[..., None], pal[0], other)
    elif kind == "dark":
        d = np.hypot(xs - fx, ys - fy)
        img = pal[0] * np.clip(1.15 - 0.9 * d**2, 0.2, 1.2)[..., None]
    elif kind == "floor":
        floor = ys > lay.horizon + 0.15
        img = np.where(floor[..., None], pal[1], pal[0])
    elif kind == "gradient":
        img = lerp(pal[0], pal[1], ys)
    elif kind == "field":
        sky = np.array(_hsv(0.57, 0.35, 0.95), np.float32)
        stripes = (np.floor((xs + (ys - lay.horizon) * (xs - 0.5) * 1.5) * 8) % 2)[..., None]
        grass = pal[0] * (0.9 + 0.12 * stripes)
        img = np.where((ys < lay.horizon)[..., None], lerp(sky, sky * 0.85, ys / max(lay.horizon, 1e-3)), grass)
    else:  # flat
        img = np.broadcast_to(pal[0], (h, w, 3)).copy()
    return np.clip(img, 0, 255)


# ---------------------------------------------------------------------------------------------------------------------
# Motifs (PIL, drawn at the supersampled size)
# ---------------------------------------------------------------------------------------------------------------------


@dataclass
class _Canvas:
    draw: ImageDraw.ImageDraw
    w: int
    h: int
    lw: float  # stroke width in pixels
    pal: list[RGB]
    ink: RGB
    rng: np.random.Generator
    focal: tuple[float, float]
    angle: float
    horizon: float

    @property
    def u(self) -> float:
        return float(min(self.w, self.h))

    def pt(self) -> tuple[float, float]:
        return float(self.rng.uniform(0, self.w)), float(self.rng.uniform(0, self.h))

    def width(self, f: float = 1.0) -> int:
        return max(1, round(self.lw * f))

    def colour(self) -> RGB:
        return self.pal[int(self.rng.integers(len(self.pal)))]


def _star_points(cx: float, cy: float, r: float, spikes: int, inner: float, rot: float) -> list[tuple[float, float]]:
    pts = []
    for i in range(spikes * 2):
        rad = r if i % 2 == 0 else r * inner
        a = rot + math.pi * i / spikes
        pts.append((cx + rad * math.sin(a), cy - rad * math.cos(a)))
    return pts


def _heart_points(cx: float, cy: float, s: float) -> list[tuple[float, float]]:
    pts = []
    for i in range(24):
        t = 2 * math.pi * i / 24
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        pts.append((cx + x * s / 16, cy - y * s / 16))
    return pts


def _m_bubbles(c: _Canvas) -> None:
    for _ in range(int(c.rng.integers(4, 10))):
        x, y = c.pt()
        r = c.u * c.rng.uniform(0.04, 0.2)
        col = _mix(c.colour(), (255, 255, 255), c.rng.uniform(0.3, 0.7))
        c.draw.ellipse(
            (x - r, y - r, x + r, y + r),
            fill=_rgba(col, int(c.rng.integers(70, 150))),
            outline=_rgba((255, 255, 255), 160),
            width=c.width(0.6),
        )


def _m_hearts(c: _Canvas) -> None:
    for _ in range(int(c.rng.integers(1, 4))):
        x, y = c.pt()
        col = _hsv(0.96 + c.rng.uniform(-0.02, 0.03), c.rng.uniform(0.35, 0.7), 0.97)
        c.draw.polygon(_heart_points(x, y, c.u * c.rng.uniform(0.06, 0.15)), fill=_rgba(col, 210))


def _m_sparkles(c: _Canvas) -> None:
    for _ in range(int(c.rng.integers(3, 7))):
        x, y = c.pt()
        r = c.u * c.rng.uniform(0.03, 0.08)
        c.draw.polygon(_star_points(x, y, r, 4, 0.18, 0), fill=_rgba((255, 255, 250), 220))


def _m_stars(c: _Canvas) -> None:
    for i in range(int(c.rng.integers(8, 22))):
        x, y = c.pt()
        r = c.u * (c.rng.uniform(0.05, 0.09) if i < 2 else c.rng.uniform(0.008, 0.03))
        col = (255, 250, 200) if c.rng.random() < 0.5 else (235, 240, 255)
        c.draw.polygon(_star_points(x, y, r, 5, 0.45, float(c.rng.uniform(0, 1))), fill=_rgba(col, 235))


def _m_crescent(c: _Canvas) -> None:
    x, y = c.rng.uniform(0.15, 0.85) * c.w, c.rng.uniform(0.1, 0.35) * c.h
    r = c.u * c.rng.uniform(0.08, 0.15)
    c.draw.ellipse((x - r, y - r, x + r, y + r), fill=(250, 240, 190))
    dx = r * 0.45
    c.draw.ellipse((x - r + dx, y - r - dx * 0.5, x + r + dx, y + r - dx * 0.5), fill=_shade(c.pal[0], 0.35))


def _m_speed_lines(c: _Canvas) -> None:
    fx, fy = c.focal[0] * c.w, c.focal[1] * c.h
    col = c.ink if c.rng.random() < 0.6 else (255, 255, 255)
    for _ in range(int(c.rng.integers(28, 60))):
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
        c.draw.polygon(pts, fill=_rgba(col, 230))


def _m_streaks(c: _Canvas) -> None:
    a = c.angle
    dx, dy = math.cos(a), math.sin(a)
    col = (255, 245, 220) if c.rng.random() < 0.5 else c.ink
    for _ in range(int(c.rng.integers(5, 12))):
        x, y = c.pt()
        ln = c.u * c.rng.uniform(0.3, 0.9)
        c.draw.line(
            (x - dx * ln / 2, y - dy * ln / 2, x + dx * ln / 2, y + dy * ln / 2),
            fill=_rgba(col, 220),
            width=c.width(c.rng.uniform(0.6, 1.4)),
        )


def _m_burst(c: _Canvas) -> None:
    x, y = c.pt()
    r = c.u * c.rng.uniform(0.15, 0.3)
    spikes = int(c.rng.integers(9, 15))
    pts = [
        (px + c.rng.uniform(-0.06, 0.06) * r, py + c.rng.uniform(-0.06, 0.06) * r)
        for px, py in _star_points(x, y, r, spikes, 0.6, float(c.rng.uniform(0, 1)))
    ]
    col = _hsv(c.rng.uniform(0.1, 0.16), 0.9, 1.0) if c.rng.random() < 0.6 else c.colour()
    c.draw.polygon(pts, fill=col, outline=c.ink, width=c.width(0.8))


def _m_shards(c: _Canvas) -> None:
    for _ in range(int(c.rng.integers(4, 10))):
        x, y = c.pt()
        a = c.rng.uniform(0, 2 * math.pi)
        ln, wd = c.u * c.rng.uniform(0.3, 0.8), c.u * c.rng.uniform(0.03, 0.09)
        dx, dy = math.cos(a), math.sin(a)
        pts = [(x, y), (x + dx * ln - dy * wd, y + dy * ln + dx * wd), (x + dx * ln * 0.8 + dy * wd, y + dy * ln * 0.8)]
        col = (200, 205, 210) if c.rng.random() < 0.6 else (150, 20, 25)
        c.draw.polygon(pts, fill=_rgba(col, int(c.rng.integers(80, 170))))


def _m_cracks(c: _Canvas) -> None:
    for _ in range(int(c.rng.integers(2, 5))):
        x, y = c.pt()
        pts = [(x, y)]
        a = c.rng.uniform(0, 2 * math.pi)
        for _ in range(int(c.rng.integers(5, 10))):
            a += c.rng.uniform(-0.9, 0.9)
            step = c.u * c.rng.uniform(0.04, 0.12)
            x, y = x + math.cos(a) * step, y + math.sin(a) * step
            pts.append((x, y))
        c.draw.line(pts, fill=_rgba((225, 225, 230), 170), width=c.width(0.4))


def _m_skyline(c: _Canvas) -> None:
    x = -c.rng.uniform(0, 0.1) * c.w
    col = _shade(c.pal[0], 0.4)
    while x < c.w:
        bw = c.w * c.rng.uniform(0.08, 0.2)
        top = c.h * c.rng.uniform(0.55, 0.85)
        c.draw.rectangle((x, top, x + bw, c.h), fill=col)
        for _ in range(int(c.rng.integers(0, 3))):  # a lit window here and there
            wx, wy = x + bw * c.rng.uniform(0.2, 0.7), top + (c.h - top) * c.rng.uniform(0.1, 0.6)
            s = c.u * 0.02
            c.draw.rectangle((wx, wy, wx + s, wy + s), fill=(200, 190, 120))
        x += bw


def _m_sun(c: _Canvas) -> None:
    x, y = c.rng.uniform(0.1, 0.9) * c.w, c.rng.uniform(0.08, 0.3) * c.h
    r = c.u * c.rng.uniform(0.08, 0.16)
    c.draw.ellipse((x - r, y - r, x + r, y + r), fill=_hsv(c.rng.uniform(0.08, 0.13), 0.6, 1.0))


def _m_houses(c: _Canvas) -> None:
    base = (c.horizon + 0.15) * c.h
    for _ in range(int(c.rng.integers(2, 5))):
        x = c.rng.uniform(-0.1, 0.9) * c.w
        bw, bh = c.w * c.rng.uniform(0.15, 0.3), c.h * c.rng.uniform(0.15, 0.35)
        rad = c.u * 0.04
        c.draw.rounded_rectangle((x, base - bh, x + bw, base), radius=rad, fill=c.colour())
        s = min(bw, bh) * 0.25
        c.draw.rounded_rectangle(
            (x + bw * 0.3, base - bh * 0.7, x + bw * 0.3 + s, base - bh * 0.7 + s), radius=s * 0.3, fill=(255, 250, 230)
        )


def _m_halftone(c: _Canvas) -> None:
    x0, y0 = c.rng.uniform(-0.2, 0.5) * c.w, c.rng.uniform(-0.2, 0.5) * c.h
    x1, y1 = x0 + c.w * c.rng.uniform(0.4, 0.8), y0 + c.h * c.rng.uniform(0.4, 0.8)
    step = c.u * c.rng.uniform(0.05, 0.08)
    col = c.colour()
    y = y0
    while y < y1:
        x = x0
        while x < x1:
            r = step * 0.45 * (0.3 + 0.7 * (x - x0) / max(x1 - x0, 1))
            c.draw.ellipse((x - r, y - r, x + r, y + r), fill=col)
            x += step
        y += step


def _m_blobs(c: _Canvas) -> None:
    for _ in range(int(c.rng.integers(2, 5))):
        x, y = c.pt()
        rx, ry = c.u * c.rng.uniform(0.06, 0.18), c.u * c.rng.uniform(0.06, 0.18)
        c.draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=c.colour(), outline=c.ink, width=c.width(1.0))


def _m_confetti(c: _Canvas) -> None:
    for _ in range(int(c.rng.integers(6, 16))):
        x, y = c.pt()
        s = c.u * c.rng.uniform(0.015, 0.04)
        a = c.rng.uniform(0, math.pi)
        dx, dy = math.cos(a) * s, math.sin(a) * s
        c.draw.polygon(
            [(x - dx, y - dy), (x + dy * 0.5, y - dx * 0.5), (x + dx, y + dy), (x - dy * 0.5, y + dx * 0.5)],
            fill=_hsv(float(c.rng.choice([0.0, 0.15, 0.6, 0.33])), 0.95, 1.0),
        )


def _m_field_lines(c: _Canvas) -> None:
    hy = c.horizon * c.h
    white = _rgba((250, 250, 250), 230)
    c.draw.line((0, hy + (c.h - hy) * 0.35, c.w, hy + (c.h - hy) * 0.35), fill=white, width=c.width(0.5))
    for k in (-1.5, -0.5, 0.5, 1.5):
        x_top = c.w * (0.5 + k * 0.12)
        c.draw.line((x_top, hy, c.w * (0.5 + k * 0.55), c.h), fill=white, width=c.width(0.5))
    cx, cy = c.w * c.rng.uniform(0.35, 0.65), hy + (c.h - hy) * 0.6
    rx, ry = c.w * 0.2, (c.h - hy) * 0.18
    c.draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), outline=white, width=c.width(0.5))


def _m_ball(c: _Canvas) -> None:
    x, y = c.pt()
    r = c.u * c.rng.uniform(0.06, 0.12)
    kind = int(c.rng.integers(3))
    fill = [(250, 250, 250), (235, 120, 40), (245, 235, 120)][kind]
    c.draw.ellipse((x - r, y - r, x + r, y + r), fill=fill, outline=(30, 30, 30), width=c.width(0.4))
    if kind == 0:
        c.draw.polygon(_star_points(x, y, r * 0.4, 5, 0.8, 0), fill=(30, 30, 30))
    else:
        c.draw.arc((x - r * 1.6, y - r, x + r * 0.4, y + r), -60, 60, fill=(30, 30, 30), width=c.width(0.3))
        c.draw.line((x - r, y, x + r, y), fill=(30, 30, 30), width=c.width(0.3))


def _m_motion_arcs(c: _Canvas) -> None:
    x, y = c.pt()
    for i in range(int(c.rng.integers(2, 5))):
        r = c.u * (0.15 + 0.06 * i)
        start = float(c.rng.uniform(0, 360))
        c.draw.arc(
            (x - r, y - r, x + r, y + r), start, start + 70, fill=_rgba((255, 255, 255), 200), width=c.width(0.6)
        )


def _m_bands(c: _Canvas) -> None:
    for _ in range(int(c.rng.integers(3, 7))):
        y = c.rng.uniform(0, 1) * c.h
        th = c.h * c.rng.uniform(0.04, 0.15)
        tilt = c.h * c.rng.uniform(-0.1, 0.1)
        c.draw.polygon(
            [(0, y), (c.w, y + tilt), (c.w, y + tilt + th), (0, y + th)],
            fill=_rgba(c.colour(), int(c.rng.integers(60, 130))),
        )


def _m_rain(c: _Canvas) -> None:
    ln = c.u * c.rng.uniform(0.06, 0.14)
    for _ in range(int(c.rng.integers(20, 45))):
        x, y = c.pt()
        c.draw.line((x, y, x - ln * 0.25, y + ln), fill=_rgba((230, 230, 235), 90), width=c.width(0.3))


def _m_hills(c: _Canvas) -> None:
    for i in range(int(c.rng.integers(1, 3))):
        cx = c.rng.uniform(0, 1) * c.w
        r = c.w * c.rng.uniform(0.4, 0.8)
        top = c.h * c.rng.uniform(0.65, 0.85)
        c.draw.ellipse((cx - r, top, cx + r, top + r), fill=_shade(c.pal[(2 + i) % len(c.pal)], 0.7))


_MOTIFS = {
    "bubbles": _m_bubbles,
    "hearts": _m_hearts,
    "sparkles": _m_sparkles,
    "stars": _m_stars,
    "crescent": _m_crescent,
    "speed_lines": _m_speed_lines,
    "streaks": _m_streaks,
    "burst": _m_burst,
    "shards": _m_shards,
    "cracks": _m_cracks,
    "skyline": _m_skyline,
    "sun": _m_sun,
    "houses": _m_houses,
    "halftone": _m_halftone,
    "blobs": _m_blobs,
    "confetti": _m_confetti,
    "field_lines": _m_field_lines,
    "ball": _m_ball,
    "motion_arcs": _m_motion_arcs,
    "bands": _m_bands,
    "rain": _m_rain,
    "hills": _m_hills,
}
_FOREGROUND = frozenset({"hearts", "sparkles", "confetti", "rain", "cracks", "motion_arcs"})  # drawn over characters


def _character(c: _Canvas, gs: GenreStyle, author: AuthorStyle, lay: _Layout, k: int) -> None:
    """A simple bust close-up, the subject of most real thumbnails (character ``k`` of the layout)."""
    cx, cy, rr = lay.heads[k]
    hair = lay.hairs[k]
    x, y, r = cx * c.w, cy * c.h, rr * c.u
    hair_col, clothes = lay.palette[(2 + 2 * k) % len(lay.palette)], lay.palette[(3 + 2 * k) % len(lay.palette)]
    if gs.name == "thriller":
        hair_col, clothes = _shade(hair_col, 0.6), _shade(clothes, 0.7)
    skin = _shade(lay.skins[k], gs.skin_dim)
    outline = author.ink if (gs.outline or author.line_mult > 1.2) else None
    ow = c.width(0.7 if outline else 0)
    d = c.draw
    d.ellipse((x - 1.7 * r, y + 0.75 * r, x + 1.7 * r, y + 4.0 * r), fill=clothes, outline=outline, width=ow)
    if hair == 3:  # long hair behind
        d.rounded_rectangle((x - 1.15 * r, y - 1.05 * r, x + 1.15 * r, y + 1.9 * r), radius=r, fill=hair_col)
    d.ellipse((x - 0.85 * r, y - r, x + 0.85 * r, y + r), fill=skin, outline=outline, width=ow)
    if hair == 1:  # spiky
        pts = [(x - 1.0 * r, y - 0.15 * r)]
        for i in range(7):
            t = i / 6 + c.rng.uniform(-0.04, 0.04)
            tip = 1.45 + 0.3 * math.sin(math.pi * t) + c.rng.uniform(-0.15, 0.15)
            pts.append((x + (-0.9 + 1.8 * t) * r, y - (tip if i % 2 == 0 else 1.0) * r))
        pts.append((x + 1.0 * r, y - 0.15 * r))
        pts.append((x, y - 0.55 * r))
        d.polygon(pts, fill=hair_col, outline=outline, width=ow)
    elif hair == 2:  # bob
        d.chord(
            (x - 1.05 * r, y - 1.15 * r, x + 1.05 * r, y + 0.9 * r), 180, 360, fill=hair_col, outline=outline, width=ow
        )
        d.rectangle((x - 1.05 * r, y - 0.15 * r, x - 0.7 * r, y + 0.55 * r), fill=hair_col)
        d.rectangle((x + 0.7 * r, y - 0.15 * r, x + 1.05 * r, y + 0.55 * r), fill=hair_col)
    else:  # fringe (0) and the top of long hair (3)
        d.chord(
            (x - 0.95 * r, y - 1.1 * r, x + 0.95 * r, y + 0.3 * r), 180, 360, fill=hair_col, outline=outline, width=ow
        )
    ey, ex = y + 0.15 * r, 0.38 * r
    if author.eyes == "dots":
        for sx in (-1, 1):
            er = 0.09 * r
            d.ellipse((x + sx * ex - er, ey - er, x + sx * ex + er, ey + er), fill=author.ink)
    elif author.eyes == "anime":
        for sx in (-1, 1):
            ew, eh = 0.16 * r, 0.24 * r
            d.ellipse(
                (x + sx * ex - ew, ey - eh, x + sx * ex + ew, ey + eh),
                fill=author.accent,
                outline=author.ink,
                width=c.width(0.4),
            )
            hr = 0.06 * r
            d.ellipse((x + sx * ex - hr, ey - eh * 0.6 - hr, x + sx * ex + hr, ey - eh * 0.6 + hr), fill="white")
    elif author.eyes == "lines":
        for sx in (-1, 1):
            d.line((x + sx * ex - 0.14 * r, ey, x + sx * ex + 0.14 * r, ey), fill=author.ink, width=c.width(0.5))
    d.line((x - 0.12 * r, y + 0.6 * r, x + 0.12 * r, y + 0.6 * r), fill=_shade(skin, 0.6), width=c.width(0.3))
    if gs.name == "thriller":  # half the face in shadow
        d.chord((x - 0.85 * r, y - r, x + 0.85 * r, y + r), 270, 90, fill=(0, 0, 0, 120))


def _accents(c: _Canvas, author: AuthorStyle) -> None:
    """The author's favourite little shape, in their signature colour."""
    for _ in range(int(c.rng.integers(2, 5))):
        x, y = c.pt()
        r = c.u * c.rng.uniform(0.03, 0.07)
        col = _rgba(author.accent, 230)
        lw = c.width(0.6)
        if author.shape == "circle":
            c.draw.ellipse((x - r, y - r, x + r, y + r), fill=col)
        elif author.shape == "ring":
            c.draw.ellipse((x - r, y - r, x + r, y + r), outline=col, width=max(lw, c.width(0.5)))
        elif author.shape == "triangle":
            c.draw.polygon([(x, y - r), (x + r, y + r * 0.8), (x - r, y + r * 0.8)], fill=col)
        elif author.shape == "square":
            c.draw.rectangle((x - r * 0.8, y - r * 0.8, x + r * 0.8, y + r * 0.8), fill=col)
        elif author.shape == "diamond":
            c.draw.polygon([(x, y - r), (x + r * 0.7, y), (x, y + r), (x - r * 0.7, y)], fill=col)
        elif author.shape == "star":
            c.draw.polygon(_star_points(x, y, r, 5, 0.45, 0.0), fill=col)
        else:  # cross
            c.draw.line((x - r, y, x + r, y), fill=col, width=lw)
            c.draw.line((x, y - r, x, y + r), fill=col, width=lw)


# ---------------------------------------------------------------------------------------------------------------------
# Textures and borders (numpy / PIL at the final size)
# ---------------------------------------------------------------------------------------------------------------------


def _texture(arr: np.ndarray, author: AuthorStyle, rng: np.random.Generator) -> np.ndarray:
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


def _border(img: Image.Image, author: AuthorStyle) -> Image.Image:
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


def render_cover(
    genre: str,
    author: AuthorStyle,
    size: tuple[int, int],
    *,
    title_seed: Sequence[int],
    image_index: int = 0,
    secondary: str | None = None,
) -> Image.Image:
    """Draw image ``image_index`` of a title (0 = the cover) as an RGB PIL image of ``size`` (width, height).

    ``genre`` drives the look; a ``secondary`` genre may lend it colours and a motif. ``title_seed`` fixes the
    title's layout, so the same arguments always give the same pixels.
    """
    gs = _STYLE_BY_GENRE[genre]
    second = _STYLE_BY_GENRE[secondary] if secondary and secondary != genre else None
    lay = _title_layout(gs, author, np.random.default_rng([*title_seed, 1]), second)
    rng = np.random.default_rng([*title_seed, 2, image_index])
    if image_index > 0:
        lay = _episode_layout(lay, rng)
    w, h = size
    ss = 2 if max(w, h) < 300 else 1  # supersample small images for anti-aliased shapes
    zw, zh = round(w * ss * lay.zoom), round(h * ss * lay.zoom)
    img = Image.fromarray(_background(gs, lay, zw, zh, rng).astype(np.uint8))
    canvas = _Canvas(
        draw=ImageDraw.Draw(img, "RGBA"),
        w=zw,
        h=zh,
        lw=gs.line * author.line_mult * min(zw, zh),
        pal=lay.palette,
        ink=author.ink,
        rng=rng,
        focal=lay.focal,
        angle=lay.angle,
        horizon=lay.horizon,
    )
    for motif in lay.motifs:
        if motif not in _FOREGROUND:
            _MOTIFS[motif](canvas)
    for k in range(len(lay.heads)):
        _character(canvas, gs, author, lay, k)
    for motif in lay.motifs:
        if motif in _FOREGROUND:
            _MOTIFS[motif](canvas)
    _accents(canvas, author)
    if lay.zoom > 1.0:  # episode images are a closer crop of the same scene
        left = round(rng.uniform(0, zw - w * ss))
        top = round(rng.uniform(0, zh - h * ss))
        img = img.crop((left, top, left + w * ss, top + h * ss))
    if ss > 1:
        img = img.resize((w, h), Image.LANCZOS)
    arr = np.asarray(img, np.float32)
    if gs.noise > 0:
        arr = np.clip(arr + rng.normal(0, gs.noise * 255, (h, w, 1)).astype(np.float32), 0, 255)
    arr = _texture(arr, author, rng)
    return _border(Image.fromarray(np.clip(arr, 0, 255).round().astype(np.uint8)), author)


# ---------------------------------------------------------------------------------------------------------------------
# Catalogue plan
# ---------------------------------------------------------------------------------------------------------------------


def _author_names(n: int, rng: np.random.Generator) -> list[str]:
    korean = [f"{f}{g} (데모)" for f in _KO_FAMILY for g in _KO_GIVEN]
    pen = [f"{a}{b} (demo)" for a in _PEN_A for b in _PEN_B]
    korean = [korean[i] for i in rng.permutation(len(korean))]
    pen = [pen[i] for i in rng.permutation(len(pen))]
    names: list[str] = []
    while len(names) < n:
        pool = pen if (len(names) % 5 in (1, 3) and pen) else (korean or pen)
        if not pool:
            names.append(f"Demo Artist {len(names) + 1} (demo)")
        else:
            names.append(pool.pop())
    return names


def _make_authors(n: int, rng: np.random.Generator) -> list[AuthorStyle]:
    names = _author_names(n, rng)
    authors = []
    for i, name in enumerate(names):
        primary = GENRES[i % len(GENRES)]
        genres: tuple[str, ...] = (primary,)
        if rng.random() < 0.5:
            related = _RELATED[primary]
            genres = (primary, related[int(rng.integers(len(related)))])
        authors.append(
            AuthorStyle(
                name=name,
                genres=genres,
                hue_shift=float(rng.uniform(-0.04, 0.04)),
                sat_mult=float(rng.uniform(0.85, 1.15)),
                line_mult=float(rng.choice([0.6, 1.0, 1.6])),
                texture=TEXTURES[int(rng.integers(len(TEXTURES)))],
                texture_period=int(rng.integers(3, 6)),
                shape=SHAPES[int(rng.integers(len(SHAPES)))],
                accent=_hsv(float(rng.uniform(0, 1)), float(rng.uniform(0.55, 0.95)), float(rng.uniform(0.6, 1.0))),
                border=BORDERS[int(rng.integers(len(BORDERS)))],
                eyes=EYES[int(rng.integers(len(EYES)))],
                ink=_INKS[int(rng.integers(len(_INKS)))],
                hair=int(rng.integers(4)),
            )
        )
    return authors


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _image_count(spec: int | tuple[int, int], rng: np.random.Generator) -> int:
    if isinstance(spec, int):
        return spec
    lo, hi = spec
    counts = np.arange(lo, hi + 1)
    weights = 1.0 / (counts - lo + 1.0) ** 1.2  # most titles have one image, some have more
    return int(rng.choice(counts, p=weights / weights.sum()))


def number_of_authors(n_titles: int) -> int:
    """About one author per six titles, at least one per genre when there are enough titles, two titles each."""
    return max(1, min(n_titles // 2, max(len(GENRES), round(n_titles / TITLES_PER_AUTHOR))))


def _plan(
    n_titles: int, seed: int, images_per_title: int | tuple[int, int], size: tuple[int, int] | None
) -> tuple[list[_TitlePlan], list[AuthorStyle]]:
    rng = np.random.default_rng([seed, 0])
    n_authors = number_of_authors(n_titles)
    authors = _make_authors(n_authors, rng)
    # Every author gets two titles in their primary genre; the rest go to authors with uneven popularity.
    popularity = rng.lognormal(0.0, 0.45, n_authors)
    extra = rng.choice(n_authors, size=n_titles - 2 * n_authors, p=popularity / popularity.sum())
    plans: list[_TitlePlan] = []
    for a in [*range(n_authors), *range(n_authors), *extra.tolist()]:
        author = authors[a]
        first_two = sum(p.artist is author for p in plans) < 2
        genre = author.genres[0] if first_two or len(author.genres) == 1 or rng.random() < 0.7 else author.genres[1]
        genres = [genre]
        if rng.random() < 0.3:
            others = [g for g in _RELATED[genre] if g != genre]
            genres.append(others[int(rng.integers(len(others)))])
        writer = None
        if n_authors >= 3 and rng.random() < 0.08:  # a writer credit next to the artist, as on real pages
            w = int(rng.integers(n_authors - 1))
            writer = authors[w if w < a else w + 1].name
        plans.append(_TitlePlan(artist=author, genres=genres, writer=writer))
    plans = [plans[i] for i in rng.permutation(len(plans))]

    used: set[str] = set()
    for p in plans:
        gs = _STYLE_BY_GENRE[p.genres[0]]
        ko_adj, en_adj = _ADJECTIVES[int(rng.integers(len(_ADJECTIVES)))]
        ko_noun, en_noun = gs.nouns[int(rng.integers(len(gs.nouns)))]
        ko, en = f"{ko_adj} {ko_noun}", f"{en_adj} {en_noun}"
        slug, k = _slugify(en), 1
        while slug in used:
            k += 1
            slug = f"{_slugify(en)}-{k}"
        used.add(slug)
        if k > 1:
            ko, en = f"{ko} {k}", f"{en} {k}"
        p.slug = slug
        if rng.random() < 0.75:
            p.title, p.title_en = f"{ko} (데모)", f"[DEMO] {en}"
        else:
            p.title, p.title_en = f"[DEMO] {en}", None
        picks = rng.choice(len(gs.tags), size=2, replace=False)
        p.tags = ["demo", "데모", *(gs.tags[int(i)] for i in picks)]
        p.star = round(float(rng.uniform(7.0, 9.99)), 2)
        n_img = _image_count(images_per_title, rng)
        if size is not None:
            p.sizes = [size] * n_img
        else:
            sizes, weights = zip(*COVER_SIZES, strict=True)
            w = np.array(weights) / sum(weights)
            cover = sizes[int(rng.choice(len(sizes), p=w))]
            p.sizes = [cover] + [EPISODE_SIZE if rng.random() < 0.7 else cover for _ in range(n_img - 1)]
    for rank, i in enumerate(rng.permutation(n_titles), start=1):
        plans[int(i)].rank = rank
    n_adult = max(1, round(0.03 * n_titles)) if n_titles >= 10 else 0
    darker = [i for i, p in enumerate(plans) if p.genres[0] in ("thriller", "drama", "romance")]
    pool = darker if len(darker) >= n_adult else list(range(n_titles))
    for i in rng.choice(pool, size=n_adult, replace=False):
        plans[int(i)].adult = True
    return plans, authors


# ---------------------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------------------


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise CatalogError(f"output path exists and is not a folder: {out}")
    if out.is_dir() and any(out.iterdir()):
        readme = out / "README.md"
        is_demo = readme.is_file() and README_MARKER in readme.read_text(encoding="utf-8", errors="replace")
        if not is_demo:
            raise CatalogError(
                f"refusing to write into {out}: the folder is not empty and is not a demo catalogue "
                "(choose a new or empty folder)"
            )


def _readme(n_titles: int, n_images: int, authors: list[AuthorStyle], genres: list[str], seed: int) -> str:
    return f"""# {README_MARKER}

**Everything in this folder is synthetic.** The covers are procedurally drawn shapes and colours; the titles,
authors, synopses, ranks and scores are made up. None of it is a real webtoon. It exists so the Toonmatch pipeline
(train, index, evaluate, query, bot) can run on a fresh machine with no real data.

- {n_titles} titles, {n_images} PNG images, {len(authors)} fictional authors, genres: {", ".join(genres)}.
- Every record has `source: "demo"`, an id `demo:<slug>`, `[DEMO]` or `(데모)` in its title, `url: null`.
- Genre drives the palette, background and motifs; each author adds a signature (texture, line weight, accent
  shape and colour, eyes, border), so genre and author can be learned from the images.
- Metrics measured on this catalogue say nothing about real covers.

Regenerate with `python -m scripts.make_demo_catalog --out <folder> --titles {n_titles} --seed {seed}`
(deterministic: the same seed gives the same files).
"""


def generate_demo_catalog(
    out_dir: str | Path,
    n_titles: int = DEFAULT_TITLES,
    seed: int = 0,
    images_per_title: int | tuple[int, int] = (1, 3),
    size: tuple[int, int] | None = None,
    *,
    progress: bool = False,
) -> Path:
    """Write a synthetic demo catalogue (``catalog.jsonl``, ``images/*.png``, ``README.md``) into ``out_dir``.

    ``images_per_title``: a fixed count or an inclusive ``(low, high)`` range (most titles get ``low``).
    ``size``: ``(width, height)`` for every image; ``None`` mixes real thumbnail sizes (125×101, 83×90, 308×400
    posters, 202×120 episode images). ``progress``: show a tqdm bar on stderr. Refuses a non-empty folder that is
    not already a demo catalogue (which it then overwrites). Returns the catalogue folder.
    """
    if isinstance(n_titles, bool) or not isinstance(n_titles, int) or not 2 <= n_titles <= MAX_TITLES:
        raise ValueError(f"n_titles must be an integer from 2 to {MAX_TITLES}, got {n_titles!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    ipt = images_per_title
    lo, hi = (ipt, ipt) if isinstance(ipt, int) and not isinstance(ipt, bool) else tuple(ipt)  # type: ignore[arg-type]
    if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi <= MAX_IMAGES_PER_TITLE):
        raise ValueError(f"images_per_title must be from 1 to {MAX_IMAGES_PER_TITLE} (or a low ≤ high range)")
    if size is not None:
        if len(size) != 2 or not all(isinstance(s, int) and 16 <= s <= 2048 for s in size):
            raise ValueError(f"size must be (width, height) with each side from 16 to 2048, got {size!r}")
        size = (int(size[0]), int(size[1]))

    out = Path(out_dir).expanduser()
    _check_out_dir(out)
    plans, authors = _plan(n_titles, seed, ipt if isinstance(ipt, int) else (lo, hi), size)
    images_dir = out / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    # The README (with its marker) goes first, so an interrupted run can be redone into the same folder.
    primary_genres = sorted({p.genres[0] for p in plans}, key=GENRES.index)
    (out / "README.md").write_text(
        _readme(n_titles, sum(len(p.sizes) for p in plans), authors, primary_genres, seed), encoding="utf-8"
    )

    rows: list[dict[str, Any]] = []
    written: set[str] = set()
    with tqdm(total=n_titles, desc="demo covers", unit="title", disable=not progress, leave=False) as bar:
        for index, p in enumerate(plans):
            rel_paths = []
            for k, img_size in enumerate(p.sizes):
                img = render_cover(
                    p.genres[0],
                    p.artist,
                    img_size,
                    title_seed=(seed, 1, index),
                    image_index=k,
                    secondary=p.genres[1] if len(p.genres) > 1 else None,
                )
                rel = f"images/demo_{p.slug}_{k + 1:02d}.png"
                img.save(out / rel, format="PNG")
                rel_paths.append(rel)
                written.add(Path(rel).name)
            gs = _STYLE_BY_GENRE[p.genres[0]]
            authors_field = [p.artist.name] + ([p.writer] if p.writer else [])
            rows.append(
                {
                    "id": f"{SOURCE}:{p.slug}",
                    "title": p.title,
                    "title_en": p.title_en,
                    "authors": authors_field,
                    "genres": p.genres,
                    "adult": p.adult,
                    "source": SOURCE,
                    "url": None,
                    "popularity_rank": p.rank,
                    "star_score": p.star,
                    "tags": p.tags,
                    "synopsis": (
                        f"Synthetic demo title, not a real webtoon: a procedurally drawn {gs.name.replace('_', ' ')} "
                        f"cover by the fictional artist {p.artist.name}. 실제 작품이 아닌 합성 데모({gs.ko})입니다."
                    ),
                    "images": rel_paths,
                }
            )
            bar.update(1)

    for stale in images_dir.glob("demo_*.png"):  # left over from an earlier, larger demo catalogue
        if stale.name not in written:
            stale.unlink()
    write_catalog(out, rows)
    return out.resolve()


__all__ = [
    "GENRES",
    "GENRE_STYLES",
    "AuthorStyle",
    "GenreStyle",
    "README_MARKER",
    "generate_demo_catalog",
    "number_of_authors",
    "render_cover",
]
