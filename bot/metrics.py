"""What the bot counts about itself, in Prometheus form (``GET /metrics`` of :mod:`bot.health`) and for ``/about``.

One :class:`BotMetrics` per bot (its own :class:`~prometheus_client.CollectorRegistry`, so two bots in one process,
as in the tests, never share counters). Labels stay bounded: command names and ``tm:<feature>`` button families, a
fixed set of outcomes and refusal kinds, never a user, guild or channel id.

How an interaction is timed: :meth:`BotMetrics.received` runs synchronously when discord.py hands the bot the
``INTERACTION_CREATE`` (before any handler ran) and gives the interaction a :class:`TimedResponse`, which notes the
moment the acknowledgement (defer, message, update, modal, autocomplete) was accepted by Discord. The interaction
ends in exactly one outcome (:meth:`finished`): ``answered`` (the command or button handler returned), ``refused``
with a kind (a user's mistake, a cooldown, a missing permission…: :func:`refusal_kind`) or ``failed`` (a bug).
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from bot import errors
from core import errors as core_errors

if TYPE_CHECKING:
    from bot.bot import Toonmatch

log = logging.getLogger(__name__)

#: Seconds: Discord's 3 s acknowledgement deadline sits between two buckets.
ACK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0, 10.0)
ANSWER_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0)
EXECUTOR_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)

WINDOW_SECONDS = 24 * 3600.0  # /about: answers of the last 24 h
WINDOW_MAX = 200_000  # at most this many answers remembered for it (memory stays bounded under any load)

OUTCOMES = ("answered", "refused", "failed")
COMPONENT = re.compile(r"tm:[a-z]{1,16}")  # the feature part of our custom_ids ("tm:rate", "tm:forget", …)


def refusal_kind(error: BaseException) -> str:
    """A short, bounded name of why an interaction was refused (or ``"bug"`` for a failure)."""
    while isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    kinds: list[tuple[type | tuple[type, ...], str]] = [
        (app_commands.CommandOnCooldown, "cooldown"),
        ((app_commands.MissingPermissions, app_commands.BotMissingPermissions), "permission"),
        (errors.NotOwnerError, "not_owner"),
        (app_commands.NoPrivateMessage, "guild_only"),
        (app_commands.TransformerError, "bad_option"),
        (app_commands.CheckFailure, "check"),
        (errors.DownloadFailedError, "download"),
        (errors.LinkRefusedError, "link"),
        ((core_errors.BadImageError, errors.NoImageError), "bad_image"),
        ((core_errors.AmbiguousTitleError, core_errors.UnknownTitleError), "unknown_title"),
        (errors.AdultContentError, "adult"),
        ((errors.RecommenderUnavailableError, core_errors.RunFolderError), "engine_unavailable"),
        (errors.NotYourButtonError, "not_your_button"),
        (core_errors.ToonmatchError, "other"),
    ]
    for types, kind in kinds:
        if isinstance(error, types):
            return kind
    return "bug"


def is_database_error(error: BaseException) -> bool:
    while isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    return isinstance(error, SQLAlchemyError)


def command_label(interaction: discord.Interaction) -> str:
    """The command's full name, or the button family (``tm:rate``) for components; never anything a user chose."""
    if interaction.command is not None:
        return interaction.command.qualified_name
    custom_id = (interaction.data or {}).get("custom_id")
    if isinstance(custom_id, str):
        match = COMPONENT.match(custom_id)
        return match.group(0) if match else "other"
    return "unknown"


class TimedResponse(discord.InteractionResponse):
    """discord.py's response of one interaction that notes when the acknowledgement went through."""

    __slots__ = ()

    def _acked(self) -> None:
        extras = self._parent.extras
        if "acked_at" not in extras:
            extras["acked_at"] = time.monotonic()
            metrics = extras.get("metrics")
            if metrics is not None and "received_at" in extras:
                metrics.observe_ack(self._parent, extras["acked_at"] - extras["received_at"])

    async def defer(self, *args: Any, **kwargs: Any):
        result = await super().defer(*args, **kwargs)
        self._acked()
        return result

    async def send_message(self, *args: Any, **kwargs: Any):
        result = await super().send_message(*args, **kwargs)
        self._acked()
        return result

    async def edit_message(self, *args: Any, **kwargs: Any):
        result = await super().edit_message(*args, **kwargs)
        self._acked()
        return result

    async def send_modal(self, *args: Any, **kwargs: Any):
        result = await super().send_modal(*args, **kwargs)
        self._acked()
        return result


