"""Start-up and shutdown: ``python -m bot`` (no token, worker thread, sync), ``run_bot`` with SIGTERM, the token never
logged."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading

import pytest

from bot.__main__ import main
from bot.bot import BotOptions, run_bot, sync_only
from core.logs import RedactSecrets
from tests.bot.conftest import make_settings


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No developer .env or environment leaks into the settings; restores the logging set-up afterwards."""
    for key in (
        "DISCORD_TOKEN",
        "TOONMATCH_RUN_DIR",
        "DATABASE_URL",
        "TOONMATCH_LOG_LEVEL",
        "TOONMATCH_MESSAGE_CONTENT",
        "TOONMATCH_LOG_FORMAT",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TOONMATCH_METRICS_ADDRESS", "")  # no fixed port in tests; one test asks for a free one
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    filters = {h: list(h.filters) for h in handlers}
    yield tmp_path
    root.setLevel(level)
    root.handlers[:] = handlers
    for h, saved in filters.items():
        h.filters = saved


def test_without_a_token_it_explains_how_to_get_one(clean_env, capsys):
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "DISCORD_TOKEN" in err and "discord.com/developers" in err and "applications.commands" in err


def test_redact_filter_removes_the_token_from_messages_and_tracebacks():
    token = "MTIzNDU2Nzg5.secret.token-value"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token is %s", (token,), None)
    try:
        raise ValueError(f"bad {token}")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactSecrets(token).filter(record)
    assert token not in record.getMessage() and "[REDACTED]" in record.getMessage()
    assert token not in record.exc_text


async def test_run_bot_stops_gracefully_on_sigterm_and_never_logs_the_token(
    fake, db, recommender, tiny_run, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    settings = make_settings(fake.token, tiny_run)
    ready = asyncio.Event()
    with fake.patch_discord():
        task = asyncio.create_task(
            run_bot(
                settings,
                db=db,
                recommender=recommender,
                options=BotOptions(start_discovery_loop=False),
                ready_event=ready,
            )
        )
        await asyncio.wait_for(ready.wait(), 20)
        assert fake.connected
        handlers = asyncio.get_running_loop()._signal_handlers
        assert signal.SIGTERM in handlers, "no SIGTERM handler: sending it would kill the test run"
        os.kill(os.getpid(), signal.SIGTERM)  # the handler run_bot installed (main thread) closes the bot
        await asyncio.wait_for(task, 20)
    assert not fake.connected
    assert "SIGTERM received" in caplog.text
    assert fake.token not in caplog.text
    assert signal.SIGTERM not in asyncio.get_running_loop()._signal_handlers  # removed again


async def test_python_m_bot_runs_in_a_worker_thread(fake, tiny_run, clean_env, monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", fake.token)
    monkeypatch.setenv("TOONMATCH_RUN_DIR", str(tiny_run))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{clean_env / 'main.db'}")
    monkeypatch.setenv("TOONMATCH_METRICS_ADDRESS", "127.0.0.1:0")
    ready, stop = threading.Event(), threading.Event()
    with fake.patch_discord():
        task = asyncio.create_task(asyncio.to_thread(main, [], ready_event=ready, stop_event=stop))
        try:
            assert await asyncio.to_thread(ready.wait, 60), "the bot never became ready"
            rec = await fake.slash_command("help", dm=True, user=fake.add_user("carol"))
            msg = await rec.wait_response()
            assert "ready — 40 titles" in msg.embeds[0]["fields"][2]["value"]  # it loaded the run folder itself
        finally:
            stop.set()
            assert await asyncio.wait_for(task, 30) == 0
    assert (clean_env / "main.db").is_file()
    assert fake.registered_commands  # synced on its first start


async def test_sync_command_syncs_unconditionally(fake, db, tiny_run):
    settings = make_settings(fake.token, tiny_run)
    with fake.patch_discord():
        assert await sync_only(settings, db=db) == 11
        assert await sync_only(settings, db=db) == 11
    assert len(fake.find_requests("PUT", r"^/applications/\d+/commands$")) == 2
    assert not fake.connected  # no gateway connection for a sync


async def test_bad_token_and_missing_intent_end_with_a_clear_message(tiny_run, clean_env, monkeypatch, capsys):
    from tests.helpers.fake_discord.server import FakeDiscord

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{clean_env / 'main.db'}")
    async with FakeDiscord(allowed_privileged_intents=0) as fake:
        with fake.patch_discord():
            monkeypatch.setenv("DISCORD_TOKEN", "not-the-token")
            assert await asyncio.to_thread(main, []) == 1
            assert "rejected the token" in capsys.readouterr().err
            monkeypatch.setenv("DISCORD_TOKEN", fake.token)
            monkeypatch.setenv("TOONMATCH_MESSAGE_CONTENT", "true")
            assert await asyncio.to_thread(main, []) == 1
            assert "Message Content Intent" in capsys.readouterr().err


def test_bad_shard_settings_end_with_a_clear_message(clean_env, monkeypatch, capsys):
    monkeypatch.setenv("DISCORD_TOKEN", "abc.def.ghi")
    monkeypatch.setenv("TOONMATCH_SHARD_IDS", "0-1")
    monkeypatch.delenv("TOONMATCH_SHARD_COUNT", raising=False)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "bad settings" in err and "TOONMATCH_SHARD_COUNT" in err and "Traceback" not in err
