"""`make demo` (scripts.demo): the offline demo on a prepared folder, and the hand-over to the bot with a token."""

from __future__ import annotations

import pytest
from PIL import Image

from scripts import demo


@pytest.fixture
def demo_folder(tmp_path, tiny_catalog, tiny_run, monkeypatch):
    """A demo folder whose catalogue and run already exist (the tiny ones), so nothing is retrained."""
    for key in ("DISCORD_TOKEN", "TOONMATCH_RUN_DIR", "DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)  # no developer .env is read
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "catalog").symlink_to(tiny_catalog, target_is_directory=True)
    (folder / "run").symlink_to(tiny_run, target_is_directory=True)
    return folder


def test_without_a_token_the_offline_demo_answers_a_sample_query_and_writes_a_sheet(demo_folder, capsys):
    assert demo.main(["--dir", str(demo_folder), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "No DISCORD_TOKEN configured" in err and "bot applications.commands" in err
    assert "(synthetic demo catalogue)" in out and " 1. " in out
    sheets = list(demo_folder.glob("contact_sheet.*"))
    assert len(sheets) == 1
    with Image.open(sheets[0]) as sheet:
        assert sheet.width > 500 and sheet.height > 500
    assert (demo_folder / "query.png").is_file()


def test_with_a_token_the_bot_is_started_on_the_demo_run(demo_folder, monkeypatch):
    calls = []
    monkeypatch.setenv("DISCORD_TOKEN", "a-token-for-the-test")
    monkeypatch.setattr(demo.subprocess, "call", lambda cmd, env: calls.append((cmd, env)) or 0)
    assert demo.main(["--dir", str(demo_folder), "--no-progress"]) == 0
    ((cmd, env),) = calls
    assert cmd[1:] == ["-m", "bot"]
    assert env["TOONMATCH_RUN_DIR"] == str((demo_folder / "run").resolve())
    assert not list(demo_folder.glob("contact_sheet.*"))  # the offline demo did not run instead


def test_offline_flag_never_starts_the_bot(demo_folder, monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "a-token-for-the-test")
    monkeypatch.setattr(demo.subprocess, "call", lambda *a, **k: pytest.fail("the bot must not start"))
    assert demo.main(["--dir", str(demo_folder), "--offline", "--no-progress"]) == 0
