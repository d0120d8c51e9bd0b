"""The fake Discord server: REST API, CDN and gateway on one aiohttp app, plus the test-facing API.

See the package docstring (``tests/helpers/fake_discord/__init__.py``) for usage.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import json
import logging
import re
import secrets
import socket
import struct
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import discord
import discord.asset
import discord.gateway
import discord.http
import yarl
from aiohttp import WSMsgType, web

from . import validation
from .models import (
    ADMINISTRATOR,
    ATTACH_FILES,
    CHANNEL_TYPES,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    EMBED_LINKS,
    FLAG_COMPONENTS_V2,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    RecordedRequest,
    SnowflakeGenerator,
    StoredAttachment,
    StoredMessage,
    UploadedFile,
    guess_content_type,
    image_size,
    iso,
    number_components,
    perm_value,
    snowflake_of,
    walk_components,
)
from .ratelimits import RateLimits
from .records import (
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    MODAL,
    UPDATE_MESSAGE,
    InteractionRecord,
)

log = logging.getLogger("fake_discord")

# Gateway opcodes
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE, OP_VOICE, OP_RESUME = 0, 1, 2, 3, 4, 6
OP_RECONNECT, OP_REQUEST_MEMBERS, OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 7, 8, 9, 10, 11

# Gateway intents
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# Interaction types
IT_PING, IT_COMMAND, IT_COMPONENT, IT_AUTOCOMPLETE, IT_MODAL_SUBMIT = 1, 2, 3, 4, 5

_ALLOWED_CALLBACKS = {
    IT_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
    IT_COMPONENT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE, MODAL},
    IT_AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    IT_MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE},
}
_SETTABLE_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2

# App command option types
OPT_SUB, OPT_GROUP, OPT_STRING, OPT_INTEGER, OPT_BOOLEAN = 1, 2, 3, 4, 5
OPT_USER, OPT_CHANNEL, OPT_ROLE, OPT_MENTIONABLE, OPT_NUMBER, OPT_ATTACHMENT = 6, 7, 8, 9, 10, 11

_SELECT_TYPES = {3, 5, 6, 7, 8}

Target = Any  # an id, a fake model object, a payload dict or a discord.py object


CDN_FAULTS = ("reset", "stall", "short", "status")


@dataclass
class _CdnFault:
    """How the fake CDN misbehaves for the next ``times`` downloads of one file (see ``FakeDiscord.fail_cdn``)."""

    mode: str
    after: int | None
    times: int
    status: int


class FakeDiscordError(Exception):
    """A test asked the fake to do something a real Discord client could not do."""


class CommandNotAvailable(FakeDiscordError):
    """The user could not invoke this command in real Discord (default_member_permissions, contexts, NSFW)."""


class _ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "code": code, **(extra or {})}


def _form_error(problems: validation.Problems) -> _ApiError:
    body = validation.form_error(problems)
    return _ApiError(400, 50035, body["message"], {"errors": body["errors"]})


class _Request:
    """Parsed REST request passed to route handlers."""

    def __init__(self, raw: web.Request, path: str, body: Any, files: list[UploadedFile]) -> None:
        self.raw = raw
        self.path = path
        self.json = body
        self.files = files
        self.query = dict(raw.query)


# --------------------------------------------------------------------------------------- gateway
class _Connection:
    """One gateway websocket; outgoing payloads go through a queue so that ordering is preserved."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.compress = compress
        self.session: _Session | None = None
        self.identified = False
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self._zstd: Any = None
        if compress == "zstd-stream":
            try:
                import zstandard  # type: ignore[import-not-found]

                self._zstd = (zstandard.ZstdCompressor().compressobj(), zstandard.COMPRESSOBJ_FLUSH_BLOCK)
            except ImportError:  # discord.py also reads plain text frames
                self._zstd = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop(), name="fake-discord-gateway-writer")

    @property
    def closed(self) -> bool:
        return self.ws.closed

    def enqueue(self, payload: dict[str, Any]) -> None:
        self._queue.put_nowait(payload)

    def close_later(self, code: int, reason: str = "") -> None:
        """Close after everything queued before has been sent."""
        self._queue.put_nowait(("close", code, reason))

    async def _write_loop(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, tuple):
                    _, code, reason = item
                    await self.ws.close(code=code, message=reason.encode())
                    return
                raw = json.dumps(item, separators=(",", ":")).encode()
                if self._zlib is not None:
                    await self.ws.send_bytes(self._zlib.compress(raw) + self._zlib.flush(zlib.Z_SYNC_FLUSH))
                elif self._zstd is not None:
                    cobj, flush_mode = self._zstd
                    await self.ws.send_bytes(cobj.compress(raw) + cobj.flush(flush_mode))
                else:
                    await self.ws.send_str(raw.decode())
            except (ConnectionError, RuntimeError) as exc:  # client went away
                log.debug("gateway write failed: %r", exc)
                return

    async def shutdown(self, code: int = 1001) -> None:
        if not self.ws.closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(code=code), 2.0)
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._writer


