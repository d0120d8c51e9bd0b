"""Settings: each section reads the documented environment names once; explicit values win; typos are errors."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import DEFAULT_DATABASE_URL, load_settings

ENV_NAMES = (
    "DISCORD_TOKEN",
    "DATABASE_URL",
    "TOONMATCH_RUN_DIR",
    "TOONMATCH_TASTE_WEIGHT",
    "TOONMATCH_COOLDOWN_USES",
    "TOONMATCH_LOG_LEVEL",
    "TOONMATCH_SHARD_IDS",
    "TOONMATCH_SHARD_COUNT",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_without_environment_or_file():
    settings = load_settings(env_file=None)
    assert settings.database.url == DEFAULT_DATABASE_URL
    assert settings.serving.run_dir is None and settings.discord.token is None
    assert settings.discord.cooldown_uses == 3 and settings.log.level == "INFO"


def test_each_section_reads_its_environment_names(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "abc.def.ghi")
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///elsewhere.db")
    monkeypatch.setenv("TOONMATCH_RUN_DIR", "runs/x")
    monkeypatch.setenv("TOONMATCH_TASTE_WEIGHT", "0.5")
    settings = load_settings(env_file=None)
    assert settings.discord.token.get_secret_value() == "abc.def.ghi"
    assert settings.database.url == "sqlite+aiosqlite:///elsewhere.db"
    assert settings.serving.run_dir == Path("runs/x") and settings.serving.taste_weight == 0.5


def test_env_file_is_read_and_explicit_values_win(tmp_path, monkeypatch):
    env = tmp_path / ".env"
    env.write_text("TOONMATCH_RUN_DIR=from/file\nTOONMATCH_COOLDOWN_USES=7\n")
    settings = load_settings(env_file=env, TOONMATCH_RUN_DIR="from/flag", DATABASE_URL=None)
    assert settings.serving.run_dir == Path("from/flag")
    assert settings.discord.cooldown_uses == 7
    assert settings.database.url == DEFAULT_DATABASE_URL  # None means "not given"


def test_token_is_secret_in_reprs(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "very-secret-token")
    assert "very-secret-token" not in repr(load_settings(env_file=None))


def test_unknown_names_and_bad_values_are_errors():
    with pytest.raises(TypeError, match="TOONMATCH_RUNDIR"):
        load_settings(env_file=None, TOONMATCH_RUNDIR="x")
    with pytest.raises(ValidationError):
        load_settings(env_file=None, TOONMATCH_TASTE_WEIGHT=2)


def test_download_timeout_is_a_discord_setting(monkeypatch):
    monkeypatch.delenv("TOONMATCH_DOWNLOAD_TIMEOUT", raising=False)
    assert load_settings(env_file=None).discord.download_timeout == 15.0
    monkeypatch.setenv("TOONMATCH_DOWNLOAD_TIMEOUT", "2.5")
    assert load_settings(env_file=None).discord.download_timeout == 2.5
    for bad in (0, -1, 301):
        with pytest.raises(ValidationError):
            load_settings(env_file=None, TOONMATCH_DOWNLOAD_TIMEOUT=bad)


def test_fetching_links_from_private_addresses_is_off_unless_set(monkeypatch):
    monkeypatch.delenv("TOONMATCH_FETCH_ALLOW_PRIVATE", raising=False)
    assert load_settings(env_file=None).discord.fetch_allow_private is False
    monkeypatch.setenv("TOONMATCH_FETCH_ALLOW_PRIVATE", "true")
    assert load_settings(env_file=None).discord.fetch_allow_private is True


def test_nsfw_threshold_is_a_discord_setting(monkeypatch):
    monkeypatch.delenv("TOONMATCH_NSFW_THRESHOLD", raising=False)
    assert load_settings(env_file=None).discord.nsfw_threshold == 0.9
    monkeypatch.setenv("TOONMATCH_NSFW_THRESHOLD", "0.75")
    assert load_settings(env_file=None).discord.nsfw_threshold == 0.75
    for bad in (-0.1, 1.5):
        with pytest.raises(ValidationError):
            load_settings(env_file=None, TOONMATCH_NSFW_THRESHOLD=bad)


def test_shard_settings_name_this_processs_shards():
    unsharded = load_settings(env_file=None).discord
    assert (unsharded.shard_ids, unsharded.shard_count, unsharded.sharded) == (None, None, False)
    every = load_settings(env_file=None, TOONMATCH_SHARD_COUNT=4).discord
    assert every.sharded and every.shard_ids is None and not every.one_of_several_processes
    some = load_settings(env_file=None, TOONMATCH_SHARD_IDS="4-5, 0,2-3", TOONMATCH_SHARD_COUNT=8).discord
    assert some.shard_ids == (0, 2, 3, 4, 5) and some.one_of_several_processes
    assert not load_settings(
        env_file=None, TOONMATCH_SHARD_IDS="0-1", TOONMATCH_SHARD_COUNT=2
    ).discord.one_of_several_processes


@pytest.mark.parametrize(
    ("ids", "count", "message"),
    [
        ("0,1", None, "needs TOONMATCH_SHARD_COUNT"),
        ("0,2", 2, "outside 0–1"),
        ("3-1", 4, "runs backwards"),
        ("0;1", 4, "not a shard id"),
        (None, 0, "greater than or equal to 1"),
    ],
)
def test_bad_shard_settings_are_errors(ids, count, message):
    with pytest.raises(ValidationError, match=message):
        load_settings(env_file=None, TOONMATCH_SHARD_IDS=ids, TOONMATCH_SHARD_COUNT=count)
