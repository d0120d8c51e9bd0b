"""Word tables and name generators: fictional author names, title words, slugs."""

from __future__ import annotations

import re

import numpy as np


def word_pairs(text: str) -> tuple[tuple[str, str], ...]:
    """``"별빛=Starlit, 푸른=Blue"`` → ``(("별빛", "Starlit"), ("푸른", "Blue"))``: compact word tables."""
    return tuple(tuple(item.strip().split("=", 1)) for item in text.split(",") if item.strip())  # type: ignore[misc]


_ADJECTIVES = word_pairs(
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


def author_names(n: int, rng: np.random.Generator) -> list[str]:
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


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def title_name(
    nouns: tuple[tuple[str, str], ...], used: set[str], rng: np.random.Generator
) -> tuple[str, str, str | None]:
    """A new title from an adjective and one of the genre's ``nouns``: ``(slug, title, title_en)``.

    The slug is unique among ``used`` (which it joins; a repeated name gets a number). Most titles are Korean with
    an English title; the others are English only.
    """
    ko_adj, en_adj = _ADJECTIVES[int(rng.integers(len(_ADJECTIVES)))]
    ko_noun, en_noun = nouns[int(rng.integers(len(nouns)))]
    ko, en = f"{ko_adj} {ko_noun}", f"{en_adj} {en_noun}"
    slug, k = slugify(en), 1
    while slug in used:
        k += 1
        slug = f"{slugify(en)}-{k}"
    used.add(slug)
    if k > 1:
        ko, en = f"{ko} {k}", f"{en} {k}"
    if rng.random() < 0.75:
        return slug, f"{ko} (데모)", f"[DEMO] {en}"
    return slug, f"[DEMO] {en}", None
