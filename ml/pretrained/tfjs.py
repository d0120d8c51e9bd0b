"""Reading a TF.js graph model: ``model.json`` + weight shards, as plain files or as nsfwjs's ``.min.js`` bundles.

nsfwjs wraps each file in a browserify/UMD bundle around one ``exports = <literal>``: for ``model.min.js`` the
model.json as a *minified JS object literal* (bare keys, ``.07``, ``!0``), for ``group1-shardKofN.min.js`` the shard's
bytes as a base64 string. Weights are dequantised exactly as tfjs-core does (``q·scale + min`` in double precision,
stored as float32), so the converted model sees bit-identical weights.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ml.pretrained.errors import TfjsGraphError

MODEL_FILES = ("model.min.js", "model.json")
_SAFE_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")  # weight paths from the manifest: plain file names only

# ---------------------------------------------------------------------------------------------- JS literal parsing

_PAYLOAD = re.compile(r"\bexports\s*=\s*(?=[{\[\"'])")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_STRINGS = {'"': re.compile(r'"((?:[^"\\]|\\.)*)"', re.S), "'": re.compile(r"'((?:[^'\\]|\\.)*)'", re.S)}
_WORDS = (("true", True), ("false", False), ("null", None), ("!0", True), ("!1", False))


class _LiteralParser:
    """Recursive descent over the JSON-like subset of JS that minifiers emit for data literals."""

    def __init__(self, text: str, pos: int):
        self.text, self.pos = text, pos

    def fail(self, what: str):
        raise TfjsGraphError(f"cannot parse the TF.js bundle: {what} at offset {self.pos}")

    def skip(self) -> str:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.skip() != char:
            self.fail(f"expected {char!r}")
        self.pos += 1

    def value(self) -> Any:
        char = self.skip()
        if char == "{":
            return self.sequence("}", self.member, dict)
        if char == "[":
            return self.sequence("]", self.value, list)
        if char in _STRINGS:
            return self.string()
        for word, val in _WORDS:
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return val
        match = _NUMBER.match(self.text, self.pos)
        if not match:
            self.fail("unexpected character")
        self.pos = match.end()
        token = match.group()
        return float(token) if any(c in token for c in ".eE") else int(token)

    def sequence(self, close: str, item, build):
        self.pos += 1
        items = []
        while self.skip() != close:
            items.append(item())
            if self.skip() == ",":
                self.pos += 1
            elif self.skip() != close:
                self.fail(f"expected ',' or {close!r}")
        self.pos += 1
        return build(items)

    def member(self) -> tuple[str, Any]:
        char = self.skip()
        if char in _STRINGS:
            key = self.string()
        else:
            match = _IDENT.match(self.text, self.pos) or _NUMBER.match(self.text, self.pos)
            if not match:
                self.fail("expected a key")
            key, self.pos = match.group(), match.end()
        self.expect(":")
        return key, self.value()

    def string(self) -> str:
        match = _STRINGS[self.text[self.pos]].match(self.text, self.pos)
        if not match:
            self.fail("unterminated string")
        self.pos = match.end()
        body = match.group(1)
        if "\\" not in body:
            return body
        body = re.sub(r"\\x([0-9a-fA-F]{2})", r"\\u00\1", body.replace("\\'", "'"))
        try:
            return json.loads(f'"{body}"')
        except json.JSONDecodeError:
            self.fail("bad string escape")


def parse_bundle(text: str) -> Any:
    """The literal a ``.min.js`` bundle exports (or a plain JSON document's value)."""
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    match = _PAYLOAD.search(text)
    start = match.end() if match else 0
    return _LiteralParser(text, start).value()


# ---------------------------------------------------------------------------------------------- the graph


@dataclass(frozen=True)
class Node:
    """One GraphDef node: ``inputs`` are data inputs only (control dependencies dropped)."""

    name: str
    op: str
    inputs: tuple[str, ...]
    attr: dict = field(default_factory=dict, repr=False)

    def get(self, key: str, default: Any = None) -> Any:
        """An attribute decoded from its protobuf-JSON form (``s`` base64 → str, ``i`` → int, lists → lists)."""
        if key not in self.attr:
            return default
        return _attr_value(self.attr[key])


def _attr_value(value: dict) -> Any:
    if "list" in value:
        items = value["list"]
        for kind in ("i", "s", "f", "b", "type"):
            if kind in items:
                return [_attr_value({kind: item}) for item in items[kind]]
        return []
    if "s" in value:
        return base64.b64decode(value["s"]).decode()
    if "i" in value:
        return int(value["i"])
    if "f" in value:
        return float(value["f"])
    if "b" in value:
        return bool(value["b"])
    if "type" in value:
        return value["type"]
    if "shape" in value:
        return [int(d.get("size", -1)) for d in value["shape"].get("dim", [])]
    return value


def _data_input(ref: str, node: str) -> str:
    name, _, index = ref.partition(":")
    if index not in ("", "0"):
        raise TfjsGraphError(f"node {node!r} reads output {index} of {name!r}: multi-output ops are not supported")
    return name


@dataclass(frozen=True)
class GraphModel:
    nodes: dict[str, Node]
    weights: dict[str, np.ndarray]


def parse_nodes(topology: dict) -> dict[str, Node]:
    nodes = {}
    for raw in topology.get("node", []):
        name = raw["name"]
        inputs = tuple(_data_input(ref, name) for ref in raw.get("input", []) if not ref.startswith("^"))
        nodes[name] = Node(name, raw["op"], inputs, raw.get("attr", {}))
    return nodes


# ---------------------------------------------------------------------------------------------- weights

_PLAIN = {"float32": "<f4", "int32": "<i4"}
_QUANTISED = {"uint8": "<u1", "uint16": "<u2", "float16": "<f2"}


def dequantise(spec: dict, buffer: bytes, offset: int) -> tuple[np.ndarray, int]:
    """The weight described by a manifest ``spec`` at ``buffer[offset:]``, and the number of bytes it took."""
    shape = [int(d) for d in spec.get("shape", [])]
    size = math.prod(shape)
    dtype, quant = spec.get("dtype", "float32"), spec.get("quantization")
    if dtype not in _PLAIN:
        raise TfjsGraphError(f"weight {spec.get('name')!r} has unsupported dtype {dtype!r}")
    if quant and quant.get("dtype") not in _QUANTISED:
        raise TfjsGraphError(f"weight {spec.get('name')!r} has unsupported quantisation {quant.get('dtype')!r}")
    stored = np.dtype(_QUANTISED[quant["dtype"]] if quant else _PLAIN[dtype])
    nbytes = size * stored.itemsize
    if offset + nbytes > len(buffer):
        raise TfjsGraphError(f"weight {spec.get('name')!r} runs past the end of its shards")
    raw = np.frombuffer(buffer, dtype=stored, count=size, offset=offset)
    if quant and quant["dtype"] in ("uint8", "uint16"):
        values = raw.astype(np.float64) * float(quant["scale"]) + float(quant["min"])  # as tfjs: double, then cast
        values = np.round(values) if dtype == "int32" else values
    else:
        values = raw
    return values.astype(_PLAIN[dtype]).reshape(shape), nbytes


def _read_shard(directory: Path, path: str) -> bytes:
    if not _SAFE_FILE.match(path):
        raise TfjsGraphError(f"weight shard path {path!r} is not a plain file name")
    bundle = directory / f"{path}.min.js"
    if bundle.is_file():
        payload = parse_bundle(bundle.read_text(encoding="utf-8"))
        try:
            return base64.b64decode(payload, validate=True)
        except (TypeError, binascii.Error) as exc:
            raise TfjsGraphError(f"{bundle.name} does not hold base64 weight data") from exc
    if (directory / path).is_file():
        return (directory / path).read_bytes()
    raise TfjsGraphError(f"weight shard {path!r} is missing from {directory}")


def read_weights(directory: Path, manifest: list[dict]) -> dict[str, np.ndarray]:
    weights = {}
    for group in manifest:
        buffer = b"".join(_read_shard(directory, path) for path in group["paths"])
        offset = 0
        for spec in group["weights"]:
            weights[spec["name"]], nbytes = dequantise(spec, buffer, offset)
            offset += nbytes
    return weights


def load_graph_model(directory: str | Path) -> GraphModel:
    """The graph model in ``directory`` (``model.min.js`` or ``model.json`` and its shards)."""
    directory = Path(directory)
    model_file = next((directory / f for f in MODEL_FILES if (directory / f).is_file()), None)
    if model_file is None:
        raise TfjsGraphError(f"no TF.js model ({' or '.join(MODEL_FILES)}) in {directory}")
    model = parse_bundle(model_file.read_text(encoding="utf-8"))
    if not isinstance(model, dict) or model.get("format", "graph-model") != "graph-model":
        raise TfjsGraphError(f"{model_file.name} is not a TF.js graph model")
    if "modelTopology" not in model:
        raise TfjsGraphError(f"{model_file.name} has no modelTopology")
    return GraphModel(parse_nodes(model["modelTopology"]), read_weights(directory, model.get("weightsManifest", [])))
