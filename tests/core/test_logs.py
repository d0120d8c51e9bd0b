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
