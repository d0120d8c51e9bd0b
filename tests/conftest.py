"""Fixtures shared by the whole suite: a tiny generated catalogue and a tiny real run folder (trained once)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

pytest_plugins = ["tests.helpers.fake_discord.fixtures"]

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TINY_TITLES = 40


@pytest.fixture(scope="session")
def tiny_catalog(tmp_path_factory) -> Path:
    """A synthetic demo catalogue of 40 titles (generated, nothing copied)."""
    from catalog.demo import generate_demo_catalog

    return Path(generate_demo_catalog(tmp_path_factory.mktemp("catalog"), n_titles=TINY_TITLES, seed=0))


@pytest.fixture(scope="session")
def tiny_run(tiny_catalog, tmp_path_factory) -> Path:
    """A real run folder (tiny Keras models, real Annoy index) trained on ``tiny_catalog`` in seconds."""
    from ml.train.pipeline import train_run
    from ml.train.training import TrainConfig

    run = tmp_path_factory.mktemp("run")
    train_run(tiny_catalog, run, TrainConfig.preset_named("tiny"), progress=False)
    return run


@pytest.fixture(scope="session")
def shared_webtoons() -> Path:
    path = SHARED_DATA / "webtoons"
    if not (path / "catalog.jsonl").is_file():
        pytest.skip(f"the shared development data is not here ({path}); it sits beside the project in CI")
    return path
