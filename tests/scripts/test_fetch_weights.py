"""``python -m scripts.fetch_weights``: its error path, with a fake npm that fails as it does offline."""

from __future__ import annotations

from ml.pretrained import nsfwjs
from scripts import fetch_weights
from scripts.cli import run_main
from tests.ml.pretrained.fake_npm import failing_npm


def test_failing_npm_exits_1_with_a_one_line_error(monkeypatch, tmp_path, capsys):
    failing_npm(monkeypatch, tmp_path / "bin")
    assert run_main(fetch_weights.main, ["--cache", str(tmp_path / "cache")]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "ENOTFOUND" in errors[0]
    assert errors[0].startswith(f"error: npm pack nsfwjs@{nsfwjs.VERSION} failed (offline or no registry access?): ")
