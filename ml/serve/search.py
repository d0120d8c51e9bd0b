"""Fuzzy title search for autocomplete and ``--title``: Korean, English and alternate titles and author names."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process, utils
from rapidfuzz.distance import LCSseq

from catalog.format import Title
from core.errors import AmbiguousTitleError, UnknownTitleError

MAX_QUERY = 100  # characters of a query that are matched (the longest title names are ~60); the rest is dropped
# Zero-width and other invisible format characters (ZWSP, ZWJ, BOM, bidi marks, soft hyphen…) and control characters.
_INVISIBLE = re.compile(
    r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    r"\u3164\ufe00-\ufe0f\ufeff\uffa0\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def normalise(text: str) -> str:
    """Text in one comparable form, for names and queries alike: NFKC (composed Hangul, half-width Latin and
    digits, ligatures spelled out), invisible and control characters removed, then rapidfuzz's own processing
    (lower case, punctuation to spaces, trimmed)."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _INVISIBLE.sub("", text)
    return utils.default_process(text)


def cut_query(text: str) -> str:
    """A query cut to :data:`MAX_QUERY` characters before anything is matched (a 20,000-character paste must not
    cost the event loop a fifth of a second)."""
    return (text or "")[:MAX_QUERY]


@dataclass(frozen=True)
class Match:
    title_id: str
    score: float
    matched: str


# WRatio costs ~2 µs per name, too slow to score 10k titles' ~26k names per keystroke (~50 ms). Above this many
# names, a cheap bound over all of them (one in-order character overlap pass, ~1 ms) picks the candidates that WRatio
# then scores exactly.
PREFILTER_ABOVE = 2000
AUTHOR_WEIGHT = 0.9  # a title named like the text beats a title whose author is
CANDIDATES = 200


