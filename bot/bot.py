"""The Bot subclass and the start-up sequence.

Resources (database, recommender) are opened once in :func:`run_bot` (called by ``python -m bot``) and handed to
:class:`Toonmatch`; ``setup_hook`` loads every cog in :mod:`bot.exts`, registers the persistent buttons and syncs
the application commands only when their definitions changed since the last sync (a hash stored in the database).

Sharding (``TOONMATCH_SHARD_COUNT``/``TOONMATCH_SHARD_IDS``, docs/deploy.md): :func:`make_bot` builds a
:class:`ShardedToonmatch` (discord.py's ``AutoShardedBot``: one gateway connection per shard of its range) instead.
Several such processes share one database and one run folder; only the one running shard 0 syncs the commands,
discovery posts go to the process that sees the guild (and are claimed in the database), and the per-user cooldown
lives in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import pkgutil
import signal
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands, tasks

import bot.exts
from bot import fetch, images, views
from bot.errors import RecommenderUnavailableError
from bot.health import HealthServer, metrics_address
from bot.i18n import CommandTranslator
from bot.metrics import BotMetrics
from bot.prefs import GuildPrefsCache
from bot.reload import Reloader
from core import i18n
from core.errors import ToonmatchError
from core.i18n import Msg
from core.settings import DiscordSettings, Settings
from db import Database, GuildPrefs, open_database, queries
from ml.serve.recommender import Recommender
from ml.serve.results import TasteProfile

log = logging.getLogger(__name__)

SYNC_HASH_KEY = "app_commands_hash"


def _setting_default(name: str) -> Any:
    """The default of a :class:`~core.settings.DiscordSettings` field, written only there."""
    return DiscordSettings.model_fields[name].default


@dataclass
class BotOptions:
    """Knobs of the bot itself (not of the recommender); tests shorten the timings. The configurable ones have the
    settings' names and defaults (:meth:`from_settings`)."""

    cooldown_uses: int = _setting_default("cooldown_uses")  # heavy commands (/similar, /genre, …) per user ...
    cooldown_seconds: float = _setting_default("cooldown_seconds")  # ... per this many seconds; 0: no cooldown
    discovery_tick: float = 60.0  # how often the discovery loop looks for due guilds (seconds)
    discovery_picks: int = _setting_default("discovery_picks")  # titles per discovery post
    auto_sync: bool = True  # sync commands at start when their definitions changed (only the shard-0 process)
    force_sync: bool = False  # sync even if unchanged (``python -m bot sync``)
    start_discovery_loop: bool = True
    # Per-user cooldown windows in the database, shared with the other bot processes (one of several processes);
    # otherwise in this process's memory.
    cooldowns_in_database: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> BotOptions:
        """The configurable knobs come from settings (``TOONMATCH_COOLDOWN_*``, ``TOONMATCH_DISCOVERY_PICKS``); the
        cooldowns go to the database when other processes run the other shards (``TOONMATCH_SHARD_IDS``)."""
        values: dict[str, Any] = {
            "cooldown_uses": settings.discord.cooldown_uses,
            "cooldown_seconds": settings.discord.cooldown_seconds,
            "discovery_picks": settings.discord.discovery_picks,
            "cooldowns_in_database": settings.discord.one_of_several_processes,
        }
        return cls(**{**values, **overrides})


