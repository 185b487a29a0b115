"""A DEPTHWISE_CONV_2D over one input channel compiles to a CONV_2D with the
filter transposed (tinyedge/passes/depthwise_as_conv.py). The outputs must stay
TFLite Micro's byte for byte; depthwise layers of more channels, and models
whose depthwise node has problems, are left as they are."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tflite_builder as tb  # noqa: E402

import tinyedge  # noqa: E402
from tinyedge.frontend.tflite import read_tflite  # noqa: E402
from tinyedge.ir import OpKind  # noqa: E402
from tinyedge.passes.depthwise_as_conv import depthwise_as_conv  # noqa: E402


def _layer_ops(compiled) -> list[str]:
    return [layer["op"] for layer in compiled.report["layers"]]


@pytest.mark.parametrize("kwargs", [
    # micro_speech's shape: 10x8 window, stride 2, 8 filters, SAME
    dict(input_shape=(1, 49, 40, 1), kernel=(10, 8), stride=2, depth_multiplier=8,
         activation="RELU"),
    dict(input_shape=(1, 9, 7, 1), kernel=3, stride=1, depth_multiplier=5, padding="VALID",
         per_channel=False, bias=False),
    dict(input_shape=(2, 8, 11, 1), kernel=(2, 5), stride=(1, 3), dilation=(2, 1),
         depth_multiplier=3, activation="RELU6", pre_activation_range=True),
    dict(input_shape=(1, 6, 6, 1), kernel=3, depth_multiplier=1),
], ids=["micro-speech-like", "valid-per-tensor-nobias", "batch2-dilated-relu6", "one-filter"])
def test_one_channel_depthwise_runs_as_conv_and_matches_tflm(kwargs, tmp_path):
    rng = np.random.default_rng(3)
    built = tb.depthwise_model(rng, **kwargs)
    compiled = tinyedge.compile(bytes(built), tmp_path / "out")
    assert _layer_ops(compiled) == ["CONV_2D"]
    tb.assert_matches_tflm(compiled, built, rng)


def test_depthwise_of_more_channels_stays_depthwise(tmp_path):
    built = tb.depthwise_model(np.random.default_rng(4), (1, 6, 6, 2), depth_multiplier=3)
    compiled = tinyedge.compile(bytes(built), tmp_path / "out")
    assert _layer_ops(compiled) == ["DEPTHWISE_CONV_2D"]


def test_rewrite_transposes_the_filter_and_its_scales():
    built = tb.depthwise_model(np.random.default_rng(5), (1, 5, 5, 1), kernel=(3, 2),
                               depth_multiplier=4)
    graph = read_tflite(bytes(built), "m")
    before = graph.nodes[0]
    after = depthwise_as_conv(graph).nodes[0]
    assert before.kind == OpKind.DEPTHWISE_CONV_2D and after.kind == OpKind.CONV_2D
    w_dw, w_conv = before.inputs[1], after.inputs[1]
    assert w_conv.shape == (4, 3, 2, 1)
    for k in range(4):
        np.testing.assert_array_equal(w_conv.data[k, :, :, 0], w_dw.data[0, :, :, k])
    assert w_conv.quant.axis == 0 and w_conv.quant.scales == w_dw.quant.scales
    assert "depth_multiplier" not in after.options
    assert after.index == before.index and after.outputs == before.outputs
