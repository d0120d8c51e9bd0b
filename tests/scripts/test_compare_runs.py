"""compare_runs: mean ± spread per backbone over seeds, the paper row once per seed, mixed catalogues refused."""

import json

import pytest

from core.errors import RunFolderError
from ml.run import BackboneInfo, CatalogSource, RunConfig
from scripts import compare_runs


def _run(path, kind, seed, genre_f1, hit1, paper_f1, catalog="abc"):
    path.mkdir(parents=True)
    config = RunConfig(
        input_size=32,
        genres=("action", "drama"),
        authors=("Kim",),
        catalog=CatalogSource("cat", catalog, 10),
        backbone=BackboneInfo(kind),
        split_seed=seed,
    )
    metrics = {
        "genre": {"precision": genre_f1, "recall": genre_f1, "f1": genre_f1},
        "author": {"f1": 0.1},
        "retrieval": {"perturbed_hit@1": hit1, "perturbed_hit@24": 1.0, "same_author_hit@24": 0.2},
        "paper_style_genre_cnn": {"precision": paper_f1, "recall": paper_f1, "f1": paper_f1},
        "retrieval_paper_baseline": {"perturbed_hit@1": 0.4, "perturbed_hit@24": 0.6, "same_author_hit@24": 0.1},
    }
    config.write(path)
    (path / "metrics.json").write_text(json.dumps(metrics))
    return path


def test_means_and_spreads_per_backbone(tmp_path):
    runs = [
        _run(tmp_path / "a", "pretrained", 0, 0.2, 1.0, 0.10),
        _run(tmp_path / "b", "pretrained", 1, 0.3, 0.9, 0.20),
        _run(tmp_path / "c", "scratch", 0, 0.1, 1.0, 0.10),
    ]
    table = compare_runs.compare(runs)
    assert list(table) == ["paper", "scratch", "pretrained"]
    assert table["pretrained"]["genre F1"]["mean"] == pytest.approx(0.25)
    assert table["pretrained"]["genre F1"]["std"] == pytest.approx(0.05)
    assert table["pretrained"]["seeds"] == [0, 1]
    assert table["paper"]["seeds"] == [0, 1]  # seed 0 counted once though two runs retrained it
    assert table["paper"]["genre F1"]["mean"] == pytest.approx(0.15)
    assert table["paper"]["author F1"] is None
    text = compare_runs.markdown(table)
    assert "| new backbone (frozen MobileNetV2) | 0, 1 | 0.250 ± 0.050" in text


def test_runs_on_different_catalogues_are_refused(tmp_path):
    runs = [_run(tmp_path / "a", "scratch", 0, 0.2, 1.0, 0.1), _run(tmp_path / "b", "scratch", 1, 0.2, 1.0, 0.1, "x")]
    with pytest.raises(RunFolderError, match="different catalogues"):
        compare_runs.compare(runs)


def test_an_unfinished_run_is_a_clear_error(tmp_path):
    (tmp_path / "half").mkdir()
    with pytest.raises(RunFolderError, match="not a finished run folder"):
        compare_runs.compare([tmp_path / "half"])