def build_intents(settings: Settings) -> discord.Intents:
    """Guilds (channels, permissions) and guild messages; message content only if configured (privileged)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = bool(settings.discord.message_content)
    return intents


def extension_names() -> list[str]:
    """Every module and package directly in :mod:`bot.exts`; a feature package (``discovery``) is one extension
    whose ``__init__`` sets up its cogs (its modules are not extensions of their own)."""
    return sorted(f"{bot.exts.__name__}.{m.name}" for m in pkgutil.iter_modules(bot.exts.__path__))


COOLDOWN_PURGE_MINUTES = 10.0  # how often the shard-0 process deletes cooldown windows that have passed


class Toonmatch(commands.Bot):
    """The bot: holds the settings, the database and the recommender (``None`` when no run folder could be
    loaded). One unsharded gateway connection; :class:`ShardedToonmatch` is the same bot over a range of shards."""

    def __init__(
        self,
        settings: Settings,
        *,
        db: Database,
        recommender: Recommender | None,
        recommender_error: str | None = None,
        options: BotOptions | None = None,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,  # no text commands; application commands only
            help_command=None,
            intents=build_intents(settings),
            allowed_mentions=discord.AllowedMentions.none(),
            **self._shard_options(settings),
        )
        self.settings = settings
        self.db = db
        self.recommender = recommender
        self.recommender_error = recommender_error
        self.options = options or BotOptions.from_settings(settings)
        self.http_session: aiohttp.ClientSession | None = None
        self.heavy_cooldowns: dict[int, app_commands.Cooldown] = {}  # user id → bucket (see bot.checks)
        self.ready_event: Any = None
        self.synced: bool = False
        self.metrics = BotMetrics(self)  # bot.metrics: counters and histograms (GET /metrics, /about)
        self.health: HealthServer | None = None  # bot.health: /healthz, /readyz, /metrics and the shards' states
        self.prefs_cache = GuildPrefsCache(db)  # bot.prefs: per-server settings, read through guild_prefs()
        self.reloader: Reloader | None = None  # hot reload of new index generations (bot.reload)

    # ---- shards -----------------------------------------------------------------------------------------
    def _shard_options(self, settings: Settings) -> dict[str, Any]:
        """discord.py's sharding arguments: none for the unsharded bot, the settings' shards for the sharded one."""
        if not isinstance(self, discord.AutoShardedClient):
            return {}
        ids = settings.discord.shard_ids
        return {"shard_count": settings.discord.shard_count, "shard_ids": list(ids) if ids is not None else None}

    @property
    def own_shards(self) -> tuple[int, ...] | None:
        """The shards this process runs, or ``None`` when it is not sharded (it sees every guild)."""
        if not isinstance(self, discord.AutoShardedClient) or self.shard_count is None:
            return None
        return tuple(self.shard_ids) if self.shard_ids is not None else tuple(range(self.shard_count))

    @property
    def shard_filter(self) -> tuple[tuple[int, ...], int] | None:
        """``(shards, shard count)`` when other processes run the other shards; ``None`` when this one sees every
        guild. Whatever is done per guild without an interaction (discovery posts) is filtered by it."""
        own = self.own_shards
        if own is None or self.shard_count is None or set(own) == set(range(self.shard_count)):
            return None
        return own, self.shard_count

    def owns_shard(self, shard_id: int) -> bool:
        own = self.own_shards
        return own is None or shard_id in own

    # ---- start-up -----------------------------------------------------------------------------------------
    async def setup_hook(self) -> None:
        i18n.check_catalogues()  # one WARNING per language lacking translations, now rather than mid-answer
        await self.tree.set_translator(CommandTranslator())
        # First, so that an address that cannot be bound stops the start at once (MetricsAddressError, one line).
        self.health = HealthServer(self, metrics_address(self.settings))
        self.health.listen()
        await self.health.start()
        self.metrics.install()
        if self.recommender is not None:
            self.recommender.observer = self.metrics
        self.http_session = aiohttp.ClientSession()
        self.add_dynamic_items(*views.DYNAMIC_ITEMS)
        for name in extension_names():
            await self.load_extension(name)
        log.info("loaded %d extensions: %s", len(self.extensions), ", ".join(sorted(self.extensions)))
        if self.own_shards is not None:
            log.info("running shards %s of %s", ",".join(map(str, self.own_shards)), self.shard_count)
        if self.options.force_sync:
            await self.sync_commands(force=True)
        elif self.options.auto_sync and self.owns_shard(0):
            await self.sync_commands()
        elif self.options.auto_sync:
            log.info("application commands are synced by the process running shard 0, not this one")
        if self.options.cooldowns_in_database and self.owns_shard(0) and not self.options.force_sync:
            self.purge_cooldowns.start()
        if self.recommender is not None:
            self.reloader = Reloader(self, self.settings.serving.reload_seconds)
            self.reloader.start()

    async def commands_hash(self) -> str:
        """A stable hash of the global command definitions, as Discord would receive them (with their
        localisations: a changed translation re-syncs)."""
        translator = self.tree.translator
        payloads = [
            await c.get_translated_payload(self.tree, translator) if translator is not None else c.to_dict(self.tree)
            for c in self.tree.get_commands()
        ]
        payload = sorted(payloads, key=lambda d: (d.get("type", 1), d["name"]))
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    async def sync_commands(self, *, force: bool = False) -> bool:
        """Sync the global commands if they changed since the last sync (or ``force``); returns whether it did."""
        digest = await self.commands_hash()
        key = f"{SYNC_HASH_KEY}:{self.application_id}"
        stored = await self.db.run(queries.get_meta, key)
        if stored == digest and not force:
            log.info("application commands unchanged since the last sync; not syncing")
            return False
        try:
            synced = await self.tree.sync()
        except discord.HTTPException:
            log.exception("syncing application commands failed; they will be retried at the next start")
            return False
        await self.db.run(queries.set_meta, key, digest)
        self.synced = True
        log.info("synced %d application commands (%s)", len(synced), "forced" if force else "definitions changed")
        return True

    async def on_ready(self) -> None:
        log.info(
            "connected as %s (id %s) to %d servers", self.user, self.user.id if self.user else "?", len(self.guilds)
        )
        if self.ready_event is not None:
            self.ready_event.set()

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        if event_name == "interaction":  # synchronous, before any handler of it ran: start its clock (bot.metrics)
            self.metrics.received(args[0])
        super().dispatch(event_name, *args, **kwargs)

    async def on_app_command_completion(self, interaction: discord.Interaction, command: Any) -> None:
        self.metrics.finished(interaction)  # a slash command or context menu returned: answered

    @tasks.loop(minutes=COOLDOWN_PURGE_MINUTES)
    async def purge_cooldowns(self) -> None:
        """Delete the shared cooldown windows that have passed (a missing window allows every use, the same)."""
        before = datetime.now(UTC).timestamp() - self.options.cooldown_seconds
        try:
            deleted = await self.db.run(queries.purge_cooldowns, before)
        except Exception:  # housekeeping: try again next time
            log.exception("purging cooldown windows failed")
            return
        log.debug("purged %d cooldown windows", deleted)

    async def close(self) -> None:
        self.purge_cooldowns.cancel()
        if self.reloader is not None:
            await self.reloader.stop()
        await super().close()
        if self.http_session is not None:
            await self.http_session.close()
            self.http_session = None
        if self.health is not None:
            await self.health.stop()
        self.metrics.uninstall()
        if self.recommender is not None and self.recommender.observer is self.metrics:
            self.recommender.observer = None

    # ---- helpers the cogs share -------------------------------------------------------------------------
    def require_recommender(self) -> Recommender:
        if self.recommender is None:
            raise RecommenderUnavailableError(
                Msg(
                    "The recommendation engine isn't loaded. Ask the bot's admin to set `TOONMATCH_RUN_DIR` to a "
                    "trained run folder (`python -m scripts.train`) and restart the bot."
                )
            )
        return self.recommender

    async def download(self, source: images.ImageSource) -> bytes:
        """The image's bytes, within the configured time (``TOONMATCH_DOWNLOAD_TIMEOUT``): a user's link through the
        guarded fetch (public addresses only unless ``TOONMATCH_FETCH_ALLOW_PRIVATE``), anything else from Discord."""
        settings = self.settings.discord
        if source.link:
            assert source.url is not None
            return await fetch.fetch_link(
                source.url, allow_private=settings.fetch_allow_private, timeout=settings.download_timeout
            )
        assert self.http_session is not None, "download before setup_hook"
        return await images.download(source, self.http_session, timeout=settings.download_timeout)

    async def guild_prefs(self, guild_id: int) -> GuildPrefs:
        """The server's settings (``/settings``, ``/discovery``), cached (:mod:`bot.prefs`)."""
        return await self.prefs_cache.get(guild_id)

    async def change_guild_prefs(self, setter: Any, guild_id: int, *args: Any, **kwargs: Any) -> GuildPrefs:
        """Run ``setter`` (a ``queries.set_…`` returning the new prefs) and cache the result at once."""
        return await self.prefs_cache.change(setter, guild_id, *args, **kwargs)

    async def taste_of(self, user_id: int) -> TasteProfile:
        """The user's taste as the recommender wants it (liked and disliked title ids, newest first)."""
        return TasteProfile.from_ratings(await self.db.run(queries.user_taste, user_id))

    async def remember_shown(self, user_id: int, title_ids: list[str], guild_id: int | None) -> None:
        async with self.db.begin() as session:
            await queries.mark_shown(session, user_id, title_ids)
            if guild_id is not None:
                await queries.record_member(session, guild_id, user_id)