class AnswerWindow:
    """The answer latencies of the last 24 h (at most :data:`WINDOW_MAX`), for /about's count and percentiles."""

    def __init__(self, seconds: float = WINDOW_SECONDS, limit: int = WINDOW_MAX) -> None:
        self.seconds = seconds
        self.items: deque[tuple[float, float]] = deque(maxlen=limit)  # (monotonic time, latency s)

    def add(self, latency: float, now: float | None = None) -> None:
        self.items.append((time.monotonic() if now is None else now, latency))

    def _trim(self, now: float) -> None:
        while self.items and self.items[0][0] < now - self.seconds:
            self.items.popleft()

    def latencies(self, now: float | None = None) -> list[float]:
        """The latencies in the window (a copy: sort it anywhere, e.g. off the event loop with :func:`percentiles`)."""
        self._trim(time.monotonic() if now is None else now)
        return [latency for _, latency in self.items]

    def summary(self, now: float | None = None) -> tuple[int, float | None, float | None]:
        """(answers, p50 s, p99 s) over the window; the percentiles are ``None`` without answers."""
        return percentiles(self.latencies(now))


def percentiles(values: list[float]) -> tuple[int, float | None, float | None]:
    """(how many, p50, p99) of ``values`` (nearest rank); ``None`` percentiles for none."""
    values = sorted(values)
    if not values:
        return 0, None, None
    return len(values), _quantile(values, 0.5), _quantile(values, 0.99)


