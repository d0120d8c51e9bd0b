"""Shared fixtures of the serving tests: the engine of each real tiny run and a safe cover of its catalogue.

``real_engine`` runs every test that uses it twice: on the from-scratch run (``tiny_run``) and on the run built
through the pretrained path as the shipped model is (``tiny_pretrained_run``); ``scratch_engine`` is the one run
for tests about what only the from-scratch run is (no ``nsfw`` output)."""

import pytest

from catalog.format import Title, load_catalog
from ml.serve.engine import Engine
from tests.conftest import RUNS


@pytest.fixture(scope="module", params=RUNS)
def serving_run(request):
    """The run folder of this test: ``tiny_run`` or ``tiny_pretrained_run`` (test ids ``[tiny_run]`` / …)."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def real_engine(serving_run) -> Engine:
    return Engine.load(serving_run)


@pytest.fixture(scope="module")
def scratch_engine(tiny_run) -> Engine:
    return Engine.load(tiny_run)


@pytest.fixture(scope="module")
def cover_title(tiny_catalog) -> Title:
    return next(t for t in load_catalog(tiny_catalog).titles if t.adult is not True)
