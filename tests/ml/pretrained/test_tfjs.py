"""Reading TF.js graph models: the ``.min.js`` wrappers, the JS literal, the shards and their dequantisation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ml.pretrained.errors import TfjsGraphError
from ml.pretrained.tfjs import dequantise, load_graph_model, parse_bundle
from tests.ml.pretrained.tfjs_writer import bundle, node, placeholder, write_model


def test_parse_bundle_reads_minified_literals():
    text = bundle({"a": 1, "b-c": [0.5, -0.25, 1e-07, True, False], "s": 'q"uo\\te', "n": None, "o": {}})
    assert ".5" in text and "!0" in text and "a:1" in text
    assert parse_bundle(text) == {"a": 1, "b-c": [0.5, -0.25, 1e-07, True, False], "s": 'q"uo\\te', "n": None, "o": {}}


def test_parse_bundle_reads_plain_json_and_js_escapes():
    assert parse_bundle(json.dumps({"x": [1, 2]})) == {"x": [1, 2]}
    assert parse_bundle("e.exports={k:'it\\'s',h:\"\\x41\\u00e9\"}") == {"k": "it's", "h": "Aé"}


def test_parse_bundle_rejects_garbage():
    with pytest.raises(TfjsGraphError, match="cannot parse"):
        parse_bundle("e.exports={a:1,,}")


def test_dequantise_uint8_is_q_times_scale_plus_min():
    spec = {
        "name": "w",
        "shape": [2, 2],
        "dtype": "float32",
        "quantization": {"min": -1.0, "scale": 0.5, "dtype": "uint8"},
    }
    values, nbytes = dequantise(spec, b"\x07\x00\x01\x02\xff", offset=1)
    assert nbytes == 4 and values.dtype == np.float32
    np.testing.assert_array_equal(values, [[-1.0, -0.5], [0.0, 126.5]])


def test_dequantise_uint16_float16_and_plain():
    spec16 = {"name": "a", "shape": [2], "quantization": {"min": 0.25, "scale": 0.001, "dtype": "uint16"}}
    values, nbytes = dequantise(spec16, np.array([0, 1000], "<u2").tobytes(), 0)
    assert nbytes == 4
    np.testing.assert_array_equal(values, np.array([0.25, 1000 * 0.001 + 0.25], np.float32))
    half = {"name": "h", "shape": [3], "quantization": {"dtype": "float16"}}
    np.testing.assert_array_equal(dequantise(half, np.array([1.5, -2, 0.125], "<f2").tobytes(), 0)[0], [1.5, -2, 0.125])
    plain = {"name": "p", "shape": [2], "dtype": "int32"}
    np.testing.assert_array_equal(dequantise(plain, np.array([3, -4], "<i4").tobytes(), 0)[0], [3, -4])


def test_dequantise_rejects_short_buffers_and_unknown_dtypes():
    spec = {"name": "w", "shape": [4], "quantization": {"min": 0, "scale": 1, "dtype": "uint8"}}
    with pytest.raises(TfjsGraphError, match="past the end"):
        dequantise(spec, b"\x00\x01", 0)
    with pytest.raises(TfjsGraphError, match="quantisation"):
        dequantise({**spec, "quantization": {"dtype": "int4"}}, b"\x00" * 4, 0)


def test_load_graph_model_round_trips_nodes_and_weights(tmp_path):
    rng = np.random.default_rng(0)
    weights = {"w": rng.normal(size=(3, 3, 3, 4)), "b": rng.normal(size=4), "pads": np.array([[0, 0], [1, 1]])}
    nodes = [
        placeholder("input", (5, 5, 3)),
        node("w", "Const"),
        node("b", "Const"),
        node(
            "conv",
            "_FusedConv2D",
            *("input", "w", "b", "^input"),
            strides=[1, 2, 2, 1],
            padding="SAME",
            fused_ops=["BiasAdd", "Relu6"],
            use_cudnn_on_gpu=True,
        ),
    ]
    expected = write_model(tmp_path, nodes, weights, n_shards=3)
    graph = load_graph_model(tmp_path)
    assert list(graph.nodes) == ["input", "w", "b", "conv"]
    conv = graph.nodes["conv"]
    assert conv.inputs == ("input", "w", "b")  # the control dependency is dropped
    assert conv.get("strides") == [1, 2, 2, 1] and conv.get("padding") == "SAME"
    assert conv.get("fused_ops") == ["BiasAdd", "Relu6"] and conv.get("use_cudnn_on_gpu") is True
    assert graph.nodes["input"].get("shape") == [-1, 5, 5, 3]
    for name, values in expected.items():
        np.testing.assert_array_equal(graph.weights[name], values)  # bit-exact dequantisation
        assert graph.weights[name].dtype == values.dtype
    # and the dequantised weights are the originals to within half a quantisation step
    spread = np.ptp(weights["w"])
    assert np.abs(graph.weights["w"] - weights["w"]).max() <= spread / 255 / 2 + 1e-6


def test_load_graph_model_errors(tmp_path):
    with pytest.raises(TfjsGraphError, match="no TF.js model"):
        load_graph_model(tmp_path)
    write_model(tmp_path, [placeholder("input", (2, 2, 1)), node("w", "Const")], {"w": np.ones(3)}, n_shards=1)
    (tmp_path / "group1-shard1of1.min.js").unlink()
    with pytest.raises(TfjsGraphError, match="missing"):
        load_graph_model(tmp_path)
    model = {
        "format": "graph-model",
        "modelTopology": {"node": []},
        "weightsManifest": [{"paths": ["../x"], "weights": []}],
    }
    (tmp_path / "model.min.js").write_text(bundle(model))
    with pytest.raises(TfjsGraphError, match="not a plain file name"):
        load_graph_model(tmp_path)
    (tmp_path / "model.min.js").write_text(bundle({"format": "layers-model", "modelTopology": {}}))
    with pytest.raises(TfjsGraphError, match="not a TF.js graph model"):
        load_graph_model(tmp_path)


def test_raw_binary_shards_are_read_too(tmp_path):
    data = np.array([1.0, 2.0], "<f4").tobytes()
    (tmp_path / "weights.bin").write_bytes(data)
    model = {
        "modelTopology": {"node": [{"name": "c", "op": "Const"}]},
        "weightsManifest": [{"paths": ["weights.bin"], "weights": [{"name": "c", "shape": [2], "dtype": "float32"}]}],
    }
    (tmp_path / "model.json").write_text(json.dumps(model))
    np.testing.assert_array_equal(load_graph_model(tmp_path).weights["c"], [1.0, 2.0])
