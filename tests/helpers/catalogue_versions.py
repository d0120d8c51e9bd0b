"""Two versions of a source catalogue for the refresh tests, served by the scraper tests' replay server, and a tiny
real run trained on version 1.

v2 differs from v1 by exactly: 3 new titles (:data:`NEW`), 1 title gone (:data:`REMOVED`), 1 new cover
(:data:`NEW_COVER`: a new thumbnail URL, so new bytes) and 1 title turned adult (:data:`TURNED_ADULT`).
"""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from catalog.scrape.client import RetryPolicy
from catalog.scrape.run import ScrapeConfig, scrape
from tests.catalog.scrape.replay_server import Dataset, ReplayServer, big_dataset, detail, list_item, thumb_url

N_V1 = 30
NEW = (2000, 2001, 2002)
REMOVED = 1003
NEW_COVER = 1004
TURNED_ADULT = 1005
FAST = RetryPolicy(attempts=3, base_delay=0.005, max_delay=0.02, timeout=5.0, max_retry_after=1.0)
FAST_FLAGS = ["--rate", "0", "--retry-base-delay", "0.005", "--retry-max-delay", "0.02", "--timeout", "5", "-q"]


def cid(title_id: int) -> str:
    return f"naver:{title_id}"


def dataset_v1() -> Dataset:
    return big_dataset(N_V1)


def dataset_v2() -> Dataset:
    data = copy.deepcopy(dataset_v1())
    for day in data.weekday.values():
        day[:] = [it for it in day if it["titleId"] != REMOVED]
        for it in day:
            if it["titleId"] == NEW_COVER:
                it["thumbnailUrl"] = thumb_url(NEW_COVER, "IMAG19v2")
            if it["titleId"] == TURNED_ADULT:
                it["adult"] = True
    del data.details[REMOVED]
    data.details[NEW_COVER]["thumbnailUrl"] = thumb_url(NEW_COVER, "IMAG21v2")
    data.details[TURNED_ADULT]["age"] = {"type": "RATE_18", "description": "18세 이용가"}
    names = {2000: "새로운 용사", 2001: "봄날의 고양이", 2002: "달빛 탐정"}
    for n, tid in enumerate(NEW):
        data.weekday["MONDAY" if n % 2 else "FRIDAY"].append(list_item(tid, names[tid], f"신인{n}"))
        data.details[tid] = detail(tid, names[tid], writers=[f"신인{n}"], genres=(("FANTASY", "DRAMA", "ACTION")[n],))
    return data


class ServerThread:
    """A replay server on its own event loop in a thread (for synchronous fixtures and subprocess tests); the
    dataset can be switched while it runs."""

    def __init__(self, dataset: Dataset):
        self.server = ReplayServer(dataset)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.base = asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)

    def serve(self, dataset: Dataset) -> None:
        def switch():
            self.server.dataset = dataset
            self.server._adult = dataset.adult_ids()

        self.loop.call_soon_threadsafe(switch)

    def requests(self, match: str = "") -> int:
        return len(self.server.hits(match))

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def scrape_config(base: str, out: Path) -> ScrapeConfig:
    return ScrapeConfig(out=out, api_base=base, rate=None, policy=FAST, concurrency=4)


@dataclass
class Versioned:
    """A scraped v1 catalogue and a tiny run trained on it (copied per test by :func:`copy_world`)."""

    catalog: Path
    run: Path


def build_v1(root: Path, backbone: str = "scratch") -> Versioned:
    """Scrape v1 from a replay server into ``root/catalog`` and train a tiny run on it into ``root/run``."""
    from ml.train.pipeline import train_run
    from ml.train.training import TrainConfig

    server = ServerThread(dataset_v1())
    try:
        asyncio.run(scrape(scrape_config(server.base, root / "catalog")))
    finally:
        server.close()
    train_run(root / "catalog", root / "run", TrainConfig.preset_named("tiny", backbone=backbone), progress=False)
    return Versioned(root / "catalog", root / "run")


def copy_world(base: Versioned, dest: Path) -> Versioned:
    """A private copy of catalogue and run (the run's config names the copied catalogue)."""
    catalog, run = dest / "catalog", dest / "run"
    shutil.copytree(base.catalog, catalog)
    shutil.copytree(base.run, run)
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    config["catalog"]["path"] = str(catalog)
    (run / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
    return Versioned(catalog, run)