class ShardedToonmatch(Toonmatch, commands.AutoShardedBot):
    """The bot over the shards the settings name (``TOONMATCH_SHARD_IDS`` of ``TOONMATCH_SHARD_COUNT``; all of them
    without ids): one gateway connection (IDENTIFY, READY) per shard; ``on_ready`` once every one of them is ready."""


def make_bot(settings: Settings, **kwargs: Any) -> Toonmatch:
    """The bot the settings ask for: :class:`ShardedToonmatch` when a shard count is set, else :class:`Toonmatch`."""
    cls = ShardedToonmatch if settings.discord.sharded else Toonmatch
    return cls(settings, **kwargs)


# --------------------------------------------------------------------------- resources and running


async def open_recommender(settings: Settings) -> tuple[Recommender | None, str | None]:
    """Load the engine from the run folder off the event loop and put the recommender in front of it; on failure
    the bot still starts (without it)."""
    if settings.serving.run_dir is None:
        log.warning("TOONMATCH_RUN_DIR is not set: image and title commands will explain that the engine is missing")
        return None, Msg("no run folder configured")
    from ml.serve.engine import Engine

    try:
        engine = await asyncio.to_thread(
            Engine.load,
            settings.serving.run_dir,
            taste_weight=settings.serving.taste_weight,
            low_confidence_threshold=settings.serving.low_confidence_threshold,
            style_only=settings.serving.style_only,
        )
    except ToonmatchError as exc:
        log.error("could not load the engine from %s: %s", settings.serving.run_dir, exc)
        return None, Msg("the run folder could not be loaded")
    except Exception:  # a bug or a broken install: still start, so that /help, /likes and /forget-me work
        log.exception("could not load the engine from %s", settings.serving.run_dir)
        return None, Msg("the run folder could not be loaded")
    return Recommender(
        engine, max_batch=settings.serving.batch_max_size, max_wait_ms=settings.serving.batch_max_wait_ms
    ), None


