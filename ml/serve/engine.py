"""The recommendation engine: one object loaded from a run folder, answering similar / recommend / genre / search.

A query is a few steps, each a method here: :meth:`Engine.prepare` (decode an upload) or :meth:`Engine.cover_input`
(a title's cover), :meth:`Engine.run_model` (the one model call: :class:`ModelOutputs`), then
:meth:`Engine.answer_upload` or :meth:`Engine.answer_title` (ranking by :mod:`ml.serve.ranking`, genres, the upload
screen). :meth:`Engine.similar` and :meth:`Engine.recommend` take those steps in a row (scripts, tests);
:class:`ml.serve.recommender.Recommender` takes the same steps with the model call batched across requests and the
rest off the event loop. Everything here is synchronous and thread-safe for reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

from catalog.format import CATALOG_FILE, Title, load_catalog
from core.errors import CatalogError, RemovedTitleError, RunFolderError, UnknownTitleError
from core.settings import DEFAULT_LOW_CONFIDENCE, DEFAULT_TASTE_WEIGHT
from ml.preprocess import DEFAULT_LIMITS, ImageLimits, load_panels, open_image
from ml.run import RunConfig
from ml.serve import TITLES_PER_ANSWER
from ml.serve.covers import CoverStore, SheetText
from ml.serve.index import INDEX_DIR, TitleIndex, current_generation
from ml.serve.ranking import Ranker
from ml.serve.results import EXPLICIT_CLASSES, Answer, GenreGuess, ModelOutputs, TasteProfile, UploadScreen
from ml.serve.search import Match, TitleSearch
from ml.serve.title_blend import DEFAULT_WEIGHTS, STYLE_ONLY

log = logging.getLogger(__name__)
GENRE_GUESSES = 3  # genres an answer shows
NEW_TITLE_DAYS = 14  # a title a refresh indexed this recently is "new" (discovery prefers it and marks it 🆕)
REMOVED_MESSAGE = "this title is no longer listed"


def load_generation(run: Path, generation: str | None = None) -> tuple[str | None, TitleIndex, list[Title]]:
    """(name, index, snapshot titles) of one index generation of ``run`` (default: the one CURRENT names now),
    read from that one folder; older run folders: the top-level pair and snapshot. Raises RunFolderError."""
    generation = generation or current_generation(run)
    index = TitleIndex.load(run, generation) if generation else TitleIndex.load(run)
    folder = run / INDEX_DIR / generation if generation else run
    if not (folder / CATALOG_FILE).is_file():  # a generation written before snapshots moved into them
        folder = run
    try:
        titles = list(load_catalog(folder, check_images=False).titles)
    except CatalogError as exc:
        raise RunFolderError(f"{run}: the catalogue snapshot of generation {generation} is unreadable: {exc}") from None
    return generation, index, titles


class Engine:
    """The served titles (those of ``index``), ranked by :attr:`ranking`, with covers from :attr:`covers`.
    ``model`` is the serving model's call on a batch of panels (``None``: an engine for ranking alone).

    One engine is one catalogue generation, never changed once built: a new generation is a new engine
    (:meth:`reload`, sharing the model), swapped in whole by :class:`~ml.serve.recommender.Recommender`.
    Titles marked ``removed`` are kept in :attr:`removed` only: never answered, never posted."""

    def __init__(
        self,
        index: TitleIndex,
        titles: list[Title],
        *,
        genres: Sequence[str] = (),
        model: Callable[[np.ndarray], ModelOutputs] | None = None,
        nsfw_classes: Sequence[str] = (),
        input_size: int = 96,
        taste_weight: float = DEFAULT_TASTE_WEIGHT,
        low_confidence_threshold: float = DEFAULT_LOW_CONFIDENCE,
        limits: ImageLimits = DEFAULT_LIMITS,
        run_dir: Path | None = None,
        synthetic: bool = False,
        generation: str | None = None,
        style_only: bool = False,
    ):
        self.index = index
        self.generation = generation  # the index generation's name (None: an older run folder, or built in memory)
        self.titles = {t.id: t for t in titles if t.id in index.title_items and t.removed is None}
        self.removed = {t.id: t for t in titles if t.removed is not None and t.id not in self.titles}
        since = (datetime.now(UTC) - timedelta(days=NEW_TITLE_DAYS)).date().isoformat()
        self.new_titles = frozenset(t.id for t in self.titles.values() if str(t.extra.get("added") or "") >= since)
        self._options = dict(
            taste_weight=taste_weight, low_confidence_threshold=low_confidence_threshold, style_only=style_only
        )
        self.genres = list(genres)
        self._model = model
        self.nsfw_classes = tuple(nsfw_classes)  # the columns of the nsfw output; empty: no screening
        self.input_size = input_size
        self.limits = limits
        self.run_dir = run_dir
        self.synthetic = synthetic
        self.searcher = TitleSearch(list(self.titles.values()))
        self.ranking = Ranker(
            index,
            self.titles,
            taste_weight=taste_weight,
            low_confidence_threshold=low_confidence_threshold,
            title_weights=STYLE_ONLY if style_only else DEFAULT_WEIGHTS,  # title queries: art style alone, or blended
        )
        self.covers = CoverStore(self.titles, limits=limits, synthetic=synthetic)
        self.ranking.new_titles = self.new_titles

    # ---- loading -------------------------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        run_dir: str | Path,
        *,
        taste_weight: float = DEFAULT_TASTE_WEIGHT,
        low_confidence_threshold: float = DEFAULT_LOW_CONFIDENCE,
        style_only: bool = False,
    ) -> Engine:
        """Load model, memory-mapped index and catalogue snapshot from a run folder (logs the start-up cost)."""
        started = time.perf_counter()
        run = Path(run_dir).expanduser()
        config = RunConfig.read(run)
        if config.index is None:
            raise RunFolderError(f"{run}: no index yet; build it with `python -m scripts.build_index --run {run}`")
        model = _serving_model(run, config.input_size)
        traced = model(np.zeros((1, config.input_size, config.input_size, 3), np.float32))  # trace once now
        generation, index, titles = load_generation(run)
        engine = cls(
            index,
            titles,
            genres=config.genres,
            model=model,
            nsfw_classes=_nsfw_classes(run, config, traced.nsfw),
            input_size=config.input_size,
            taste_weight=taste_weight,
            low_confidence_threshold=low_confidence_threshold,
            run_dir=run,
            synthetic=config.catalog.synthetic,
            generation=generation,
            style_only=style_only,
        )
        log.info(
            "engine loaded from %s (generation %s) in %.2f s: %d titles, %d indexed images, %d genres, "
            "upload screening %s",
            run,
            generation,
            time.perf_counter() - started,
            len(engine.titles),
            len(index.item_titles),
            len(engine.genres),
            "on" if engine.screens_uploads else "off (the model has no nsfw output)",
        )
        return engine

    def reload(self) -> Engine | None:
        """An engine on the generation the run folder's CURRENT names now, sharing this engine's model and settings;
        ``None`` when that is this engine's generation. A generation that cannot serve (a missing or unreadable
        file, another dimension than the model's, index titles its snapshot lacks) raises RunFolderError: the
        caller keeps serving this one."""
        if self.run_dir is None:
            raise RunFolderError("this engine was not loaded from a run folder")
        generation = current_generation(self.run_dir)
        if generation is None or generation == self.generation:
            return None
        _, index, titles = load_generation(self.run_dir, generation)
        if index.dim != self.index.dim:
            raise RunFolderError(
                f"{self.run_dir}: generation {generation} has {index.dim}-d vectors, the model {self.index.dim}-d"
            )
        known = {t.id for t in titles}
        lacking = [t for t in index.title_items if t not in known]
        if lacking:
            raise RunFolderError(
                f"{self.run_dir}: generation {generation} indexes {len(lacking)} title(s) its catalogue snapshot lacks "
                f"(e.g. {lacking[0]})"
            )
        return Engine(
            index,
            titles,
            genres=self.genres,
            model=self._model,
            nsfw_classes=self.nsfw_classes,
            input_size=self.input_size,
            limits=self.limits,
            run_dir=self.run_dir,
            synthetic=self.synthetic,
            generation=generation,
            **self._options,
        )

    # ---- the steps of a query --------------------------------------------------------------------------------
    def prepare(self, image: bytes | str | Path) -> tuple[np.ndarray, Image.Image]:
        """Decode and check an upload (the shared loader): (panels batch, the decoded image for the sheet)."""
        img = open_image(image, self.limits)
        return load_panels(img, self.input_size, self.limits), img

    def cover_input(self, title_id: str) -> np.ndarray | None:
        """The model input for guessing a title's genres from its cover thumbnail; ``None`` when there is nothing to
        guess with (no genre head, no readable cover): the answer then shows the catalogue's genres. Raises
        UnknownTitleError for an unknown id, before any work."""
        self.title(title_id)
        cover = self.covers.cover(title_id) if self.genres else None
        return None if cover is None else load_panels(cover, self.input_size, self.limits)

    def run_model(self, panels: np.ndarray) -> ModelOutputs:
        """The one model call: embeddings, genre probabilities and (when the run's model has them,
        :attr:`screens_uploads`) nsfw probabilities of a batch of panels."""
        if self._model is None:
            raise RunFolderError("this engine was built without a model")
        return self._model(panels)

    def answer_upload(
        self,
        outputs: ModelOutputs,
        *,
        k: int = TITLES_PER_ANSWER,
        taste: TasteProfile | None = None,
        allow_adult: bool = False,
    ) -> Answer:
        """The answer to an upload from its panels' model outputs: ranked titles, genre guesses, the screen."""
        answer = self.ranking.answer(outputs.embedding, k=k, taste=taste, allow_adult=allow_adult)
        answer.genres = self.genre_guesses(outputs.genre) if self.genres else []
        answer.screen = UploadScreen.of_panels(outputs.nsfw, self.nsfw_classes)
        return answer

    def answer_title(
        self,
        title_id: str,
        cover_outputs: ModelOutputs | None = None,
        *,
        k: int = TITLES_PER_ANSWER,
        taste: TasteProfile | None = None,
        allow_adult: bool = False,
    ) -> Answer:
        """The ``k`` titles nearest to a title (itself excluded); genre guesses from the model's outputs on its
        cover (:meth:`cover_input`), else the catalogue's genres."""
        source = self.title(title_id)
        answer = self.ranking.answer_title(source, k=k, taste=taste, allow_adult=allow_adult)
        if cover_outputs is not None and self.genres:
            answer.genres = self.genre_guesses(cover_outputs.genre)
        else:
            answer.genres = [GenreGuess(g, 1.0) for g in source.genres[:GENRE_GUESSES]]
        answer.source = source
        return answer

    # ---- the steps in a row (scripts, tests; the bot goes through the Recommender) ---------------------------
    def similar(
        self,
        image: bytes | str | Path,
        *,
        k: int = TITLES_PER_ANSWER,
        taste: TasteProfile | None = None,
        allow_adult: bool = False,
    ) -> Answer:
        """Titles drawn like an upload; ``answer.screen`` says how explicit it looks (runs with an nsfw output)."""
        panels, _ = self.prepare(image)
        return self.answer_upload(self.run_model(panels), k=k, taste=taste, allow_adult=allow_adult)

    def recommend(
        self, title_id: str, *, k: int = TITLES_PER_ANSWER, taste: TasteProfile | None = None, allow_adult: bool = False
    ) -> Answer:
        """Titles drawn like a title, its genres guessed by the model on its cover."""
        panels = self.cover_input(title_id)
        outputs = None if panels is None else self.run_model(panels)
        return self.answer_title(title_id, outputs, k=k, taste=taste, allow_adult=allow_adult)

    # ---- everything else -------------------------------------------------------------------------------------
    @property
    def screens_uploads(self) -> bool:
        """Whether answers to uploads carry an :class:`UploadScreen` (the model has an nsfw output)."""
        return bool(self.nsfw_classes)

    def title(self, title_id: str) -> Title:
        """A served title; RemovedTitleError for one its source no longer lists, UnknownTitleError otherwise."""
        try:
            return self.titles[title_id]
        except KeyError:
            if title_id in self.removed:
                raise RemovedTitleError(REMOVED_MESSAGE) from None
            raise UnknownTitleError(f"unknown title id {title_id!r}") from None

    def genre_guesses(self, probs: np.ndarray, top: int = GENRE_GUESSES) -> list[GenreGuess]:
        """Top genres of the mean probabilities over panels."""
        mean = np.asarray(probs, dtype=np.float64).reshape(-1, len(self.genres)).mean(axis=0)
        order = np.argsort(-mean)[:top]
        return [GenreGuess(self.genres[i], float(mean[i])) for i in order]

    def search(self, text: str, limit: int = 25) -> list[Match]:
        return self.searcher.search(text, limit)

    def resolve(self, text: str) -> Title:
        """The one served title ``text`` names (:meth:`TitleSearch.resolve`); a removed title named by its id or
        exact name raises RemovedTitleError."""
        try:
            return self.searcher.resolve(text)
        except UnknownTitleError:
            key = (text or "").strip()
            if key in self.removed or any(key and key in (t.title, t.title_en) for t in self.removed.values()):
                raise RemovedTitleError(REMOVED_MESSAGE) from None
            raise

    def contact_sheet(
        self,
        answer: Answer,
        query_image: Image.Image | None = None,
        *,
        include_query: bool = True,
        text: SheetText | None = None,
    ) -> tuple[bytes, str]:
        """:meth:`ml.serve.covers.CoverStore.contact_sheet`: (bytes, "jpg"), its words from ``text``."""
        return self.covers.contact_sheet(answer, query_image, include_query=include_query, text=text)


def _serving_model(run: Path, size: int) -> Callable[[np.ndarray], ModelOutputs]:
    """The run's serving model as one traced call on a batch of panels."""
    from ml.embedding import compiled
    from ml.run import load_model

    fn = compiled(load_model(run, "serving"), size)

    def call(batch: np.ndarray) -> ModelOutputs:
        out = fn(batch)
        return ModelOutputs(out["embedding"], out["genre"], out.get("nsfw"))  # nsfw: runs on the pretrained backbone

    return call


def _nsfw_classes(run: Path, config: RunConfig, nsfw: np.ndarray | None) -> tuple[str, ...]:
    """The columns of the serving model's nsfw output (``config.json``'s ``nsfw_classes``), checked against the
    output itself; empty when the model has none (older runs: no screening)."""
    if nsfw is None:
        return ()
    classes = config.nsfw_classes
    width = np.shape(nsfw)[-1]
    if len(classes) != width or not set(EXPLICIT_CLASSES) <= set(classes):
        raise RunFolderError(
            f"{run}: the serving model has an nsfw output of {width} classes, but config.json's nsfw_classes is "
            f"{list(classes)} (it must name each column, including {' and '.join(EXPLICIT_CLASSES)})"
        )
    return classes
