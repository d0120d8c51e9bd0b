"""``python -m scripts.refresh``: catalogue v1 → v2 at the replay server, applied to a real tiny run.

The run is trained once on a scrape of v1 (real TensorFlow, real Annoy); every test works on its own copy.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from catalog.format import load_catalog
from catalog.scrape.refresh import refresh_catalog
from ml.serve.engine import Engine, load_generation
from ml.serve.index import current_generation, generations
from ml.train.refresh import read_log, refresh_index
from tests.helpers.catalogue_versions import (
    FAST_FLAGS,
    NEW,
    NEW_COVER,
    REMOVED,
    TURNED_ADULT,
    ServerThread,
    cid,
    copy_world,
    dataset_v1,
    dataset_v2,
    scrape_config,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(versioned_v1, tmp_path):
    return copy_world(versioned_v1, tmp_path)


@pytest.fixture
def server():
    thread = ServerThread(dataset_v1())
    yield thread
    thread.close()


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scripts.refresh", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def refresh_args(server: ServerThread, world, *extra: str) -> list[str]:
    return ["--run", str(world.run), "--api-base", server.base, *FAST_FLAGS, *extra]


def test_v1_to_v2_applies_exactly_the_changes(server, world):
    before = Engine.load(world.run)
    old_vector_of = {t: before.ranking.title_vector(t).copy() for t in before.titles}
    server.serve(dataset_v2())
    details_before = server.requests("/api/article/list/info")
    result = cli(*refresh_args(server, world))
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("refresh: 3 new, 2 changed, 1 removed, 27 unchanged in "), result.stdout
    # details fetched for the 3 new titles and the 2 whose list entry changed, nothing else
    fetched = {
        int(h.path_qs.split("titleId=")[1]) for h in server.server.hits("/api/article/list/info")[details_before:]
    }
    assert fetched == {*NEW, NEW_COVER, TURNED_ADULT}
    # the catalogue: removed title kept and dated, the adult flag, the new cover bytes
    catalog = load_catalog(world.catalog).by_id()
    assert catalog[cid(REMOVED)].removed is not None
    assert catalog[cid(TURNED_ADULT)].adult is True and catalog[cid(TURNED_ADULT)].images  # kept its cover
    assert all(cid(t) in catalog for t in NEW)
    # the served generation
    engine = Engine.load(world.run)
    assert engine.generation != before.generation
    assert set(engine.titles) == (set(before.titles) - {cid(REMOVED)}) | {cid(t) for t in NEW}
    assert cid(REMOVED) in engine.removed
    assert engine.titles[cid(TURNED_ADULT)].adult is True
    assert engine.new_titles == {cid(t) for t in NEW}
    # only the new and changed covers were embedded: the others' vectors are unchanged
    log = read_log(world.run)[-1]
    assert log["images_embedded"] == 4 and (log["new"], log["changed"], log["removed"]) == (3, 2, 1)
    shards = sorted((world.run / "vectors").glob("shard-*.npz"))
    assert len(shards) == 2  # training's, and this refresh's: the 4 images it embedded, nothing else
    with np.load(shards[-1]) as data:
        stored = {k.split("\x00")[0] for k in data["keys"].tolist()}
    assert stored == {
        load_catalog(world.catalog).by_id()[cid(t)].cover.relative_to(world.catalog).as_posix()
        for t in (*NEW, NEW_COVER)
    }
    assert engine.ranking.title_vector(cid(NEW_COVER)) != pytest.approx(old_vector_of[cid(NEW_COVER)], abs=1e-3)
    # the tidy step kept the previous generation, whose files are all still there
    assert before.generation in generations(world.run)
    _, _, old_titles = load_generation(world.run, before.generation)
    assert all(t.cover is None or t.cover.is_file() for t in old_titles)
    # and the second refresh with no change writes nothing
    served = current_generation(world.run)
    again = cli(*refresh_args(server, world))
    assert again.returncode == 0, again.stderr
    assert "no change: no new index generation written" in again.stdout
    assert again.stdout.strip().splitlines()[-1].startswith("refresh: 0 new, 0 changed, 0 removed, 32 unchanged")
    assert current_generation(world.run) == served
    assert read_log(world.run)[-1]["generation"] is None


async def test_unchanged_source_fetches_no_details_and_writes_nothing(server, world):
    served = current_generation(world.run)
    listed = server.requests("/api/article/list/info")
    source = await refresh_catalog(scrape_config(server.base, world.catalog))
    assert (source.new, source.refetched, source.removed) == ([], [], [])
    assert server.requests("/api/article/list/info") == listed
    result = await asyncio.to_thread(refresh_index, world.run, world.catalog, progress=False)
    assert result.generation is None and not result.changes.any
    assert result.images_embedded == 0
    assert current_generation(world.run) == served


async def test_failed_list_marks_nothing_removed(server, world):
    from tests.catalog.scrape.replay_server import Fault

    server.serve(dataset_v2())
    server.server.faults.append(Fault("500", "/api/webtoon/titlelist/finished", times=None))
    source = await refresh_catalog(scrape_config(server.base, world.catalog))
    assert not source.lists_complete and source.removed == []
    assert load_catalog(world.catalog).by_id()[cid(REMOVED)].removed is None


def test_retrain_due_over_the_share(server, world):
    server.serve(dataset_v2())
    result = cli(*refresh_args(server, world, "--retrain-share", "0.05"))
    assert result.returncode == 0, result.stderr
    assert "retrain due: 3 of 32 titles (9%) arrived after the heads were fitted" in result.stdout
    assert read_log(world.run)[-1]["retrain_due"] is True


def test_kill_during_refresh_keeps_serving_and_next_refresh_completes(server, world):
    before = Engine.load(world.run)
    server.serve(dataset_v2())
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.refresh", *refresh_args(server, world)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    # kill -9 once the source refresh is under way (the new titles' details are being fetched)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not server.server.hits("titleId=2000"):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert current_generation(world.run) == before.generation
    assert Engine.load(world.run).titles.keys() == before.titles.keys()
    result = cli(*refresh_args(server, world))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("refresh: 3 new, 2 changed, 1 removed, 27 unchanged")
    assert cid(2000) in Engine.load(world.run).titles


def test_no_fetch_on_a_catalogue_that_is_not_scraped(tiny_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    result = cli("--run", str(run), "-q")
    assert result.returncode == 1 and "is not a scraped catalogue" in result.stderr
    result = cli("--run", str(run), "--no-fetch", "-q")
    assert result.returncode == 0, result.stderr
    assert json.loads((run / "refresh.jsonl").read_text().splitlines()[-1])["source"] is None


async def test_a_removed_title_listed_again_is_restored(server, world):
    server.serve(dataset_v2())
    await refresh_catalog(scrape_config(server.base, world.catalog))
    server.serve(dataset_v1())
    source = await refresh_catalog(scrape_config(server.base, world.catalog))
    assert source.restored == [REMOVED] and sorted(source.removed) == list(NEW)
    catalog = load_catalog(world.catalog).by_id()
    assert catalog[cid(REMOVED)].removed is None and all(catalog[cid(t)].removed for t in NEW)
    assert catalog[cid(TURNED_ADULT)].adult is False  # its list entry changed back: fetched again


async def test_full_refresh_finds_new_bytes_at_the_same_url(server, world):
    import io

    from PIL import Image

    from tests.catalog.scrape.replay_server import thumb_url

    path = server.server.image_url(thumb_url(1010)).split("/img/", 1)[1]
    buf = io.BytesIO()
    Image.new("RGB", (125, 101), (10, 200, 30)).save(buf, "JPEG")
    server.server._images[path] = buf.getvalue()  # the CDN now serves other bytes at the same URL
    plain = await refresh_catalog(scrape_config(server.base, world.catalog))
    assert plain.covers_downloaded == 0  # without --full, a cover at an unchanged URL is not downloaded again
    full = await refresh_catalog(scrape_config(server.base, world.catalog), full=True)
    assert full.covers_downloaded == 30 and full.new == [] and full.removed == []
    result = await asyncio.to_thread(refresh_index, world.run, world.catalog, progress=False)
    assert list(result.changes.changed) == [cid(1010)] and result.changes.changed[cid(1010)] == ["image_sha256"]
    assert result.images_embedded == 1 and result.generation is not None
