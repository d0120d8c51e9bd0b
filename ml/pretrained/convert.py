"""A TF.js graph model → an equivalent Keras 3 functional model made of standard layers only.

Only the ops nsfwjs's MobileNetV2 graphs use are supported (plus their unfused forms, ``Mean`` pooling and zero
``Pad``); anything else raises ``TfjsGraphError`` naming the op. ``SAME`` padding maps to Keras ``"same"``, which the
TensorFlow backend implements with TF's own (asymmetric for stride 2) padding rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import keras
import numpy as np

from ml.pretrained.errors import TfjsGraphError
from ml.pretrained.tfjs import GraphModel, Node

_ACTIVATIONS = {"Relu": None, "Relu6": 6.0}


class _Builder:
    """Walks the graph from the requested outputs, mapping each node to a Keras tensor or a NumPy constant."""

    def __init__(self, graph: GraphModel):
        self.graph = graph
        self.values: dict[str, object] = {}
        self.inputs: list = []
        self.names: set[str] = set()

    # ------------------------------------------------------------------ plumbing

    def layer_name(self, node: Node, suffix: str = "") -> str:
        parts = [p for p in node.name.split("/") if p != "StatefulPartitionedCall"] or [node.op]
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", ".".join(parts)) + suffix
        unique, n = name, 1
        while unique in self.names:
            n += 1
            unique = f"{name}_{n}"
        self.names.add(unique)
        return unique

    def tensor(self, node: Node, index: int = 0):
        value = self.values[node.inputs[index]]
        if isinstance(value, np.ndarray):
            raise TfjsGraphError(f"node {node.name!r} ({node.op}) needs a computed input, got a constant")
        return value

    def constant(self, node: Node, index: int) -> np.ndarray:
        value = self.values[node.inputs[index]]
        if not isinstance(value, np.ndarray):
            raise TfjsGraphError(f"node {node.name!r} ({node.op}) needs a constant input {index}")
        return value

    def apply(self, node: Node, layer: keras.layers.Layer, x, weights: list[np.ndarray]):
        out = layer(x)
        try:
            layer.set_weights(weights)
        except ValueError as exc:
            shapes = [w.shape for w in weights]
            raise TfjsGraphError(f"node {node.name!r} ({node.op}): weights of shapes {shapes} do not fit") from exc
        return out

    def activate(self, node: Node, x, op: str):
        if op not in _ACTIVATIONS:
            raise TfjsGraphError(f"node {node.name!r} ({node.op}) fuses unsupported op {op!r}")
        return keras.layers.ReLU(max_value=_ACTIVATIONS[op], name=self.layer_name(node, f".{op.lower()}"))(x)

    def fused(self, node: Node) -> tuple[bool, str | None]:
        """(has bias, activation) from ``fused_ops``: nothing, ``BiasAdd`` or ``BiasAdd`` + ``Relu``/``Relu6``."""
        ops = node.get("fused_ops", [])
        if not ops:
            return False, None
        if ops[0] != "BiasAdd" or len(ops) > 2 or (len(ops) == 2 and ops[1] not in _ACTIVATIONS):
            raise TfjsGraphError(f"node {node.name!r} ({node.op}) fuses unsupported ops {ops}")
        return True, ops[1] if len(ops) == 2 else None

    def padding(self, node: Node, x):
        """Keras padding for a conv/pool node; ``EXPLICIT`` padding becomes a ``ZeroPadding2D`` in front."""
        if node.get("data_format", "NHWC") != "NHWC":
            raise TfjsGraphError(f"node {node.name!r} ({node.op}) uses data format {node.get('data_format')}")
        padding = node.get("padding", "VALID")
        if padding == "EXPLICIT":
            pads = node.get("explicit_paddings", [])
            if len(pads) != 8 or any(pads[:2] + pads[6:]):
                raise TfjsGraphError(f"node {node.name!r} ({node.op}) has explicit paddings {pads}")
            pad = keras.layers.ZeroPadding2D(
                ((pads[2], pads[3]), (pads[4], pads[5])), name=self.layer_name(node, ".pad")
            )
            return pad(x), "valid"
        if padding not in ("SAME", "VALID"):
            raise TfjsGraphError(f"node {node.name!r} ({node.op}) has unsupported padding {padding!r}")
        return x, padding.lower()

    # ------------------------------------------------------------------ ops

    def op_placeholder(self, node: Node):
        shape = node.get("shape", [])
        x = keras.Input(shape=tuple(d if d >= 0 else None for d in shape[1:]), name=self.layer_name(node))
        self.inputs.append(x)
        return x

    def op_const(self, node: Node):
        if node.name not in self.graph.weights:
            raise TfjsGraphError(f"constant {node.name!r} has no value in the weights manifest")
        return self.graph.weights[node.name]

    def op_identity(self, node: Node):
        return self.values[node.inputs[0]]

    def op_elementwise(self, node: Node):
        """``Add``/``AddV2`` of two tensors → ``Add``; a tensor with a scalar constant → ``Rescaling``."""
        if len(node.inputs) != 2:
            raise TfjsGraphError(f"node {node.name!r} ({node.op}) has {len(node.inputs)} inputs, expected 2")
        a, b = (self.values[name] for name in node.inputs)
        consts = [isinstance(v, np.ndarray) for v in (a, b)]
        if not any(consts) and node.op in ("Add", "AddV2"):
            return keras.layers.Add(name=self.layer_name(node))([a, b])
        if consts.count(True) != 1 or (a if consts[0] else b).size != 1:
            raise TfjsGraphError(f"node {node.name!r} ({node.op}) combines inputs in an unsupported way")
        c, x, const_first = (float(a.ravel()[0]), b, True) if consts[0] else (float(b.ravel()[0]), a, False)
        scale, offset = {
            "Mul": (c, 0.0),
            "Add": (1.0, c),
            "AddV2": (1.0, c),
            "Sub": (-1.0, c) if const_first else (1.0, -c),
        }[node.op]
        return keras.layers.Rescaling(scale, offset, name=self.layer_name(node))(x)

    def op_conv(self, node: Node):
        x, padding = self.padding(node, self.tensor(node))
        kernel = self.constant(node, 1)
        strides, dilations = node.get("strides", [1, 1, 1, 1]), node.get("dilations", [1, 1, 1, 1])
        has_bias, activation = self.fused(node)
        weights = [kernel, self.constant(node, 2)] if has_bias else [kernel]
        options = dict(
            kernel_size=kernel.shape[:2],
            strides=tuple(strides[1:3]),
            padding=padding,
            dilation_rate=tuple(dilations[1:3]),
            use_bias=has_bias,
            name=self.layer_name(node),
        )
        if "Depthwise" in node.op:
            layer = keras.layers.DepthwiseConv2D(depth_multiplier=kernel.shape[3], **options)
        else:
            layer = keras.layers.Conv2D(filters=kernel.shape[3], **options)
        out = self.apply(node, layer, x, weights)
        return self.activate(node, out, activation) if activation else out

    def op_matmul(self, node: Node):
        if node.get("transpose_a", False):
            raise TfjsGraphError(f"node {node.name!r} ({node.op}) transposes its input: not supported")
        kernel = self.constant(node, 1)
        kernel = kernel.T if node.get("transpose_b", False) else kernel
        has_bias, activation = self.fused(node)
        weights = [kernel, self.constant(node, 2)] if has_bias else [kernel]
        layer = keras.layers.Dense(kernel.shape[1], use_bias=has_bias, name=self.layer_name(node))
        out = self.apply(node, layer, self.tensor(node), weights)
        return self.activate(node, out, activation) if activation else out

    def op_relu(self, node: Node):
        return self.activate(node, self.tensor(node), node.op)

    def op_pad(self, node: Node):
        pads = self.constant(node, 1).astype(int)
        fill = self.constant(node, 2) if node.op == "PadV2" else np.zeros(1)
        if pads.shape != (4, 2) or pads[0].any() or pads[3].any() or fill.size != 1 or fill.ravel()[0] != 0:
            raise TfjsGraphError(f"node {node.name!r} ({node.op}): only zero padding of height and width is supported")
        padding = ((int(pads[1, 0]), int(pads[1, 1])), (int(pads[2, 0]), int(pads[2, 1])))
        return keras.layers.ZeroPadding2D(padding, name=self.layer_name(node))(self.tensor(node))

    def op_avgpool(self, node: Node):
        x = self.tensor(node)
        ksize, strides = node.get("ksize"), node.get("strides", [1, 1, 1, 1])
        if node.get("padding") == "VALID" and tuple(ksize[1:3]) == tuple(x.shape[1:3]):
            return keras.layers.GlobalAveragePooling2D(keepdims=True, name=self.layer_name(node))(x)
        x, padding = self.padding(node, x)
        name = self.layer_name(node)
        return keras.layers.AveragePooling2D(tuple(ksize[1:3]), tuple(strides[1:3]), padding, name=name)(x)

    def op_mean(self, node: Node):
        axes = sorted(int(a) % 4 for a in self.constant(node, 1).ravel())
        if axes != [1, 2]:
            raise TfjsGraphError(f"node {node.name!r} (Mean) over axes {axes}: only spatial means are supported")
        keepdims = bool(node.get("keep_dims", False))
        return keras.layers.GlobalAveragePooling2D(keepdims=keepdims, name=self.layer_name(node))(self.tensor(node))

    def op_squeeze(self, node: Node):
        x = self.tensor(node)
        rank = len(x.shape)
        dims = {d % rank for d in node.get("squeeze_dims", [])} or {i for i in range(1, rank) if x.shape[i] == 1}
        if 0 in dims or any(x.shape[d] != 1 for d in dims):
            raise TfjsGraphError(f"node {node.name!r} (Squeeze) of dims {sorted(dims)} on shape {tuple(x.shape)}")
        target = tuple(x.shape[d] for d in range(1, rank) if d not in dims)
        return keras.layers.Reshape(target, name=self.layer_name(node))(x)

    def op_softmax(self, node: Node):
        return keras.layers.Softmax(axis=-1, name=self.layer_name(node))(self.tensor(node))

    # ------------------------------------------------------------------ driver

    def build(self, outputs: Mapping[str, str]) -> None:
        for name in _topological(self.graph, list(outputs.values())):
            node = self.graph.nodes[name]
            handler = OPS.get(node.op)
            if handler is None:
                raise TfjsGraphError(
                    f"unsupported TF.js op {node.op!r} (node {node.name!r}); supported: {', '.join(sorted(OPS))}"
                )
            self.values[name] = handler(self, node)


OPS: dict[str, Callable[[_Builder, Node], object]] = {
    "Placeholder": _Builder.op_placeholder,
    "Const": _Builder.op_const,
    "Identity": _Builder.op_identity,
    "Mul": _Builder.op_elementwise,
    "Sub": _Builder.op_elementwise,
    "Add": _Builder.op_elementwise,
    "AddV2": _Builder.op_elementwise,
    "Conv2D": _Builder.op_conv,
    "_FusedConv2D": _Builder.op_conv,
    "DepthwiseConv2dNative": _Builder.op_conv,
    "FusedDepthwiseConv2dNative": _Builder.op_conv,
    "MatMul": _Builder.op_matmul,
    "_FusedMatMul": _Builder.op_matmul,
    "Relu": _Builder.op_relu,
    "Relu6": _Builder.op_relu,
    "Pad": _Builder.op_pad,
    "PadV2": _Builder.op_pad,
    "AvgPool": _Builder.op_avgpool,
    "Mean": _Builder.op_mean,
    "Squeeze": _Builder.op_squeeze,
    "Softmax": _Builder.op_softmax,
}


def _topological(graph: GraphModel, outputs: list[str]) -> list[str]:
    """The nodes ``outputs`` depend on, each after its inputs (iterative DFS: graphs can be deep)."""
    order, done, open_, stack = [], set(), set(), [(name, False) for name in reversed(outputs)]
    while stack:
        name, expanded = stack.pop()
        if name in done:
            continue
        if name not in graph.nodes:
            raise TfjsGraphError(f"the graph has no node {name!r}")
        if expanded:
            done.add(name)
            order.append(name)
            continue
        if name in open_:
            raise TfjsGraphError(f"the graph has a cycle through {name!r}")
        open_.add(name)
        stack.append((name, True))
        stack.extend((dep, False) for dep in reversed(graph.nodes[name].inputs) if dep not in done)
    return order


def to_keras(graph: GraphModel, outputs: Mapping[str, str], name: str = "tfjs_graph") -> keras.Model:
    """A Keras model computing graph nodes ``outputs`` (output key → node name), as a dict of named outputs."""
    builder = _Builder(graph)
    builder.build(outputs)
    if len(builder.inputs) != 1:
        raise TfjsGraphError(f"the graph has {len(builder.inputs)} inputs; exactly one is supported")
    results = {}
    for key, node_name in outputs.items():
        value = builder.values[node_name]
        if isinstance(value, np.ndarray):
            raise TfjsGraphError(f"output {key!r} ({node_name!r}) is a constant")
        results[key] = keras.layers.Identity(name=key)(value)
    return keras.Model(builder.inputs[0], results, name=name)
