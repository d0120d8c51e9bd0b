"""Fixtures shared by the whole suite: a tiny generated catalogue and a tiny real run folder (trained once)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio

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
def tiny_pretrained_run(tiny_catalog, tmp_path_factory) -> Path:
    """A real run folder built through the pretrained path, as the shipped model is (multi-depth statistics,
    whitening, folded heads, ``nsfw`` output), on a tiny random-weight graph in nsfwjs's format fetched and converted
    by the real code (``tests/helpers/tiny_backbone.py``: no download, no npm) into a temporary cache."""
    import json

    from ml.train.pipeline import train_run
    from ml.train.training import TrainConfig
    from tests.helpers.tiny_backbone import tiny_backbone_cache

    run = tmp_path_factory.mktemp("tiny_pretrained_run")
    cache, work = tmp_path_factory.mktemp("backbone_cache"), tmp_path_factory.mktemp("tiny_nsfwjs")
    with tiny_backbone_cache(cache, work):
        train_run(tiny_catalog, run, TrainConfig.preset_named("tiny", backbone="pretrained"), progress=False)
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert config["backbone"]["kind"] == "pretrained", config["backbone"]  # no silent fall-back to from-scratch
    return run


@pytest.fixture(scope="session")
def versioned_v1(tmp_path_factory):
    """Catalogue v1 scraped from the replay server and a tiny run trained on it (``tests/helpers/catalogue_versions``:
    v2 adds 3 titles, removes 1, changes a cover and turns a title adult). Tests refresh a copy (``copy_world``)."""
    from tests.helpers.catalogue_versions import build_v1

    return build_v1(tmp_path_factory.mktemp("versioned_v1"))


#: The run folders the serving and model-facing bot tests run on: from scratch, and through the pretrained path.
RUNS = ("tiny_run", "tiny_pretrained_run")


@pytest.fixture(scope="session")
def nsfw_run(tiny_run, tmp_path_factory) -> Path:
    """``tiny_run`` whose serving model also has an ``nsfw`` output (``tests/helpers/nsfw_run.py``: plain red
    images look explicit, covers do not) and whose config lists ``nsfw_classes``."""
    from tests.helpers.nsfw_run import with_nsfw_head

    return with_nsfw_head(tiny_run, tmp_path_factory.mktemp("nsfw") / "run")


@pytest.fixture(scope="session")
def pretrained_nsfw_run(tiny_pretrained_run, tmp_path_factory) -> Path:
    """``tiny_pretrained_run`` whose ``nsfw`` output (random weights there) is replaced by the controllable head of
    ``nsfw_run`` (plain red images look explicit, covers do not): upload screening on the pretrained serving graph."""
    from tests.helpers.nsfw_run import with_nsfw_head

    return with_nsfw_head(tiny_pretrained_run, tmp_path_factory.mktemp("pretrained_nsfw") / "run")


#: The runs with a controllable ``nsfw`` output, from scratch and through the pretrained path.
NSFW_RUNS = ("nsfw_run", "pretrained_nsfw_run")


@pytest.fixture(scope="session")
def pretrained_backbone():
    """The real pretrained network (nsfwjs's MobileNetV2), from the cache ``make setup`` fills."""
    from ml.pretrained import BackboneUnavailableError, default_cache_dir, load_backbone

    try:
        return load_backbone()
    except BackboneUnavailableError as exc:
        pytest.skip(f"the pretrained backbone is not in {default_cache_dir()} and cannot be fetched: {exc}")


@pytest.fixture(scope="session")
def pretrained_run(pretrained_backbone, tiny_catalog, tmp_path_factory) -> Path:
    """A real run folder on the frozen pretrained network (the tiny preset otherwise)."""
    from ml.train.pipeline import train_run
    from ml.train.training import TrainConfig

    run = tmp_path_factory.mktemp("pretrained_run")
    train_run(tiny_catalog, run, TrainConfig.preset_named("tiny", backbone="pretrained"), progress=False)
    return run


@pytest.fixture(scope="session")
def shared_webtoons() -> Path:
    path = SHARED_DATA / "webtoons"
    if not (path / "catalog.jsonl").is_file():
        pytest.skip(f"the shared development data is not here ({path}); it sits beside the project in CI")
    return path


# --------------------------------------------------------------------------- databases: SQLite and PostgreSQL

#: The taste store's backends every database test runs against (test ids ``[sqlite]`` / ``[postgresql]``).
DATABASE_BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throw-away PostgreSQL server for the whole session (started on first use, deleted at the end).

    Skips only when the PostgreSQL binaries are not installed (and ``TOONMATCH_REQUIRE_POSTGRES`` is not set, as in
    CI); a server that is installed but will not start fails the tests with its log.
    """
    from tests.helpers.postgres import PostgresCluster, find_bindir

    bindir = find_bindir()
    if bindir is None:
        where = os.environ.get("TOONMATCH_PG_BINDIR") or "PATH or /usr/lib/postgresql/*/bin"
        why = (
            f"PostgreSQL is not installed: no initdb/pg_ctl/postgres in {where} "
            "(apt-get install postgresql, or set TOONMATCH_PG_BINDIR)"
        )
        if os.environ.get("TOONMATCH_REQUIRE_POSTGRES"):
            pytest.fail(why + "; TOONMATCH_REQUIRE_POSTGRES is set", pytrace=False)
        pytest.skip(why)
    cluster = PostgresCluster(bindir).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest_asyncio.fixture
async def new_database_url(request, tmp_path) -> AsyncIterator[Callable[[str], Awaitable[str]]]:
    """``await new_database_url("sqlite" | "postgresql")``: the URL of a new, empty database of that backend (a file
    in ``tmp_path``, or a fresh database in the session's PostgreSQL cluster, dropped after the test)."""
    created: list[str] = []
    counter = iter(range(1, 1000))

    async def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path / f'toonmatch-{next(counter)}.db'}"
        if backend == "postgresql":
            cluster = request.getfixturevalue("postgres_cluster")
            name = await cluster.create_database()
            created.append(name)
            return cluster.url(name)
        raise ValueError(f"unknown database backend {backend!r}")

    yield make
    if created:
        cluster = request.getfixturevalue("postgres_cluster")
        for name in created:
            await cluster.drop_database(name)
