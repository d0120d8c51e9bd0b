"""The recommendation engine: one object loaded from a run folder, answering similar / recommend / genre / search.

Everything here is synchronous and thread-safe for reads; :mod:`ml.serve.recommender` puts an async, batching front
on it so an event loop never waits on TensorFlow or Annoy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

from catalog.format import Title, load_catalog
from core.errors import RunFolderError, UnknownTitleError
from ml.preprocess import DEFAULT_LIMITS, ImageLimits, load_panels, open_image
from ml.run import read_config
from ml.serve import TITLES_PER_ANSWER
from ml.serve.index import Hit, TitleIndex, cosine_to_similarity
from ml.serve.search import Match, TitleSearch

log = logging.getLogger(__name__)
COVER_CACHE = 512  # decoded cover thumbnails kept in memory (~40 MB at most): 24 per contact sheet otherwise re-read
LOW_CONFIDENCE_MESSAGE = "no close match — these are the nearest styles"
EXPLICIT_CLASSES = ("Porn", "Hentai")  # of the serving model's optional "nsfw" output: their sum is the explicit score
DRAWN_CLASSES = ("Drawing", "Hentai")  # the same output's drawn classes: their sum says how much it looks drawn


class Ratings(Protocol):
    """A user's stored ratings as title ids, newest first (what ``db.queries.user_taste`` returns)."""

    @property
    def liked(self) -> Sequence[str]: ...

    @property
    def disliked(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class TasteProfile:
    """What the engine needs of a user's (or a guild's) taste; built by the caller from the taste store."""

    liked: tuple[str, ...] = ()
    disliked: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()  # e.g. titles already shown or marked read

    @classmethod
    def from_ratings(cls, ratings: Ratings) -> TasteProfile:
        """The taste of a user's stored ratings: ``TasteProfile.from_ratings(await db.run(user_taste, user_id))``."""
        return cls(liked=tuple(ratings.liked), disliked=tuple(ratings.disliked))

    @property
    def empty(self) -> bool:
        return not (self.liked or self.disliked or self.exclude)


@dataclass(frozen=True)
class GenreGuess:
    genre: str
    probability: float


@dataclass(frozen=True)
class Result:
    title: Title
    similarity: float  # to the query, in [0, 1]
    score: float  # after taste rerank (equals similarity without a taste)
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        t = self.title
        return {
            "id": t.id,
            "title": t.title,
            "title_en": t.title_en,
            "authors": list(t.authors),
            "genres": list(t.genres),
            "similarity": round(float(self.similarity), 4),
            "url": t.page_url,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class UploadScreen:
    """What the serving model's ``nsfw`` output says of an upload: the class probabilities (in the run's
    ``nsfw_classes`` order) of its most explicit panel. Whether that is too explicit to re-post where is the front
    door's rule (the bot's threshold and channel)."""

    probabilities: dict[str, float]
    panels: int = 1  # panels read; ``probabilities`` are those of the panel with the highest explicit score

    @property
    def explicit(self) -> float:
        """Porn + Hentai, in [0, 1]."""
        return float(sum(self.probabilities.get(c, 0.0) for c in EXPLICIT_CLASSES))

    @property
    def drawn(self) -> float:
        """Drawing + Hentai, in [0, 1]: low for photos, screenshots of text and blank pictures (and for some
        realistic covers: docs/results/calibration.md has the false-alarm rates)."""
        return float(sum(self.probabilities.get(c, 0.0) for c in DRAWN_CLASSES))

    def to_json(self) -> dict[str, Any]:
        return {
            "explicit": round(self.explicit, 4),
            "drawn": round(self.drawn, 4),
            "probabilities": {c: round(float(p), 4) for c, p in self.probabilities.items()},
            "panels": self.panels,
        }


@dataclass
class Answer:
    genres: list[GenreGuess]
    results: list[Result]
    low_confidence: bool
    source: Title | None = None  # the title a recommendation was made from
    panels: int = 1
    message: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    screen: UploadScreen | None = None  # of the query image, when the run's model has an "nsfw" output

    def to_json(self) -> dict[str, Any]:
        out = {
            "genres": [{"genre": g.genre, "probability": round(float(g.probability), 4)} for g in self.genres],
            "results": [r.to_json() for r in self.results],
            "low_confidence": self.low_confidence,
            "message": self.message,
        }
        if self.screen is not None:
            out["screen"] = self.screen.to_json()
        return out


class Engine:
    def __init__(
        self,
        index: TitleIndex,
        titles: list[Title],
        *,
        genres: list[str] | None = None,
        infer: Callable[[np.ndarray], tuple[np.ndarray, ...]] | None = None,
        nsfw_classes: Sequence[str] | None = None,
        input_size: int = 96,
        taste_weight: float = 0.2,
        low_confidence_threshold: float = 0.45,
        limits: ImageLimits = DEFAULT_LIMITS,
        run_dir: Path | None = None,
        synthetic: bool = False,
    ):
        self.index = index
        self.titles = {t.id: t for t in titles if t.id in index.title_items}
        self.genres = list(genres or [])
        self._infer = infer  # batch → (embedding, genre) or (embedding, genre, nsfw)
        self.nsfw_classes = tuple(nsfw_classes or ())  # the columns of the nsfw output; empty: no screening
        self.input_size = input_size
        self.taste_weight = taste_weight
        self.low_confidence_threshold = low_confidence_threshold
        self.limits = limits
        self.run_dir = run_dir
        self.synthetic = synthetic
        self.searcher = TitleSearch(list(self.titles.values()))
        self._ids = sorted(self.titles)
        self._row = {t: i for i, t in enumerate(self._ids)}
        self._vectors = np.stack([index.title_vector(t) for t in self._ids]) if self._ids else np.zeros((0, index.dim))
        self._covers = lru_cache(maxsize=COVER_CACHE)(self._read_cover)
        self._sheet_covers = lru_cache(maxsize=COVER_CACHE)(self._fit_cover)  # ~65 kB each

    # ---- loading -------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, run_dir: str | Path, *, taste_weight: float = 0.2, low_confidence_threshold: float = 0.45) -> Engine:
        """Load model, memory-mapped index and catalogue snapshot from a run folder (logs the start-up cost)."""
        started = time.perf_counter()
        run = Path(run_dir).expanduser()
        config = read_config(run)
        if "index" not in config:
            raise RunFolderError(f"{run}: no index yet; build it with `python -m scripts.build_index --run {run}`")
        from ml.embedding import compiled
        from ml.run import load_model

        size = int(config["input_size"])
        model = load_model(run, "serving")
        fn = compiled(model, size)

        def infer(batch: np.ndarray) -> tuple[np.ndarray, ...]:
            out = fn(batch)
            if "nsfw" in out:  # the same call's upload-screening output (runs with a pretrained-feature stage)
                return out["embedding"], out["genre"], out["nsfw"]
            return out["embedding"], out["genre"]

        traced = infer(np.zeros((1, size, size, 3), np.float32))  # trace once now, not on the first user's request
        nsfw_classes = _nsfw_classes(run, config, traced[2] if len(traced) > 2 else None)
        index = TitleIndex.load(run)
        catalog = load_catalog(run, check_images=False)
        engine = cls(
            index,
            list(catalog.titles),
            genres=config["genres"],
            infer=infer,
            nsfw_classes=nsfw_classes,
            input_size=size,
            taste_weight=taste_weight,
            low_confidence_threshold=low_confidence_threshold,
            run_dir=run,
            synthetic=bool(config["catalog"].get("synthetic")),
        )
        log.info(
            "engine loaded from %s in %.2f s: %d titles, %d indexed images, %d genres, upload screening %s",
            run,
            time.perf_counter() - started,
            len(engine.titles),
            len(index.item_titles),
            len(engine.genres),
            "on" if engine.screens_uploads else "off (the model has no nsfw output)",
        )
        return engine

    # ---- the model -------------------------------------------------------------------------------------------
    def prepare(self, image: bytes | str | Path) -> tuple[np.ndarray, Image.Image]:
        """Decode and check an input (the shared loader): (panels batch, the decoded image for the sheet)."""
        img = open_image(image, self.limits)
        return load_panels(img, self.input_size, self.limits), img

    def model_outputs(self, batch: np.ndarray) -> tuple[np.ndarray, ...]:
        """One model call: (embeddings, genre probabilities) per panel, plus the nsfw probabilities when the run's
        model has them (:attr:`screens_uploads`). The batching front runs this; :meth:`read_outputs` splits it."""
        if self._infer is None:
            raise RunFolderError("this engine was built without a model")
        return tuple(self._infer(batch))

    def infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(embeddings, genre probabilities) of a batch of panels."""
        emb, probs = self.model_outputs(batch)[:2]
        return emb, probs

    @property
    def screens_uploads(self) -> bool:
        """Whether answers to uploads carry an :class:`UploadScreen` (the model has an nsfw output)."""
        return bool(self.nsfw_classes)

    def read_outputs(self, outputs: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray, UploadScreen | None]:
        """:meth:`model_outputs` of one query's panels → (embeddings, genre probabilities, screen or ``None``)."""
        nsfw = outputs[2] if len(outputs) > 2 else None
        return outputs[0], outputs[1], self.screen(nsfw)

    def screen(self, nsfw: np.ndarray | None) -> UploadScreen | None:
        """The screen of one query from its panels' nsfw probabilities: the most explicit panel (Porn + Hentai)
        speaks for the whole image. ``None`` without nsfw output (nothing is screened)."""
        if nsfw is None or not self.nsfw_classes:
            return None
        rows = np.asarray(nsfw, dtype=np.float64).reshape(-1, len(self.nsfw_classes))
        if not len(rows):
            return None
        explicit = [self.nsfw_classes.index(c) for c in EXPLICIT_CLASSES]
        worst = int(rows[:, explicit].sum(axis=1).argmax())
        return UploadScreen(dict(zip(self.nsfw_classes, map(float, rows[worst]), strict=True)), panels=len(rows))

    # ---- answers -------------------------------------------------------------------------------------------
    def title(self, title_id: str) -> Title:
        try:
            return self.titles[title_id]
        except KeyError:
            raise UnknownTitleError(f"unknown title id {title_id!r}") from None

    def genre_guesses(self, probs: np.ndarray, top: int = 3) -> list[GenreGuess]:
        """Top genres of the mean probabilities over panels."""
        mean = np.asarray(probs, dtype=np.float64).reshape(-1, len(self.genres)).mean(axis=0)
        order = np.argsort(-mean)[:top]
        return [GenreGuess(self.genres[i], float(mean[i])) for i in order]

    def answer_vectors(
        self,
        embeddings: np.ndarray,
        probs: np.ndarray | None,
        *,
        k: int = TITLES_PER_ANSWER,
        taste: TasteProfile | None = None,
        allow_adult: bool = False,
        exclude: set[str] | frozenset[str] = frozenset(),
        prepared: bool = False,
    ) -> Answer:
        """Rank titles for one query (one embedding per panel; panels vote by mean similarity). ``embeddings`` come
        from the model, or are already in index space with ``prepared`` (a title's own vector)."""
        embeddings = np.atleast_2d(embeddings)
        taste = taste or TasteProfile()
        banned = set(exclude) | set(taste.disliked) | set(taste.exclude)
        keep = (
            None
            if allow_adult
            else (lambda tid: self.titles.get(tid) is not None and self.titles[tid].adult is not True)
        )
        pool = max(k * 4, 100) if not taste.empty else k
        per_panel = [self.index.query(e, pool, exclude=banned, keep=keep, prepared=prepared) for e in embeddings]
        hits = _merge_panels(per_panel)
        results = self._rerank(hits, taste, k)
        best = max((r.similarity for r in results), default=0.0)  # a taste may rerank a weaker match first
        low = best < self.low_confidence_threshold
        return Answer(
            genres=self.genre_guesses(probs) if probs is not None and self.genres else [],
            results=results,
            low_confidence=low,
            panels=len(embeddings),
            message=LOW_CONFIDENCE_MESSAGE if low else None,
        )

    def similar(
        self,
        image: bytes | str | Path,
        *,
        k: int = TITLES_PER_ANSWER,
        taste: TasteProfile | None = None,
        allow_adult: bool = False,
    ) -> Answer:
        """Synchronous ``similar`` (CLI, tests); the bot goes through :class:`ml.serve.recommender.Recommender`."""
        panels, _ = self.prepare(image)
        emb, probs, screen = self.read_outputs(self.model_outputs(panels))
        answer = self.answer_vectors(emb, probs, k=k, taste=taste, allow_adult=allow_adult)
        answer.screen = screen
        return answer

    def recommend(
        self,
        title_id: str,
        *,
        k: int = TITLES_PER_ANSWER,
        taste: TasteProfile | None = None,
        allow_adult: bool = False,
        genre_probs: np.ndarray | None = None,
    ) -> Answer:
        """The ``k`` titles nearest to a title (itself excluded); genre guesses come from the model on its cover
        when ``genre_probs`` is given, else from the catalogue."""
        source = self.title(title_id)
        answer = self.answer_vectors(
            self._vectors[self._row[source.id]],
            genre_probs,
            k=k,
            taste=taste,
            allow_adult=allow_adult,
            exclude={source.id},
            prepared=True,
        )
        if genre_probs is None:
            answer.genres = [GenreGuess(g, 1.0) for g in source.genres[:3]]
        answer.source = source
        return answer

    def cover_genre_input(self, title_id: str) -> np.ndarray | None:
        """The first step of recommending from a title: the model input for guessing its genres from its cover
        thumbnail. ``None`` when there is nothing to guess with (no genre head, no readable cover): the answer then
        shows the catalogue's genres. Raises UnknownTitleError for an unknown id, before any work."""
        self.title(title_id)
        cover = self.cover(title_id) if self.genres else None
        return None if cover is None else load_panels(cover, self.input_size, self.limits)

    def recommend_title(
        self, title_id: str, *, k: int = TITLES_PER_ANSWER, taste: TasteProfile | None = None, allow_adult: bool = False
    ) -> Answer:
        """Synchronous recommendation from a title (CLI, tests): genres guessed by the model on its cover
        (:meth:`cover_genre_input`), then :meth:`recommend`. :class:`ml.serve.recommender.Recommender` takes the
        same two steps with the model call batched."""
        panels = self.cover_genre_input(title_id)
        probs = None if panels is None else self.infer(panels)[1]
        return self.recommend(title_id, k=k, taste=taste, allow_adult=allow_adult, genre_probs=probs)

    def search(self, text: str, limit: int = 25) -> list[Match]:
        return self.searcher.search(text, limit)

    def resolve(self, text: str) -> Title:
        return self.searcher.resolve(text)

    def cover(self, title_id: str) -> Image.Image | None:
        """A title's decoded cover thumbnail (LRU-cached and shared: callers must not modify it in place)."""
        title = self.titles.get(title_id)
        if title is None or title.cover is None:
            return None
        return self._covers(title_id, title.cover)

    def cover_thumbnail(self, title_id: str, size: int = 256) -> bytes | None:
        """A small WebP of a title's cover for an embed thumbnail (``None`` without a readable cover)."""
        from ml.serve.contact_sheet import encode_thumbnail

        return encode_thumbnail(self.cover(title_id), size)

    def _fit_cover(self, title_id: str) -> Image.Image | None:
        """A title's cover already fitted to a contact-sheet cell (the sheet draws it as is, pixel for pixel the
        same): fitting 24 covers was ~3/4 of drawing a sheet."""
        from ml.serve.contact_sheet import fit_cover

        cover = self.cover(title_id)
        try:
            return None if cover is None else fit_cover(cover)
        except Exception:  # as the sheet itself would: a placeholder instead
            log.warning("cover of %s unusable on a contact sheet", title_id)
            return None

    def _read_cover(self, title_id: str, path: Path) -> Image.Image | None:
        try:
            return open_image(path, self.limits)
        except Exception:  # a missing thumbnail must not break an answer: the sheet shows a placeholder
            log.warning("cover of %s unreadable: %s", title_id, path)
            return None

    def contact_sheet(
        self, answer: Answer, query_image: Image.Image | None = None, *, include_query: bool = True
    ) -> tuple[bytes, str]:
        """The 5×5 sheet (query or source cover first, then the results numbered 1–24): (bytes, "jpg").
        Without ``include_query`` (an upload not to be re-posted) the results alone fill the grid from the top left."""
        from ml.serve.contact_sheet import MAX_TILES, SheetTile, render_contact_sheet

        if not include_query:
            query, label = None, "QUERY"
        elif answer.source is not None:
            query = SheetTile(self.cover(answer.source.id), None, answer.source.title, None)
            label = "FROM"
        else:
            query = SheetTile(query_image, None, "your image", None)
            label = "QUERY"
        tiles = [
            SheetTile(self._sheet_covers(r.title.id), n, r.title.title, r.similarity)
            for n, r in enumerate(answer.results[:MAX_TILES], start=1)
        ]
        banners = [answer.message] if answer.low_confidence and answer.message else []
        if self.synthetic:
            banners.append("[DEMO] synthetic catalogue")
        return render_contact_sheet(query, tiles, banner=" · ".join(banners) or None, query_label=label)

    # ---- taste -------------------------------------------------------------------------------------------
    def taste_similarity(self, candidates: list[str], title_ids: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """For each candidate: max similarity to any of ``title_ids`` and which one (index into ``title_ids``)."""
        rows = [self._row[t] for t in title_ids if t in self._row]
        known = [t for t in title_ids if t in self._row]
        if not rows or not candidates:
            return np.zeros(len(candidates)), np.full(len(candidates), -1)
        sims = self._vectors[[self._row[c] for c in candidates]] @ self._vectors[rows].T
        sims = cosine_to_similarity(sims)
        best = sims.argmax(axis=1)
        order = [title_ids.index(known[b]) for b in best]
        return sims.max(axis=1), np.array(order)

    def _rerank(self, hits: list[Hit], taste: TasteProfile, k: int) -> list[Result]:
        if not taste.liked and not taste.disliked:
            return [Result(self.titles[h.title_id], h.similarity, h.similarity) for h in hits[:k]]
        ids = [h.title_id for h in hits]
        q = np.array([h.similarity for h in hits])
        like_sim, like_idx = self.taste_similarity(ids, taste.liked)
        dislike_sim, _ = self.taste_similarity(ids, taste.disliked)
        w = self.taste_weight
        score = (1 - w) * q + w * (like_sim - 0.5 * dislike_sim)
        order = np.argsort(-score, kind="stable")[:k]
        results = []
        for new_rank, i in enumerate(order):
            reason = None
            if taste.liked and like_idx[i] >= 0 and like_sim[i] >= 0.5 and new_rank < i:
                liked = self.titles.get(taste.liked[like_idx[i]])
                reason = f"because you liked {liked.title}" if liked and liked.id != ids[i] else None
            results.append(Result(self.titles[ids[i]], float(q[i]), float(score[i]), reason))
        return results

    def discovery_picks(
        self,
        taste: dict[str, int],
        *,
        n: int = 3,
        exclude: set[str] = frozenset(),
        allow_adult: bool = False,
        known_counts: dict[str, int] | None = None,
        seed: int = 0,
    ) -> list[Result]:
        """Lesser-known titles that fit an aggregate taste (title → likes minus dislikes), never ``exclude``d.

        "Lesser-known" is the lower half by ``popularity_rank`` where the catalogue has ranks, else the titles
        least shown/liked (``known_counts``)."""
        rng = np.random.default_rng(seed)
        candidates = [
            t
            for t in self._ids
            if t not in exclude and t not in taste and (allow_adult or self.titles[t].adult is not True)
        ]
        if not candidates:
            return []
        ranks = {t: self.titles[t].popularity_rank for t in candidates}
        if any(r is not None for r in ranks.values()):
            known = [r for r in ranks.values() if r is not None]
            cutoff = float(np.median(known))
            obscure = [t for t in candidates if ranks[t] is None or ranks[t] >= cutoff]
        else:
            counts = known_counts or {}
            median = float(np.median([counts.get(t, 0) for t in candidates]))
            obscure = [t for t in candidates if counts.get(t, 0) <= median]
        obscure = obscure or candidates
        liked = tuple(t for t, s in taste.items() if s > 0 and t in self._row)
        disliked = tuple(t for t, s in taste.items() if s < 0 and t in self._row)
        fit = np.zeros(len(obscure))
        if liked:
            fit += self.taste_similarity(obscure, liked)[0]
        if disliked:
            fit -= 0.5 * self.taste_similarity(obscure, disliked)[0]
        fit += rng.uniform(0, 0.05 if liked else 1.0, len(obscure))  # variety between posts
        order = np.argsort(-fit)[:n]
        return [
            Result(
                self.titles[obscure[i]],
                float(max(0.0, min(1.0, fit[i]))),
                float(fit[i]),
                "fits this server's taste" if liked else None,
            )
            for i in order
        ]


def _nsfw_classes(run: Path, config: dict[str, Any], nsfw: np.ndarray | None) -> tuple[str, ...]:
    """The columns of the serving model's nsfw output (``config.json``'s ``nsfw_classes``), checked against the
    output itself; empty when the model has none (older runs: no screening)."""
    if nsfw is None:
        return ()
    classes = tuple(config.get("nsfw_classes") or ())
    width = np.shape(nsfw)[-1]
    if len(classes) != width or not set(EXPLICIT_CLASSES) <= set(classes):
        raise RunFolderError(
            f"{run}: the serving model has an nsfw output of {width} classes, but config.json's nsfw_classes is "
            f"{list(classes)} (it must name each column, including {' and '.join(EXPLICIT_CLASSES)})"
        )
    return classes


def _merge_panels(per_panel: list[list[Hit]]) -> list[Hit]:
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
