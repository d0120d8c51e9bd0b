"""The output folder: journal durability, torn lines, temp-file cleanup, atomic images, the run lock."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from catalog.scrape.errors import ScrapeLockedError
from catalog.scrape.store import Store

REPO = Path(__file__).resolve().parents[3]


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (20, 10), (1, 2, 3)).save(buf, "JPEG")
    return buf.getvalue()


def entry(tid: int) -> dict:
    return {
        "title_id": tid,
        "row": {"id": f"naver:{tid}", "title": "t"},
        "cover": None,
        "episodes": [],
        "episodes_requested": 0,
        "episodes_exhausted": False,
    }


def test_journal_round_trip(tmp_path):
    with Store(tmp_path) as store:
        store.append(entry(1))
        store.append(entry(2))
        store.append(entry(1) | {"cover": "images/x.jpg"})
    with Store(tmp_path) as store:
        assert sorted(store.entries) == [1, 2]
        assert store.entries[1]["cover"] == "images/x.jpg"
    lines = (tmp_path / ".scrape" / "journal.jsonl").read_text().splitlines()
    assert len(lines) == 2, "duplicates are compacted on open"


def test_torn_and_garbage_journal_lines_are_dropped(tmp_path):
    with Store(tmp_path) as store:
        store.append(entry(1))
        store.append(entry(2))
    path = tmp_path / ".scrape" / "journal.jsonl"
    full = json.dumps({"v": 1, **entry(3)})
    path.write_text(path.read_text() + "not json\n" + full[: len(full) // 2])  # a kill -9 in mid-append
    with Store(tmp_path) as store:
        assert sorted(store.entries) == [1, 2]
        assert store.dropped_journal_lines == 2
        store.append(entry(3))
    with Store(tmp_path) as store:
        assert sorted(store.entries) == [1, 2, 3]
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_stale_temp_files_are_removed_on_open(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / ".scrape").mkdir()
    stale = [
        tmp_path / "images" / ".naver_1_01.jpg.abc.tmp",
        tmp_path / ".catalog.jsonl.x.tmp",
        tmp_path / ".scrape" / ".journal.jsonl.y.tmp",
    ]
    for path in stale:
        path.write_bytes(b"half")
    keep = tmp_path / "images" / "naver_1_01.jpg"
    keep.write_bytes(jpeg())
    with Store(tmp_path) as store:
        assert store.removed_temp_files == 3
        assert store.find_image(1, 1) == "images/naver_1_01.jpg"
    assert not any(p.exists() for p in stale) and keep.exists()


def test_save_image_is_atomic_and_findable(tmp_path):
    with Store(tmp_path) as store:
        assert store.find_image(5, 1) is None
        rel = store.save_image(5, 1, jpeg(), "JPEG")
        assert rel == "images/naver_5_01.jpg"
        assert store.save_image(5, 2, b"png-bytes", "PNG") == "images/naver_5_02.png"
        assert store.find_image(5, 2) == "images/naver_5_02.png"
        assert store.has(rel) and not store.has("images/nope.jpg") and not store.has(None)
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["naver_5_01.jpg", "naver_5_02.png"]


def test_second_live_run_is_refused(tmp_path):
    with Store(tmp_path), pytest.raises(ScrapeLockedError, match="another scrape"):
        Store(tmp_path).open()
    with Store(tmp_path):
        pass


def test_lock_of_a_killed_process_does_not_block(tmp_path):
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[2]); from catalog.scrape.store import Store; "
        "s = Store(sys.argv[1]).open(); print('locked', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path), str(REPO)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(ScrapeLockedError):
            Store(tmp_path).open()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (tmp_path / ".scrape" / "lock").exists(), "the lock file stays, but is no longer locked"
    start = time.monotonic()
    with Store(tmp_path):
        pass
    assert time.monotonic() - start < 1
