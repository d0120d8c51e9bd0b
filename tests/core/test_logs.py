"""The shared logging set-up: one handler however often it runs, the current stderr, library floors."""

import logging

import pytest

from core.logs import setup_logging


@pytest.fixture
def pristine_root():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def test_one_handler_writes_to_the_current_stderr_with_secrets_redacted(pristine_root, capsys):
    setup_logging("INFO", "token-0123456789")
    setup_logging("INFO", "token-0123456789")
    ours = [h for h in pristine_root.handlers if getattr(h, "_toonmatch", False)]
    assert len(ours) == 1
    logging.getLogger("toonmatch.test").warning("leaked token-0123456789 here")
    err = capsys.readouterr().err
    assert "leaked [REDACTED] here" in err and "token-0123456789" not in err


def test_library_floors_follow_the_root_level(pristine_root):
    setup_logging("DEBUG", floors={"aiohttp": logging.ERROR})
    assert logging.getLogger("aiohttp").level == logging.ERROR
    assert logging.getLogger("tensorflow").level == logging.ERROR
    setup_logging("CRITICAL")
    assert logging.getLogger("PIL").level == logging.CRITICAL


def test_json_format_is_one_object_per_line_with_secrets_redacted(pristine_root, capsys):
    import json

    from bot.__main__ import setup_bot_logging

    token = "tok.abcdefghijklmnop.xyz"
    try:
        setup_bot_logging("INFO", token, "json")
        log = logging.getLogger("bot.test")
        log.info("hello %s", "world")
        try:
            raise RuntimeError(f"bad token {token}\nsecond line")
        except RuntimeError:
            log.exception("failed with %s", token)
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert len(lines) == 2
        first, second = (json.loads(line) for line in lines)
        assert first["message"] == "hello world" and first["level"] == "INFO" and first["logger"] == "bot.test"
        assert first["time"].endswith("+00:00") and isinstance(first["process"], int)
        assert second["level"] == "ERROR" and second["message"] == "failed with [REDACTED]"
        assert "RuntimeError: bad token [REDACTED]" in second["exception"] and "Traceback" in second["exception"]
        assert token not in "\n".join(lines)
        setup_bot_logging("INFO", token)  # back to text: the same handler, the readable format
        logging.getLogger("bot.test").warning("plain")
        assert capsys.readouterr().err.strip().endswith("WARNING bot.test: plain")
    finally:
        setup_logging("INFO")


def test_the_log_format_setting(monkeypatch):
    from pydantic import ValidationError

    from core.settings import load_settings

    assert load_settings(env_file=None).log.format == "text"
    assert load_settings(env_file=None, TOONMATCH_LOG_FORMAT="JSON").log.format == "json"
    with pytest.raises(ValidationError):
        load_settings(env_file=None, TOONMATCH_LOG_FORMAT="xml")