def _quantile(values: list[float], q: float) -> float:
    """The nearest-rank quantile of sorted ``values``."""
    rank = max(1, min(len(values), int(-(-q * len(values) // 1))))
    return values[rank - 1]


class _RateLimitLog(logging.Handler):
    """Counts the 429s discord.py waits out; it reports each one only as a log line (``discord.http`` for REST,
    ``discord.webhook.async_`` for interaction follow-ups and edits)."""

    PREFIXES = (
        ("We are being rate limited.", "rest"),
        ("Global rate limit has been hit.", "global"),
        ("Webhook ID %s is rate limited.", "interaction"),
    )
    LOGGERS = ("discord.http", "discord.webhook.async_")

    def __init__(self, counter: Counter) -> None:
        super().__init__(logging.WARNING)
        self.counter = counter

    def emit(self, record: logging.LogRecord) -> None:
        message = record.msg if isinstance(record.msg, str) else ""
        for prefix, scope in self.PREFIXES:
            if message.startswith(prefix):
                self.counter.labels(scope=scope).inc()
                return

    def install(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).addHandler(self)

    def uninstall(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).removeHandler(self)


class _BotState(Collector):
    """Gauges read from the bot at scrape time: the served catalogue and index, the model queue, servers, shards."""

    def __init__(self, bot: Toonmatch) -> None:
        self.bot = bot

    def collect(self) -> Iterator[Any]:
        bot, recommender = self.bot, self.bot.recommender
        loaded = GaugeMetricFamily("toonmatch_engine_loaded", "1 when the model and index are loaded")
        loaded.add_metric([], 1.0 if recommender is not None else 0.0)
        yield loaded
        titles = GaugeMetricFamily("toonmatch_index_titles", "titles in the served catalogue and index")
        queue = GaugeMetricFamily("toonmatch_model_queue_depth", "requests waiting for the next model batch")
        preparing = GaugeMetricFamily("toonmatch_model_preparing", "requests being decoded on their way to the model")
        info = InfoMetricFamily("toonmatch_index", "the served run folder and index generation")
        if recommender is not None:
            titles.add_metric([], float(len(recommender.titles)))
            queue.add_metric([], float(recommender.queue_depth))
            preparing.add_metric([], float(recommender.preparing))
            info.add_metric([], {"run": recommender.run_id or "", "generation": recommender.generation or ""})
        yield from (titles, queue, preparing, info)
        guilds = GaugeMetricFamily("toonmatch_guilds", "servers this process sees")
        guilds.add_metric([], float(len(bot.guilds)))
        yield guilds
        shards = GaugeMetricFamily("toonmatch_shards_connected", "gateway connections of this process that are up")
        health = getattr(bot, "health", None)
        shards.add_metric([], float(health.shards.connected_count if health is not None else 0))
        yield shards


class BotMetrics:
    """Every counter and histogram of one bot, on its own registry."""

    def __init__(self, bot: Toonmatch | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.started = time.monotonic()
        r = self.registry
        self.interactions = Counter(
            "toonmatch_interactions",
            "interactions handled, by command (or button family), outcome and refusal kind",
            ["command", "outcome", "kind"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "toonmatch_ack_latency_seconds",
            "from receiving an interaction to Discord accepting its acknowledgement",
            ["command"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.answer_seconds = Histogram(
            "toonmatch_answer_latency_seconds",
            "from receiving an interaction to its handler finishing (the final answer sent), answered ones only",
            ["command"],
            buckets=ANSWER_BUCKETS,
            registry=r,
        )
        self.batch_panels = Histogram(
            "toonmatch_model_batch_panels", "panels per batched model call", buckets=BATCH_BUCKETS, registry=r
        )
        self.executor_seconds = Histogram(
            "toonmatch_executor_seconds",
            "time spent running work in the recommender's executors (model: the batched model calls; cpu: decoding, "
            "index queries, covers, contact sheets)",
            ["pool"],
            buckets=EXECUTOR_BUCKETS,
            registry=r,
        )
        self.discovery_posts = Counter(
            "toonmatch_discovery_posts",
            "discovery attempts by outcome (posted, nothing_new, skipped, disabled, error)",
            ["outcome"],
            registry=r,
        )
        self.rate_limits = Counter(
            "toonmatch_discord_rate_limits", "429 answers from Discord that were waited out", ["scope"], registry=r
        )
        self.db_errors = Counter(
            "toonmatch_database_errors", "database errors, by where they surfaced", ["where"], registry=r
        )
        self.window = AnswerWindow()
        self._rate_log = _RateLimitLog(self.rate_limits)
        self._state: _BotState | None = None
        if bot is not None:
            self._state = _BotState(bot)
            r.register(self._state)

    # ---- life cycle ---------------------------------------------------------------------------------------
    def install(self) -> None:
        """Start counting what only shows in discord.py's log (rate limits)."""
        self._rate_log.install()

    def uninstall(self) -> None:
        self._rate_log.uninstall()

    # ---- interactions -------------------------------------------------------------------------------------
    def received(self, interaction: discord.Interaction) -> None:
        """An interaction arrived: start its clock and time its acknowledgement. Autocomplete is not counted."""
        if interaction.type is discord.InteractionType.autocomplete:
            return
        interaction.extras["received_at"] = time.monotonic()
        interaction.extras["metrics"] = self
        # discord.py builds the response object lazily into this slot; ours is the same class plus the timing.
        interaction._cs_response = TimedResponse(interaction)  # type: ignore[attr-defined]

    def observe_ack(self, interaction: discord.Interaction, seconds: float) -> None:
        self.ack_seconds.labels(command=command_label(interaction)).observe(seconds)

    def finished(self, interaction: discord.Interaction, error: BaseException | None = None) -> None:
        """The interaction's one outcome: answered (``error`` None), refused (a user-facing error) or failed (a
        bug). Counted once per interaction, and only for interactions :meth:`received` saw."""
        extras = interaction.extras
        if extras.get("metrics") is not self or extras.get("outcome"):
            return
        command = command_label(interaction)
        if error is None:
            outcome, kind = "answered", ""
            latency = time.monotonic() - extras["received_at"]
            self.answer_seconds.labels(command=command).observe(latency)
            self.window.add(latency)
        else:
            kind = refusal_kind(error)
            outcome = "failed" if kind == "bug" else "refused"
            if kind == "bug":
                kind = ""
            if is_database_error(error):
                self.db_errors.labels(where="interaction").inc()
        extras["outcome"] = outcome
        self.interactions.labels(command=command, outcome=outcome, kind=kind).inc()

    # ---- the recommender (its observer) ----------------------------------------------------------------------
    def batch(self, panels: int, seconds: float) -> None:
        self.batch_panels.observe(panels)
        self.executor_seconds.labels(pool="model").observe(seconds)

    def executor(self, pool: str, seconds: float) -> None:
        self.executor_seconds.labels(pool=pool).observe(seconds)

    # ---- discovery and the database ---------------------------------------------------------------------------
    def discovery(self, outcome: str) -> None:
        self.discovery_posts.labels(outcome=outcome).inc()

    def database_error(self, where: str) -> None:
        self.db_errors.labels(where=where).inc()

    @property
    def uptime(self) -> float:
        return time.monotonic() - self.started
