"""pytest fixtures for the fake Discord.

Use them from a test module or conftest with::

    from tests.helpers.fake_discord.fixtures import fake_discord  # noqa: F401

or register the module once in the root ``tests/conftest.py``::

    pytest_plugins = ["tests.helpers.fake_discord.fixtures"]
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .server import FakeDiscord


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started :class:`FakeDiscord` with discord.py patched to use it; stopped afterwards.

    At teardown it fails the test if the bot called a REST endpoint the fake does not implement
    (``fake.unhandled_requests``) or the fake errored internally -- see ``FakeDiscord.assert_healthy``.
    """
    fake = FakeDiscord()
    await fake.start()
    try:
        with fake.patch_discord():
            yield fake
    finally:
        await fake.stop()
    fake.assert_healthy()
