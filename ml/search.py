"""Fuzzy title search for autocomplete and ``--title``: Korean, English and alternate titles and author names."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from ml.catalog import Title
from ml.errors import AmbiguousTitleError, UnknownTitleError


@dataclass(frozen=True)
class Match:
    title_id: str
    score: float
    matched: str


class TitleSearch:
    """One flat list of (normalised string → title) choices; rapidfuzz scores them all in C per keystroke."""

    def __init__(self, titles: list[Title]):
        self.titles = {t.id: t for t in titles}
        self._owners: list[str] = []
        self._choices: list[str] = []
        self._raw: list[str] = []
        for t in titles:
            names = [t.title, t.title_en, *t.authors, *(t.extra.get("alt_titles") or [])]
            for name in names:
                if isinstance(name, str) and name.strip():
                    self._owners.append(t.id)
                    self._raw.append(name)
                    self._choices.append(utils.default_process(name))
        self._exact = {}
        for t in titles:
            for name in (t.title, t.title_en):
                if name:
                    self._exact.setdefault(utils.default_process(name), []).append(t.id)

    def search(self, text: str, limit: int = 25, min_score: float = 45.0) -> list[Match]:
        """Best titles for ``text`` (≤ ``limit``), each once at its best-matching name; empty text → nothing."""
        query = utils.default_process(text or "")
        if not query:
            return []
        found = process.extract(
            query, self._choices, scorer=fuzz.WRatio, processor=None, limit=limit * 4, score_cutoff=min_score
        )
        out: dict[str, Match] = {}
        for _choice, score, idx in found:
            owner = self._owners[idx]
            bonus = 10.0 if self._choices[idx].startswith(query) else 0.0
            if owner not in out or score + bonus > out[owner].score:
                out[owner] = Match(owner, min(100.0, score + bonus), self._raw[idx])
        return sorted(out.values(), key=lambda m: (-m.score, self.titles[m.title_id].title))[:limit]

    def resolve(self, text: str) -> Title:
        """Exact id wins, then an exact title (Korean or English), then a single best fuzzy match; otherwise
        :class:`UnknownTitleError` / :class:`AmbiguousTitleError` listing the closest titles."""
        text = (text or "").strip()
        if text in self.titles:
            return self.titles[text]
        exact = self._exact.get(utils.default_process(text), [])
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