def _install_signal_handlers(client: Toonmatch) -> list[signal.Signals]:
    """SIGTERM/SIGINT close the bot gracefully; only possible (and only done) in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return []
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, lambda s=sig: _on_signal(client, s))
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # e.g. Windows
            pass
    return installed


def _on_signal(client: Toonmatch, sig: signal.Signals) -> None:
    log.info("%s received: shutting down", sig.name)
    asyncio.get_running_loop().create_task(client.close())


async def _watch_stop(client: Toonmatch, stop_event: Any) -> None:
    """Close the bot once ``stop_event`` (a threading.Event or asyncio.Event set by a harness) is set."""
    while not stop_event.is_set():
        await asyncio.sleep(0.1)
    log.info("stop requested: shutting down")
    await client.close()


async def run_bot(
    settings: Settings,
    *,
    db: Database | None = None,
    recommender: Recommender | None = None,
    options: BotOptions | None = None,
    ready_event: Any = None,
    stop_event: Any = None,
) -> None:
    """Open the resources not given, run the bot until it is closed (SIGTERM, ``stop_event``), close what it opened.

    ``ready_event`` (``threading.Event`` or ``asyncio.Event``) is set once connected; both events let a test
    harness run the bot in a worker thread, where no signal handlers are installed.
    """
    if settings.discord.token is None:
        raise ValueError("DISCORD_TOKEN is not set")
    own_db, own_recommender = db is None, recommender is None
    recommender_error = None
    if db is None:
        db = await open_database(settings.database.url)
    try:
        if recommender is None:
            recommender, recommender_error = await open_recommender(settings)
        client = make_bot(
            settings, db=db, recommender=recommender, recommender_error=recommender_error, options=options
        )
        client.ready_event = ready_event
        signals = _install_signal_handlers(client)
        watcher = asyncio.create_task(_watch_stop(client, stop_event)) if stop_event is not None else None
        try:
            async with client:
                await client.start(settings.discord.token.get_secret_value())
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            loop = asyncio.get_running_loop()
            for sig in signals:
                loop.remove_signal_handler(sig)
    finally:
        if own_recommender and recommender is not None:
            await recommender.aclose()
        if own_db:
            await db.aclose()
    log.info("bot stopped")


async def sync_only(settings: Settings, *, db: Database | None = None) -> int:
    """``python -m bot sync``: log in (no gateway), sync the commands unconditionally, store the hash; returns the
    number of commands now registered."""
    if settings.discord.token is None:
        raise ValueError("DISCORD_TOKEN is not set")
    own_db = db is None
    if db is None:
        db = await open_database(settings.database.url)
    try:
        client = Toonmatch(
            settings,
            db=db,
            recommender=None,
            options=BotOptions.from_settings(settings, force_sync=True, start_discovery_loop=False),
        )
        async with client:
            await client.login(settings.discord.token.get_secret_value())
            return len(client.tree.get_commands())
    finally:
        if own_db:
            await db.aclose()
