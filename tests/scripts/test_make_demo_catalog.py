"""The ``make_demo_catalog`` front door: one summary line, one-line errors, no traceback (the catalogue itself is
tested in ``tests/catalog/demo``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from catalog.format import load_catalog
from scripts.cli import run_main
from scripts.make_demo_catalog import main

ROOT = Path(__file__).resolve().parents[2]


def test_cli_writes_a_catalogue_and_one_summary_line(tmp_path, capsys):
    out = tmp_path / "demo"
    assert run_main(main, ["--out", str(out), "--titles", "12", "--seed", "2", "--no-progress"]) == 0
    stdout = capsys.readouterr().out.strip().splitlines()
    assert len(stdout) == 1 and "12 titles" in stdout[0] and "synthetic" in stdout[0]
    assert len(load_catalog(out)) == 12


@pytest.mark.parametrize(
    "args",
    [["--titles", "1"], ["--titles", "many"], ["--seed", "-1"], ["--size", "big"], ["--images-per-title", "0"],
     ["--bogus"], []],
)  # fmt: skip
def test_cli_bad_arguments_give_one_line(tmp_path, capsys, args):
    argv = args if args == [] else ["--out", str(tmp_path / "demo"), *args]
    with pytest.raises(SystemExit) as exc:
        run_main(main, argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error:" in err[0]
    assert not (tmp_path / "demo").exists()


def test_cli_as_a_module_refuses_a_foreign_folder_without_traceback(tmp_path):
    (tmp_path / "real.jsonl").write_text("{}")
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.make_demo_catalog", "--out", str(tmp_path), "--titles", "4"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: refusing to write into {tmp_path}: the folder is not empty "
        "and is not a demo catalogue (choose a new or empty folder)"
    ]