class _Session:
    """A gateway session (survives its websocket so that RESUME works)."""

    def __init__(self, session_id: str, intents: int, shard: tuple[int, int] | None) -> None:
        self.id = session_id
        self.intents = intents
        self.shard = shard
        self.seq = 0
        self.conn: _Connection | None = None
        self.ready = False
        self.buffer: deque[dict[str, Any]] = deque(maxlen=2000)
        self.attached_at = time.monotonic()

    @property
    def live(self) -> bool:
        return self.ready and self.conn is not None and not self.conn.closed

    def has(self, intent: int) -> bool:
        return bool(self.intents & intent)

    def dispatch(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        payload = {"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data}
        self.buffer.append(payload)
        if self.conn is not None and not self.conn.closed:
            self.conn.enqueue(payload)
        return payload


def _make_token(user_id: int) -> str:
    head = base64.b64encode(str(user_id).encode()).decode().rstrip("=")
    return f"{head}.GfAkE{secrets.token_hex(2)}.{secrets.token_urlsafe(27)}"


def _sanitize_filename(name: str) -> str:
    return re.sub(r"[^\w.\-]", "_", name.replace(" ", "_")) or "file"


@contextlib.contextmanager
def discord_pointed_at(base_url: str) -> Iterator[None]:
    """Point this process's discord.py at a fake Discord served at ``base_url`` (``http://127.0.0.1:PORT``), e.g.
    one running in another process: REST (``Route.BASE``), gateway (``DiscordWebSocket.DEFAULT_GATEWAY``) and CDN
    (``Asset.BASE``); restored afterwards. :meth:`FakeDiscord.patch_discord` is this for an in-process fake."""
    ws_cls = discord.gateway.DiscordWebSocket
    saved = (discord.http.Route.BASE, ws_cls.DEFAULT_GATEWAY, discord.asset.Asset.BASE)
    discord.http.Route.BASE = f"{base_url}/api/v{discord.http.INTERNAL_API_VERSION}"
    ws_cls.DEFAULT_GATEWAY = yarl.URL(f"{base_url.replace('http://', 'ws://')}/gateway/")
    discord.asset.Asset.BASE = f"{base_url}/cdn"
    try:
        yield
    finally:
        discord.http.Route.BASE, ws_cls.DEFAULT_GATEWAY, discord.asset.Asset.BASE = saved


class FakeDiscord:
    """An in-process fake of the Discord REST API + gateway that real discord.py can talk to.

    Construct, ``await start()``, populate with :meth:`add_guild` / :meth:`add_channel` /
    :meth:`add_member`, run the bot with :meth:`run_client` (or :meth:`patch_discord` + your own
    login/connect), then drive it with :meth:`slash_command`, :meth:`autocomplete`,
    :meth:`context_menu`, :meth:`click`, :meth:`select` and :meth:`modal_submit`.
    """

    def __init__(
        self,
        *,
        bot_name: str = "Toonmatch",
        token: str | None = None,
        ack_deadline: float | None = 3.0,
        heartbeat_interval_ms: int = 41250,
        enforce_command_permissions: bool = True,
        max_file_size: int = 10 * 1024 * 1024,
        allowed_privileged_intents: int = PRIVILEGED_INTENTS,
        connect_timeout: float = 5.0,
        shard_count: int = 1,
    ) -> None:
        self.new_id = SnowflakeGenerator()
        self.application_id: int = self.new_id()
        # Modern applications: the bot user's id is the application id.
        self.bot_user = FakeUser(id=self.application_id, username=bot_name, bot=True)
        self.app_owner = FakeUser(id=self.new_id(), username="app-owner")
        self.token: str = token or _make_token(self.bot_user.id)
        self.ack_deadline = ack_deadline
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.enforce_command_permissions = enforce_command_permissions
        self.max_file_size = max_file_size
        self.allowed_privileged_intents = allowed_privileged_intents
        self.connect_timeout = connect_timeout
        #: the shard count ``GET /gateway/bot`` recommends; sessions may IDENTIFY with any ``[id, count]``. Guild
        #: events and interactions go to the session of the guild's shard ``(guild_id >> 22) % count``, DMs to
        #: shard 0, as on Discord; ``add_guild(shard=n)`` makes a guild on shard ``n`` of this count.
        self.shard_count = shard_count

        self.users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user, self.app_owner.id: self.app_owner}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, StoredMessage] = {}
        self.attachments: dict[int, StoredAttachment] = {}
        self.interactions: list[InteractionRecord] = []
        self.requests: list[RecordedRequest] = []
        #: REST requests no route matched (answered 404 like Discord): usually a missing fake feature
        self.unhandled_requests: list[RecordedRequest] = []
        #: internal errors of the fake itself (should stay empty)
        self.errors: list[str] = []
        self.identify_payloads: list[dict[str, Any]] = []
        self.resume_payloads: list[dict[str, Any]] = []
        self.presence_updates: list[dict[str, Any]] = []
        #: query string of every gateway websocket connection, e.g. ``{"v": "10", "encoding": "json",
        #: "compress": "zlib-stream"}`` (zlib-stream frames are honoured: binary, Z_SYNC_FLUSH-terminated)
        self.gateway_connects: list[dict[str, str]] = []
        self._global_commands: list[dict[str, Any]] = []
        self._guild_commands: dict[int, list[dict[str, Any]]] = {}
        self._channel_messages: dict[int, list[StoredMessage]] = {}
        self._cdn: dict[str, tuple[bytes, str]] = {}
        self._cdn_faults: dict[str, _CdnFault] = {}
        self._cdn_stalls_released: asyncio.Event | None = None
        #: path of every CDN download asked for (including the failed ones), in order
        self.cdn_requests: list[str] = []
        self._interactions_by_id: dict[int, InteractionRecord] = {}
        self._interactions_by_token: dict[str, InteractionRecord] = {}
        self._dm_channels: dict[int, FakeChannel] = {}
        self._sessions: dict[str, _Session] = {}
        self._connections: set[_Connection] = set()
        self._changed: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self.base_url: str = ""
        self._routes = self._build_routes()
        #: REST rate limits (none unless a test adds them: :meth:`rate_limit`, :meth:`rate_limit_global`)
        self.rate_limits = RateLimits()

    # =========================================================================== lifecycle
    async def start(self) -> FakeDiscord:
        """Start the HTTP/WebSocket server on 127.0.0.1 with a random free port."""
        self._changed = asyncio.Event()
        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/api/{tail:.*}", self._handle_api)
        app.router.add_get("/gateway", self._handle_gateway)
        app.router.add_get("/gateway/", self._handle_gateway)
        app.router.add_get("/cdn/{tail:.*}", self._handle_cdn)
        app.router.add_get("/media/{tail:.*}", self._handle_cdn)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        """Close gateway connections and the server. Stop your bots first."""
        if self._cdn_stalls_released is not None:
            self._cdn_stalls_released.set()  # stalled CDN downloads end now, not at the shutdown timeout
        for conn in list(self._connections):
            await conn.shutdown(1001)
        self._connections.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` is set to, e.g. ``http://127.0.0.1:PORT/api/v10``."""
        return f"{self.base_url}/api/v{discord.http.INTERNAL_API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """Gateway URL (discord.py appends ``?v=10&encoding=json&compress=zlib-stream``)."""
        return f"{self.base_url.replace('http://', 'ws://')}/gateway/"

    @property
    def cdn_base(self) -> str:
        return f"{self.base_url}/cdn"

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[FakeDiscord]:
        """Point discord.py at this fake for the duration of the ``with`` block (nestable).

        Overrides three class attributes and restores them afterwards:

        * ``discord.http.Route.BASE`` -> :attr:`api_base` (every REST call, including the interaction
          callback / webhook followup routes, which use the same ``Route`` class);
        * ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` -> :attr:`gateway_url` (discord.py 2.7's
          ``Client.connect`` does *not* call ``GET /gateway/bot``; it connects straight to this URL, and
          later to READY's ``resume_gateway_url``, which the fake also points at itself);
        * ``discord.asset.Asset.BASE`` -> :attr:`cdn_base` (avatar/icon URLs; attachment URLs are absolute
          URLs on the fake anyway).
        """
        if not self.base_url:
            raise RuntimeError("call await fake.start() first")
        with discord_pointed_at(self.base_url):
            yield self

    @contextlib.asynccontextmanager
    async def run_client(
        self,
        client: discord.Client,
        *,
        token: str | None = None,
        wait_ready: bool = True,
        timeout: float = 10.0,
        fast_ready: bool = True,
        reconnect: bool = True,
    ) -> AsyncIterator[discord.Client]:
        """Log ``client`` in against the fake, connect it in a background task, wait for ``on_ready``,
        and on exit ``close()`` it and await the connect task (bounded by ``timeout``).

        ``fast_ready`` sets ``client._connection.guild_ready_timeout = 0.05`` (discord.py otherwise waits
        2 s after the last GUILD_CREATE before firing ``on_ready``).
        """
        with self.patch_discord():
            if fast_ready:
                client._connection.guild_ready_timeout = 0.05
            try:
                await asyncio.wait_for(client.login(token or self.token), timeout)
            except BaseException:
                await client.close()
                raise
            task = asyncio.create_task(client.connect(reconnect=reconnect), name="fake-discord-client-connect")
            try:
                if wait_ready:
                    await self._wait_client_ready(client, task, timeout)
                yield client
            finally:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(client.close(), timeout)
                try:
                    await asyncio.wait_for(task, timeout)
                except TimeoutError:
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
                except discord.ConnectionClosed:
                    pass

    async def _wait_client_ready(self, client: discord.Client, task: asyncio.Task[Any], timeout: float) -> None:
        ready = asyncio.ensure_future(client.wait_until_ready())
        try:
            done, _ = await asyncio.wait({ready, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not ready.done():
                ready.cancel()
                with contextlib.suppress(BaseException):
                    await ready
        if task in done:
            exc = task.exception()
            raise RuntimeError("the client stopped before becoming ready") from exc
        if not done:
            raise TimeoutError(f"client not ready after {timeout}s (identifies so far: {len(self.identify_payloads)})")

    # =========================================================================== waiting
    def _touch(self) -> None:
        """Wake every waiter: something changed."""
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every change in the fake); returns its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"fake discord: timed out after {timeout}s waiting for {what}")
            event = self._changed
            assert event is not None, "fake not started"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.25))

    def _active_session(self) -> _Session | None:
        live = [s for s in self._sessions.values() if s.live]
        return max(live, key=lambda s: s.attached_at) if live else None

    def session_for(self, guild: Target | None) -> _Session | None:
        """The live session that receives a guild's events and interactions (``None``: DMs, shard 0); the newest
        if several do (e.g. overlapping shards during a restart)."""
        gid = snowflake_of(guild) if guild is not None else None
        live = [s for s in self._live_sessions() if self._receives(gid, s)]
        return max(live, key=lambda s: s.attached_at) if live else None

    @property
    def connected_shards(self) -> set[tuple[int, int]]:
        """``(shard id, shard count)`` of every live sharded session."""
        return {s.shard for s in self._live_sessions() if s.shard}

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until a bot has an identified (or resumed) gateway session."""
        await self.wait_until(self._active_session, timeout or self.connect_timeout, "a connected gateway session")

    @property
    def connected(self) -> bool:
        return self._active_session() is not None

    # =========================================================================== world building
    def add_user(self, username: str, *, global_name: str | None = None, bot: bool = False) -> FakeUser:
        user = FakeUser(id=self.new_id(), username=username, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        owner: FakeUser | None = None,
        bot_permissions: int | discord.Permissions | None = None,
        everyone_permissions: int | discord.Permissions | None = None,
        locale: str = "en-US",
        features: list[str] | None = None,
        shard: int | None = None,
    ) -> FakeGuild:
        """Create a guild the bot is in: @everyone role, the bot's managed role, the bot and an owner member.

        If a bot is connected, it receives GUILD_CREATE (as when a bot is added to a server) on the guild's shard.
        ``shard`` picks an id on that shard of :attr:`shard_count`.
        """
        gid = self.new_id() if shard is None else self.new_id.on_shard(shard, self.shard_count)
        owner = owner or self.add_user(f"{name.lower().replace(' ', '-')}-owner")
        self.users.setdefault(owner.id, owner)
        guild = FakeGuild(id=gid, name=name, owner_id=owner.id, preferred_locale=locale, features=features or [])
        guild.roles[gid] = FakeRole(
            id=gid,
            guild_id=gid,
            name="@everyone",
            permissions=perm_value(everyone_permissions, DEFAULT_EVERYONE_PERMISSIONS),
        )
        bot_role = FakeRole(
            id=self.new_id(),
            guild_id=gid,
            name=self.bot_user.username,
            permissions=perm_value(bot_permissions, DEFAULT_BOT_PERMISSIONS),
            position=1,
            managed=True,
            bot_id=self.bot_user.id,
        )
        guild.roles[bot_role.id] = bot_role
        guild.members[self.bot_user.id] = FakeMember(user=self.bot_user, guild_id=gid, roles=[bot_role.id])
        guild.members[owner.id] = FakeMember(user=owner, guild_id=gid)
        self.guilds[gid] = guild
        for session in self._live_sessions():
            if self._guild_in_shard(gid, session):
                session.dispatch("GUILD_CREATE", self._guild_create_payload(guild, session))
        return guild

    def remove_guild(self, guild: Target) -> None:
        """The bot is removed from a guild (GUILD_DELETE)."""
        guild_obj = self.guilds.pop(snowflake_of(guild))
        for cid in list(guild_obj.channels):
            self.channels.pop(cid, None)
        self._broadcast("GUILD_DELETE", {"id": str(guild_obj.id)})

    def add_role(self, guild: Target, name: str, permissions: int | discord.Permissions = 0) -> FakeRole:
        g = self._guild(guild)
        role = FakeRole(id=self.new_id(), guild_id=g.id, name=name, permissions=perm_value(permissions, 0))
        role.position = len(g.roles)
        g.roles[role.id] = role
        self._broadcast("GUILD_ROLE_CREATE", {"guild_id": str(g.id), "role": role.to_payload()})
        return role

    def add_channel(
        self,
        guild: Target,
        name: str = "general",
        *,
        type: int | str = "text",
        nsfw: bool = False,
        topic: str | None = None,
        parent: Target | None = None,
        overwrites: list[dict[str, Any]] | None = None,
        position: int | None = None,
    ) -> FakeChannel:
        """Add a guild channel (``type``: "text", "news", "voice", "category", "forum", ... or an int).

        ``overwrites`` are raw Discord permission overwrites:
        ``[{"id": role_or_user_id, "type": 0 (role) | 1 (member), "allow": int, "deny": int}]``.
        """
        g = self._guild(guild)
        ctype = CHANNEL_TYPES[type] if isinstance(type, str) else int(type)
        channel = FakeChannel(
            id=self.new_id(),
            guild_id=g.id,
            name=name,
            type=ctype,
            nsfw=nsfw,
            topic=topic,
            parent_id=snowflake_of(parent) if parent is not None else None,
            position=len(g.channels) if position is None else position,
            permission_overwrites=[self._norm_overwrite(o) for o in overwrites or []],
        )
        g.channels[channel.id] = channel
        self.channels[channel.id] = channel
        self._broadcast("CHANNEL_CREATE", channel.to_payload())
        return channel

    def update_channel(self, channel: Target, **changes: Any) -> FakeChannel:
        """Change channel attributes (``nsfw=True``, ``name=...``, ``overwrites=[...]``) -> CHANNEL_UPDATE."""
        ch = self._channel(channel)
        if "overwrites" in changes:
            changes["permission_overwrites"] = [self._norm_overwrite(o) for o in changes.pop("overwrites")]
        for key, value in changes.items():
            if not hasattr(ch, key):
                raise AttributeError(f"FakeChannel has no attribute {key!r}")
            setattr(ch, key, value)
        self._broadcast("CHANNEL_UPDATE", ch.to_payload())
        return ch

    def delete_channel(self, channel: Target) -> None:
        ch = self._channel(channel)
        self.channels.pop(ch.id, None)
        if ch.guild_id is not None and ch.guild_id in self.guilds:
            self.guilds[ch.guild_id].channels.pop(ch.id, None)
        self._broadcast("CHANNEL_DELETE", ch.to_payload())

    def add_member(
        self,
        guild: Target,
        user: FakeUser | str | None = None,
        *,
        permissions: int | discord.Permissions | None = None,
        roles: list[Target] | None = None,
        nick: str | None = None,
    ) -> FakeMember:
        """Add a (human) member. ``user`` may be a :class:`FakeUser` or a username to create one.

        ``permissions``: if given and not already granted by @everyone, a role carrying exactly these
        permissions is created (or reused) and given to the member, so ``member.guild_permissions`` and
        the interaction ``member.permissions`` both reflect it. ``discord.Permissions(administrator=True)``
        makes an admin.
        """
        g = self._guild(guild)
        if user is None or isinstance(user, str):
            user = self.add_user(user or f"user{len(self.users)}")
        self.users.setdefault(user.id, user)
        role_ids = [snowflake_of(r) for r in roles or []]
        if permissions is not None:
            value = perm_value(permissions, 0)
            if value & ~g.everyone_role.permissions:
                existing = next(
                    (r for r in g.roles.values() if r.name == f"perms-{value}" and r.permissions == value), None
                )
                role = existing or self.add_role(g, f"perms-{value}", value)
                role_ids.append(role.id)
        member = FakeMember(user=user, guild_id=g.id, roles=role_ids, nick=nick)
        g.members[user.id] = member
        payload = member.to_payload()
        payload["guild_id"] = str(g.id)
        self._broadcast("GUILD_MEMBER_ADD", payload, intent=INTENT_GUILD_MEMBERS)
        return member

    def set_bot_permissions(self, guild: Target, permissions: int | discord.Permissions) -> None:
        """Change the permissions of the bot's managed role (GUILD_ROLE_UPDATE)."""
        g = self._guild(guild)
        role = next(r for r in g.roles.values() if r.bot_id == self.bot_user.id)
        role.permissions = perm_value(permissions, 0)
        self._broadcast("GUILD_ROLE_UPDATE", {"guild_id": str(g.id), "role": role.to_payload()})

    def dm_channel(self, user: Target) -> FakeChannel:
        """The DM channel between the bot and ``user`` (created on first use)."""
        uid = snowflake_of(user)
        if uid not in self._dm_channels:
            ch = FakeChannel(id=self.new_id(), guild_id=None, name=None, type=1, recipients=[self.users[uid]])
            self._dm_channels[uid] = ch
            self.channels[ch.id] = ch
        return self._dm_channels[uid]

    def add_attachment(
        self,
        data: bytes,
        filename: str,
        content_type: str | None = None,
        *,
        channel: Target | None = None,
        description: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> dict[str, Any]:
        """Register bytes on the fake CDN and return the Discord attachment dict (url on the fake).

        Use the dict in ``slash_command(..., {"image": att})`` options, in :meth:`user_message`, or anywhere
        a Discord attachment object is expected. ``discord.Attachment.read()`` downloads the bytes.
        """
        att = self._store_attachment(
            data,
            filename,
            content_type=content_type,
            channel_id=snowflake_of(channel) if channel is not None else 0,
            description=description,
            width=width,
            height=height,
        )
        return att.to_payload()

    def add_cdn_file(self, path: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        """Serve arbitrary bytes at ``{base_url}/cdn/{path}``; returns the URL."""
        self._cdn[path.lstrip("/")] = (data, content_type)
        return f"{self.cdn_base}/{path.lstrip('/')}"

    def fail_cdn(
        self, target: Target, mode: str, *, times: int = 1, after: int | None = None, status: int = 503
    ) -> None:
        """Make the next ``times`` downloads of a CDN file fail the way a flaky CDN does, then serve it normally.

        ``target`` is an attachment (dict, :class:`StoredAttachment`) or a CDN URL or path. ``mode``:

        * ``"reset"``: the headers with the full ``Content-Length``, ``after`` bytes of the body (default: half),
          then the TCP connection is reset (RST);
        * ``"stall"``: the headers and ``after`` bytes (default: half), then nothing more until the client gives up
          (or the fake stops);
        * ``"short"``: the headers with the full ``Content-Length``, ``after`` bytes (default: half), then a clean
          close: a body shorter than it said;
        * ``"status"``: an HTTP ``status`` error (default 503) instead of the file.
        """
        if mode not in CDN_FAULTS:
            raise FakeDiscordError(f"unknown CDN fault {mode!r}; one of {', '.join(CDN_FAULTS)}")
        path = self._cdn_path(target)
        if path not in self._cdn:
            raise FakeDiscordError(f"{path!r} is not on the fake CDN")
        self._cdn_faults[path] = _CdnFault(mode, after, times, status)

    def _cdn_path(self, target: Target) -> str:
        if isinstance(target, StoredAttachment):
            target = target.url
        elif isinstance(target, dict):
            target = target["url"]
        url = str(target).split("?", 1)[0]
        for prefix in (f"{self.cdn_base}/", f"{self.base_url}/media/"):
            if url.startswith(prefix):
                return url[len(prefix) :]
        return url.lstrip("/")

    @staticmethod
    def image_embed(url: str, *, width: int = 0, height: int = 0, rich: bool = False) -> dict[str, Any]:
        """An embed as Discord builds it: a linked image (``type: image`` with a thumbnail) or a rich
        embed with an ``image``."""
        media = {"url": url, "proxy_url": url, "width": width, "height": height}
        if rich:
            return {"type": "rich", "title": "image", "image": media}
        return {"type": "image", "url": url, "thumbnail": media}

    def user_message(
        self,
        channel: Target,
        content: str = "",
        *,
        author: Target | None = None,
        attachments: list[dict[str, Any] | StoredAttachment] | None = None,
        embeds: list[dict[str, Any]] | None = None,
    ) -> StoredMessage:
        """Simulate a user posting a message (MESSAGE_CREATE is sent if the bot has the intents).

        Returns the stored message, usable as a :meth:`context_menu` target.
        """
        ch = self._channel(channel)
        if author is None:
            user = self._default_user(self.guilds[ch.guild_id]) if ch.guild_id else ch.recipients[0]
        else:
            user = self._user(author)
        atts = [self.attachments[snowflake_of(a)] for a in attachments or []]
        msg = StoredMessage(
            id=self.new_id(),
            channel_id=ch.id,
            guild_id=ch.guild_id,
            author=user,
            kind="user",
            content=content,
            embeds=copy.deepcopy(embeds or []),
            attachments=atts,
        )
        self._add_message(msg)
        return msg

    # =========================================================================== inspection
    @property
    def registered_commands(self) -> list[dict[str, Any]]:
        """Global application commands as last registered by the bot (Discord's stored shape)."""
        return copy.deepcopy(self._global_commands)

    def guild_commands(self, guild: Target) -> list[dict[str, Any]]:
        return copy.deepcopy(self._guild_commands.get(snowflake_of(guild), []))

    def command(self, name: str, *, guild: Target | None = None, type: int = 1) -> dict[str, Any] | None:
        """A registered command by name (guild commands first, then global)."""
        lists = []
        if guild is not None:
            lists.append(self._guild_commands.get(snowflake_of(guild), []))
        lists.append(self._global_commands)
        for cmds in lists:
            for cmd in cmds:
                if cmd["name"] == name and cmd.get("type", 1) == type:
                    return cmd
        return None

    def channel_messages(
        self,
        channel: Target,
        *,
        include_interaction_responses: bool = False,
        include_user_messages: bool = False,
        include_deleted: bool = False,
        include_ephemeral: bool = False,
    ) -> list[StoredMessage]:
        """Messages in a channel, oldest first. By default only what the bot posted through
        ``POST /channels/{id}/messages`` (e.g. ``channel.send``; discovery posts). Ephemeral
        interaction messages are only listed with ``include_ephemeral=True``."""
        kinds = {"channel"}
        if include_interaction_responses:
            kinds |= {"interaction_response", "followup"}
        if include_user_messages:
            kinds.add("user")
        return [
            m
            for m in self._channel_messages.get(snowflake_of(channel), [])
            if m.kind in kinds and (include_deleted or not m.deleted) and (include_ephemeral or not m.ephemeral)
        ]

    async def wait_channel_message(
        self,
        channel: Target,
        predicate: Callable[[StoredMessage], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[StoredMessage]:
        """Wait until the bot has posted at least ``count`` matching messages in ``channel``; returns them."""

        def check() -> list[StoredMessage] | None:
            msgs = [m for m in self.channel_messages(channel) if predicate is None or predicate(m)]
            return msgs if len(msgs) >= count else None

        return await self.wait_until(check, timeout, f"{count} bot message(s) in channel {snowflake_of(channel)}")

    def find_requests(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Recorded REST requests filtered by method and a regex searched in the path."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper()) and (path is None or re.search(path, r.path))
        ]

    def assert_healthy(self) -> None:
        """Fail if the bot hit an endpoint the fake doesn't implement or the fake itself errored."""
        problems = [f"unhandled {r.method} {r.path}" for r in self.unhandled_requests] + self.errors
        if problems:
            raise AssertionError("fake discord: " + "; ".join(problems))

    def message(self, message_id: Target) -> StoredMessage:
        return self.messages[snowflake_of(message_id)]

    # =========================================================================== interactions
    async def slash_command(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: Target | None = None,
        guild: Target | None = None,
        channel: Target | None = None,
        dm: bool = False,
        locale: str = "en-US",
        enforce_permissions: bool | None = None,
    ) -> InteractionRecord:
        """Invoke a chat-input command, e.g. ``await fake.slash_command("discovery set", {"channel": ch})``.

        ``name`` is the full path ("cmd", "group sub" or "group subgroup sub"). Option values are plain
        Python values; their types come from the registered command schema (after ``tree.sync()``), or
        are inferred (str/int/float/bool, attachment dicts) for unregistered commands. Users, members,
        channels, roles and attachments are given as ids/objects and put into ``data.resolved``.
        Raises :class:`CommandNotAvailable` if real Discord would not let this user run it here.
        """
        g, ch, u, member = self._context(user, guild, channel, dm)
        data = self._command_data(
            name, options or {}, ctype=1, guild=g, channel=ch, user=u, focused=None, enforce=enforce_permissions
        )
        return await self._dispatch(IT_COMMAND, data, g, ch, u, member, locale=locale)

    async def autocomplete(
        self,
        name: str,
        focused: str,
        value: str = "",
        options: dict[str, Any] | None = None,
        *,
        user: Target | None = None,
        guild: Target | None = None,
        channel: Target | None = None,
        dm: bool = False,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Send an autocomplete interaction: the user typed ``value`` into option ``focused`` of ``name``.
        ``options`` are the other (already filled) options. Await ``rec.wait_choices()``."""
        g, ch, u, member = self._context(user, guild, channel, dm)
        opts = dict(options or {})
        opts[focused] = value
        data = self._command_data(name, opts, ctype=1, guild=g, channel=ch, user=u, focused=focused, enforce=None)
        return await self._dispatch(IT_AUTOCOMPLETE, data, g, ch, u, member, locale=locale)

    async def context_menu(
        self,
        name: str,
        target: StoredMessage | dict[str, Any] | FakeUser | FakeMember,
        *,
        user: Target | None = None,
        guild: Target | None = None,
        channel: Target | None = None,
        locale: str = "en-US",
        enforce_permissions: bool | None = None,
    ) -> InteractionRecord:
        """Invoke a message context menu (target = a :class:`StoredMessage` or message dict) or a user
        context menu (target = :class:`FakeUser`/:class:`FakeMember`)."""
        if isinstance(target, (FakeUser, FakeMember)):
            g, ch, u, member = self._context(user, guild, channel, False)
            tuser = target.user if isinstance(target, FakeMember) else target
            resolved = self._resolve_users([tuser.id], g, ch, u)
            data: dict[str, Any] = {"name": name, "type": 2, "target_id": str(tuser.id), "resolved": resolved}
            ctype = 2
        else:
            msg_payload = target.to_payload() if isinstance(target, StoredMessage) else copy.deepcopy(target)
            if channel is None:
                channel = int(msg_payload["channel_id"])
            g, ch, u, member = self._context(user, guild, channel, False)
            data = {
                "name": name,
                "type": 3,
                "target_id": msg_payload["id"],
                "resolved": {"messages": {msg_payload["id"]: msg_payload}},
            }
            ctype = 3
        cmd = self._find_command(name, ctype, g)
        self._check_command_allowed(cmd, name, g, ch, u, enforce_permissions)
        data["id"] = cmd["id"] if cmd else str(self.new_id())
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        return await self._dispatch(IT_COMMAND, data, g, ch, u, member, locale=locale)

    async def click(
        self,
        custom_id: str,
        *,
        message: Target | None = None,
        values: list[Any] | None = None,
        user: Target | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Click a button (or choose ``values`` in a select) with ``custom_id``.

        ``message`` defaults to the newest non-deleted message carrying that custom_id. The message's
        components decide the ``component_type``; disabled components cannot be clicked.
        """
        msg = self._message_with_component(custom_id, message)
        comp = msg.find_component(custom_id)
        assert comp is not None
        if comp.get("disabled"):
            raise FakeDiscordError(f"component {custom_id!r} is disabled")
        ctype = int(comp["type"])
        ch = self._channel(msg.channel_id)
        g = self.guilds.get(ch.guild_id) if ch.guild_id else None
        if user is None and msg.ephemeral and msg.interaction_metadata:
            user = int(msg.interaction_metadata["user"]["id"])
        g2, ch2, u, member = self._context(user, g, ch, False)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype, "id": comp.get("id")}
        if ctype in _SELECT_TYPES:
            if values is None:
                raise FakeDiscordError(f"select {custom_id!r} needs values=[...]")
            data["values"], resolved = self._select_values(comp, values, g2, ch2, u)
            if resolved:
                data["resolved"] = resolved
        elif values is not None:
            raise FakeDiscordError(f"component {custom_id!r} is a button (type 2); values are for selects")
        rec = await self._dispatch(IT_COMPONENT, data, g2, ch2, u, member, locale=locale, message=msg)
        return rec

    async def select(
        self, custom_id: str, values: list[Any], *, message: Target | None = None, user: Target | None = None
    ) -> InteractionRecord:
        """Choose ``values`` in a select menu (string values, or ids/objects for user/role/channel selects)."""
        return await self.click(custom_id, message=message, values=values, user=user)

    async def modal_submit(
        self,
        modal: InteractionRecord | str,
        values: dict[str, Any] | None = None,
        *,
        user: Target | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Submit a modal the bot opened. ``modal`` is the record whose response was the modal (or the
        modal's custom_id); ``values`` maps text-input custom_ids to text (selects: lists)."""
        rec = modal if isinstance(modal, InteractionRecord) else self._record_with_modal(modal)
        if rec.modal is None:
            raise FakeDiscordError(f"{rec!r} did not open a modal")
        values = values or {}
        p = rec.payload
        ch = self._channel(int(p["channel_id"]))
        g = self.guilds.get(int(p["guild_id"])) if p.get("guild_id") else None
        invoker = int((p.get("member") or {}).get("user", p.get("user", {})).get("id"))
        g2, ch2, u, member = self._context(user if user is not None else invoker, g, ch, False)
        comps, resolved = self._modal_components(rec.modal["components"], values, g2, ch2, u)
        data: dict[str, Any] = {"custom_id": rec.modal["custom_id"], "components": comps}
        if resolved:
            data["resolved"] = resolved
        source = rec.source_message if rec.type == IT_COMPONENT else None
        return await self._dispatch(IT_MODAL_SUBMIT, data, g2, ch2, u, member, locale=locale, message=source)

    # ---------------------------------------------------------------- gateway controls for tests
    def send_reconnect(self) -> None:
        """Send op 7 RECONNECT to the active session (the client reconnects and RESUMEs)."""
        session = self._active_session()
        if session is None or session.conn is None:
            raise FakeDiscordError("no connected session")
        session.conn.enqueue({"op": OP_RECONNECT, "d": None, "s": None, "t": None})

    async def drop_connection(self, code: int = 4000) -> None:
        """Close the active gateway websocket with ``code`` (4000: client reconnects and RESUMEs)."""
        session = self._active_session()
        if session is None or session.conn is None:
            raise FakeDiscordError("no connected session")
        await session.conn.shutdown(code)

    # =========================================================================== internals: lookup
    def _guild(self, guild: Target) -> FakeGuild:
        gid = snowflake_of(guild)
        if gid not in self.guilds:
            raise FakeDiscordError(f"unknown guild {gid}")
        return self.guilds[gid]

    def _channel(self, channel: Target) -> FakeChannel:
        cid = snowflake_of(channel)
        if cid not in self.channels:
            raise FakeDiscordError(f"unknown channel {cid}")
        return self.channels[cid]

    def _user(self, user: Target) -> FakeUser:
        if isinstance(user, FakeMember):
            return user.user
        uid = snowflake_of(user)
        if uid not in self.users:
            raise FakeDiscordError(f"unknown user {uid}")
        return self.users[uid]

    @staticmethod
    def _norm_overwrite(ow: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(snowflake_of(ow["id"])),
            "type": int(ow.get("type", 0)),
            "allow": str(perm_value(ow.get("allow"), 0)),
            "deny": str(perm_value(ow.get("deny"), 0)),
        }

    def _default_user(self, guild: FakeGuild) -> FakeUser:
        humans = [m.user for m in guild.members.values() if not m.user.bot and m.user.id != guild.owner_id]
        if not humans:
            raise FakeDiscordError(f"guild {guild.name!r} has no members besides the owner; add_member() or pass user=")
        return humans[0]

    def _context(
        self, user: Target | None, guild: Target | None, channel: Target | None, dm: bool
    ) -> tuple[FakeGuild | None, FakeChannel, FakeUser, FakeMember | None]:
        if dm:
            if user is None:
                raise FakeDiscordError("DM interactions need user=")
            u = self._user(user)
            return None, self.dm_channel(u), u, None
        ch = self._channel(channel) if channel is not None else None
        if guild is not None:
            g = self._guild(guild)
        elif ch is not None and ch.guild_id is not None:
            g = self._guild(ch.guild_id)
        elif ch is not None and ch.is_dm:
            u = self._user(user) if user is not None else ch.recipients[0]
            return None, ch, u, None
        elif self.guilds:
            g = next(iter(self.guilds.values()))
        else:
            raise FakeDiscordError("no guild: add_guild() first or pass dm=True")
        if ch is None:
            text = g.text_channels()
            if not text:
                raise FakeDiscordError(f"guild {g.name!r} has no text channel; add_channel() first")
            ch = text[0]
        if ch.guild_id != g.id:
            raise FakeDiscordError(f"channel {ch.id} is not in guild {g.id}")
        u = self._user(user) if user is not None else self._default_user(g)
        member = g.members.get(u.id)
        if member is None:
            raise FakeDiscordError(f"user {u.username!r} is not a member of guild {g.name!r}")
        return g, ch, u, member

    def _live_sessions(self) -> list[_Session]:
        return [s for s in self._sessions.values() if s.live]

    @staticmethod
    def _guild_in_shard(guild_id: int, session: _Session) -> bool:
        if not session.shard:
            return True
        shard_id, count = session.shard
        return (guild_id >> 22) % count == shard_id

    @classmethod
    def _receives(cls, guild_id: int | None, session: _Session) -> bool:
        """Whether the session gets the events of a guild, or of DMs (``None``: shard 0 only, as on Discord)."""
        if guild_id is None:
            return not session.shard or session.shard[0] == 0
        return cls._guild_in_shard(guild_id, session)

    def _broadcast(self, event: str, data: dict[str, Any], *, intent: int | None = None) -> None:
        guild_id = data.get("guild_id") or (data.get("id") if event.startswith("GUILD_") else None)
        for session in self._live_sessions():
            if intent is not None and not session.has(intent):
                continue
            if guild_id and not self._guild_in_shard(int(guild_id), session):
                continue
            session.dispatch(event, copy.deepcopy(data))
        self._touch()

    # =========================================================================== internals: commands
    def _find_command(self, name: str, ctype: int, guild: FakeGuild | None) -> dict[str, Any] | None:
        if guild is not None:
            for cmd in self._guild_commands.get(guild.id, []):
                if cmd["name"] == name and cmd.get("type", 1) == ctype:
                    return cmd
        for cmd in self._global_commands:
            if cmd["name"] == name and cmd.get("type", 1) == ctype:
                return cmd
        return None

    def _check_command_allowed(
        self,
        cmd: dict[str, Any] | None,
        name: str,
        guild: FakeGuild | None,
        channel: FakeChannel,
        user: FakeUser,
        enforce: bool | None,
    ) -> None:
        if cmd is None or not (self.enforce_command_permissions if enforce is None else enforce):
            return
        contexts = cmd.get("contexts")
        if guild is None:
            if cmd.get("guild_id"):
                raise CommandNotAvailable(f"/{name} is a guild command; not available in DMs")
            if (contexts is not None and 1 not in contexts) or (contexts is None and cmd.get("dm_permission") is False):
                raise CommandNotAvailable(f"/{name} is not available in DMs (contexts={contexts})")
            return
        if contexts is not None and 0 not in contexts:
            raise CommandNotAvailable(f"/{name} is not available in guilds (contexts={contexts})")
        needed = cmd.get("default_member_permissions")
        if needed is not None:
            perms = guild.channel_permissions(user.id, channel)
            needed_i = int(needed)
            if not perms & ADMINISTRATOR and (needed_i == 0 or perms & needed_i != needed_i):
                raise CommandNotAvailable(
                    f"{user.username!r} lacks default_member_permissions={needed} for /{name} (has {perms})"
                )
        if cmd.get("nsfw") and not channel.nsfw:
            raise CommandNotAvailable(f"/{name} is age-restricted; channel {channel.name!r} is not NSFW")

    def _command_data(
        self,
        name: str,
        options: dict[str, Any],
        *,
        ctype: int,
        guild: FakeGuild | None,
        channel: FakeChannel,
        user: FakeUser,
        focused: str | None,
        enforce: bool | None,
    ) -> dict[str, Any]:
        root, *path = name.split()
        cmd = self._find_command(root, ctype, guild)
        self._check_command_allowed(cmd, root, guild, channel, user, enforce)
        schema: list[dict[str, Any]] | None = cmd.get("options") or [] if cmd else None
        for part in path:
            if schema is None:
                continue
            sub = next((o for o in schema if o["name"] == part and o.get("type") in (OPT_SUB, OPT_GROUP)), None)
            if sub is None:
                raise FakeDiscordError(f"/{name}: {part!r} is not a subcommand of the registered command")
            schema = sub.get("options") or []
        if schema is not None and any(o.get("type") in (OPT_SUB, OPT_GROUP) for o in schema):
            raise FakeDiscordError(f"/{name}: registered command needs a subcommand")
        resolved: dict[str, dict[str, Any]] = {}
        leaf: list[dict[str, Any]] = []
        for oname, value in options.items():
            spec = None
            if schema is not None:
                spec = next((o for o in schema if o["name"] == oname), None)
                if spec is None:
                    raise FakeDiscordError(f"/{name}: unknown option {oname!r}; has {[o['name'] for o in schema]}")
            otype = int(spec["type"]) if spec else self._infer_option_type(value)
            opt: dict[str, Any] = {"name": oname, "type": otype}
            if oname == focused:
                opt["value"] = str(value) if otype not in (OPT_STRING,) else value
                opt["focused"] = True
            elif focused is not None:
                opt["value"] = self._option_value(otype, value, spec, name, oname, None, guild, channel, user)
            else:
                opt["value"] = self._option_value(otype, value, spec, name, oname, resolved, guild, channel, user)
            leaf.append(opt)
        if schema is not None and focused is None:
            missing = [o["name"] for o in schema if o.get("required") and o["name"] not in options]
            if missing:
                raise FakeDiscordError(f"/{name}: missing required option(s) {missing}")
        nested: list[dict[str, Any]] = leaf
        for depth, part in reversed(list(enumerate(path))):
            is_group = len(path) == 2 and depth == 0
            nested = [{"name": part, "type": OPT_GROUP if is_group else OPT_SUB, "options": nested}]
        data: dict[str, Any] = {
            "id": cmd["id"] if cmd else str(self.new_id()),
            "name": root,
            "type": ctype,
            "options": nested,
        }
        if resolved:
            data["resolved"] = resolved
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        return data

    @staticmethod
    def _infer_option_type(value: Any) -> int:
        if isinstance(value, bool):
            return OPT_BOOLEAN
        if isinstance(value, int):
            return OPT_INTEGER
        if isinstance(value, float):
            return OPT_NUMBER
        if isinstance(value, StoredAttachment) or (isinstance(value, dict) and "filename" in value):
            return OPT_ATTACHMENT
        if isinstance(value, FakeChannel):
            return OPT_CHANNEL
        if isinstance(value, (FakeUser, FakeMember)):
            return OPT_USER
        if isinstance(value, FakeRole):
            return OPT_ROLE
        return OPT_STRING

    def _option_value(
        self,
        otype: int,
        value: Any,
        spec: dict[str, Any] | None,
        cmd: str,
        oname: str,
        resolved: dict[str, dict[str, Any]] | None,
        guild: FakeGuild | None,
        channel: FakeChannel,
        user: FakeUser,
    ) -> Any:
        where = f"/{cmd} {oname}"
        if otype == OPT_STRING:
            out: Any = str(value)
            if spec:
                if spec.get("min_length") is not None and len(out) < spec["min_length"]:
                    raise FakeDiscordError(f"{where}: shorter than min_length {spec['min_length']}")
                if spec.get("max_length") is not None and len(out) > spec["max_length"]:
                    raise FakeDiscordError(f"{where}: longer than max_length {spec['max_length']}")
        elif otype == OPT_INTEGER:
            out = int(value)
        elif otype == OPT_NUMBER:
            out = float(value)
        elif otype == OPT_BOOLEAN:
            out = bool(value)
        else:
            sid = snowflake_of(value)
            out = str(sid)
            if resolved is not None:
                if otype == OPT_USER or (otype == OPT_MENTIONABLE and sid in self.users):
                    self._merge(resolved, self._resolve_users([sid], guild, channel, user))
                elif otype == OPT_CHANNEL:
                    self._merge(resolved, self._resolve_channels([sid], user))
                elif otype in (OPT_ROLE, OPT_MENTIONABLE):
                    self._merge(resolved, self._resolve_roles([sid], guild))
                elif otype == OPT_ATTACHMENT:
                    if sid not in self.attachments:
                        raise FakeDiscordError(f"{where}: unknown attachment {sid}; use fake.add_attachment()")
                    self._merge(resolved, {"attachments": {str(sid): self.attachments[sid].to_payload()}})
            if otype == OPT_CHANNEL and spec and spec.get("channel_types"):
                ctype = self._channel(sid).type
                if ctype not in spec["channel_types"]:
                    raise FakeDiscordError(f"{where}: channel type {ctype} not in {spec['channel_types']}")
        if spec and otype in (OPT_INTEGER, OPT_NUMBER):
            if spec.get("min_value") is not None and out < spec["min_value"]:
                raise FakeDiscordError(f"{where}: {out} < min_value {spec['min_value']}")
            if spec.get("max_value") is not None and out > spec["max_value"]:
                raise FakeDiscordError(f"{where}: {out} > max_value {spec['max_value']}")
        if spec and spec.get("choices") and out not in [c["value"] for c in spec["choices"]]:
            raise FakeDiscordError(
                f"{where}: {out!r} is not one of the choices {[c['value'] for c in spec['choices']]}"
            )
        return out

    @staticmethod
    def _merge(into: dict[str, dict[str, Any]], extra: dict[str, dict[str, Any]]) -> None:
        for key, values in extra.items():
            into.setdefault(key, {}).update(values)

    def _resolve_users(
        self, ids: list[int], guild: FakeGuild | None, channel: FakeChannel, invoker: FakeUser
    ) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {"users": {}}
        for uid in ids:
            u = self._user(uid)
            out["users"][str(uid)] = u.to_payload()
            if guild is not None and uid in guild.members:
                perms = guild.channel_permissions(uid, channel)
                out.setdefault("members", {})[str(uid)] = guild.members[uid].to_payload(
                    permissions=perms, with_user=False
                )
        return out

    def _resolve_channels(self, ids: list[int], invoker: FakeUser) -> dict[str, dict[str, Any]]:
        out: dict[str, Any] = {"channels": {}}
        for cid in ids:
            ch = self._channel(cid)
            perms = self.guilds[ch.guild_id].channel_permissions(invoker.id, ch) if ch.guild_id else 0
            out["channels"][str(cid)] = ch.to_payload(permissions=perms)
        return out

    def _resolve_roles(self, ids: list[int], guild: FakeGuild | None) -> dict[str, dict[str, Any]]:
        if guild is None:
            raise FakeDiscordError("roles need a guild")
        return {"roles": {str(rid): guild.roles[rid].to_payload() for rid in ids}}

    # =========================================================================== internals: components
    def _message_with_component(self, custom_id: str, message: Target | None) -> StoredMessage:
        if message is not None:
            msg = self.messages.get(snowflake_of(message))
            if msg is None:
                raise FakeDiscordError(f"unknown message {snowflake_of(message)}")
            if msg.deleted:
                raise FakeDiscordError(f"message {msg.id} was deleted")
            if msg.find_component(custom_id) is None:
                raise FakeDiscordError(f"message {msg.id} has no component {custom_id!r}; has {msg.custom_ids()}")
            return msg
        for msg in reversed(list(self.messages.values())):
            if not msg.deleted and msg.find_component(custom_id) is not None:
                return msg
        known = sorted({cid for m in self.messages.values() if not m.deleted for cid in m.custom_ids()})
        raise FakeDiscordError(f"no message has a component {custom_id!r}; known custom_ids: {known}")

    def _select_values(
        self, comp: dict[str, Any], values: list[Any], guild: FakeGuild | None, channel: FakeChannel, user: FakeUser
    ) -> tuple[list[str], dict[str, dict[str, Any]]]:
        ctype = int(comp["type"])
        lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
        if not lo <= len(values) <= hi:
            raise FakeDiscordError(f"select {comp.get('custom_id')!r} takes {lo}..{hi} values, got {len(values)}")
        if ctype == 3:
            allowed = [o["value"] for o in comp.get("options", [])]
            bad = [v for v in values if v not in allowed]
            if bad:
                raise FakeDiscordError(f"select values {bad} not among options {allowed}")
            return [str(v) for v in values], {}
        ids = [snowflake_of(v) for v in values]
        resolved: dict[str, dict[str, Any]] = {}
        for sid in ids:
            if ctype == 5 or (ctype == 7 and sid in self.users):
                self._merge(resolved, self._resolve_users([sid], guild, channel, user))
            elif ctype == 8:
                self._merge(resolved, self._resolve_channels([sid], user))
            else:
                self._merge(resolved, self._resolve_roles([sid], guild))
        return [str(i) for i in ids], resolved

    def _record_with_modal(self, custom_id: str) -> InteractionRecord:
        for rec in reversed(self.interactions):
            if rec.modal is not None and rec.modal.get("custom_id") == custom_id:
                return rec
        raise FakeDiscordError(f"no interaction opened a modal {custom_id!r}")

    def _modal_components(
        self,
        components: list[dict[str, Any]],
        values: dict[str, Any],
        guild: FakeGuild | None,
        channel: FakeChannel,
        user: FakeUser,
    ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
        resolved: dict[str, dict[str, Any]] = {}

        def convert(comp: dict[str, Any]) -> dict[str, Any] | None:
            ctype = comp.get("type")
            if ctype == 1:
                children = [c for c in (convert(x) for x in comp.get("components", [])) if c is not None]
                return {"type": 1, "id": comp.get("id"), "components": children}
            if ctype == 18:
                return {"type": 18, "id": comp.get("id"), "component": convert(comp["component"])}
            if ctype == 10:
                return {"type": 10, "id": comp.get("id")}
            cid = comp.get("custom_id")
            if ctype == 4:
                value = str(values.get(cid, comp.get("value") or ""))
                if comp.get("required", True) and not value:
                    raise FakeDiscordError(f"text input {cid!r} is required")
                if comp.get("min_length") is not None and value and len(value) < comp["min_length"]:
                    raise FakeDiscordError(f"text input {cid!r} shorter than {comp['min_length']}")
                if comp.get("max_length") is not None and len(value) > comp["max_length"]:
                    raise FakeDiscordError(f"text input {cid!r} longer than {comp['max_length']}")
                return {"type": 4, "id": comp.get("id"), "custom_id": cid, "value": value}
            if ctype in _SELECT_TYPES:
                chosen = list(values.get(cid, []))
                vals, res = self._select_values({**comp, "min_values": 0}, chosen, guild, channel, user)
                self._merge(resolved, res)
                return {"type": ctype, "id": comp.get("id"), "custom_id": cid, "values": vals}
            if ctype == 19:  # file upload
                atts = [self.attachments[snowflake_of(a)] for a in values.get(cid, [])]
                self._merge(resolved, {"attachments": {str(a.id): a.to_payload() for a in atts}})
                return {"type": 19, "id": comp.get("id"), "custom_id": cid, "values": [str(a.id) for a in atts]}
            if cid is not None:
                return {"type": ctype, "id": comp.get("id"), "custom_id": cid, "value": values.get(cid)}
            return None

        out = [c for c in (convert(x) for x in components) if c is not None]
        return out, resolved

    # =========================================================================== internals: dispatch
    def _interaction_user_perms(self, guild: FakeGuild | None, channel: FakeChannel, user: FakeUser) -> int:
        return guild.channel_permissions(user.id, channel) if guild else DEFAULT_EVERYONE_PERMISSIONS

    async def _dispatch(
        self,
        itype: int,
        data: dict[str, Any],
        guild: FakeGuild | None,
        channel: FakeChannel,
        user: FakeUser,
        member: FakeMember | None,
        *,
        locale: str,
        message: StoredMessage | None = None,
    ) -> InteractionRecord:
        gid = guild.id if guild is not None else None
        session = self.session_for(gid)
        if session is None:
            what = f"a gateway session receiving {f'guild {gid}' if gid else 'DMs'}"
            session = await self.wait_until(lambda: self.session_for(gid), self.connect_timeout, what)
        iid = self.new_id()
        token = base64.urlsafe_b64encode(f"interaction:{iid}:{secrets.token_hex(32)}".encode()).decode().rstrip("=")
        user_perms = self._interaction_user_perms(guild, channel, user)
        app_perms = guild.channel_permissions(self.bot_user.id, channel) if guild else DEFAULT_BOT_PERMISSIONS
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale,
            "app_permissions": str(app_perms),
            "channel_id": str(channel.id),
            "channel": channel.to_payload(permissions=user_perms),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild.id) if guild else "0"},
            "context": 0 if guild else 1,
            "attachment_size_limit": self.max_file_size,
        }
        if guild is not None and member is not None:
            payload["guild_id"] = str(guild.id)
            payload["guild"] = guild.partial_payload()
            payload["guild_locale"] = guild.preferred_locale
            payload["member"] = member.to_payload(permissions=user_perms)
        else:
            payload["user"] = user.to_payload()
        if message is not None:
            payload["message"] = message.to_payload()
        rec = InteractionRecord(self, id=iid, token=token, type=itype, payload=payload)
        rec.source_message = message
        rec.shard = session.shard  # which gateway connection it was sent on (``None``: unsharded)
        self.interactions.append(rec)
        self._interactions_by_id[iid] = rec
        self._interactions_by_token[token] = rec
        session.dispatch("INTERACTION_CREATE", payload)
        self._touch()
        return rec

    # =========================================================================== HTTP plumbing
    def _build_routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Awaitable[Any]], bool]]:
        s = r"(?P<{}>\d+)"
        table: list[tuple[str, str, Callable[..., Awaitable[Any]], bool]] = [
            ("GET", "/users/@me", self._r_me, True),
            ("GET", f"/users/{s.format('user_id')}", self._r_user, True),
            ("POST", "/users/@me/channels", self._r_create_dm, True),
            ("DELETE", f"/users/@me/guilds/{s.format('guild_id')}", self._r_leave_guild, True),
            ("GET", "/oauth2/applications/@me", self._r_app_info, True),
            ("GET", "/applications/@me", self._r_app_info, True),
            ("GET", "/gateway", self._r_gateway, False),
            ("GET", "/gateway/bot", self._r_gateway_bot, True),
            ("GET", f"/applications/{s.format('app')}/commands", self._r_get_commands, True),
            ("PUT", f"/applications/{s.format('app')}/commands", self._r_put_commands, True),
            ("POST", f"/applications/{s.format('app')}/commands", self._r_upsert_command, True),
            ("GET", f"/applications/{s.format('app')}/commands/{s.format('cmd')}", self._r_get_command, True),
            ("PATCH", f"/applications/{s.format('app')}/commands/{s.format('cmd')}", self._r_edit_command, True),
            ("DELETE", f"/applications/{s.format('app')}/commands/{s.format('cmd')}", self._r_delete_command, True),
            ("GET", f"/applications/{s.format('app')}/guilds/{s.format('guild')}/commands", self._r_get_commands, True),
            ("PUT", f"/applications/{s.format('app')}/guilds/{s.format('guild')}/commands", self._r_put_commands, True),
            (
                "POST",
                f"/applications/{s.format('app')}/guilds/{s.format('guild')}/commands",
                self._r_upsert_command,
                True,
            ),
            (
                "GET",
                f"/applications/{s.format('app')}/guilds/{s.format('guild')}/commands/permissions",
                self._r_command_permissions,
                True,
            ),
            (
                "GET",
                f"/applications/{s.format('app')}/guilds/{s.format('guild')}/commands/{s.format('cmd')}",
                self._r_get_command,
                True,
            ),
            (
                "PATCH",
                f"/applications/{s.format('app')}/guilds/{s.format('guild')}/commands/{s.format('cmd')}",
                self._r_edit_command,
                True,
            ),
            (
                "DELETE",
                f"/applications/{s.format('app')}/guilds/{s.format('guild')}/commands/{s.format('cmd')}",
                self._r_delete_command,
                True,
            ),
            ("POST", f"/interactions/{s.format('iid')}/(?P<token>[^/]+)/callback", self._r_callback, False),
            ("POST", f"/webhooks/{s.format('app')}/(?P<token>[^/]+)", self._r_followup, False),
            (
                "GET",
                f"/webhooks/{s.format('app')}/(?P<token>[^/]+)/messages/(?P<mid>@original|\\d+)",
                self._r_wh_get,
                False,
            ),
            (
                "PATCH",
                f"/webhooks/{s.format('app')}/(?P<token>[^/]+)/messages/(?P<mid>@original|\\d+)",
                self._r_wh_edit,
                False,
            ),
            (
                "DELETE",
                f"/webhooks/{s.format('app')}/(?P<token>[^/]+)/messages/(?P<mid>@original|\\d+)",
                self._r_wh_delete,
                False,
            ),
            ("GET", f"/channels/{s.format('cid')}", self._r_get_channel, True),
            ("GET", f"/channels/{s.format('cid')}/messages", self._r_history, True),
            ("POST", f"/channels/{s.format('cid')}/messages", self._r_send, True),
            ("GET", f"/channels/{s.format('cid')}/messages/{s.format('mid')}", self._r_get_message, True),
            ("PATCH", f"/channels/{s.format('cid')}/messages/{s.format('mid')}", self._r_edit_message, True),
            ("DELETE", f"/channels/{s.format('cid')}/messages/{s.format('mid')}", self._r_delete_message, True),
            ("POST", f"/channels/{s.format('cid')}/typing", self._r_no_content, True),
            (
                "PUT",
                f"/channels/{s.format('cid')}/messages/{s.format('mid')}/reactions/.+/@me",
                self._r_no_content,
                True,
            ),
            (
                "DELETE",
                f"/channels/{s.format('cid')}/messages/{s.format('mid')}/reactions/.+/@me",
                self._r_no_content,
                True,
            ),
            ("GET", f"/guilds/{s.format('gid')}", self._r_get_guild, True),
            ("GET", f"/guilds/{s.format('gid')}/channels", self._r_guild_channels, True),
            ("GET", f"/guilds/{s.format('gid')}/roles", self._r_guild_roles, True),
            ("GET", f"/guilds/{s.format('gid')}/members", self._r_guild_members, True),
            ("GET", f"/guilds/{s.format('gid')}/members/{s.format('uid')}", self._r_guild_member, True),
        ]
        return [(m, re.compile(p), h, auth) for m, p, h, auth in table]

    async def _parse_body(self, request: web.Request) -> tuple[Any, list[UploadedFile]]:
        files: list[UploadedFile] = []
        if request.content_type.startswith("multipart/"):
            body: Any = None
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                data = await part.read(decode=False)  # type: ignore[union-attr]
                name = part.name or ""  # type: ignore[union-attr]
                if name == "payload_json":
                    body = json.loads(data.decode())
                else:
                    files.append(
                        UploadedFile(
                            field_name=name,
                            filename=part.filename or name,  # type: ignore[union-attr]
                            content_type=part.headers.get("Content-Type", "application/octet-stream"),  # type: ignore[union-attr]
                            data=bytes(data),
                        )
                    )
            return body, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            return raw.decode(errors="replace"), files

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        tail = "/" + request.match_info["tail"]
        m = re.match(r"^/v\d+(/.*)$", tail)
        path = m.group(1) if m else tail
        body, files = await self._parse_body(request)
        rec = RecordedRequest(
            method=request.method,
            path=path,
            query=dict(request.query),
            json=body,
            files=files,
            headers=dict(request.headers),
            at=time.monotonic(),
        )
        self.requests.append(rec)
        status, out = 404, {"message": "404: Not Found", "code": 0}
        limits = self.rate_limits.check(request.method, path)
        if limits.rejection is not None:
            rec.status, rec.response = 429, limits.rejection
            self._touch()
            return self._json_response(429, limits.rejection, limits.headers)
        try:
            for method, pattern, handler, needs_auth in self._routes:
                match = pattern.fullmatch(path)
                if match is None or method != request.method:
                    continue
                if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
                    raise _ApiError(401, 0, "401: Unauthorized")
                status, out = await handler(_Request(request, path, body, files), **match.groupdict())
                break
            else:
                self.unhandled_requests.append(rec)
                log.warning("fake discord: unhandled %s %s", request.method, path)
        except _ApiError as exc:
            status, out = exc.status, exc.body
        except Exception as exc:  # a bug in the fake: fail fast (a 5xx would make discord.py retry for ~25 s)
            log.exception("fake discord: error handling %s %s", request.method, path)
            self.errors.append(f"{request.method} {path}: {exc!r}")
            status, out = 400, {"message": f"fake discord internal error: {exc!r}", "code": 0}
        finally:
            self._touch()
        rec.status, rec.response = status, out
        return self._json_response(status, out, limits.headers)

    @staticmethod
    def _json_response(status: int, out: Any, headers: dict[str, str]) -> web.Response:
        if out is None:
            return web.Response(status=204, headers=headers)
        # exactly "application/json" (no charset): discord.py's json_or_text compares the header verbatim
        headers = {**headers, "Content-Type": "application/json"}
        return web.Response(body=json.dumps(out).encode(), status=status, headers=headers)

    def rate_limit(self, route: str, limit: int, per: float) -> None:
        """Limit the REST routes ``route`` (a regex over ``"METHOD /path"``, e.g. ``r"POST /channels/\\d+/messages"``)
        to ``limit`` requests per ``per`` seconds for each channel / guild / webhook, as a Discord bucket
        (``X-RateLimit-*`` headers; 429 with ``Retry-After`` over the limit; see :mod:`.ratelimits`)."""
        self.rate_limits.add(route, limit, per)

    def rate_limit_global(self, limit: int, per: float) -> None:
        """Limit all REST requests but interaction callbacks and webhooks to ``limit`` per ``per`` s (429 global)."""
        self.rate_limits.set_global(limit, per)

    async def _handle_cdn(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["tail"]
        entry = self._cdn.get(path)
        if entry is None:
            return web.Response(status=404, text="Not Found")
        data, ctype = entry
        self.cdn_requests.append(path)
        fault = self._cdn_faults.get(path)
        if fault is None:
            return web.Response(body=data, content_type=ctype.split(";")[0])
        fault.times -= 1
        if fault.times <= 0:
            del self._cdn_faults[path]
        return await self._faulty_cdn_response(request, data, ctype, fault)

    async def _faulty_cdn_response(
        self, request: web.Request, data: bytes, ctype: str, fault: _CdnFault
    ) -> web.StreamResponse:
        if fault.mode == "status":
            return web.Response(status=fault.status, text="upstream connect error")
        resp = web.StreamResponse(headers={"Content-Type": ctype.split(";")[0]})
        resp.content_length = len(data)
        await resp.prepare(request)
        cut = len(data) // 2 if fault.after is None else min(fault.after, len(data) - 1)
        await resp.write(data[:cut])
        transport = request.transport
        assert transport is not None
        while transport.get_write_buffer_size() and not transport.is_closing():  # the part really is on the wire
            await asyncio.sleep(0.005)
        if fault.mode == "stall":
            if self._cdn_stalls_released is None:
                self._cdn_stalls_released = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._cdn_stalls_released.wait(), 600)
            transport.close()
        elif fault.mode == "reset":
            sock = transport.get_extra_info("socket")
            if sock is not None:  # linger 0: closing sends RST instead of FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:  # "short"
            transport.close()
        return resp  # aiohttp's write_eof meets the closed connection and gives up quietly

    # =========================================================================== gateway server
    async def _handle_gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, compress=True, autoping=True)
        await ws.prepare(request)
        compress = request.query.get("compress")
        self.gateway_connects.append(dict(request.query))
        conn = _Connection(ws, compress)
        self._connections.add(conn)
        conn.enqueue(
            {
                "op": OP_HELLO,
                "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["fake"]},
                "s": None,
                "t": None,
            }
        )
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    raw: str | bytes = msg.data
                elif msg.type == WSMsgType.BINARY:
                    raw = msg.data
                else:
                    break
                try:
                    payload = json.loads(raw)
                except ValueError:
                    conn.close_later(4002, "Error while decoding payload.")
                    break
                try:
                    await self._gateway_op(conn, payload)
                except Exception as exc:  # a bug in the fake
                    log.exception("fake discord: error handling gateway op %s", payload.get("op"))
                    self.errors.append(f"gateway op {payload.get('op')}: {exc!r}")
        finally:
            self._connections.discard(conn)
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            if not conn._writer.done():
                conn._writer.cancel()
            self._touch()
        return ws

    async def _gateway_op(self, conn: _Connection, payload: dict[str, Any]) -> None:
        op, d = payload.get("op"), payload.get("d")
        if op == OP_HEARTBEAT:
            conn.enqueue({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            self._identify(conn, d or {})
        elif op == OP_RESUME:
            self._resume(conn, d or {})
        elif not conn.identified:
            conn.close_later(4003, "Not authenticated.")
        elif op == OP_PRESENCE:
            self.presence_updates.append(d or {})
        elif op == OP_REQUEST_MEMBERS:
            self._request_members(conn, d or {})
        elif op == OP_VOICE:
            pass
        else:
            conn.close_later(4001, "Unknown opcode.")
        self._touch()

    def _identify(self, conn: _Connection, d: dict[str, Any]) -> None:
        if conn.identified:
            conn.close_later(4005, "Already authenticated.")
            return
        if d.get("token") != self.token:
            conn.close_later(4004, "Authentication failed.")
            return
        intents = int(d.get("intents", 0))
        if intents & PRIVILEGED_INTENTS & ~self.allowed_privileged_intents:
            conn.close_later(4014, "Disallowed intent(s).")
            return
        shard = tuple(d["shard"]) if d.get("shard") else None
        if shard is not None and not (len(shard) == 2 and 0 <= shard[0] < shard[1]):
            conn.close_later(4010, "Invalid shard.")
            return
        self.identify_payloads.append(copy.deepcopy(d))
        session = _Session(secrets.token_hex(16), intents, shard)  # type: ignore[arg-type]
        session.conn, conn.session, conn.identified = conn, session, True
        self._sessions[session.id] = session
        guilds = [g for g in self.guilds.values() if self._guild_in_shard(g.id, session)]
        ready = {
            "v": discord.http.INTERNAL_API_VERSION,
            "user": self.bot_user.to_self_payload(),
            "user_settings": {},
            "session_type": "normal",
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url.rstrip("/"),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "auth": {},
            "application": {"id": str(self.application_id), "flags": self._app_flags()},
            "_trace": ['["fake-gateway",{"micros":0}]'],
        }
        if shard:
            ready["shard"] = list(shard)
        session.dispatch("READY", ready)
        for g in guilds:
            session.dispatch("GUILD_CREATE", self._guild_create_payload(g, session))
        session.ready = True
        session.attached_at = time.monotonic()

    def _resume(self, conn: _Connection, d: dict[str, Any]) -> None:
        self.resume_payloads.append(copy.deepcopy(d))
        if d.get("token") != self.token:
            conn.close_later(4004, "Authentication failed.")
            return
        session = self._sessions.get(d.get("session_id") or "")
        if session is None or (session.conn is not None and not session.conn.closed and session.conn is not conn):
            conn.enqueue({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        session.conn, conn.session, conn.identified = conn, session, True
        seq = int(d.get("seq") or 0)
        for payload in list(session.buffer):
            if payload["s"] > seq:
                conn.enqueue(payload)
        session.dispatch("RESUMED", {"_trace": ["fake"]})
        session.attached_at = time.monotonic()

    def _request_members(self, conn: _Connection, d: dict[str, Any]) -> None:
        session = conn.session
        assert session is not None
        guild = self.guilds.get(int(d.get("guild_id", 0)))
        if guild is None:
            return
        query = (d.get("query") or "").lower()
        limit = int(d.get("limit") or 0)
        user_ids = {int(u) for u in d.get("user_ids") or []}
        members = [
            m
            for m in guild.members.values()
            if (not user_ids or m.id in user_ids) and (not query or m.user.username.lower().startswith(query))
        ]
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.to_payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if d.get("nonce") is not None:
            chunk["nonce"] = d["nonce"]
        if user_ids:
            chunk["not_found"] = [str(u) for u in user_ids - {m.id for m in members}]
        if d.get("presences"):
            chunk["presences"] = []
        session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    def _guild_create_payload(self, guild: FakeGuild, session: _Session) -> dict[str, Any]:
        if session.has(INTENT_GUILD_MEMBERS):
            members = list(guild.members.values())
        else:  # without GUILD_MEMBERS Discord only includes the bot itself (and voice members)
            members = [m for m in guild.members.values() if m.id == self.bot_user.id]
        return guild.to_payload(members=members)

    def _app_flags(self) -> int:
        flags = 0
        if self.allowed_privileged_intents & INTENT_GUILD_PRESENCES:
            flags |= 1 << 13
        if self.allowed_privileged_intents & INTENT_GUILD_MEMBERS:
            flags |= 1 << 15
        if self.allowed_privileged_intents & INTENT_MESSAGE_CONTENT:
            flags |= 1 << 19
        return flags

    # =========================================================================== messages
    def _store_attachment(
        self,
        data: bytes,
        filename: str,
        *,
        content_type: str | None,
        channel_id: int,
        description: str | None = None,
        width: int | None = None,
        height: int | None = None,
        ephemeral: bool = False,
    ) -> StoredAttachment:
        aid = self.new_id()
        filename = _sanitize_filename(filename)
        ctype = content_type or guess_content_type(filename)
        if ctype.startswith("image/") and width is None:
            width, height = image_size(data)
        path = f"attachments/{channel_id}/{aid}/{filename}"
        now = int(time.time())
        signature = f"ex={now + 86400:x}&is={now:x}&hm={secrets.token_hex(32)}&"
        att = StoredAttachment(
            id=aid,
            filename=filename,
            data=bytes(data),
            content_type=ctype,
            url=f"{self.cdn_base}/{path}?{signature}",
            proxy_url=f"{self.base_url}/media/{path}?{signature}",
            description=description,
            width=width,
            height=height,
            ephemeral=ephemeral,
        )
        self._cdn[path] = (att.data, ctype)
        self.attachments[aid] = att
        return att

    def _build_attachments(
        self,
        body: dict[str, Any],
        files: list[UploadedFile],
        channel_id: int,
        existing: list[StoredAttachment] | None,
        ephemeral: bool,
    ) -> list[StoredAttachment]:
        for f in files:
            if len(f.data) > self.max_file_size:
                raise _ApiError(413, 40005, "Request entity too large")
        by_index: dict[int, UploadedFile] = {}
        for i, f in enumerate(files):
            m = re.fullmatch(r"files\[(\d+)\]", f.field_name)
            by_index[int(m.group(1)) if m else i] = f
        existing = existing or []
        meta = body.get("attachments")
        used: set[int] = set()
        result: list[StoredAttachment] = []

        def new(idx: int, item: dict[str, Any] | None) -> StoredAttachment:
            f = by_index[idx]
            used.add(idx)
            name = (item or {}).get("filename") or f.filename
            ctype = f.content_type if f.content_type != "application/octet-stream" else None
            return self._store_attachment(
                f.data,
                name,
                content_type=ctype,
                channel_id=channel_id,
                description=(item or {}).get("description"),
                ephemeral=ephemeral,
            )

        if meta is None:
            result = list(existing)
        else:
            by_id = {a.id: a for a in existing}
            for i, item in enumerate(meta):
                aid = int(item["id"])
                if aid in by_id:
                    result.append(by_id[aid])
                elif aid in by_index:
                    result.append(new(aid, item))
                else:
                    raise _form_error([(f"attachments.{i}.id", f"Unknown attachment id {aid}")])
        for idx in sorted(by_index):
            if idx not in used:
                result.append(new(idx, None))
        if len(result) > 10:
            raise _form_error([("attachments", "Must be 10 or fewer in length.")])
        return result

    def _resolve_attachment_refs(self, msg: StoredMessage) -> None:
        """Replace ``attachment://name`` URLs in embeds / v2 media with the uploaded file's CDN URL."""
        by_name = {a.filename: a for a in msg.attachments}

        def fix(media: dict[str, Any] | None, with_size: bool) -> None:
            if not media or not str(media.get("url", "")).startswith("attachment://"):
                return
            att = by_name.get(media["url"][len("attachment://") :])
            if att is None:
                return
            media["url"], media["proxy_url"] = att.url, att.proxy_url
            if with_size and att.width is not None:
                media["width"], media["height"] = att.width, att.height
            media.setdefault("content_type", att.content_type)

        for e in msg.embeds:
            e.setdefault("type", "rich")
            fix(e.get("image"), True)
            fix(e.get("thumbnail"), True)
            if e.get("footer") and str(e["footer"].get("icon_url", "")).startswith("attachment://"):
                att = by_name.get(e["footer"]["icon_url"][len("attachment://") :])
                if att:
                    e["footer"]["icon_url"] = att.url
        for comp in walk_components(msg.components):
            fix(comp.get("media"), True)
            fix(comp.get("file"), False)
            for item in comp.get("items") or []:
                fix(item.get("media"), True)

    def _apply_body(
        self,
        msg: StoredMessage,
        body: dict[str, Any],
        files: list[UploadedFile],
        *,
        creating: bool,
    ) -> None:
        problems = validation.validate_message(body, n_files=len(files), creating=creating)
        if problems:
            raise _form_error(problems)
        if "content" in body or creating:
            msg.content = body.get("content") or ""
        if "embeds" in body or creating:
            msg.embeds = copy.deepcopy(body.get("embeds") or [])
        if "components" in body or creating:
            msg.components = number_components(body.get("components") or [])
        if "flags" in body and body["flags"] is not None:
            keep = msg.flags & (FLAG_EPHEMERAL | FLAG_LOADING)
            msg.flags = keep | (int(body["flags"]) & _SETTABLE_FLAGS)
        if "attachments" in body or files or creating:
            msg.attachments = self._build_attachments(
                body, files, msg.channel_id, None if creating else msg.attachments, msg.ephemeral
            )
        if "tts" in body:
            msg.tts = bool(body["tts"])
        self._resolve_attachment_refs(msg)
        if not creating:
            msg.edited_timestamp = iso()
        if not (msg.content or msg.embeds or msg.components or msg.attachments):
            raise _form_error([("", "Cannot send an empty message")])

    def _add_message(self, msg: StoredMessage) -> None:
        msg.snapshot()
        self.messages[msg.id] = msg
        self._channel_messages.setdefault(msg.channel_id, []).append(msg)
        ch = self.channels.get(msg.channel_id)
        if ch is not None:
            ch.last_message_id = msg.id
        self._gateway_message_event("MESSAGE_CREATE", msg)
        self._touch()

    def _gateway_message_event(self, event: str, msg: StoredMessage) -> None:
        if msg.ephemeral:
            return
        intent = INTENT_GUILD_MESSAGES if msg.guild_id else INTENT_DIRECT_MESSAGES
        for session in self._live_sessions():
            if not session.has(intent) or not self._receives(msg.guild_id, session):
                continue
            if event == "MESSAGE_DELETE":
                data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            else:
                data = msg.to_payload()
                own = msg.author.id == self.bot_user.id
                if not (own or msg.guild_id is None or session.has(INTENT_MESSAGE_CONTENT)):
                    data.update(content="", embeds=[], attachments=[], components=[])
                if msg.guild_id and msg.guild_id in self.guilds:
                    member = self.guilds[msg.guild_id].members.get(msg.author.id)
                    if member is not None:
                        data["member"] = member.to_payload(with_user=False)
            if msg.guild_id:
                data["guild_id"] = str(msg.guild_id)
            session.dispatch(event, data)

    def _new_message(self, channel_id: int, kind: str, **kwargs: Any) -> StoredMessage:
        ch = self.channels.get(channel_id)
        return StoredMessage(
            id=self.new_id(),
            channel_id=channel_id,
            guild_id=ch.guild_id if ch else None,
            author=self.bot_user,
            kind=kind,
            **kwargs,
        )

    # =========================================================================== REST: users/app/gateway
    async def _r_me(self, req: _Request) -> tuple[int, Any]:
        return 200, self.bot_user.to_self_payload()

    async def _r_user(self, req: _Request, user_id: str) -> tuple[int, Any]:
        user = self.users.get(int(user_id))
        if user is None:
            raise _ApiError(404, 10013, "Unknown User")
        return 200, user.to_payload()

    async def _r_create_dm(self, req: _Request) -> tuple[int, Any]:
        uid = int((req.json or {}).get("recipient_id", 0))
        if uid not in self.users:
            raise _ApiError(400, 50035, "Invalid Form Body")
        return 200, self.dm_channel(uid).to_payload()

    async def _r_leave_guild(self, req: _Request, guild_id: str) -> tuple[int, Any]:
        if int(guild_id) not in self.guilds:
            raise _ApiError(404, 10004, "Unknown Guild")
        self.remove_guild(int(guild_id))
        return 204, None

    async def _r_app_info(self, req: _Request) -> tuple[int, Any]:
        return 200, {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": secrets.token_hex(32),
            "flags": self._app_flags(),
            "owner": self.app_owner.to_payload(),
            "team": None,
            "bot": self.bot_user.to_payload(),
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "approximate_guild_count": len(self.guilds),
            "integration_types_config": {"0": {}},
            "install_params": {"scopes": ["bot", "applications.commands"], "permissions": str(DEFAULT_BOT_PERMISSIONS)},
        }

    async def _r_gateway(self, req: _Request) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url.rstrip("/")}

    async def _r_gateway_bot(self, req: _Request) -> tuple[int, Any]:
        return 200, {
            "url": self.gateway_url.rstrip("/"),
            "shards": self.shard_count,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 86400000, "max_concurrency": 1},
        }

    # =========================================================================== REST: commands
    def _commands_for(self, app: str, guild: str | None) -> list[dict[str, Any]]:
        if int(app) != self.application_id:
            raise _ApiError(403, 50001, "Missing Access")
        if guild is None:
            return self._global_commands
        if int(guild) not in self.guilds:
            raise _ApiError(403, 50001, "Missing Access")
        return self._guild_commands.setdefault(int(guild), [])

    def _store_command(self, cmd: dict[str, Any], guild: str | None, previous: list[dict[str, Any]]) -> dict[str, Any]:
        ctype = cmd.get("type", 1) or 1
        old = next((c for c in previous if c["name"] == cmd.get("name") and c.get("type", 1) == ctype), None)
        perms = cmd.get("default_member_permissions")
        stored: dict[str, Any] = {
            "id": old["id"] if old else str(self.new_id()),
            "application_id": str(self.application_id),
            "version": str(self.new_id()),
            "type": ctype,
            "name": cmd["name"],
            "name_localizations": cmd.get("name_localizations"),
            "description": cmd.get("description") or "",
            "description_localizations": cmd.get("description_localizations"),
            "default_member_permissions": None if perms is None else str(perms),
            "nsfw": bool(cmd.get("nsfw", False)),
            "integration_types": cmd.get("integration_types") or [0],
            "contexts": cmd.get("contexts"),
        }
        if ctype == 1:
            stored["options"] = copy.deepcopy(cmd.get("options") or [])
        if guild is None:
            stored["dm_permission"] = cmd.get("dm_permission", True)
        else:
            stored["guild_id"] = str(guild)
        return stored

    async def _r_get_commands(self, req: _Request, app: str, guild: str | None = None) -> tuple[int, Any]:
        return 200, copy.deepcopy(self._commands_for(app, guild))

    async def _r_put_commands(self, req: _Request, app: str, guild: str | None = None) -> tuple[int, Any]:
        current = self._commands_for(app, guild)
        problems = validation.validate_commands(req.json)
        if problems:
            raise _form_error(problems)
        new = [self._store_command(c, guild, current) for c in req.json]
        current[:] = new
        return 200, copy.deepcopy(new)

    async def _r_upsert_command(self, req: _Request, app: str, guild: str | None = None) -> tuple[int, Any]:
        current = self._commands_for(app, guild)
        problems = validation.validate_commands([req.json])
        if problems:
            raise _form_error(problems)
        stored = self._store_command(req.json, guild, current)
        current[:] = [c for c in current if c["id"] != stored["id"]] + [stored]
        return 201, copy.deepcopy(stored)

    def _command_by_id(self, app: str, guild: str | None, cmd: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        current = self._commands_for(app, guild)
        found = next((c for c in current if c["id"] == cmd), None)
        if found is None:
            raise _ApiError(404, 10063, "Unknown application command")
        return current, found

    async def _r_get_command(self, req: _Request, app: str, cmd: str, guild: str | None = None) -> tuple[int, Any]:
        return 200, copy.deepcopy(self._command_by_id(app, guild, cmd)[1])

    async def _r_edit_command(self, req: _Request, app: str, cmd: str, guild: str | None = None) -> tuple[int, Any]:
        current, found = self._command_by_id(app, guild, cmd)
        merged = {**found, **(req.json or {})}
        stored = self._store_command(merged, guild, current)
        current[current.index(found)] = stored
        return 200, copy.deepcopy(stored)

    async def _r_delete_command(self, req: _Request, app: str, cmd: str, guild: str | None = None) -> tuple[int, Any]:
        current, found = self._command_by_id(app, guild, cmd)
        current.remove(found)
        return 204, None

    async def _r_command_permissions(self, req: _Request, app: str, guild: str) -> tuple[int, Any]:
        return 200, []

    # =========================================================================== REST: interactions
    def _msg_type_for(self, rec: InteractionRecord) -> int:
        if rec.type == IT_COMMAND:
            return 20 if (rec.payload["data"].get("type", 1) == 1) else 23
        return 0

    def _interaction_metadata(self, rec: InteractionRecord) -> dict[str, Any]:
        p = rec.payload
        user = (p.get("member") or {}).get("user") or p.get("user")
        meta: dict[str, Any] = {
            "id": str(rec.id),
            "type": rec.type,
            "user": user,
            "authorizing_integration_owners": p["authorizing_integration_owners"],
        }
        if rec.type == IT_COMMAND:
            meta["name"] = p["data"]["name"]
            meta["command_type"] = p["data"].get("type", 1)
        if rec.source_message is not None:
            meta["interacted_message_id"] = str(rec.source_message.id)
        return meta

    def _interaction_message(self, rec: InteractionRecord, kind: str, flags: int) -> StoredMessage:
        return self._new_message(
            int(rec.payload["channel_id"]),
            kind,
            flags=flags,
            type=self._msg_type_for(rec) if kind == "interaction_response" else 0,
            webhook_id=self.application_id,
            application_id=self.application_id,
            interaction_id=rec.id,
            interaction_metadata=self._interaction_metadata(rec),
        )

    async def _r_callback(self, req: _Request, iid: str, token: str) -> tuple[int, Any]:
        now = asyncio.get_running_loop().time()
        rec = self._interactions_by_id.get(int(iid))
        if rec is None or rec.token != token:
            raise _ApiError(404, 10062, "Unknown interaction")
        attempt: dict[str, Any] = {"at": now, "json": req.json, "files": req.files, "status": 200}
        rec.callback_attempts.append(attempt)
        try:
            return await self._callback(rec, req, now)
        except _ApiError as exc:
            attempt["status"] = exc.status
            attempt["error"] = exc.body
            raise

    async def _callback(self, rec: InteractionRecord, req: _Request, now: float) -> tuple[int, Any]:
        if rec.acknowledged:
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        if self.ack_deadline is not None and now - rec.dispatched_at > self.ack_deadline:
            rec.expired = True
            raise _ApiError(404, 10062, "Unknown interaction")
        body = req.json or {}
        ctype = int(body.get("type", 0))
        data = body.get("data") or {}
        if ctype not in _ALLOWED_CALLBACKS.get(rec.type, set()) or (
            ctype in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and rec.source_message is None
        ):
            raise _form_error(
                [("type", f"Interaction callback type {ctype} is invalid for interaction type {rec.type}")]
            )
        message: StoredMessage | None = None
        if ctype == CHANNEL_MESSAGE:
            flags = int(data.get("flags") or 0)
            message = self._interaction_message(rec, "interaction_response", flags & (FLAG_EPHEMERAL | _SETTABLE_FLAGS))
            self._apply_body(message, data, req.files, creating=True)
            self._add_message(message)
        elif ctype == DEFERRED_CHANNEL_MESSAGE:
            flags = FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)
            message = self._interaction_message(rec, "interaction_response", flags)
            self._add_message(message)
        elif ctype == DEFERRED_UPDATE_MESSAGE:
            message = rec.source_message
        elif ctype == UPDATE_MESSAGE:
            message = rec.source_message
            assert message is not None
            self._apply_body(message, data, req.files, creating=False)
            message.snapshot()
            self._gateway_message_event("MESSAGE_UPDATE", message)
        elif ctype == AUTOCOMPLETE_RESULT:
            problems = validation.validate_choices(data.get("choices"))
            if problems:
                raise _form_error(problems)
            rec.choices = copy.deepcopy(data["choices"])
        elif ctype == MODAL:
            title = data.get("title") or ""
            problems: validation.Problems = []
            if not 1 <= len(title) <= 45:
                problems.append(("data.title", "Must be between 1 and 45 in length."))
            if not data.get("custom_id"):
                problems.append(("data.custom_id", "This field is required"))
            if not 1 <= len(data.get("components") or []) <= 5:
                problems.append(("data.components", "Must be between 1 and 5 in length."))
            if problems:
                raise _form_error(problems)
            rec.modal = {**copy.deepcopy(data), "components": number_components(data.get("components") or [])}
        rec.acknowledged_at = now
        rec.callback_type, rec.callback_data = ctype, copy.deepcopy(data)
        rec.original = message
        if req.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        out: dict[str, Any] = {
            "interaction": {
                "id": str(rec.id),
                "type": rec.type,
                "response_message_loading": ctype == DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(message and message.ephemeral),
            }
        }
        if message is not None:
            out["interaction"]["response_message_id"] = str(message.id)
        if ctype in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, UPDATE_MESSAGE) and message is not None:
            out["resource"] = {"type": ctype, "message": message.to_payload()}
        elif ctype in (DEFERRED_UPDATE_MESSAGE, MODAL):
            out["resource"] = {"type": ctype}
        return 200, out

    def _webhook_record(self, app: str, token: str) -> InteractionRecord:
        rec = self._interactions_by_token.get(token)
        if int(app) != self.application_id or rec is None or not rec.acknowledged:
            raise _ApiError(404, 10015, "Unknown Webhook")
        return rec

    def _webhook_message(self, rec: InteractionRecord, mid: str) -> StoredMessage:
        if mid == "@original":
            msg = rec.original
        else:
            msg = self.messages.get(int(mid))
            if msg is not None and msg is not rec.original and msg not in rec.followups:
                msg = None
        if msg is None or msg.deleted:
            raise _ApiError(404, 10008, "Unknown Message")
        return msg

    async def _r_followup(self, req: _Request, app: str, token: str) -> tuple[int, Any]:
        rec = self._webhook_record(app, token)
        body = req.json or {}
        original = rec.original
        if (
            rec.callback_type == DEFERRED_CHANNEL_MESSAGE
            and original is not None
            and original.loading
            and not original.deleted
        ):
            # Discord: the first followup after a "thinking" defer becomes the original response.
            problems = validation.validate_message(body, n_files=len(req.files), creating=True)
            if problems:
                raise _form_error(problems)
            original.flags &= ~FLAG_LOADING
            self._apply_body(original, {**body, "flags": body.get("flags") or 0}, req.files, creating=False)
            original.edited_timestamp = None
            original.snapshot()
            self._gateway_message_event("MESSAGE_UPDATE", original)
            msg = original
        else:
            flags = int(body.get("flags") or 0) & (FLAG_EPHEMERAL | _SETTABLE_FLAGS)
            msg = self._interaction_message(rec, "followup", flags)
            self._apply_body(msg, body, req.files, creating=True)
            self._add_message(msg)
        rec.followups.append(msg)
        if req.query.get("wait") in ("1", "true", "True"):
            return 200, msg.to_payload()
        return 204, None

    async def _r_wh_get(self, req: _Request, app: str, token: str, mid: str) -> tuple[int, Any]:
        rec = self._webhook_record(app, token)
        return 200, self._webhook_message(rec, mid).to_payload()

    async def _r_wh_edit(self, req: _Request, app: str, token: str, mid: str) -> tuple[int, Any]:
        rec = self._webhook_record(app, token)
        msg = self._webhook_message(rec, mid)
        was_loading = msg.loading
        msg.flags &= ~FLAG_LOADING
        try:
            self._apply_body(msg, req.json or {}, req.files, creating=False)
        except _ApiError:
            if was_loading:
                msg.flags |= FLAG_LOADING
            raise
        msg.snapshot()
        self._gateway_message_event("MESSAGE_UPDATE", msg)
        return 200, msg.to_payload()

    async def _r_wh_delete(self, req: _Request, app: str, token: str, mid: str) -> tuple[int, Any]:
        rec = self._webhook_record(app, token)
        msg = self._webhook_message(rec, mid)
        msg.deleted = True
        self._gateway_message_event("MESSAGE_DELETE", msg)
        return 204, None

    # =========================================================================== REST: channels & guilds
    def _rest_channel(self, cid: str) -> FakeChannel:
        ch = self.channels.get(int(cid))
        if ch is None:
            raise _ApiError(404, 10003, "Unknown Channel")
        return ch

    def _bot_perms(self, ch: FakeChannel) -> int:
        if ch.guild_id is None:
            return DEFAULT_BOT_PERMISSIONS
        return self.guilds[ch.guild_id].channel_permissions(self.bot_user.id, ch)

    def _require(self, ch: FakeChannel, *needed: int) -> int:
        perms = self._bot_perms(ch)
        if not perms & VIEW_CHANNEL:
            raise _ApiError(403, 50001, "Missing Access")
        for bit in needed:
            if not perms & bit:
                raise _ApiError(403, 50013, "Missing Permissions")
        return perms

    async def _r_get_channel(self, req: _Request, cid: str) -> tuple[int, Any]:
        ch = self._rest_channel(cid)
        self._require(ch)
        return 200, ch.to_payload()

    async def _r_history(self, req: _Request, cid: str) -> tuple[int, Any]:
        ch = self._rest_channel(cid)
        self._require(ch, discord.Permissions(read_message_history=True).value)
        msgs = [m for m in self._channel_messages.get(ch.id, []) if not m.deleted and not m.ephemeral]
        if "before" in req.query:
            msgs = [m for m in msgs if m.id < int(req.query["before"])]
        if "after" in req.query:
            msgs = [m for m in msgs if m.id > int(req.query["after"])]
        limit = int(req.query.get("limit", 50))
        msgs = sorted(msgs, key=lambda m: m.id, reverse=True)[:limit]
        return 200, [m.to_payload() for m in msgs]

    async def _r_send(self, req: _Request, cid: str) -> tuple[int, Any]:
        ch = self._rest_channel(cid)
        if ch.type in (4, 15, 16):
            raise _ApiError(400, 50008, "Cannot send messages in a non-text channel")
        perms = self._require(ch, SEND_MESSAGES)
        body = dict(req.json or {})
        if req.files and not perms & ATTACH_FILES:
            raise _ApiError(403, 50013, "Missing Permissions")
        if body.get("embeds") and not perms & EMBED_LINKS:
            body["embeds"] = []  # Discord drops embeds without EMBED_LINKS
        flags = int(body.get("flags") or 0) & _SETTABLE_FLAGS
        ref = body.get("message_reference")
        msg = self._new_message(ch.id, "channel", flags=flags, type=19 if ref else 0, message_reference=ref)
        self._apply_body(msg, body, req.files, creating=True)
        self._add_message(msg)
        return 200, msg.to_payload()

    def _channel_message(self, cid: str, mid: str) -> StoredMessage:
        ch = self._rest_channel(cid)
        self._require(ch)
        msg = self.messages.get(int(mid))
        if msg is None or msg.channel_id != ch.id or msg.deleted or msg.ephemeral:
            raise _ApiError(404, 10008, "Unknown Message")
        return msg

    async def _r_get_message(self, req: _Request, cid: str, mid: str) -> tuple[int, Any]:
        return 200, self._channel_message(cid, mid).to_payload()

    async def _r_edit_message(self, req: _Request, cid: str, mid: str) -> tuple[int, Any]:
        msg = self._channel_message(cid, mid)
        if msg.author.id != self.bot_user.id:  # the bot's own interaction responses are editable too
            raise _ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._apply_body(msg, req.json or {}, req.files, creating=False)
        msg.snapshot()
        self._gateway_message_event("MESSAGE_UPDATE", msg)
        return 200, msg.to_payload()

    async def _r_delete_message(self, req: _Request, cid: str, mid: str) -> tuple[int, Any]:
        msg = self._channel_message(cid, mid)
        if msg.author.id != self.bot_user.id:
            self._require(self._rest_channel(cid), discord.Permissions(manage_messages=True).value)
        msg.deleted = True
        self._gateway_message_event("MESSAGE_DELETE", msg)
        return 204, None

    async def _r_no_content(self, req: _Request, **_: str) -> tuple[int, Any]:
        return 204, None

    def _rest_guild(self, gid: str) -> FakeGuild:
        guild = self.guilds.get(int(gid))
        if guild is None:
            raise _ApiError(404, 10004, "Unknown Guild")
        return guild

    async def _r_get_guild(self, req: _Request, gid: str) -> tuple[int, Any]:
        guild = self._rest_guild(gid)
        data = guild.to_payload(members=[])
        for key in ("members", "channels", "threads", "presences", "voice_states", "joined_at", "large"):
            data.pop(key, None)
        data.pop("member_count", None)
        if req.query.get("with_counts") in ("true", "1", "True"):
            data["approximate_member_count"] = len(guild.members)
            data["approximate_presence_count"] = 0
        return 200, data

    async def _r_guild_channels(self, req: _Request, gid: str) -> tuple[int, Any]:
        return 200, [c.to_payload() for c in self._rest_guild(gid).channels.values()]

    async def _r_guild_roles(self, req: _Request, gid: str) -> tuple[int, Any]:
        return 200, [r.to_payload() for r in self._rest_guild(gid).roles.values()]

    async def _r_guild_members(self, req: _Request, gid: str) -> tuple[int, Any]:
        guild = self._rest_guild(gid)
        after = int(req.query.get("after", 0))
        limit = int(req.query.get("limit", 1))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)[:limit]
        return 200, [m.to_payload() for m in members]

    async def _r_guild_member(self, req: _Request, gid: str, uid: str) -> tuple[int, Any]:
        member = self._rest_guild(gid).members.get(int(uid))
        if member is None:
            raise _ApiError(404, 10007, "Unknown Member")
        return 200, member.to_payload()
