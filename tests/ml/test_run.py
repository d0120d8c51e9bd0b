"""The run folder's typed config: one shape on disk, defaults for older runs, unknown keys kept."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from core.errors import RunFolderError
from ml.run import CONFIG_FILE, DEFAULT_N_TREES, FORMAT_VERSION, MODEL_FILES, BackboneInfo, CatalogSource, RunConfig

# What a run trained before index_flips, nsfw_classes, the backbone record and the catalogue's synthetic flag wrote.
OLD_RUN = {
    "format": FORMAT_VERSION,
    "created_at": "2025-01-01T00:00:00+00:00",
    "input_size": 80,
    "genres": ["action", "drama"],
    "authors": ["Kim"],
    "split_seed": 3,
    "catalog": {"path": "/data/webtoons", "sha256": "ab" * 32, "n_titles": 12},
    "index": {"n_items": 20},
}


def write(folder, data) -> None:
    folder.mkdir(exist_ok=True)
    (folder / CONFIG_FILE).write_text(json.dumps(data), encoding="utf-8")


def test_an_older_run_reads_with_the_defaults(tmp_path):
    write(tmp_path / "run", OLD_RUN)
    config = RunConfig.read(tmp_path / "run")
    assert config.backbone == BackboneInfo("scratch")
    assert (config.n_trees, config.index_flips, config.nsfw_classes) == (DEFAULT_N_TREES, False, ())
    assert config.catalog == CatalogSource("/data/webtoons", "ab" * 32, 12, synthetic=False)
    assert config.genres == ("action", "drama") and config.split_seed == 3 and config.index == {"n_items": 20}


def test_a_written_config_has_the_shape_training_has_always_written(tmp_path):
    config = RunConfig(
        input_size=224,
        genres=("action",),
        authors=("Kim", "Lee"),
        catalog=CatalogSource("cat", "ff", 2, synthetic=True),
        backbone=BackboneInfo("pretrained", {"package": "nsfwjs"}),
        index_flips=True,
        nsfw_classes=("Drawing", "Hentai", "Neutral", "Porn", "Sexy"),
    )
    config.write(tmp_path)
    data = json.loads((tmp_path / CONFIG_FILE).read_text(encoding="utf-8"))
    assert list(data) == [
        "format", "created_at", "input_size", "backbone", "index_flips", "genres", "authors", "split_seed",
        "split_file", "genre_head", "author_head", "n_trees", "train", "nsfw_classes", "models", "catalog", "versions",
    ]  # fmt: skip
    assert data["format"] == FORMAT_VERSION and data["models"] == MODEL_FILES
    assert data["backbone"] == {"kind": "pretrained", "source": {"package": "nsfwjs"}}
    assert data["catalog"] == {"path": "cat", "sha256": "ff", "n_titles": 2, "synthetic": True}
    assert "index" not in data  # no index built yet
    assert RunConfig.read(tmp_path) == config
    fallback = BackboneInfo("scratch", fallback_reason="npm is not installed").to_json()
    assert fallback == {"kind": "scratch", "fallback_reason": "npm is not installed"}


def test_unknown_keys_survive_a_round_trip(tmp_path):
    write(tmp_path, {**OLD_RUN, "refresh_log": [{"at": "2026-01-01"}], "calibration": {"t": 0.5}})
    config = RunConfig.read(tmp_path)
    assert config.extra == {"refresh_log": [{"at": "2026-01-01"}], "calibration": {"t": 0.5}}
    replace(config, n_trees=7).write(tmp_path)
    data = json.loads((tmp_path / CONFIG_FILE).read_text(encoding="utf-8"))
    assert data["refresh_log"] == [{"at": "2026-01-01"}] and data["calibration"] == {"t": 0.5} and data["n_trees"] == 7


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (None, "not a run folder"),
        ({**OLD_RUN, "format": 99}, "run format 99 is not supported"),
        ({k: v for k, v in OLD_RUN.items() if k != "input_size"}, "incomplete or malformed"),
        ([1, 2], "run format None"),
    ],
)
def test_what_is_not_a_readable_run_says_so(tmp_path, data, message):
    if data is not None:
        write(tmp_path, data)
    with pytest.raises(RunFolderError, match=message):
        RunConfig.read(tmp_path)
    with pytest.raises(RunFolderError, match="run folder not found"):
        RunConfig.read(tmp_path / "missing")
