"""``python -m scripts.scrape`` as a user runs it: a real subprocess against the local replay server.

The kill test SIGKILLs the scraper from inside the server at chosen requests (deterministic), resumes it, and checks the
result is identical to an uninterrupted run.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from catalog.scrape.client import RetryPolicy
from scripts.scrape import build_parser, main
from tests.catalog.scrape.conftest import standard_faults
from tests.catalog.scrape.helpers import assert_complete_and_valid, snapshot
from tests.catalog.scrape.replay_server import ReplayServer

REPO = Path(__file__).resolve().parents[2]
FAST_FLAGS = ["--rate", "0", "--retry-base-delay", "0.005", "--retry-max-delay", "0.02", "--timeout", "1", "-q"]


async def run_cli(*args: str, on_start=None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "scripts.scrape",
        *args,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    if on_start is not None:
        on_start(proc)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    return proc.returncode, stdout.decode(), stderr.decode()


def scrape_args(server: ReplayServer, out: Path, *extra: str) -> list[str]:
    return ["--api-base", server.base, "--out", str(out), *FAST_FLAGS, *extra]


def test_help_works():
    result = subprocess.run(
        [sys.executable, "-m", "scripts.scrape", "--help"], cwd=REPO, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    for flag in (
        "--api-base",
        "--out",
        "--limit",
        "--weekday",
        "--no-finished",
        "--episodes",
        "--rate",
        "--concurrency",
        "--attempts",
    ):
        assert flag in result.stdout


def test_defaults_are_polite():
    args = build_parser().parse_args([])
    assert args.api_base == "https://comic.naver.com"
    assert (args.concurrency, args.rate, args.attempts, args.finished, args.episodes) == (4, 3.0, 4, True, 0)
    retry = RetryPolicy()  # the flags default to the client's own defaults, not a second copy of them
    given = (args.attempts, args.retry_base_delay, args.retry_max_delay, args.timeout, args.max_retry_after)
    assert given == (retry.attempts, retry.base_delay, retry.max_delay, retry.timeout, retry.max_retry_after)


@pytest.mark.parametrize(
    "argv",
    [
        ["--limit", "0"],
        ["--limit", "x"],
        ["--weekday", "someday"],
        ["--api-base", "ftp://example.org"],
        ["--episodes", "-1"],
        ["--concurrency", "0"],
        ["--rate", "-1"],
        ["--timeout", "0"],
        ["--bogus"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        main([*argv, "--out", str(tmp_path / "never")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("python -m scripts.scrape: error:")
    assert not (tmp_path / "never").exists()


def test_bad_arguments_in_a_real_process():
    result = subprocess.run(
        [sys.executable, "-m", "scripts.scrape", "--limit", "0"], cwd=REPO, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "--limit: must be at least 1" in result.stderr and "Traceback" not in result.stderr


async def test_nothing_listed_exits_1_without_traceback(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, err = await run_cli("--api-base", f"http://127.0.0.1:{port}", "--out", str(tmp_path / "o"), *FAST_FLAGS)
    assert code == 1
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("python -m scripts.scrape: error:")]
    assert len(errors) == 1 and "nothing could be listed" in errors[0] and "connection" in errors[0]


async def test_busy_folder_exits_1(tmp_path):
    from catalog.scrape.store import Store

    server = ReplayServer()
    await server.start()
    try:
        with Store(tmp_path):
            code, _, err = await run_cli(*scrape_args(server, tmp_path))
    finally:
        await server.close()
    assert code == 1 and "another scrape is writing" in err and "Traceback" not in err


async def test_full_run_exit_0_with_summary_and_progress(tmp_path):
    server = ReplayServer(faults=standard_faults())
    await server.start()
    try:
        args = scrape_args(server, tmp_path, "--episodes", "1")
        args.remove("-q")
        code, out, err = await run_cli(*args)
    finally:
        await server.close()
    assert code == 0, err
    rows = assert_complete_and_valid(tmp_path)
    assert len(rows) == 12
    assert "listed      15 titles" in out and "skipped     3 titles" in out and "not_found 1" in out
    for phase in ("listing", "titles", "images"):
        assert phase in err, "a progress bar per phase on stderr"
    assert "title 107" in err, "skipped titles are logged with their id"


async def test_killed_midway_then_resumed_equals_uninterrupted(tmp_path):
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    extra = ("--episodes", "2", "--concurrency", "3")

    server = ReplayServer(faults=standard_faults())
    await server.start()
    try:
        code, _, err = await run_cli(*scrape_args(server, reference, *extra))
        assert code == 0, err
    finally:
        await server.close()

    server = ReplayServer(faults=standard_faults())
    await server.start()
    try:
        for kill_at in (5, 12):  # kill -9 at the 5th image request, then again at the 12th of the next run
            state = {"images": 0, "proc": None}

            def on_request(request, state=state, kill_at=kill_at):
                if request.path.startswith("/img/"):
                    state["images"] += 1
                    if state["images"] == kill_at and state["proc"].returncode is None:
                        os.kill(state["proc"].pid, signal.SIGKILL)

            server.on_request = on_request
            code, _, _ = await run_cli(
                *scrape_args(server, killed, *extra), on_start=lambda proc, state=state: state.update(proc=proc)
            )
            assert code == -signal.SIGKILL
            assert not (killed / "catalog.jsonl").exists(), "no catalogue before a run completes"
            for image in (killed / "images").iterdir():  # nothing half-written under a final name
                if not image.name.startswith("."):
                    with Image.open(image) as im:
                        im.load()
        journal = (killed / ".scrape" / "journal.jsonl").read_text(encoding="utf-8").splitlines()
        assert 0 < len(journal) < 12
        server.on_request = None
        code, out, err = await run_cli(*scrape_args(server, killed, *extra))
        assert code == 0, err
        assert f"{len(journal)} already complete" in out
    finally:
        await server.close()
    assert_complete_and_valid(killed)
    assert snapshot(killed) == snapshot(reference)
    assert (killed / "skipped.jsonl").read_bytes() == (reference / "skipped.jsonl").read_bytes()
