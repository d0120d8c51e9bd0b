"""Ranking the indexed titles: retrieval over a query's panels, the taste rerank, confidence, discovery picks.

Pure policy over the index and the title vectors: no model, no images (:mod:`ml.serve.engine` feeds it embeddings).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from catalog.format import Title
from core.i18n import N_, Msg
from core.settings import DEFAULT_LOW_CONFIDENCE, DEFAULT_TASTE_WEIGHT
from ml.serve.index import Hit, TitleIndex, cosine_to_similarity
from ml.serve.results import Answer, Result, TasteProfile
from ml.serve.title_blend import DEFAULT_WEIGHTS, POOL, BlendWeights, blend

LOW_CONFIDENCE_MESSAGE = N_("no close match — these are the nearest styles")
DISLIKE_WEIGHT = 0.5  # a disliked neighbour pushes down half as hard as a liked one pulls up
NEW_BONUS = 0.3  # how much discovery prefers a title a recent refresh added (over the 0–1 taste fit)
NEW_MIN_FIT = 0.3  # ... when it fits the server's taste at least this well (servers with likes)
TITLE_QUERY_ITEMS = 4  # a title query asks with its mean vector and up to this many of its own images


class Ranker:
    """Ranks ``titles`` (those of ``index``) for a query. ``taste_weight`` is how far a taste may move a title
    (0: not at all); an answer whose best similarity is under ``low_confidence_threshold`` says it found no close
    match."""

    def __init__(
        self,
        index: TitleIndex,
        titles: Mapping[str, Title],
        *,
        taste_weight: float = DEFAULT_TASTE_WEIGHT,
        low_confidence_threshold: float = DEFAULT_LOW_CONFIDENCE,
        title_weights: BlendWeights = DEFAULT_WEIGHTS,
        title_query_items: int = TITLE_QUERY_ITEMS,
    ):
        self.index = index
        self.title_query_items = title_query_items  # 0: a title query asks with its mean vector alone
        self.titles = titles
        self.title_weights = title_weights  # STYLE_ONLY: title queries ranked by art style alone
        self.taste_weight = taste_weight
        self.low_confidence_threshold = low_confidence_threshold
        self.new_titles: frozenset[str] = frozenset()  # titles a refresh indexed lately (discovery prefers them)
        self._ids = sorted(titles)
        self._row = {t: i for i, t in enumerate(self._ids)}
        self._vectors = np.stack([index.title_vector(t) for t in self._ids]) if self._ids else np.zeros((0, index.dim))

    def title_vector(self, title_id: str) -> np.ndarray:
        """A title's vector in index space (the query of "titles like this one")."""
        return self._vectors[self._row[title_id]]

    def answer(
        self,
        embeddings: np.ndarray,
        *,
        k: int,
        taste: TasteProfile | None = None,
        allow_adult: bool = False,
        exclude: set[str] | frozenset[str] = frozenset(),
        prepared: bool = False,
    ) -> Answer:
        """The ``k`` best titles for one query (one embedding per panel; panels vote by mean similarity), without
        genres. ``embeddings`` come from the model, or are already in index space with ``prepared``."""
        embeddings = np.atleast_2d(embeddings)
        taste = taste or TasteProfile()
        banned = set(exclude) | set(taste.disliked)
        keep = None if allow_adult else self._not_adult
        pool = max(k * 4, 100) if not taste.empty else k
        per_panel = [self.index.query(e, pool, exclude=banned, keep=keep, prepared=prepared) for e in embeddings]
        results = self._rerank(merge_panels(per_panel), taste, k)
        best = max((r.similarity for r in results), default=0.0)  # a taste may rerank a weaker match first
        low = best < self.low_confidence_threshold
        return Answer(
            genres=[],
            results=results,
            low_confidence=low,
            panels=len(embeddings),
            message=LOW_CONFIDENCE_MESSAGE if low else None,
        )

    def answer_title(
        self,
        source: Title,
        *,
        k: int,
        taste: TasteProfile | None = None,
        allow_adult: bool = False,
        exclude: set[str] | frozenset[str] = frozenset(),
    ) -> Answer:
        """Titles like ``source`` (itself excluded): its art-style neighbours rescored by shared genres, tags and
        authors (:mod:`ml.serve.title_blend`), each with a reason; :attr:`title_weights` = STYLE_ONLY ranks by art
        style alone. The style neighbours are :meth:`style_neighbours` (the title's mean and some of its images)."""
        taste = taste or TasteProfile()
        banned = set(exclude) | {source.id} | set(taste.disliked)
        keep = None if allow_adult else self._not_adult
        hits = self.style_neighbours(source.id, max(POOL, k), exclude=banned, keep=keep)
        if self.title_weights.style_only:
            results = self._rerank(hits, taste, k)
        else:
            blended = blend(source, hits, self.titles, self.title_weights)
            results = self._rerank(
                [Hit(b.title_id, b.style) for b in blended],
                taste,
                k,
                base=[b.score for b in blended],
                reasons=[b.reason for b in blended],
            )
        best = max((r.similarity for r in results), default=0.0)
        low = best < self.low_confidence_threshold
        return Answer(
            genres=[], results=results, low_confidence=low, panels=1, message=LOW_CONFIDENCE_MESSAGE if low else None
        )

    def title_queries(self, title_id: str) -> list[np.ndarray]:
        """What a title query asks the index with: the title's mean vector and, for a title with several images, up to
        :attr:`title_query_items` of its items, spread over them. The mean of dozens of different episode
        thumbnails sits near nothing (every neighbour of 신의 탑 read 0–8 %); its own images each have neighbours."""
        queries = [self.title_vector(title_id)]
        n_items = len(self.index.title_items.get(title_id, []))
        if n_items > 2 and self.title_query_items > 0:  # one image and its mirror: the mean is that image
            spread = np.linspace(0, n_items - 1, min(self.title_query_items, n_items)).round().astype(int)
            queries += list(self.index.item_vectors(title_id)[sorted(set(spread))])
        return queries

    def style_neighbours(
        self, title_id: str, n: int, *, exclude: set[str], keep: Callable[[str], bool] | None
    ) -> list[Hit]:
        """The ``n`` titles closest in art style to ``title_id``, each at its best score over :meth:`title_queries`."""
        best: dict[str, float] = {}
        for query in self.title_queries(title_id):
            for hit in self.index.query(query, n, exclude=exclude, keep=keep, prepared=True):
                best[hit.title_id] = max(hit.similarity, best.get(hit.title_id, -np.inf))
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        return [Hit(t, s) for t, s in ranked]

    def _not_adult(self, title_id: str) -> bool:
        title = self.titles.get(title_id)
        return title is not None and title.adult is not True

    def taste_similarity(self, candidates: list[str], title_ids: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """For each candidate: max similarity to any of ``title_ids`` and which one (index into ``title_ids``)."""
        rows = [self._row[t] for t in title_ids if t in self._row]
        known = [t for t in title_ids if t in self._row]
        if not rows or not candidates:
            return np.zeros(len(candidates)), np.full(len(candidates), -1)
        sims = cosine_to_similarity(self._vectors[[self._row[c] for c in candidates]] @ self._vectors[rows].T)
        best = sims.argmax(axis=1)
        order = [title_ids.index(known[b]) for b in best]
        return sims.max(axis=1), np.array(order)

    def _rerank(
        self,
        hits: list[Hit],
        taste: TasteProfile,
        k: int,
        base: list[float] | None = None,
        reasons: list[str | None] | None = None,
    ) -> list[Result]:
        """``hits`` in order (``base``: their scores, else their similarities), moved by ``taste``; ``reasons``: each
        hit's own reason, kept unless a liked title explains the move."""
        reasons = reasons or [None] * len(hits)
        if taste.empty:
            scores = base or [h.similarity for h in hits]
            return [
                Result(self.titles[h.title_id], h.similarity, s, why)
                for h, s, why in list(zip(hits, scores, reasons, strict=True))[:k]
            ]
        ids = [h.title_id for h in hits]
        q = np.array(base if base is not None else [h.similarity for h in hits])
        shown = [h.similarity for h in hits]
        like_sim, like_idx = self.taste_similarity(ids, taste.liked)
        dislike_sim, _ = self.taste_similarity(ids, taste.disliked)
        w = self.taste_weight
        score = (1 - w) * q + w * (like_sim - DISLIKE_WEIGHT * dislike_sim)
        order = np.argsort(-score, kind="stable")[:k]
        results = []
        for new_rank, i in enumerate(order):
            reason = reasons[i]
            if taste.liked and like_idx[i] >= 0 and like_sim[i] >= 0.5 and new_rank < i:
                liked = self.titles.get(taste.liked[like_idx[i]])
                # A Msg: English as a str (JSON, logs), said in the reader's language by the bot.
                reason = Msg("because you liked {title}", title=liked) if liked and liked.id != ids[i] else reason
            results.append(Result(self.titles[ids[i]], float(shown[i]), float(score[i]), reason))
        return results

    def discovery_picks(
        self,
        taste: dict[str, int],
        *,
        n: int,
        exclude: set[str] | frozenset[str] = frozenset(),
        allow_adult: bool = False,
        known_counts: dict[str, int] | None = None,
        seed: int = 0,
        prefer_new: bool = True,
    ) -> list[Result]:
        """``n`` lesser-known titles that fit an aggregate taste (title → likes minus dislikes), never ``exclude``d.

        "Lesser-known" is the lower half by ``popularity_rank`` where the catalogue has ranks, else the titles
        least shown/liked (``known_counts``). With ``prefer_new``, titles a recent refresh added
        (:attr:`new_titles`, whatever their rank) come first when they fit the taste (any, for a server without
        likes yet); their results say ``new``. Removed titles are not served, so never picked."""
        rng = np.random.default_rng(seed)
        candidates = [
            t for t in self._ids if t not in exclude and t not in taste and (allow_adult or self._not_adult(t))
        ]
        if not candidates:
            return []
        obscure = self._lesser_known(candidates, known_counts or {}) or candidates
        fresh = set(self.new_titles) & set(candidates) if prefer_new else set()
        obscure = obscure + sorted(fresh - set(obscure))
        liked = tuple(t for t, s in taste.items() if s > 0 and t in self._row)
        disliked = tuple(t for t, s in taste.items() if s < 0 and t in self._row)
        fit = np.zeros(len(obscure))
        if liked:
            fit += self.taste_similarity(obscure, liked)[0]
        if disliked:
            fit -= DISLIKE_WEIGHT * self.taste_similarity(obscure, disliked)[0]
        is_new = np.array([t in fresh and (not liked or fit[i] >= NEW_MIN_FIT) for i, t in enumerate(obscure)])
        score = fit + rng.uniform(0, 0.05 if liked else 1.0, len(obscure))  # variety between posts
        score = score + (NEW_BONUS if liked else 1.0) * is_new  # without likes (random order): new ones first
        order = np.argsort(-score)[:n]
        return [
            Result(
                self.titles[obscure[i]],
                float(max(0.0, min(1.0, fit[i]))),
                float(score[i]),
                "fits this server's taste" if liked else None,
                new=bool(is_new[i]),
            )
            for i in order
        ]

    def _lesser_known(self, candidates: list[str], counts: dict[str, int]) -> list[str]:
        ranks = {t: self.titles[t].popularity_rank for t in candidates}
        known = [r for r in ranks.values() if r is not None]
        if known:
            cutoff = float(np.median(known))
            return [t for t in candidates if ranks[t] is None or ranks[t] >= cutoff]
        median = float(np.median([counts.get(t, 0) for t in candidates]))
        return [t for t in candidates if counts.get(t, 0) <= median]


def merge_panels(per_panel: list[list[Hit]]) -> list[Hit]:
    """One panel: as is. Several (a tall strip): each title scores the mean of its similarity over panels (0 where
    a panel did not retrieve it), so titles matching many panels win."""
    if len(per_panel) == 1:
        return per_panel[0]
    totals: dict[str, float] = {}
    for hits in per_panel:
        for h in hits:
            totals[h.title_id] = totals.get(h.title_id, 0.0) + h.similarity
    n = len(per_panel)
    return [Hit(t, s / n) for t, s in sorted(totals.items(), key=lambda kv: -kv[1])]
