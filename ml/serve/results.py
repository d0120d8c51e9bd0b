"""The values serving passes around: a taste in, the model's outputs between the steps of a query, an answer out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import numpy as np

from catalog.format import Title

EXPLICIT_CLASSES = ("Porn", "Hentai")  # of the serving model's optional "nsfw" output: their sum is the explicit score
DRAWN_CLASSES = ("Drawing", "Hentai")  # the same output's drawn classes: their sum says how much it looks drawn


class ModelOutputs(NamedTuple):
    """One call of the serving model on a batch of panels, one row per panel."""

    embedding: np.ndarray
    genre: np.ndarray  # genre probabilities, in the run's ``genres`` order
    nsfw: np.ndarray | None = None  # the upload-screening probabilities (runs on the pretrained backbone), or None

    def rows(self, start: int, stop: int) -> ModelOutputs:
        """The outputs of panels ``start:stop`` (one request's share of a batch)."""
        return ModelOutputs(*(None if out is None else out[start:stop] for out in self))


class Ratings(Protocol):
    """A user's stored ratings as title ids, newest first (what ``db.queries.user_taste`` returns)."""

    @property
    def liked(self) -> Sequence[str]: ...

    @property
    def disliked(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class TasteProfile:
    """What ranking needs of a user's (or a guild's) taste; built by the caller from the taste store.

    Only ratings move titles: answers do not lower titles a user has already been shown (a deliberate choice — the
    shown counts feed discovery's "lesser-known" rule, nothing else)."""

    liked: tuple[str, ...] = ()
    disliked: tuple[str, ...] = ()

    @classmethod
    def from_ratings(cls, ratings: Ratings) -> TasteProfile:
        """The taste of a user's stored ratings: ``TasteProfile.from_ratings(await db.run(user_taste, user_id))``."""
        return cls(liked=tuple(ratings.liked), disliked=tuple(ratings.disliked))

    @property
    def empty(self) -> bool:
        return not (self.liked or self.disliked)


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
    new: bool = False  # a title a recent refresh added (discovery marks it 🆕)

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

    @classmethod
    def of_panels(cls, nsfw: np.ndarray | None, classes: Sequence[str]) -> UploadScreen | None:
        """The screen of one query from its panels' nsfw probabilities: the most explicit panel (Porn + Hentai)
        speaks for the whole image. ``None`` without nsfw output or classes (nothing is screened)."""
        if nsfw is None or not classes:
            return None
        rows = np.asarray(nsfw, dtype=np.float64).reshape(-1, len(classes))
        if not len(rows):
            return None
        explicit = [list(classes).index(c) for c in EXPLICIT_CLASSES]
        worst = int(rows[:, explicit].sum(axis=1).argmax())
        return cls(dict(zip(classes, map(float, rows[worst]), strict=True)), panels=len(rows))

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
