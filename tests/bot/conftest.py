"""Fixtures of the bot's tests: the real engine on the tiny run, a real SQLite file, the in-process fake Discord
and a small world in it (a server with a normal, an age-restricted and a discovery channel; an admin and users).

``world`` starts the real :class:`bot.bot.Toonmatch` (all cogs, command sync, persistent buttons) against the fake;
``world.restart()`` stops it, closes the database and the recommender, and starts a fresh bot on a new
:class:`Database` on the same URL and a new :class:`Recommender` loaded from the run folder, as after a deploy.

The fakes here have no acknowledgement deadline (TensorFlow on a busy 2-core machine may take longer than Discord's
3 s without the bot being wrong): only tests marked ``@pytest.mark.ack_deadline`` get Discord's 3 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio
from PIL import Image

from bot.bot import BotOptions, Toonmatch
from core.settings import Settings, load_settings
from db import Database, open_database
from ml.serve.recommender import Recommender
from tests.conftest import DATABASE_BACKENDS, RUNS
from tests.helpers.fake_discord.server import FakeDiscord

# Heavy-command cooldowns off unless a test turns them on; no background discovery loop (tests call post_due).
TEST_OPTIONS = dict(cooldown_seconds=0.0, start_discovery_loop=False)


@pytest.fixture(scope="session")
def bot_run(request) -> Path:
    """The run folder the bot serves: ``tiny_run``, or what a module parametrizes (:data:`ON_BOTH_RUNS`)."""
    return request.getfixturevalue(getattr(request, "param", "tiny_run"))


def on_both_runs(run_fixture: str = "bot_run", runs: tuple[str, str] = RUNS):
    """For the model-facing tests (/similar, /recommend, /genre, upload screening): the from-scratch run on both
    databases and the pretrained-path run (the shipped model's graph) on SQLite; ids ``[sqlite-tiny_run]`` etc."""
    scratch, pretrained = runs
    pairs = [("sqlite", scratch), ("postgresql", scratch), ("sqlite", pretrained)]
    return pytest.mark.parametrize(("backend", run_fixture), pairs, indirect=True)


ON_BOTH_RUNS = on_both_runs()


@pytest.fixture(scope="session")
def bot_engine(bot_run):
    """The real engine on the run folder, loaded once per run (thread-safe for reads; each test wraps it)."""
    from ml.serve.engine import Engine

    return Engine.load(bot_run)


@pytest.fixture(scope="session")
def sample_images(bot_engine) -> dict[str, bytes]:
    """Uploads: a catalogue cover as PNG, the same as JPEG, a tall strip of 4 covers, a corrupt PNG, a text file."""
    covers = [t.cover for t in sorted(bot_engine.titles.values(), key=lambda t: t.id) if t.cover][:4]
    img = Image.open(covers[0]).convert("RGB")
    png = io.BytesIO()
    img.save(png, "PNG")
    png = png.getvalue()
    jpeg = io.BytesIO()
    img.save(jpeg, "JPEG", quality=90)
    tiles = [Image.open(c).convert("RGB").resize((200, 280)) for c in covers]
    strip = Image.new("RGB", (200, 280 * len(tiles)), "white")
    for i, tile in enumerate(tiles):
        strip.paste(tile, (0, 280 * i))
    tall = io.BytesIO()
    strip.save(tall, "PNG")
    return {
        "png": png,
        "jpeg": jpeg.getvalue(),
        "strip": tall.getvalue(),
        "corrupt": png[:64] + b"\x00" * 200,
        "text": b"this is not an image\n",
    }


@pytest.fixture
def cover_title(bot_engine):
    """The title whose cover is ``sample_images['png']``."""
    return sorted((t for t in bot_engine.titles.values() if t.cover), key=lambda t: t.id)[0]


@pytest.fixture(params=DATABASE_BACKENDS)
def backend(request) -> str:
    """The taste store's backend of this bot test: ``"sqlite"`` or ``"postgresql"``."""
    return request.param


@pytest_asyncio.fixture
async def db(backend, new_database_url) -> Database:
    """The bot's taste store, migrated: a SQLite file or a fresh PostgreSQL database."""
    database = await open_database(await new_database_url(backend))
    try:
        yield database
    finally:
        await database.aclose()


def make_recommender(engine) -> Recommender:
    """The recommender the bot tests put in front of an engine (small batching wait)."""
    return Recommender(engine, max_batch=32, max_wait_ms=2.0)


@pytest_asyncio.fixture
async def recommender(bot_engine) -> Recommender:
    front = make_recommender(bot_engine)
    try:
        yield front
    finally:
        await front.aclose()


def make_settings(token: str, tiny_run: Path, db_url: str = "sqlite+aiosqlite:///:memory:", **extra) -> Settings:
    values = {
        "DISCORD_TOKEN": token,
        "TOONMATCH_RUN_DIR": str(tiny_run),
        "DATABASE_URL": db_url,
        "TOONMATCH_METRICS_ADDRESS": "",  # no metrics server unless a test asks for one (127.0.0.1:0: any free port)
        **extra,
    }
    return load_settings(env_file=None, **values)


@dataclass
class World:
    """The fake Discord, the running bot and the people and places the tests use."""

    fake: FakeDiscord
    db: Database
    recommender: Recommender | None
    settings: Settings
    options: BotOptions
    guild: Any = None
    general: Any = None
    adult: Any = None
    recs: Any = None
    admin: Any = None
    alice: Any = None
    bob: Any = None
    bot: Toonmatch | None = None
    starts: int = 0
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    _reopened: list[Any] = field(default_factory=list)  # what restart() opened (the fixtures close the first ones)

    async def start(self) -> Toonmatch:
        self.bot = Toonmatch(self.settings, db=self.db, recommender=self.recommender, options=self.options)
        await self._stack.enter_async_context(self.fake.run_client(self.bot))
        self.starts += 1
        return self.bot

    async def stop(self) -> None:
        await self._stack.aclose()
        self._stack = contextlib.AsyncExitStack()

    async def restart(self) -> Toonmatch:
        """Stop the bot, close the database and the recommender, reopen both (a new :class:`Database` on the same
        URL, a new :class:`Recommender` on an engine loaded from the run folder) and start a new bot on them."""
        await self.stop()
        url = self.db.engine.url.render_as_string(hide_password=False)
        await self.db.aclose()
        self.db = await open_database(url)
        self._reopened.append(self.db)
        if self.recommender is not None:
            await self.recommender.aclose()
            from ml.serve.engine import Engine

            engine = await asyncio.to_thread(Engine.load, self.settings.serving.run_dir)
            self.recommender = make_recommender(engine)
            self._reopened.append(self.recommender)
        return await self.start()

    async def close(self) -> None:
        """Stop the bot and close what :meth:`restart` opened."""
        await self.stop()
        for resource in reversed(self._reopened):
            await resource.aclose()
        self._reopened.clear()

    def attach(self, kind: str, images: dict[str, bytes], filename: str | None = None, content_type=None) -> dict:
        names = {"png": "panel.png", "jpeg": "panel.jpg", "strip": "strip.png", "corrupt": "broken.png"}
        name = filename or names.get(kind, "notes.txt")
        return self.fake.add_attachment(images[kind], name, content_type)

    async def run(self, name: str, options: dict | None = None, *, user=None, channel=None, timeout=20.0, **kw):
        """Invoke a slash command and wait for its final visible response; returns the interaction record."""
        rec = await self.fake.slash_command(
            name, options or {}, user=user or self.alice, guild=self.guild, channel=channel or self.general, **kw
        )
        await rec.wait_response(timeout=timeout)
        return rec


async def build_world(fake: FakeDiscord, db: Database, recommender: Recommender | None, settings: Settings, **options):
    world = World(fake, db, recommender, settings, BotOptions(**{**TEST_OPTIONS, **options}))
    world.guild = fake.add_guild("Webtoon Club")
    world.general = fake.add_channel(world.guild, "general")
    world.adult = fake.add_channel(world.guild, "after-dark", nsfw=True)
    world.recs = fake.add_channel(world.guild, "recs")
    world.admin = fake.add_member(world.guild, "admin", permissions=discord.Permissions(manage_guild=True))
    world.alice = fake.add_member(world.guild, "alice")
    world.bob = fake.add_member(world.guild, "bob")
    await world.start()
    return world


#: Discord's acknowledgement deadline, for the tests marked ``ack_deadline`` (the rest get ``None``: no deadline).
DISCORD_ACK_DEADLINE = 3.0


def roomy_fake(**kwargs) -> FakeDiscord:
    """A :class:`FakeDiscord` without the acknowledgement deadline, for tests that are not about it."""
    return FakeDiscord(ack_deadline=None, **kwargs)


@pytest_asyncio.fixture
async def fake(request) -> FakeDiscord:
    """The fake Discord of a bot test; Discord's 3 s acknowledgement deadline only if the test is marked for it."""
    about_the_deadline = request.node.get_closest_marker("ack_deadline") is not None
    server = FakeDiscord(ack_deadline=DISCORD_ACK_DEADLINE if about_the_deadline else None)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def pytest_configure(config):
    config.addinivalue_line("markers", "bot_errors_expected: the test provokes ERROR logs of the bot on purpose")
    config.addinivalue_line("markers", "ack_deadline: the fake Discord expires interactions not acknowledged in 3 s")


@pytest.fixture(autouse=True)
def no_bot_errors(request, caplog):
    """Every bot test fails if the bot logged an ERROR (a bug) it did not expect, or the fake saw a request it does
    not know (a bot bug, or a gap in the fake)."""
    caplog.set_level(logging.INFO)
    yield
    if request.node.get_closest_marker("bot_errors_expected") is None:
        errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR and r.name.startswith("bot")]
        assert not errors, [r.getMessage() for r in errors]


@pytest_asyncio.fixture
async def world(fake, db, recommender, bot_run) -> World:
    w = await build_world(fake, db, recommender, make_settings(fake.token, bot_run))
    try:
        yield w
    finally:
        await w.close()
    assert not fake.unhandled_requests, fake.unhandled_requests
    assert not getattr(fake, "errors", []), fake.errors


def custom_ids(message, prefix: str) -> list[str]:
    return [c for c in message.custom_ids() if c.startswith(prefix)]


def select_options(message, custom_id: str | None = None) -> list[dict]:
    """The options of ``custom_id``'s select; by default the answer's pick select (``tm:pick:<asker id>``)."""
    if custom_id is None:
        custom_id = next((c for c in message.custom_ids() if c.startswith("tm:pick")), "tm:pick")
    comp = message.find_component(custom_id)
    return comp["options"] if comp else []
