"""Health and metrics over HTTP from each bot process: ``GET /healthz``, ``GET /readyz``, ``GET /metrics``.

* ``/healthz`` — liveness: 200 while the process's event loop answers at all.
* ``/readyz`` — 200 only when every gateway connection (shard) of the process is up, the model and index are loaded
  and the database answers a ``SELECT 1`` within :data:`DB_TIMEOUT`; otherwise 503 with a JSON body naming each
  reason (``{"ready": false, "reasons": ["shard 1 is not connected"]}``).
* ``/metrics`` — :class:`bot.metrics.BotMetrics` in the Prometheus text format.

The address is ``TOONMATCH_METRICS_ADDRESS`` (``host:port``, default ``127.0.0.1:9108``; empty turns the server
off). A process running only part of the shards adds its first shard id to the port, so the instances of one
systemd template on one host never collide (docs/deploy.md). An address that cannot be bound stops the bot at
start-up with a one-line error (:class:`MetricsAddressError`).
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from core.errors import ToonmatchError
from core.settings import Settings, parse_address
from db import queries

if TYPE_CHECKING:
    from bot.bot import Toonmatch

log = logging.getLogger(__name__)

DB_TIMEOUT = 2.0  # seconds the database may take to answer the readiness probe


class MetricsAddressError(ToonmatchError):
    """``TOONMATCH_METRICS_ADDRESS`` cannot be listened on (in use, not an address of this host, not allowed)."""


def metrics_address(settings: Settings) -> tuple[str, int] | None:
    """Where this process listens: the setting's host and port, the port moved on by the first shard id when other
    processes run the other shards; ``None`` when the server is off. Port 0 picks a free port (logged)."""
    address = parse_address(settings.discord.metrics_address)
    if address is None:
        return None
    host, port = address
    ids = settings.discord.shard_ids
    if port and settings.discord.one_of_several_processes and ids:
        port += ids[0]
    return host, port


@dataclass
class ShardStates:
    """Which gateway connections of the process are up: down from a disconnect until READY or RESUMED."""

    expected: tuple[int, ...] = (0,)
    up: dict[int, bool] = field(default_factory=dict)

    def set(self, shard_id: int | None, up: bool) -> None:
        self.up[shard_id or 0] = up

    @property
    def connected_count(self) -> int:
        return sum(1 for shard in self.expected if self.up.get(shard))

    def down(self) -> list[int]:
        return [shard for shard in self.expected if not self.up.get(shard)]


class HealthServer:
    """The aiohttp server of one bot process (see the module docstring)."""

    def __init__(self, bot: Toonmatch, address: tuple[str, int] | None) -> None:
        self.bot = bot
        self.address = address
        self.shards = ShardStates(bot.own_shards or (0,))
        self.runner: web.AppRunner | None = None
        self.bound: tuple[str, int] | None = None

    # ---- the gateway's events (registered by Toonmatch.setup_hook) ---------------------------------------
    def listen(self) -> None:
        bot = self.bot
        sharded = bot.own_shards is not None

        async def shard_up(shard_id: int | None = None) -> None:
            self.shards.set(shard_id, True)

        async def shard_down(shard_id: int | None = None) -> None:
            self.shards.set(shard_id, False)

        async def all_up() -> None:  # unsharded: ``ready``/``resumed`` carry no shard id
            self.shards.set(0, True)

        if sharded:
            bot.add_listener(shard_up, "on_shard_ready")
            bot.add_listener(shard_up, "on_shard_resumed")
            bot.add_listener(shard_down, "on_shard_disconnect")
        else:
            bot.add_listener(all_up, "on_ready")
            bot.add_listener(all_up, "on_resumed")
            bot.add_listener(shard_down, "on_disconnect")

    # ---- readiness ---------------------------------------------------------------------------------------
    async def reasons(self) -> list[str]:
        """Why the process is not ready (empty: ready)."""
        bot = self.bot
        reasons = [f"shard {shard} is not connected" for shard in self.shards.down()]
        if bot.recommender is None:
            why = f" ({bot.recommender_error})" if bot.recommender_error else ""
            reasons.append(f"the model and index are not loaded{why}")
        try:
            await asyncio.wait_for(bot.db.run(queries.ping), DB_TIMEOUT)
        except Exception as exc:
            bot.metrics.database_error("readiness")
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            reasons.append(f"the database does not answer ({type(exc).__name__}: {first[:200]})")
        return reasons

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"alive": True, "uptime_s": round(self.bot.metrics.uptime, 1)})

    async def _readyz(self, request: web.Request) -> web.Response:
        reasons = await self.reasons()
        body = {"ready": not reasons, "reasons": reasons}
        return web.json_response(body, status=200 if not reasons else 503, dumps=json.dumps)

    async def _metrics(self, request: web.Request) -> web.Response:
        data = generate_latest(self.bot.metrics.registry)
        return web.Response(body=data, headers={"Content-Type": CONTENT_TYPE_LATEST})

    # ---- serving -----------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen on :attr:`address` (nothing when ``None``); a :class:`MetricsAddressError` when it cannot."""
        if self.address is None:
            log.info("health and metrics server off (TOONMATCH_METRICS_ADDRESS is empty)")
            return
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        host, port = self.address
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            what = {errno.EADDRINUSE: "already in use", errno.EADDRNOTAVAIL: "not an address of this machine"}
            why = what.get(exc.errno or 0, exc.strerror or str(exc))
            raise MetricsAddressError(
                f"cannot listen on TOONMATCH_METRICS_ADDRESS {host}:{port}: {why} "
                "(pick another host:port, or set it empty to turn the metrics server off)"
            ) from None
        self.runner = runner
        server = site._server  # the bound socket tells the port when 0 asked for any free one
        sockets = getattr(server, "sockets", None) or []
        self.bound = sockets[0].getsockname()[:2] if sockets else (host, port)
        log.info("health and metrics on http://%s:%d (/healthz, /readyz, /metrics)", *self.bound)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    @property
    def url(self) -> str | None:
        if self.bound is None:
            return None
        host, port = self.bound
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"
