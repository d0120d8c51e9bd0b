"""Settings, one class per section, read once at start from the environment or ``.env`` and passed down.

No other module reads the environment. Each section belongs to the layer that uses it: ``serving`` (the run folder
and the recommender), ``database`` (the taste store), ``discord`` (the bot) and ``log``. The environment names are
the ones in ``.env.example``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///toonmatch.db"
ENV_FILE = ".env"


class _Section(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )


# The serving defaults, here once: ServingSettings reads them, and so do the ml signatures that default to them.
DEFAULT_TASTE_WEIGHT = 0.2  # how far likes/dislikes move a title (0: not at all)
DEFAULT_LOW_CONFIDENCE = 0.45  # below this best calibrated similarity: "no close match" (docs/results/calibration.md)
DEFAULT_BATCH_MAX_SIZE = 32  # panels per batched model call
DEFAULT_BATCH_MAX_WAIT_MS = 5.0  # how long the first request of a batch waits for companions
DEFAULT_METRICS_ADDRESS = "127.0.0.1:9108"  # the bot's /healthz, /readyz, /metrics (port moved on per shard range)


class ServingSettings(_Section):
    """The run folder to serve and how the recommender answers."""

    run_dir: Path | None = Field(default=None, validation_alias="TOONMATCH_RUN_DIR")
    taste_weight: float = Field(default=DEFAULT_TASTE_WEIGHT, ge=0.0, le=1.0, validation_alias="TOONMATCH_TASTE_WEIGHT")
    low_confidence_threshold: float = Field(
        default=DEFAULT_LOW_CONFIDENCE, ge=0.0, le=1.0, validation_alias="TOONMATCH_LOW_CONFIDENCE"
    )
    style_only: bool = Field(default=False, validation_alias="TOONMATCH_STYLE_ONLY")  # /recommend: art style alone
    batch_max_size: int = Field(default=DEFAULT_BATCH_MAX_SIZE, ge=1, validation_alias="TOONMATCH_BATCH_MAX_SIZE")
    batch_max_wait_ms: float = Field(
        default=DEFAULT_BATCH_MAX_WAIT_MS, ge=0.0, validation_alias="TOONMATCH_BATCH_MAX_WAIT_MS"
    )
    # Hot reload (docs/deploy.md): how often each bot process looks for a new index generation (scripts.refresh,
    # scripts.build_index); 0 = only on SIGHUP.
    reload_seconds: float = Field(default=60.0, ge=0.0, validation_alias="TOONMATCH_RELOAD_SECONDS")


class DatabaseSettings(_Section):
    """The taste store."""

    url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")


class DiscordSettings(_Section):
    """The bot: its token and the knobs of its commands."""

    token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    message_content: bool = Field(default=False, validation_alias="TOONMATCH_MESSAGE_CONTENT")
    # Seconds for a whole image download from Discord's CDN (attachments, embeds), request to last byte.
    download_timeout: float = Field(default=15.0, gt=0.0, le=300.0, validation_alias="TOONMATCH_DOWNLOAD_TIMEOUT")
    # /similar link: and /genre link: may fetch from loopback and private addresses (tests, self-hosted setups).
    fetch_allow_private: bool = Field(default=False, validation_alias="TOONMATCH_FETCH_ALLOW_PRIVATE")
    cooldown_uses: int = Field(default=3, ge=1, validation_alias="TOONMATCH_COOLDOWN_USES")
    cooldown_seconds: float = Field(default=30.0, ge=0.0, validation_alias="TOONMATCH_COOLDOWN_SECONDS")
    discovery_picks: int = Field(default=3, ge=1, le=10, validation_alias="TOONMATCH_DISCOVERY_PICKS")
    # Upload screening (docs/discord.md): an upload whose Porn + Hentai probability (the run model's nsfw output) is at
    # least this is not re-posted on contact sheets in channels that are not age-restricted.
    nsfw_threshold: float = Field(default=0.9, ge=0.0, le=1.0, validation_alias="TOONMATCH_NSFW_THRESHOLD")
    # Below this Drawing + Hentai probability an upload is told it doesn't look like a drawing
    # (docs/results/calibration.md).
    not_drawing_threshold: float = Field(default=0.1, ge=0.0, le=1.0, validation_alias="TOONMATCH_NOT_DRAWING")
    # Sharding (docs/deploy.md): unset = one process, one unsharded gateway connection. TOONMATCH_SHARD_COUNT alone:
    # this process runs every shard; with TOONMATCH_SHARD_IDS ("0,1", "0-3", "4-7,9") only those, others the rest.
    shard_ids_spec: str | None = Field(default=None, validation_alias="TOONMATCH_SHARD_IDS")
    shard_count: int | None = Field(default=None, ge=1, validation_alias="TOONMATCH_SHARD_COUNT")
    # Where /help links the privacy statement (PRIVACY.md as published, e.g. on the bot's website); unset: no link.
    privacy_url: str | None = Field(default=None, validation_alias="TOONMATCH_PRIVACY_URL")
    # Health and metrics HTTP server of each bot process (docs/deploy.md): host:port; empty turns it off.
    metrics_address: str = Field(default=DEFAULT_METRICS_ADDRESS, validation_alias="TOONMATCH_METRICS_ADDRESS")

    @field_validator("metrics_address")
    @classmethod
    def _check_metrics_address(cls, value: str) -> str:
        parse_address(value)  # a ValueError saying what is wrong
        return value.strip()

    @field_validator("shard_count", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _check_shards(self) -> DiscordSettings:
        ids = self.shard_ids
        if ids is not None:
            if self.shard_count is None:
                raise ValueError("TOONMATCH_SHARD_IDS needs TOONMATCH_SHARD_COUNT (the total over every process)")
            outside = [i for i in ids if i >= self.shard_count]
            if outside:
                raise ValueError(
                    f"TOONMATCH_SHARD_IDS {outside} outside 0–{self.shard_count - 1} (TOONMATCH_SHARD_COUNT)"
                )
        return self

    @property
    def shard_ids(self) -> tuple[int, ...] | None:
        """The shards this process runs (sorted), or ``None``: every shard (``shard_count`` set) or no sharding."""
        if self.shard_ids_spec is None or not self.shard_ids_spec.strip():
            return None
        return parse_shard_ids(self.shard_ids_spec)

    @property
    def sharded(self) -> bool:
        return self.shard_count is not None

    @property
    def one_of_several_processes(self) -> bool:
        """Whether other processes run the remaining shards (then per-user cooldowns live in the database)."""
        ids = self.shard_ids
        return ids is not None and self.shard_count is not None and set(ids) != set(range(self.shard_count))


def parse_address(spec: str) -> tuple[str, int] | None:
    """``"127.0.0.1:9108"``, ``"[::1]:9108"``, ``"0.0.0.0:0"`` → (host, port); empty → ``None`` (off)."""
    spec = spec.strip()
    if not spec:
        return None
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^\s:\[\]]+):(\d{1,5})", spec)
    if match is None:
        raise ValueError(f"TOONMATCH_METRICS_ADDRESS: {spec!r} is not host:port (e.g. 127.0.0.1:9108, [::1]:9108)")
    host = match[1] or match[3]
    port = int(match[2] or match[4])
    if port > 65535:
        raise ValueError(f"TOONMATCH_METRICS_ADDRESS: port {port} is not 0–65535")
    return host, port


def parse_shard_ids(spec: str) -> tuple[int, ...]:
    """``"0,1"``, ``"0-3"``, ``"0-3,8"`` → sorted shard ids; anything else is a ``ValueError``."""
    ids: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if match is None:
            raise ValueError(f"TOONMATCH_SHARD_IDS: {part!r} is not a shard id or a range like 0-3")
        first, last = int(match[1]), int(match[2] or match[1])
        if last < first:
            raise ValueError(f"TOONMATCH_SHARD_IDS: the range {part!r} runs backwards")
        ids.update(range(first, last + 1))
    return tuple(sorted(ids))


class CacheSettings(_Section):
    """Where downloaded-and-converted third-party weights live (the pretrained backbone), outside the repository."""

    dir: Path = Field(default=Path("~/.cache/toonmatch"), validation_alias="TOONMATCH_CACHE")

    @property
    def path(self) -> Path:
        return self.dir.expanduser()


class LogSettings(_Section):
    level: str = Field(default="INFO", validation_alias="TOONMATCH_LOG_LEVEL")
    # "text" (one readable line per record) or "json" (one JSON object per line, for log shippers).
    format: Literal["text", "json"] = Field(default="text", validation_alias="TOONMATCH_LOG_FORMAT")

    @field_validator("format", mode="before")
    @classmethod
    def _format_lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class Settings(BaseModel):
    """All sections together, as the front doors (bot, scripts) hold them."""

    serving: ServingSettings
    database: DatabaseSettings
    discord: DiscordSettings
    cache: CacheSettings
    log: LogSettings


SECTIONS: dict[str, type[_Section]] = {
    "serving": ServingSettings,
    "database": DatabaseSettings,
    "discord": DiscordSettings,
    "cache": CacheSettings,
    "log": LogSettings,
}


def _section_keys(section: type[_Section]) -> set[str]:
    return {key for name, field in section.model_fields.items() for key in (name, field.validation_alias)}


def load_settings(*, env_file: str | Path | None = ENV_FILE, **values: Any) -> Settings:
    """Read every section once (environment, then ``env_file``; ``None`` reads no file).

    ``values`` win over both, e.g. from command-line flags or tests; they use the environment names
    (``TOONMATCH_RUN_DIR=…``) and ``None`` means "not given". An unknown name is an error, not a silent no-op.
    """
    given = {key: value for key, value in values.items() if value is not None}
    sections: dict[str, _Section] = {}
    for name, section in SECTIONS.items():
        keys = _section_keys(section)
        mine = {key: given.pop(key) for key in list(given) if key in keys}
        sections[name] = section(_env_file=env_file, **mine)
    if given:
        raise TypeError(f"unknown settings: {', '.join(sorted(given))}")
    return Settings(**sections)
