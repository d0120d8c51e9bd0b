"""Settings, one class per section, read once at start from the environment or ``.env`` and passed down.

No other module reads the environment. Each section belongs to the layer that uses it: ``serving`` (the run folder
and the recommender), ``database`` (the taste store), ``discord`` (the bot) and ``log``. The environment names are
the ones in ``.env.example``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///toonmatch.db"
ENV_FILE = ".env"


class _Section(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )


class ServingSettings(_Section):
    """The run folder to serve and how the recommender answers."""

    run_dir: Path | None = Field(default=None, validation_alias="TOONMATCH_RUN_DIR")
    taste_weight: float = Field(default=0.2, ge=0.0, le=1.0, validation_alias="TOONMATCH_TASTE_WEIGHT")
    low_confidence_threshold: float = Field(default=0.7, ge=0.0, le=1.0, validation_alias="TOONMATCH_LOW_CONFIDENCE")
    batch_max_size: int = Field(default=32, ge=1, validation_alias="TOONMATCH_BATCH_MAX_SIZE")
    batch_max_wait_ms: float = Field(default=5.0, ge=0.0, validation_alias="TOONMATCH_BATCH_MAX_WAIT_MS")


class DatabaseSettings(_Section):
    """The taste store."""

    url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")


class DiscordSettings(_Section):
    """The bot: its token and the knobs of its commands."""

    token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    message_content: bool = Field(default=False, validation_alias="TOONMATCH_MESSAGE_CONTENT")
    cooldown_uses: int = Field(default=3, ge=1, validation_alias="TOONMATCH_COOLDOWN_USES")
    cooldown_seconds: float = Field(default=30.0, ge=0.0, validation_alias="TOONMATCH_COOLDOWN_SECONDS")
    discovery_picks: int = Field(default=3, ge=1, le=10, validation_alias="TOONMATCH_DISCOVERY_PICKS")


class LogSettings(_Section):
    level: str = Field(default="INFO", validation_alias="TOONMATCH_LOG_LEVEL")


class Settings(BaseModel):
    """All sections together, as the front doors (bot, scripts) hold them."""

    serving: ServingSettings
    database: DatabaseSettings
    discord: DiscordSettings
    log: LogSettings


SECTIONS: dict[str, type[_Section]] = {
    "serving": ServingSettings,
    "database": DatabaseSettings,
    "discord": DiscordSettings,
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
