"""Shared fixtures of the serving tests: the engine of the real tiny run and a safe cover of its catalogue."""

import pytest

from catalog.format import Title, load_catalog
from ml.serve.engine import Engine


@pytest.fixture(scope="module")
def real_engine(tiny_run) -> Engine:
    return Engine.load(tiny_run)


@pytest.fixture(scope="module")
def cover_title(tiny_catalog) -> Title:
    return next(t for t in load_catalog(tiny_catalog).titles if t.adult is not True)
