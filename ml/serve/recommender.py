"""The recommender: the async front of one :class:`~ml.serve.engine.Engine`, and all a front door (the bot) needs of it.

Concurrent requests are queued and run as one batch in a dedicated model thread. The event loop only awaits futures:
decoding, the model, Annoy, covers and contact sheets all run in executors, so one slow request never blocks others.
Besides answers, :class:`Recommender` offers read-only views of the served catalogue (titles, search, the synthetic
flag), so callers never reach for the engine behind it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import Protocol

import numpy as np
from PIL import Image

from catalog.format import Title
from core.settings import DEFAULT_BATCH_MAX_SIZE, DEFAULT_BATCH_MAX_WAIT_MS
from ml.serve import TITLES_PER_ANSWER
from ml.serve.covers import SheetText
from ml.serve.engine import Engine
from ml.serve.results import Answer, GenreGuess, ModelOutputs, Result, TasteProfile
from ml.serve.search import Match

log = logging.getLogger(__name__)


class ServeObserver(Protocol):
    """What a front door may watch (the bot's metrics): each batched model call and each piece of executor work,
    called on the event loop after the work ran."""

    def batch(self, panels: int, seconds: float) -> None: ...

    def executor(self, pool: str, seconds: float) -> None: ...


def _timed(fn, *args, **kwargs):
    """``(fn(*args, **kwargs), seconds it ran)``, for work run in an executor (queueing not counted)."""
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


@dataclass
class _Request:
    panels: np.ndarray
    future: asyncio.Future


class Batcher:
    """Collects requests until ``max_batch`` panels or ``max_wait_ms`` passed since the first, then runs ``fn`` (the
    model: panels → :class:`ModelOutputs`) once on the concatenation in ``executor`` and hands each request its rows.

    ``incoming`` (optional) counts requests on their way (being decoded): when nothing is queued and nothing is on its
    way, the batch runs at once instead of waiting ``max_wait_ms`` for companions that cannot come (a lone request
    would otherwise always pay the full wait)."""

    def __init__(
        self,
        fn: Callable[[np.ndarray], ModelOutputs],
        executor: ThreadPoolExecutor,
        *,
        max_batch: int,
        max_wait_ms: float,
        incoming: Callable[[], int] | None = None,
    ):
        self.fn, self.executor = fn, executor
        self.max_batch, self.max_wait = max_batch, max_wait_ms / 1000.0
        self.incoming = incoming
        self.queue: asyncio.Queue[_Request] | None = None
        self.task: asyncio.Task | None = None
        self.batches = 0
        self.observer: ServeObserver | None = None

    @property
    def depth(self) -> int:
        """Requests queued for the next batch."""
        return self.queue.qsize() if self.queue is not None else 0

    async def submit(self, panels: np.ndarray) -> ModelOutputs:
        if self.task is None or self.task.done():
            self.queue = asyncio.Queue()
            self.task = asyncio.create_task(self._worker(), name="toonmatch-batcher")
        future = asyncio.get_running_loop().create_future()
        await self.queue.put(_Request(panels, future))
        return await future

    async def _worker(self) -> None:
        loop = asyncio.get_running_loop()
        carry: _Request | None = None
        while True:
            if carry is None:
                first = await self.queue.get()
            else:
                first, carry = carry, None
            batch, size = [first], len(first.panels)
            deadline = loop.time() + self.max_wait
            while size < self.max_batch:
                if self.incoming is not None and self.queue.empty() and not self.incoming():
                    break  # nobody else is coming: waiting would only add latency
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    req = await asyncio.wait_for(self.queue.get(), timeout)
                except TimeoutError:
                    break
                if size + len(req.panels) > self.max_batch:
                    carry = req  # would overflow this batch: it opens the next one (alone it may exceed max_batch)
                    break
                batch.append(req)
                size += len(req.panels)
            await self._run(batch)

    async def _run(self, batch: list[_Request]) -> None:
        live = [r for r in batch if not r.future.done()]
        if not live:
            return
        try:
            joined = np.concatenate([r.panels for r in live])
            outputs, seconds = await asyncio.get_running_loop().run_in_executor(self.executor, _timed, self.fn, joined)
            self.batches += 1
            if self.observer is not None:
                self.observer.batch(len(joined), seconds)
            rows, start = [], 0
            for r in live:
                rows.append(outputs.rows(start, start + len(r.panels)))
                start += len(r.panels)
        except Exception as exc:  # the model failed for the whole batch: every waiter hears about it
            for r in live:
                if not r.future.done():
                    r.future.set_exception(exc)
            return
        for r, result in zip(live, rows, strict=True):
            if not r.future.done():
                r.future.set_result(result)

    async def aclose(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


class Recommender:
    """What the bot calls. Owns two executors: one thread for the model (TensorFlow batches), a small pool for
    decoding images, Annoy queries, covers and rendering contact sheets. ``engine`` is the synchronous
    :class:`Engine` behind it (for scripts and tests; front doors use the methods here).

    Hot reload: :meth:`reload` loads the generation the run folder's CURRENT names now into a new engine (same
    model) off the event loop and swaps it in with one assignment: index, id map, title search, covers and metadata
    change together. Each request reads :attr:`engine` once and finishes on that engine, so requests in flight
    during a swap end on the old generation and new ones start on the new. A generation that cannot serve is
    refused with one ERROR line and the old one keeps serving."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = DEFAULT_BATCH_MAX_SIZE,
        max_wait_ms: float = DEFAULT_BATCH_MAX_WAIT_MS,
        workers: int = 2,
    ):
        self.engine = engine
        self.previous: Engine | None = None  # the engine before the last swap (contact sheets of its answers)
        self._reload_lock = asyncio.Lock()
        self._refused: str | None = None  # the generation last refused (its ERROR is logged once)
        self.reloads = 0
        self.model_executor = ThreadPoolExecutor(1, thread_name_prefix="toonmatch-model")
        self.cpu_executor = ThreadPoolExecutor(workers, thread_name_prefix="toonmatch-cpu")
        self._preparing = 0  # model inputs being made in the CPU pool, soon submitted to the batcher
        self.batcher = Batcher(
            engine.run_model,
            self.model_executor,
            max_batch=max_batch,
            max_wait_ms=max_wait_ms,
            incoming=lambda: self._preparing,
        )

    @property
    def observer(self) -> ServeObserver | None:
        """Told about every model batch and every piece of CPU-pool work (the bot's metrics); ``None``: nobody."""
        return self.batcher.observer

    @observer.setter
    def observer(self, value: ServeObserver | None) -> None:
        self.batcher.observer = value

    async def _cpu(self, fn, *args, **kwargs):
        loop = asyncio.get_running_loop()
        result, seconds = await loop.run_in_executor(self.cpu_executor, partial(_timed, fn, *args, **kwargs))
        observer = self.batcher.observer
        if observer is not None:
            observer.executor("cpu", seconds)
        return result

    async def _prepare(self, fn, *args):
        """``fn(*args)`` in the CPU pool, counted meanwhile as a request on its way to the batcher."""
        self._preparing += 1
        try:
            return await self._cpu(fn, *args)
        finally:
            self._preparing -= 1

    async def _read(self, image: bytes, engine: Engine | None = None) -> tuple[ModelOutputs, Image.Image]:
        """(model outputs, decoded image) of an upload, from one batched model call; BadImageError for bad input."""
        panels, img = await self._prepare((engine or self.engine).prepare, image)
        return await self.batcher.submit(panels), img

    # ---- hot reload ---------------------------------------------------------------------------------------------
    @property
    def generation(self) -> str | None:
        """The index generation being served."""
        return self.engine.generation

    async def reload(self) -> str:
        """Serve the generation the run folder's CURRENT names now: ``"reloaded"``, ``"unchanged"`` or
        ``"refused"`` (a broken generation: logged once at ERROR, the current one keeps serving)."""
        async with self._reload_lock:
            old = self.engine
            started = time.perf_counter()
            try:
                new = await self._cpu(old.reload)
            except Exception as exc:  # RunFolderError, or anything a damaged file makes a reader raise
                from ml.serve.index import current_generation

                name = await self._cpu(current_generation, old.run_dir) if old.run_dir else None
                if name != self._refused:
                    self._refused = name
                    log.error("refusing index generation %s (%s); still serving %s", name, exc, old.generation)
                return "refused"
            if new is None:
                return "unchanged"
            self.previous, self.engine = old, new
            self._refused = None
            self.reloads += 1
            gained, lost = len(new.titles.keys() - old.titles.keys()), len(old.titles.keys() - new.titles.keys())
            log.info(
                "reloaded index generation %s in %.2f s: %d titles (%d in, %d out; was %s)",
                new.generation,
                time.perf_counter() - started,
                len(new.titles),
                gained,
                lost,
                old.generation,
            )
            return "reloaded"

    def is_removed(self, title_id: str) -> bool:
        """Whether the source stopped listing ``title_id`` (kept in the catalogue, never answered or posted)."""
        return title_id in self.engine.removed

    async def similar(
        self, image: bytes, *, k: int = TITLES_PER_ANSWER, taste: TasteProfile | None = None, allow_adult: bool = False
    ) -> tuple[Answer, object]:
        """(answer, decoded image) of an upload (:meth:`Engine.similar`'s steps); ``answer.screen`` says how explicit
        it looks when the run's model has an nsfw output (else ``None``)."""
        started = time.perf_counter()
        engine = self.engine  # the whole request on one generation
        outputs, img = await self._read(image, engine)
        answer = await self._cpu(engine.answer_upload, outputs, k=k, taste=taste, allow_adult=allow_adult)
        answer.timings["total_ms"] = (time.perf_counter() - started) * 1000
        return answer, img

    async def genres(self, image: bytes, top: int = 3) -> tuple[list[GenreGuess], int]:
        engine = self.engine
        outputs, _ = await self._read(image, engine)
        return engine.genre_guesses(outputs.genre, top), len(outputs.genre)

    async def recommend(
        self, title_id: str, *, k: int = TITLES_PER_ANSWER, taste: TasteProfile | None = None, allow_adult: bool = False
    ) -> Answer:
        """:meth:`Engine.recommend`'s steps, with the model call on the cover batched with other requests."""
        engine = self.engine  # the whole request on one generation
        panels = await self._prepare(engine.cover_input, title_id)  # unknown id: UnknownTitleError
        outputs = None if panels is None else await self.batcher.submit(panels)
        return await self._cpu(engine.answer_title, title_id, outputs, k=k, taste=taste, allow_adult=allow_adult)

    async def discovery_picks(self, taste: dict[str, int], *, n: int, **options) -> list[Result]:
        """``n`` titles for a discovery post: :meth:`ml.serve.ranking.Ranker.discovery_picks` (same options)."""
        return await self._cpu(self.engine.ranking.discovery_picks, taste, n=n, **options)

    async def contact_sheet(
        self,
        answer: Answer,
        query_image: Image.Image | None = None,
        *,
        include_query: bool = True,
        text: SheetText | None = None,
    ) -> tuple[bytes, str]:
        """The answer's numbered 5×5 sheet: (bytes, "jpg"); ``include_query=False`` leaves the query tile
        out (an upload that must not be re-posted); ``text``: its words in the reader's language."""
        engine = self.engine
        titles = [r.title.id for r in answer.results] + ([answer.source.id] if answer.source else [])
        if self.previous is not None and any(t not in engine.titles for t in titles):
            engine = self.previous  # an answer of the generation before the swap: drawn with its covers
        return await self._cpu(engine.contact_sheet, answer, query_image, include_query=include_query, text=text)

    async def cover_thumbnail(self, title_id: str, size: int = 256) -> bytes | None:
        """A small WebP of a title's cover for an embed thumbnail (``None`` without a readable cover)."""
        return await self._cpu(self.engine.covers.thumbnail, title_id, size)

    # ---- the served catalogue, read-only ------------------------------------------------------------------------
    @property
    def titles(self) -> Mapping[str, Title]:
        """The served titles by id."""
        return MappingProxyType(self.engine.titles)

    @property
    def synthetic(self) -> bool:
        """Whether the catalogue is the generated demo one (answers say so)."""
        return self.engine.synthetic

    def search(self, text: str, limit: int = 25) -> list[Match]:
        """Fuzzy title search (Korean, English, alternate titles, authors). Inline: a few milliseconds, so
        autocomplete answers even while the executors are busy."""
        return self.engine.search(text, limit)

    def resolve(self, text: str) -> Title:
        """The one title ``text`` names; raises UnknownTitleError / AmbiguousTitleError with the closest titles
        (RemovedTitleError for a title no longer listed)."""
        return self.engine.resolve(text)

    @property
    def queue_depth(self) -> int:
        """Requests waiting for the next batched model call."""
        return self.batcher.depth

    @property
    def preparing(self) -> int:
        """Requests being decoded in the CPU pool, on their way to the model."""
        return self._preparing

    @property
    def run_id(self) -> str | None:
        """The served run folder's name (``None`` for an engine built without one)."""
        run = self.engine.run_dir
        return run.name if run is not None else None

    def describe(self, title_id: str) -> str:
        """A one-line label of a title for pickers: "name / English name (id)"."""
        return self.engine.searcher.describe(title_id)

    async def aclose(self) -> None:
        await self.batcher.aclose()
        self.model_executor.shutdown(wait=False, cancel_futures=True)
        self.cpu_executor.shutdown(wait=False, cancel_futures=True)
