"""The converter against a direct ``tf.nn`` evaluation of the same (tiny, written-to-disk) TF.js graphs."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from core.errors import ToonmatchError
from ml.pretrained.convert import OPS, to_keras
from ml.pretrained.errors import TfjsGraphError
from ml.pretrained.tfjs import load_graph_model
from tests.ml.pretrained.tfjs_writer import GNode, node, placeholder, write_model

STANDARD_LAYERS = (
    keras.layers.InputLayer,
    keras.layers.Rescaling,
    keras.layers.Conv2D,
    keras.layers.DepthwiseConv2D,
    keras.layers.ReLU,
    keras.layers.Add,
    keras.layers.ZeroPadding2D,
    keras.layers.AveragePooling2D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.Reshape,
    keras.layers.Dense,
    keras.layers.Softmax,
    keras.layers.Identity,
)


def mobilenet_like(rng) -> tuple[list[GNode], dict, dict]:
    """MobileNetV2's op mix as the TF.js converter emits it, on an 8×8 input: TF's stride-2 ``SAME`` then pads
    one row/column at the bottom/right only, which Keras must reproduce."""
    weights = {
        "two": np.array(2.0),
        "one": np.array(1.0),
        "w1": rng.normal(size=(3, 3, 3, 8)) * 0.5,
        "b1": rng.normal(size=8),
        "wd": rng.normal(size=(3, 3, 8, 1)),
        "bd": rng.normal(size=8),
        "w2": rng.normal(size=(1, 1, 8, 8)) * 0.5,
        "b2": rng.normal(size=8),
        "wd2": rng.normal(size=(3, 3, 8, 2)),
        "bd2": rng.normal(size=16),
        "pads": np.array([[0, 0], [1, 0], [0, 1], [0, 0]]),
        "w3": rng.normal(size=(2, 2, 16, 12)) * 0.3,
        "axes": np.array([1, 2]),
        "wm": rng.normal(size=(12, 5)),
        "bm": rng.normal(size=5),
    }
    same2, same1 = dict(strides=[1, 2, 2, 1], padding="SAME"), dict(strides=[1, 1, 1, 1], padding="SAME")
    relu6 = dict(fused_ops=["BiasAdd", "Relu6"], num_args=1)
    nodes = [
        placeholder("input", (8, 8, 3)),
        *(node(name, "Const") for name in weights),
        node("hub_input/Mul", "Mul", "two", "input"),
        node("hub_input/Sub", "Sub", "hub_input/Mul", "one"),
        node("Conv/Relu6", "_FusedConv2D", "hub_input/Sub", "w1", "b1", **same2, **relu6, dilations=[1, 1, 1, 1]),
        node("dw/depthwise", "FusedDepthwiseConv2dNative", "Conv/Relu6", "wd", "bd", **same1, **relu6),
        node("project", "_FusedConv2D", "dw/depthwise", "w2", "b2", **same1, fused_ops=["BiasAdd"]),
        node("add", "AddV2", "Conv/Relu6", "project"),
        node("dw2", "FusedDepthwiseConv2dNative", "add", "wd2", "bd2", **same2, fused_ops=["BiasAdd", "Relu"]),
        node("pad", "Pad", "dw2", "pads"),
        node("conv3", "Conv2D", "pad", "w3", strides=[1, 1, 1, 1], padding="VALID"),
        node("relu6", "Relu6", "conv3"),
        node("AvgPool", "AvgPool", "relu6", ksize=[1, 2, 2, 1], strides=[1, 1, 1, 1], padding="VALID"),
        node("feature_vector/SpatialSqueeze", "Squeeze", "AvgPool", squeeze_dims=[1, 2]),
        node("mean", "Mean", "relu6", "axes", keep_dims=False),
        node("both", "AddV2", "feature_vector/SpatialSqueeze", "mean"),
        node("dense", "_FusedMatMul", "both", "wm", "bm", fused_ops=["BiasAdd"], transpose_a=False, transpose_b=False),
        node("Softmax", "Softmax", "dense"),
        node("Identity", "Identity", "Softmax"),
    ]
    return nodes, weights, {"features": "feature_vector/SpatialSqueeze", "nsfw": "Identity"}


def variants(rng) -> tuple[list[GNode], dict, dict]:
    """The unfused and less common forms: plain depthwise, Relu, PadV2, EXPLICIT padding, windowed SAME AvgPool,
    kept-dims Mean, Squeeze of every unit dim, MatMul with transpose_b, scalar Add and constant-minus-tensor Sub."""
    weights = {
        "wd": rng.normal(size=(2, 2, 4, 3)),
        "pads": np.array([[0, 0], [0, 2], [1, 1], [0, 0]]),
        "zero": np.array(0.0),
        "wx": rng.normal(size=(3, 3, 12, 5)) * 0.3,
        "axes": np.array([-3, -2]),
        "wt": rng.normal(size=(6, 5)),
        "c": np.array(0.75),
    }
    nodes = [
        placeholder("x", (6, 7, 4)),
        *(node(name, "Const") for name in weights),
        node("dw", "DepthwiseConv2dNative", "x", "wd", strides=[1, 1, 1, 1], padding="VALID", dilations=[1, 1, 1, 1]),
        node("relu", "Relu", "dw"),
        node("padv2", "PadV2", "relu", "pads", "zero"),
        node("xconv", "Conv2D", "padv2", "wx", padding="EXPLICIT", explicit_paddings=[0, 0, 1, 2, 0, 1, 0, 0]),
        node("pool", "AvgPool", "xconv", ksize=[1, 2, 3, 1], strides=[1, 2, 2, 1], padding="SAME"),
        node("mean", "Mean", "pool", "axes", keep_dims=True),
        node("squeeze", "Squeeze", "mean"),
        node("matmul", "MatMul", "squeeze", "wt", transpose_b=True),
        node("shift", "Add", "matmul", "c"),
        node("flip", "Sub", "c", "shift"),
        node("out", "Identity", "flip"),
    ]
    return nodes, weights, {"features": "squeeze", "out": "out"}


def evaluate(nodes: list[GNode], weights: dict, x: np.ndarray, name: str) -> np.ndarray:
    """The graph, op by op, with ``tf.nn`` (an independent path from the converter's Keras layers)."""
    vals = {}
    for n in nodes:
        a = n.attrs
        ins = [vals[i] for i in n.inputs]
        strides, padding = a.get("strides", [1, 1, 1, 1]), a.get("padding")
        if padding == "EXPLICIT":
            padding = np.reshape(a["explicit_paddings"], (4, 2)).tolist()
        if n.op == "Placeholder":
            v = tf.constant(x)
        elif n.op == "Const":
            w = weights[n.name]
            v = tf.constant(w, tf.int32 if w.dtype.kind in "iu" else tf.float32)
        elif n.op in ("Mul", "Sub", "Add", "AddV2"):
            v = {"Mul": tf.multiply, "Sub": tf.subtract, "Add": tf.add, "AddV2": tf.add}[n.op](*ins)
        elif n.op in ("Conv2D", "_FusedConv2D"):
            v = tf.nn.conv2d(ins[0], ins[1], strides, padding)
        elif "Depthwise" in n.op:
            v = tf.nn.depthwise_conv2d(ins[0], ins[1], strides, padding)
        elif n.op in ("MatMul", "_FusedMatMul"):
            v = tf.matmul(ins[0], ins[1], transpose_b=a.get("transpose_b", False))
        elif n.op in ("Relu", "Relu6"):
            v = tf.nn.relu(ins[0]) if n.op == "Relu" else tf.nn.relu6(ins[0])
        elif n.op in ("Pad", "PadV2"):
            v = tf.pad(ins[0], ins[1], constant_values=ins[2] if len(ins) > 2 else 0)
        elif n.op == "AvgPool":
            v = tf.nn.avg_pool2d(ins[0], a["ksize"], strides, padding)
        elif n.op == "Mean":
            v = tf.reduce_mean(ins[0], axis=ins[1], keepdims=a["keep_dims"])
        elif n.op == "Squeeze":
            v = tf.squeeze(ins[0], a.get("squeeze_dims") or None)
        elif n.op in ("Softmax", "Identity"):
            v = tf.nn.softmax(ins[0]) if n.op == "Softmax" else ins[0]
        else:
            raise AssertionError(n.op)
        fused = a.get("fused_ops", [])
        if "BiasAdd" in fused:
            v = tf.nn.bias_add(v, ins[2])
        if "Relu6" in fused or "Relu" in fused:
            v = tf.nn.relu6(v) if "Relu6" in fused else tf.nn.relu(v)
        vals[n.name] = v
    return vals[name].numpy()


@pytest.mark.parametrize("graph", [mobilenet_like, variants])
def test_converted_model_matches_direct_evaluation(graph, tmp_path):
    rng = np.random.default_rng(1)
    nodes, weights, outputs = graph(rng)
    dequantised = write_model(tmp_path / "model", nodes, weights)
    model = to_keras(load_graph_model(tmp_path / "model"), outputs)
    shape = (4, *(int(d["size"]) for d in nodes[0].attrs["shape"]["shape"]["dim"][1:]))
    x = rng.random(shape, dtype=np.float32)
    out = model.predict(x, verbose=0)
    assert set(out) == set(outputs)
    for key, node_name in outputs.items():
        np.testing.assert_allclose(out[key], evaluate(nodes, dequantised, x, node_name), rtol=0, atol=1e-5)
    assert all(isinstance(layer, STANDARD_LAYERS) for layer in model.layers)


def test_saved_model_loads_without_custom_objects(tmp_path):
    nodes, weights, outputs = mobilenet_like(np.random.default_rng(2))
    write_model(tmp_path / "model", nodes, weights)
    model = to_keras(load_graph_model(tmp_path / "model"), outputs, name="tiny")
    model.save(tmp_path / "tiny.keras")
    loaded = keras.models.load_model(tmp_path / "tiny.keras", compile=False, safe_mode=True)
    x = np.random.default_rng(3).random((2, 8, 8, 3), dtype=np.float32)
    expected, got = model.predict(x, verbose=0), loaded.predict(x, verbose=0)
    for key in outputs:
        np.testing.assert_array_equal(got[key], expected[key])


def test_unsupported_op_is_a_clear_error(tmp_path):
    nodes = [placeholder("input", (4, 4, 3)), node("act", "Tanh", "input"), node("Identity", "Identity", "act")]
    write_model(tmp_path, nodes, {}, n_shards=1)
    with pytest.raises(TfjsGraphError, match=r"unsupported TF.js op 'Tanh' \(node 'act'\); supported: .*Conv2D") as exc:
        to_keras(load_graph_model(tmp_path), {"out": "Identity"})
    assert isinstance(exc.value, ToonmatchError) and "\n" not in str(exc.value)
    assert "Tanh" not in OPS


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (node("c", "_FusedConv2D", "input", "w", "w", fused_ops=["BiasAdd", "Elu"], padding="SAME"), "fuses"),
        (node("c", "Conv2D", "input", "w", padding="SAME", data_format="NCHW"), "data format NCHW"),
        (node("c", "_FusedConv2D", "input", "w", "w", fused_ops=["BiasAdd"], padding="SAME"), "do not fit"),
        (node("c", "Mul", "input", "input"), "unsupported way"),
        (node("c", "Squeeze", "input", squeeze_dims=[1]), "Squeeze"),
        (node("c", "Identity", "nowhere"), "no node 'nowhere'"),
    ],
)
def test_unsupported_forms_of_supported_ops(extra, message, tmp_path):
    w = np.ones((1, 1, 3, 3))
    write_model(tmp_path, [placeholder("input", (4, 4, 3)), node("w", "Const"), extra], {"w": w}, n_shards=1)
    with pytest.raises(TfjsGraphError, match=message):
        to_keras(load_graph_model(tmp_path), {"out": "c"})
