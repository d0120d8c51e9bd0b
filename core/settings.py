"""The one settings class: read once at start from the environment or ``.env``, then passed down.

No other module reads the environment. It lives in ``ml`` because every front door (bot, scripts) imports ``ml``;
it holds plain values only.
"""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    run_dir: Path | None = Field(default=None, validation_alias="TOONMATCH_RUN_DIR")
    database_url: str = Field(default="sqlite+aiosqlite:///toonmatch.db", validation_alias="DATABASE_URL")
    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    log_level: str = Field(default="INFO", validation_alias="TOONMATCH_LOG_LEVEL")
    taste_weight: float = Field(default=0.2, ge=0.0, le=1.0, validation_alias="TOONMATCH_TASTE_WEIGHT")
    batch_max_size: int = Field(default=32, ge=1, validation_alias="TOONMATCH_BATCH_MAX_SIZE")
    batch_max_wait_ms: float = Field(default=5.0, ge=0.0, validation_alias="TOONMATCH_BATCH_MAX_WAIT_MS")
    low_confidence_threshold: float = Field(default=0.7, ge=0.0, le=1.0, validation_alias="TOONMATCH_LOW_CONFIDENCE")
    message_content_intent: bool = Field(default=False, validation_alias="TOONMATCH_MESSAGE_CONTENT")
    cooldown_uses: int = Field(default=3, ge=1, validation_alias="TOONMATCH_COOLDOWN_USES")
    cooldown_seconds: float = Field(default=30.0, ge=0.0, validation_alias="TOONMATCH_COOLDOWN_SECONDS")
    discovery_picks: int = Field(default=3, ge=1, le=10, validation_alias="TOONMATCH_DISCOVERY_PICKS")


def load_settings(**overrides) -> Settings:
    """Read settings once (environment, then ``.env``); keyword overrides win, e.g. from command-line flags."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
