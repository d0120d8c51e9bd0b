"""Writing small TF.js graph models in nsfwjs's format, for tests: uint8-quantised shards in ``.min.js`` bundles.

Nodes are described with plain Python attribute values (``GNode``); the writer encodes them the way the TF.js
converter does (protobuf JSON: base64 strings, ints as strings) inside a minified-style JS literal.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_IDENT = re.compile(r"^[A-Za-z_$][\w$]*$")
_PROLOGUE = (
    '!function(t){if("object"==typeof exports&&"undefined"!=typeof module)module.exports=t();else{'
    '("undefined"!=typeof window?window:this).{var}=t()}}(function(){return function t(e,a,l){function i(d){'
    "var u=a[d]={exports:{}};return e[d][0].call(u.exports,function(t){return i(e[d][1][t]||t)},u,u.exports),"
    "a[d].exports}return i}({1:[function(t,e,a){e.exports="
)
_EPILOGUE = "},{}]},{},[1])(1)});"


@dataclass
class GNode:
    name: str
    op: str
    inputs: tuple[str, ...] = ()
    attrs: dict = field(default_factory=dict)


def node(name: str, op: str, *inputs: str, **attrs) -> GNode:
    return GNode(name, op, tuple(inputs), attrs)


def placeholder(name: str, shape: tuple[int, ...]) -> GNode:
    dims = [{"size": str(d)} for d in (-1, *shape)]
    return GNode(name, "Placeholder", (), {"shape": {"shape": {"dim": dims}}, "dtype": {"type": "DT_FLOAT"}})


def to_js(value) -> str:
    """A minified-style JS literal: bare keys, ``!0``/``!1``, ``.5``."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{k if _IDENT.match(k) else json.dumps(k)}:{to_js(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_js(v) for v in value) + "]"
    if isinstance(value, bool):
        return "!0" if value else "!1"
    if isinstance(value, float):
        text = repr(value)
        return text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) and "e" not in text else text
    return json.dumps(value)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def encode_attr(value) -> dict:
    if isinstance(value, dict):  # already in protobuf-JSON form
        return value
    if isinstance(value, bool):
        return {"b": value}
    if isinstance(value, int):
        return {"i": str(value)}
    if isinstance(value, float):
        return {"f": value}
    if isinstance(value, str):
        return {"s": _b64(value)}
    if isinstance(value, list | tuple):
        if not value:
            return {"list": {}}
        if all(isinstance(v, str) for v in value):
            return {"list": {"s": [_b64(v) for v in value]}}
        return {"list": {"i": [str(v) for v in value]}}
    raise TypeError(value)


def quantise(values: np.ndarray) -> tuple[np.ndarray, float, float]:
    """uint8 codes with their (min, scale), as the TF.js converter's affine quantisation."""
    lo, hi = float(values.min()), float(values.max())
    scale = (hi - lo) / 255 if hi > lo else 1.0
    return np.round((values - lo) / scale).clip(0, 255).astype(np.uint8), lo, scale


def bundle(payload, var: str = "model") -> str:
    return _PROLOGUE.replace("{var}", var) + to_js(payload) + _EPILOGUE


def write_model(directory: Path, nodes: list[GNode], weights: dict[str, np.ndarray], n_shards: int = 2) -> dict:
    """Write ``model.min.js`` + ``group1-shardKofN.min.js``; the weights as the reader must dequantise them.

    Float weights are uint8-quantised; integer ones (paddings, axes) are stored as plain int32.
    """
    directory.mkdir(parents=True, exist_ok=True)
    specs, chunks, expected = [], [], {}
    for name, values in weights.items():
        values = np.asarray(values)
        spec = {"name": name, "shape": list(values.shape)}
        if values.dtype.kind in "iu":
            spec["dtype"] = "int32"
            chunks.append(values.astype("<i4").tobytes())
            expected[name] = values.astype(np.int32)
        else:
            codes, lo, scale = quantise(values.astype(np.float64))
            spec.update(dtype="float32", quantization={"min": lo, "scale": scale, "dtype": "uint8"})
            chunks.append(codes.tobytes())
            expected[name] = (codes.astype(np.float64) * scale + lo).astype(np.float32)
        specs.append(spec)
    data = b"".join(chunks)
    bounds = np.linspace(0, len(data), n_shards + 1).astype(int)
    paths = [f"group1-shard{k + 1}of{n_shards}" for k in range(n_shards)]
    for path, start, stop in zip(paths, bounds[:-1], bounds[1:], strict=True):
        shard = bundle(base64.b64encode(data[start:stop]).decode(), var=path.replace("-", "_"))
        (directory / f"{path}.min.js").write_text(shard, encoding="utf-8")
    topology = {
        "node": [
            {"name": n.name, "op": n.op, **({"input": list(n.inputs)} if n.inputs else {}), "attr": _attrs(n)}
            for n in nodes
        ],
        "versions": {"producer": 175},
    }
    model = {
        "format": "graph-model",
        "generatedBy": "2.2.0",
        "convertedBy": "tests",
        "modelTopology": topology,
        "weightsManifest": [{"paths": paths, "weights": specs}],
    }
    (directory / "model.min.js").write_text(bundle(model), encoding="utf-8")
    return expected


def _attrs(n: GNode) -> dict:
    attrs = {key: encode_attr(value) for key, value in n.attrs.items()}
    attrs.setdefault("T", {"type": "DT_FLOAT"})
    return attrs
