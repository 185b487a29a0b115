"""An int8 FULLY_CONNECTED layer's input offset is folded into its bias at
compile time (tinyedge/passes/fold_input_offset.py): the kernel then gets an
input offset of 0 and the outputs must stay TFLite Micro's byte for byte."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tflite_builder as tb  # noqa: E402

import tinyedge  # noqa: E402
from tinyedge.frontend.tflite import read_tflite  # noqa: E402
from tinyedge.ir import Quantization  # noqa: E402
from tinyedge.passes.fold_input_offset import fold_input_offset  # noqa: E402


def _kernel_input_offsets(out_dir: Path) -> list[int]:
    source = next(p for p in out_dir.glob("*.c") if not p.name.endswith("_weights.c"))
    return [int(v) for v in re.findall(r"\.input_offset = (-?\d+)", source.read_text())]


@pytest.mark.parametrize("kwargs", [
    dict(input_shape=(1, 16), units=8),
    dict(input_shape=(3, 37), units=5, per_channel=True, bias=False),
    dict(input_shape=(1, 2, 3, 8), units=7, keep_num_dims=True, activation="RELU",
         pre_activation_range=True),
    dict(input_shape=(2, 640), units=13, per_channel=True),
], ids=["per-tensor", "per-channel-nobias-batch3", "keep-dims-relu", "wide"])
def test_folded_fully_connected_matches_tflm(kwargs, tmp_path):
    rng = np.random.default_rng(11)
    built = tb.fully_connected_model(rng, **kwargs)
    assert read_tflite(bytes(built), "m").inputs[0].quant.zero_point != 0
    compiled = tinyedge.compile(bytes(built), tmp_path / "out")
    assert _kernel_input_offsets(tmp_path / "out") == [0]
    tb.assert_matches_tflm(compiled, built, rng)


@pytest.mark.parametrize("bias", [True, False])
def test_folded_bias_is_bias_plus_offset_times_weight_sums(bias):
    built = tb.fully_connected_model(np.random.default_rng(12), (1, 24), 6, bias=bias)
    graph = read_tflite(bytes(built), "m")
    before = graph.nodes[0]
    after = fold_input_offset(graph).nodes[0]
    assert after.options["input_offset_folded"] and "input_offset_folded" not in before.options
    off = -before.inputs[0].quant.zero_point
    weights = before.inputs[1].data.astype(np.int64)
    old = before.inputs[2].data.astype(np.int64) if bias else np.zeros(6, np.int64)
    np.testing.assert_array_equal(after.inputs[2].data, old + off * weights.sum(axis=1))
    assert after.inputs[2].dtype.name == "INT32"
    assert fold_input_offset(fold_input_offset(graph)).nodes[0].inputs[2].data.tolist() == \
        after.inputs[2].data.tolist()  # folding twice changes nothing


def test_folded_bias_wraps_like_the_int32_accumulator():
    built = tb.fully_connected_model(np.random.default_rng(13), (1, 8), 3)
    graph = read_tflite(bytes(built), "m")
    node = graph.nodes[0]
    node.inputs[0].quant = Quantization((0.05,), (-100,))  # input offset +100
    node.inputs[1].data[:] = 127
    node.inputs[2].data[:] = np.iinfo(np.int32).max - 5
    folded = fold_input_offset(graph).nodes[0].inputs[2].data
    assert folded.tolist() == [np.iinfo(np.int32).min - 6 + 100 * 127 * 8] * 3


def test_zero_input_offset_is_left_alone():
    built = tb.fully_connected_model(np.random.default_rng(14), (1, 8), 3)
    graph = read_tflite(bytes(built), "m")
    graph.inputs[0].quant = Quantization((0.05,), (0,))
    assert fold_input_offset(graph) is graph
