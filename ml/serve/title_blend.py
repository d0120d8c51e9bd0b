"""Title-to-title recommendations that know the catalogue: art style blended with shared genres, tags and authors.

``/recommend <title>`` starts from the titles closest in art style (the index's ranking of the title's vector), then
rescores each candidate::

    score = style + min(1, style / 0.25) · (w_genre · genre Jaccard + w_tags · tag Jaccard + w_author · [author])

``style`` is the calibrated similarity readers see (still shown as the percentage); the boosts shrink for titles
drawn nothing alike (under 25 %), so a list never fills up with 0 % lines; genres are the catalogue's ``genres``, tags
its ``tags`` (the platform's curation keywords) less those that only repeat a genre ("판타지", "완결로맨스").
Each line gets a reason naming what it shares
("same author", "also fantasy · 회귀"). Image queries never come here: an upload has no tags. The weights were chosen
on the validation titles of split seed 0 (``bench/quality.py``, docs/results/quality-round2.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from catalog.format import Title
from core.i18n import Msg, genre_msg
from ml.serve.index import Hit

POOL = 300  # style neighbours rescored per title query
REASON_TAGS = 2  # shared tags named in a reason
STYLE_GATE = 0.25  # below this style similarity the catalogue's boosts shrink linearly to 0 (no 0 % lines)
# tags that repeat a genre ("판타지", "완결로맨스"): the genres already count, so they are left out of tags and reasons
GENRE_WORDS = (
    *("판타지", "로맨스", "액션", "개그", "코믹", "드라마", "스릴러"),
    *("무협", "사극", "스포츠", "일상", "감성", "순정"),
)


@dataclass(frozen=True)
class BlendWeights:
    genre: float = 2.0
    tags: float = 2.0
    author: float = 2.0

    @property
    def style_only(self) -> bool:
        return self.genre == self.tags == self.author == 0.0


DEFAULT_WEIGHTS = BlendWeights()
STYLE_ONLY = BlendWeights(0.0, 0.0, 0.0)  # the ranking before the blend: art style alone


@dataclass(frozen=True)
class Blended:
    title_id: str
    style: float  # the calibrated style similarity (what the answer shows)
    score: float  # what the answer is ranked by
    reason: str | None


def themes(tags: Sequence[str]) -> tuple[str, ...]:
    """The tags that are not a genre's name."""
    return tuple(t for t in tags if not any(word in t for word in GENRE_WORDS))


def jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    sa, sb = set(a), set(b)
    union = sa | sb
    return len(sa & sb) / len(union) if union else 0.0


STYLE_REASON = Msg("similar art style")


def reason(source: Title, other: Title) -> Msg:
    """What ``other`` shares with ``source``: "same author", "also fantasy · 회귀 · 먼치킨", else STYLE_REASON (a
    :class:`core.i18n.Msg`: English as a str, said in the reader's language by the bot)."""
    author = bool(set(source.authors) & set(other.authors))
    shared_genres = [g for g in other.genres if g in set(source.genres)]
    shared_tags = [t for t in themes(other.tags) if t in set(source.tags)][:REASON_TAGS]
    also = tuple([genre_msg(g) for g in shared_genres[:1]] + shared_tags)
    if author and also:
        return Msg("same author, also {things}", things=also)
    if author:
        return Msg("same author")
    if also:
        return Msg("also {things}", things=also)
    return STYLE_REASON


def blend(
    source: Title, hits: Sequence[Hit], titles: Mapping[str, Title], weights: BlendWeights = DEFAULT_WEIGHTS
) -> list[Blended]:
    """``hits`` (style neighbours of ``source``) rescored and reordered, best first (stable for ties)."""
    out = []
    for h in hits:
        other = titles[h.title_id]
        score = h.similarity
        if not weights.style_only:
            boost = weights.genre * jaccard(source.genres, other.genres)
            boost += weights.tags * jaccard(themes(source.tags), themes(other.tags))
            boost += weights.author * bool(set(source.authors) & set(other.authors))
            score += boost * min(1.0, h.similarity / STYLE_GATE)
        out.append(Blended(h.title_id, h.similarity, score, None if weights.style_only else reason(source, other)))
    return sorted(out, key=lambda b: -b.score)
