"""A tiny random-weight stand-in for nsfwjs's MobileNetV2, in nsfwjs's TF.js format, fetched through the real path.

The graph has what the pretrained stage reads (``ml.train.frozen``): 224×224 RGB in [0, 1] (``hub_input`` Mul/Sub),
residual ``expanded_conv_{5,9,12,15}/add`` maps at 28², 14², 14², 7² and ``Conv_1/Relu6`` at 7²×1792, the 7×7
``AvgPool`` + ``Squeeze`` features (1792-d) and a dense + softmax ``Identity`` over the 5 classes — the real node
names, with 8 channels instead of hundreds and 1×1 strided convolutions instead of MobileNet's blocks.

:func:`tiny_backbone_cache` packs it as an npm tarball, lets ``ml.pretrained.fetch`` "npm pack" it (a stand-in
``npm`` on ``PATH``, the pinned sha256 patched to the tarball's), extract and convert it with the real converter into
a cache folder; with ``TOONMATCH_CACHE`` pointing there, ``load_backbone()`` returns it. No download.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ml.pretrained import nsfwjs
from tests.ml.pretrained.fake_npm import packing_npm, tiny_nsfwjs_tarball
from tests.ml.pretrained.tfjs_writer import GNode, node, placeholder

CHANNELS = 8
_NET = nsfwjs._PREDICT + "StatefulPartitionedCall/predict/MobilenetV2/"


def mobilenet_shaped_graph(seed: int = 0) -> tuple[list[GNode], dict[str, np.ndarray]]:
    """The nodes and weights of the stand-in (see the module docstring)."""
    rng = np.random.default_rng(seed)
    weights: dict[str, np.ndarray] = {"two": np.array(2.0), "one": np.array(1.0)}
    nodes: list[GNode] = [placeholder("input", (nsfwjs.INPUT_SIZE, nsfwjs.INPUT_SIZE, 3))]
    nodes += [node("hub_input/Mul", "Mul", "two", "input"), node("hub_input/Sub", "Sub", "hub_input/Mul", "one")]

    def conv(name: str, x: str, out: int, stride: int, relu6: bool, *, scale: float = 0.5) -> str:
        channels_in = 3 if x == "hub_input/Sub" else CHANNELS
        weights[f"{name}/w"] = rng.normal(size=(1, 1, channels_in, out)) * scale
        weights[f"{name}/b"] = rng.normal(size=out) * 0.1
        fused = {"fused_ops": ["BiasAdd", "Relu6"] if relu6 else ["BiasAdd"], "num_args": 1}
        strides = [1, stride, stride, 1]
        nodes.append(node(name, "_FusedConv2D", x, f"{name}/w", f"{name}/b", strides=strides, padding="VALID", **fused))
        return name

    def residual(block: str, x: str) -> str:
        branch = conv(_NET + f"{block}/project/BatchNorm/FusedBatchNormV3", x, CHANNELS, 1, relu6=False, scale=0.3)
        nodes.append(node(_NET + f"{block}/add", "AddV2", x, branch))
        return _NET + f"{block}/add"

    x = conv(_NET + "Conv/Relu6", "hub_input/Sub", CHANNELS, 8, relu6=True)  # 28×28
    x = residual("expanded_conv_5", x)
    x = conv(_NET + "expanded_conv_6/Relu6", x, CHANNELS, 2, relu6=True)  # 14×14
    x = residual("expanded_conv_12", residual("expanded_conv_9", x))
    x = conv(_NET + "expanded_conv_13/Relu6", x, CHANNELS, 2, relu6=True)  # 7×7
    x = residual("expanded_conv_15", x)
    top = conv(_NET + "Conv_1/Relu6", x, nsfwjs.FEATURE_DIM, 1, relu6=True)
    weights["head"] = rng.normal(size=(nsfwjs.FEATURE_DIM, len(nsfwjs.CLASSES))) * 0.05
    weights["bias"] = rng.normal(size=len(nsfwjs.CLASSES))
    nodes += [
        node(_NET + "Logits/AvgPool", "AvgPool", top, ksize=[1, 7, 7, 1], strides=[1, 1, 1, 1], padding="VALID"),
        node(nsfwjs.FEATURES_NODE, "Squeeze", _NET + "Logits/AvgPool", squeeze_dims=[1, 2]),
        node("dense", "_FusedMatMul", nsfwjs.FEATURES_NODE, "head", "bias", fused_ops=["BiasAdd"]),
        node("softmax", "Softmax", "dense"),
        node(nsfwjs.PROBABILITIES_NODE, "Identity", "softmax"),
    ]
    constants = [node(name, "Const") for name in weights]
    return [nodes[0], *constants, *nodes[1:]], weights


@contextlib.contextmanager
def tiny_backbone_cache(cache: Path, work: Path) -> Iterator[Path]:
    """Fetch the stand-in into ``cache`` through ``ml.pretrained.fetch`` (a stand-in npm, the pinned hash patched),
    then, inside the context, point ``TOONMATCH_CACHE`` at it; the cached model's path."""
    from ml.pretrained.fetch import fetch_backbone

    tarball = work / f"{nsfwjs.PACKAGE}-{nsfwjs.VERSION}.tgz"
    path = os.environ.get("PATH", os.defpath)
    with pytest.MonkeyPatch.context() as mp:
        sha = tiny_nsfwjs_tarball(tarball, work, graph=mobilenet_shaped_graph())
        mp.setattr(nsfwjs, "TARBALL_SHA256", sha)  # read by fetch (the hash check) and the cache's freshness check
        packing_npm(mp, work / "bin", tarball)
        model = fetch_backbone(cache)
        mp.setenv("PATH", path)  # the stand-in npm only for the fetch
        mp.setenv("TOONMATCH_CACHE", str(cache))
        yield model
