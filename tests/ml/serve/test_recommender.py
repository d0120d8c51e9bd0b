"""The async front: the Batcher with a recording fake model, then Recommender on the real tiny run."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from catalog.format import load_catalog
from core.errors import BadImageError, UnknownTitleError
from ml.serve.engine import Engine
from ml.serve.recommender import Batcher, Recommender
from ml.serve.results import ModelOutputs


class RecordingModel:
    """A fake model: embeds as 10 × input, genre as first column + 1, and records the size of every batch it ran."""

    def __init__(self):
        self.sizes: list[int] = []
        self.fail = False

    def __call__(self, batch: np.ndarray):
        self.sizes.append(len(batch))
        if self.fail:
            raise RuntimeError("model exploded")
        return ModelOutputs(batch * 10, batch[:, :1] + 1)


@pytest.fixture
def executor():
    pool = ThreadPoolExecutor(1)
    yield pool
    pool.shutdown(wait=True)


def request(i: int, rows: int = 1) -> np.ndarray:
    return np.full((rows, 3), i, dtype=np.float32)


async def test_concurrent_submits_share_batches_and_each_gets_its_own_rows(executor):
    model = RecordingModel()
    batcher = Batcher(model, executor, max_batch=32, max_wait_ms=200)
    sizes = [1 + i % 3 for i in range(20)]
    try:
        outs = await asyncio.gather(*(batcher.submit(request(i, n)) for i, n in enumerate(sizes)))
    finally:
        await batcher.aclose()
    assert len(model.sizes) < 20
    assert sum(model.sizes) == sum(sizes)
    assert batcher.batches == len(model.sizes)
    for i, (n, out) in enumerate(zip(sizes, outs, strict=True)):
        np.testing.assert_array_equal(out.embedding, np.full((n, 3), 10 * i))
        np.testing.assert_array_equal(out.genre, np.full((n, 1), i + 1))
        assert out.nsfw is None  # an output the model does not have stays None in every share


async def test_max_batch_is_respected_for_single_panel_requests(executor):
    model = RecordingModel()
    batcher = Batcher(model, executor, max_batch=8, max_wait_ms=200)
    try:
        await asyncio.gather(*(batcher.submit(request(i)) for i in range(20)))
    finally:
        await batcher.aclose()
    assert max(model.sizes) <= 8
    assert sum(model.sizes) == 20 and len(model.sizes) >= 3


async def test_max_batch_is_respected_for_multi_panel_requests_and_none_is_lost(executor):
    model = RecordingModel()
    batcher = Batcher(model, executor, max_batch=4, max_wait_ms=200)
    try:
        outs = await asyncio.gather(*(batcher.submit(request(i, 3)) for i in range(6)))
        big = await batcher.submit(request(99, 6))  # a strip bigger than max_batch still runs, alone
    finally:
        await batcher.aclose()
    assert model.sizes[:6] == [3] * 6  # two 3-panel requests would overflow 4
    assert model.sizes[6] == 6
    for i, out in enumerate(outs):
        np.testing.assert_array_equal(out.embedding, np.full((3, 3), 10 * i))
    np.testing.assert_array_equal(big.embedding, np.full((6, 3), 990))


async def test_a_model_error_reaches_every_waiter_and_the_batcher_keeps_serving(executor):
    model = RecordingModel()
    batcher = Batcher(model, executor, max_batch=32, max_wait_ms=200)
    try:
        model.fail = True
        results = await asyncio.gather(*(batcher.submit(request(i)) for i in range(5)), return_exceptions=True)
        assert all(isinstance(r, RuntimeError) and "model exploded" in str(r) for r in results)
        model.fail = False
        out = await batcher.submit(request(7))
        np.testing.assert_array_equal(out.embedding, np.full((1, 3), 70))
        outs = await asyncio.gather(*(batcher.submit(request(i)) for i in range(3)))
        assert [int(o.embedding[0, 0]) for o in outs] == [0, 10, 20]
    finally:
        await batcher.aclose()


async def test_malformed_model_output_fails_the_waiters_instead_of_hanging_them(executor):
    calls = []

    def bad_fn(batch):
        calls.append(len(batch))
        return None if len(calls) == 1 else ModelOutputs(batch, batch)

    batcher = Batcher(bad_fn, executor, max_batch=32, max_wait_ms=50)
    try:
        results = await asyncio.wait_for(
            asyncio.gather(*(batcher.submit(request(i)) for i in range(3)), return_exceptions=True), timeout=30
        )
        assert all(isinstance(r, AttributeError) for r in results)  # None has no rows to hand out
        out = await asyncio.wait_for(batcher.submit(request(4)), timeout=30)
        np.testing.assert_array_equal(out.embedding, request(4))
    finally:
        await batcher.aclose()


async def test_the_event_loop_keeps_running_while_the_model_works(executor):
    ticks = 0
    enough = threading.Event()
    seen_during_call: list[int] = []

    async def heartbeat():
        nonlocal ticks
        while True:
            ticks += 1
            if ticks >= 5:
                enough.set()
            await asyncio.sleep(0.001)

    def slow_model(batch):
        # Blocks until the loop has ticked five times; if the model ran on the loop's thread it never could.
        ok = enough.wait(timeout=20)
        seen_during_call.append(ok)
        return ModelOutputs(batch, batch)

    batcher = Batcher(slow_model, executor, max_batch=4, max_wait_ms=1)
    beat = asyncio.create_task(heartbeat())
    try:
        await batcher.submit(request(1))
    finally:
        beat.cancel()
        await batcher.aclose()
    assert seen_during_call == [True]
    assert ticks >= 5


# ---- Recommender on the real tiny runs (from scratch, pretrained path) ---------------------------------------------


@pytest.fixture(scope="module")
def engine(real_engine) -> Engine:
    return real_engine


@pytest.fixture(scope="module")
def covers(tiny_catalog) -> dict[str, bytes]:
    """Two non-adult titles' covers, by title id."""
    titles = [t for t in load_catalog(tiny_catalog).titles if t.adult is not True][:2]
    return {t.id: t.cover.read_bytes() for t in titles}