class TitleSearch:
    """One flat list of (normalised string → title) choices, scored with rapidfuzz's WRatio (+10 for a prefix);
    large catalogues score only the :data:`CANDIDATES` names with the best cheap bound."""

    def __init__(self, titles: list[Title]):
        self.titles = {t.id: t for t in titles}
        self._owners: list[str] = []
        self._choices: list[str] = []
        self._raw: list[str] = []
        self._weights: list[float] = []
        for t in titles:
            names = [(n, 1.0) for n in (t.title, t.title_en, *(t.extra.get("alt_titles") or []))]
            names += [(n, AUTHOR_WEIGHT) for n in t.authors]
            for name, weight in names:
                if isinstance(name, str) and name.strip():
                    self._owners.append(t.id)
                    self._raw.append(name)
                    self._choices.append(normalise(name))
                    self._weights.append(weight)
        self._lengths = np.array([len(c) for c in self._choices], dtype=np.float32)
        self._by_text = np.array(sorted(range(len(self._choices)), key=self._choices.__getitem__), dtype=np.int64)
        self._sorted = [self._choices[i] for i in self._by_text]  # prefix matches are one bisect away
        tokens: dict[str, list[int]] = {}
        for i, choice in enumerate(self._choices):
            for token in set(choice.split()):
                tokens.setdefault(token, []).append(i)
        self._token_rows = {t: np.array(rows, dtype=np.int64) for t, rows in tokens.items()}
        self._scales = lru_cache(maxsize=64)(self._length_scales)
        self._exact = {}
        for t in titles:
            for name in (t.title, t.title_en):
                if name:
                    self._exact.setdefault(normalise(name), []).append(t.id)

    def search(self, text: str, limit: int = 25, min_score: float = 45.0) -> list[Match]:
        """Best titles for ``text`` (≤ ``limit``), each once at its best-matching name; empty text → nothing."""
        query = normalise(cut_query(unicodedata.normalize("NFKC", text or "")))
        if not query:
            return []
        prefixed = self._prefixed(query)
        count = max(CANDIDATES, 4 * limit)
        rows = self._candidates(query, prefixed, count) if len(self._choices) > max(PREFILTER_ABOVE, count) else None
        choices = self._choices if rows is None else [self._choices[i] for i in rows]
        scores = process.cdist([query], choices, scorer=fuzz.WRatio, processor=None, dtype=np.float32)[0]
        prefixed_rows = set(prefixed.tolist())
        out: dict[str, Match] = {}
        for j in np.flatnonzero(scores >= min_score):
            idx = int(j if rows is None else rows[j])
            owner = self._owners[idx]
            score = min(100.0, float(scores[j]) + (10.0 if idx in prefixed_rows else 0.0)) * self._weights[idx]
            if owner not in out or score > out[owner].score:
                out[owner] = Match(owner, score, self._raw[idx])
        return sorted(out.values(), key=lambda m: (-m.score, self.titles[m.title_id].title))[:limit]

    def _prefixed(self, query: str) -> np.ndarray:
        """Rows of the names that start with ``query``."""
        lo = bisect_left(self._sorted, query)
        return self._by_text[lo : bisect_left(self._sorted, query + "\U0010ffff", lo)]

    def _length_scales(self, query_len: int) -> tuple[np.ndarray, np.ndarray]:
        """Per name, for a query of this length: (WRatio's partial-match scale, 100 / the shorter length)."""
        shorter = np.maximum(np.minimum(self._lengths, query_len), 1.0)
        ratio = np.maximum(self._lengths, query_len) / shorter
        scale = np.where(ratio < 1.5, 1.0, np.where(ratio < 8, 0.9, 0.6)).astype(np.float32)
        return scale, (scale * 100 / shorter).astype(np.float32)

    def _candidates(self, query: str, prefixed: np.ndarray, count: int) -> np.ndarray:
        """Rows of the ``count`` names most likely to score best: the characters of the shorter string
        found in order in the longer (an upper bound of WRatio's ratio and partial ratio), scaled by length as
        WRatio scales partial matches, a full score for sharing a whole word (its token ratios), +10 for a prefix."""
        common = process.cdist([query], self._choices, scorer=LCSseq.similarity, processor=None, dtype=np.int32)[0]
        scale, per_char = self._scales(len(query))
        bound = common * per_char
        if " " in query:  # words in any order: the share of the query's characters in words a name also has
            shared = np.zeros_like(bound)
            for word in set(query.split()):
                if word in self._token_rows:
                    shared[self._token_rows[word]] += len(word) + 1
            bound = np.maximum(bound, np.minimum(shared * (100 / len(query)), 100) * scale)
        bound[prefixed] += 10.0
        return np.argpartition(-bound, count)[:count]  # (selecting the smallest is ~8× faster here)

    def resolve(self, text: str) -> Title:
        """Exact id wins, then an exact title (Korean or English), then a single best fuzzy match; otherwise
        :class:`UnknownTitleError` / :class:`AmbiguousTitleError` listing the closest titles."""
        text = (text or "").strip()
        if text in self.titles:
            return self.titles[text]
        text = cut_query(unicodedata.normalize("NFKC", text)).strip()
        if text in self.titles:
            return self.titles[text]
        exact = self._exact.get(normalise(text), [])
        if len(exact) == 1:
            return self.titles[exact[0]]
        matches = self.search(text, limit=5)
        names = [self.describe(m.title_id) for m in matches]
        if len(exact) > 1:
            raise AmbiguousTitleError(f"several titles are called {text!r}", [self.describe(t) for t in exact])
        if not matches:
            raise UnknownTitleError(f"no title matches {text!r}", [])
        if len(matches) > 1 and matches[0].score - matches[1].score < 1e-6:
            tied = [self.describe(m.title_id) for m in matches if matches[0].score - m.score < 1e-6]
            raise AmbiguousTitleError(f"several titles fit {text!r} equally well", tied)
        if matches[0].score < 80:
            raise UnknownTitleError(f"no title matches {text!r}", names)
        return self.titles[matches[0].title_id]

    def describe(self, title_id: str) -> str:
        t = self.titles[title_id]
        alt = f" / {t.title_en}" if t.title_en and t.title_en != t.title else ""
        return f"{t.title}{alt} ({title_id})"
