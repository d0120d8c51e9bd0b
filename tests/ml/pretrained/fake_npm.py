"""A stand-in ``npm`` on PATH (a tiny shell script) and a fake nsfwjs tarball, so fetching runs without a network."""

from __future__ import annotations

import hashlib
import io
import stat
import tarfile
from pathlib import Path

import numpy as np

from ml.pretrained import nsfwjs
from tests.ml.pretrained.tfjs_writer import GNode, node, placeholder, write_model


def install_fake_npm(monkeypatch, bin_dir: Path, script: str) -> Path:
    """Put an ``npm`` running ``script`` (sh) first on PATH, alone with the basics; each call is logged."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    npm = bin_dir / "npm"
    npm.write_text(f'#!/bin/sh\necho "$@" >> "{bin_dir}/calls.log"\n{script}\n', encoding="utf-8")
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return npm


def npm_calls(bin_dir: Path) -> list[str]:
    log = bin_dir / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def failing_npm(monkeypatch, bin_dir: Path) -> Path:
    message = "npm error network request to the registry failed, reason: getaddrinfo ENOTFOUND"
    return install_fake_npm(monkeypatch, bin_dir, f'echo "npm error code ENOTFOUND" >&2\necho "{message}" >&2\nexit 1')


def packing_npm(monkeypatch, bin_dir: Path, tarball: Path) -> Path:
    return install_fake_npm(monkeypatch, bin_dir, f'cp "{tarball}" "./{tarball.name}"\necho "{tarball.name}"')


def one_conv_graph() -> tuple[list[GNode], dict[str, np.ndarray]]:
    """Shaped like nsfwjs (224² in, 1792-d features, 5 classes, real output node names), with a one-conv graph."""
    rng = np.random.default_rng(0)
    weights = {
        "two": np.array(2.0),
        "one": np.array(1.0),
        "w": rng.normal(size=(1, 1, 3, nsfwjs.FEATURE_DIM)),
        "b": rng.normal(size=nsfwjs.FEATURE_DIM),
        "head": rng.normal(size=(nsfwjs.FEATURE_DIM, len(nsfwjs.CLASSES))) * 0.05,
        "bias": rng.normal(size=len(nsfwjs.CLASSES)),
    }
    nodes = [
        placeholder("input", (nsfwjs.INPUT_SIZE, nsfwjs.INPUT_SIZE, 3)),
        *(node(name, "Const") for name in weights),
        node("mul", "Mul", "two", "input"),
        node("sub", "Sub", "mul", "one"),
        node("conv", "_FusedConv2D", "sub", "w", "b", strides=[1, 32, 32, 1], padding="VALID", fused_ops=["BiasAdd"]),
        node("pool", "AvgPool", "conv", ksize=[1, 7, 7, 1], strides=[1, 1, 1, 1], padding="VALID"),
        node(nsfwjs.FEATURES_NODE, "Squeeze", "pool", squeeze_dims=[1, 2]),
        node("dense", "_FusedMatMul", nsfwjs.FEATURES_NODE, "head", "bias", fused_ops=["BiasAdd"]),
        node("softmax", "Softmax", "dense"),
        node(nsfwjs.PROBABILITIES_NODE, "Identity", "softmax"),
    ]
    return nodes, weights


def tiny_nsfwjs_tarball(path: Path, work: Path, graph: tuple[list[GNode], dict] | None = None) -> str:
    """An npm-pack-style tarball shaped like nsfwjs holding ``graph`` (nodes, weights; default
    :func:`one_conv_graph`); also a path-traversal decoy. Its sha256."""
    nodes, weights = graph or one_conv_graph()
    model_dir = work / "model"
    write_model(model_dir, nodes, weights, n_shards=2)
    with tarfile.open(path, "w:gz") as archive:
        for file in sorted(model_dir.iterdir()):
            archive.add(file, arcname=nsfwjs.MODEL_DIR + file.name)
        for name, data in [
            ("package/package.json", b'{"name": "nsfwjs", "version": "%s"}' % nsfwjs.VERSION.encode()),
            (nsfwjs.LICENSE_FILE, b"MIT License\n\nCopyright (c) test\n"),
            (nsfwjs.MODEL_DIR + "../../../../evil.min.js", b"e.exports={}"),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()