@pytest.fixture
async def recommender(engine):
    front = Recommender(engine, max_wait_ms=20)
    yield front
    await front.aclose()


async def test_bad_upload_raises_bad_image_and_the_next_request_still_works(recommender, covers):
    with pytest.raises(BadImageError, match="not an image"):
        await recommender.similar(b"<html>definitely not a cover</html>")
    with pytest.raises(BadImageError, match="empty"):
        await recommender.similar(b"")
    tid, data = next(iter(covers.items()))
    answer, img = await recommender.similar(data, k=5)
    assert answer.results[0].title.id == tid
    assert len(answer.results) == 5
    assert img.mode == "RGB"
    assert "total_ms" in answer.timings


async def test_concurrent_similar_requests_each_get_their_own_answer(recommender, covers):
    answers = await asyncio.gather(*(recommender.similar(data, k=3) for data in covers.values()))
    assert [a.results[0].title.id for a, _ in answers] == list(covers)


async def test_recommend_unknown_id_raises_unknown_title(recommender):
    with pytest.raises(UnknownTitleError, match="no-such-title"):
        await recommender.recommend("demo:no-such-title")


async def test_recommend_known_title_uses_the_model_for_genres_and_skips_itself(recommender, engine, covers):
    tid = next(iter(covers))
    answer = await recommender.recommend(tid, k=5)
    assert answer.source.id == tid
    assert tid not in [r.title.id for r in answer.results]
    assert len(answer.results) == 5
    assert answer.genres and {g.genre for g in answer.genres} <= set(engine.genres)
    assert sum(g.probability for g in answer.genres) <= 1.0 + 1e-5  # model probabilities, not the catalogue's 1.0s


async def test_genres_of_an_upload_are_at_most_three(recommender, covers):
    guesses, panels = await recommender.genres(next(iter(covers.values())))
    assert panels == 1
    assert 1 <= len(guesses) <= 3


async def test_the_catalogue_views_need_no_engine(recommender, engine, covers):
    tid = next(iter(covers))
    assert recommender.titles[tid] is engine.titles[tid] and len(recommender.titles) == len(engine.titles)
    with pytest.raises(TypeError):
        recommender.titles[tid] = None  # read-only
    assert recommender.synthetic is engine.synthetic
    title = recommender.titles[tid]
    assert recommender.resolve(title.id) is title
    assert tid in [m.title_id for m in recommender.search(title.title, 5)] and tid in recommender.describe(tid)
    thumb = await recommender.cover_thumbnail(tid, 64)
    assert thumb[:4] == b"RIFF" and thumb[8:12] == b"WEBP"
    assert await recommender.cover_thumbnail("demo:no-such-title") is None
    data, fmt = await recommender.contact_sheet(await recommender.recommend(tid, k=3))
    assert fmt == "jpg" and data


async def test_the_recommender_answers_as_the_engine_does(recommender, engine, covers):
    """One path: the async front takes the engine's own steps, only batched."""
    tid, data = next(iter(covers.items()))
    batched, _ = await recommender.similar(data, k=6)
    direct = engine.similar(data, k=6)
    assert [r.title.id for r in batched.results] == [r.title.id for r in direct.results]
    assert batched.genres == direct.genres
    assert [r.title.id for r in (await recommender.recommend(tid, k=6)).results] == [
        r.title.id for r in engine.recommend(tid, k=6).results
    ]


async def test_discovery_picks_go_to_the_ranker(recommender, engine):
    liked = next(iter(engine.titles))
    picks = await recommender.discovery_picks({liked: 2}, n=2, seed=1)
    assert [p.title.id for p in picks] == [p.title.id for p in engine.ranking.discovery_picks({liked: 2}, n=2, seed=1)]
    assert len(picks) == 2 and liked not in [p.title.id for p in picks]
