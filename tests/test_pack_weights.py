"""For targets with DSP kernels, int8 FULLY_CONNECTED filters are emitted with
their rows interleaved in fours (TE_FC_QUAD_ROWS, tinyedge/passes/pack_weights.py).
The reference kernel reads that layout too, so the same output folder runs on
the host: its outputs must stay TFLite Micro's byte for byte."""
from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tflite_builder as tb  # noqa: E402

import tinyedge  # noqa: E402
from tinyedge.frontend.tflite import read_tflite  # noqa: E402
from tinyedge.ops import fully_connected  # noqa: E402
from tinyedge.passes.pack_weights import pack_weights  # noqa: E402


def _filter_layouts(out_dir: Path) -> list[int]:
    source = next(p for p in out_dir.glob("*.c") if not p.name.endswith("_weights.c"))
    return [int(v) for v in re.findall(r"\.filter_layout = (\d+)", source.read_text())]


@pytest.mark.parametrize("kwargs", [
    dict(input_shape=(1, 16), units=8),
    dict(input_shape=(3, 37), units=13, per_channel=True, bias=False),
    dict(input_shape=(1, 2, 3, 6), units=7, keep_num_dims=True, activation="RELU"),
    dict(input_shape=(1, 5), units=3),
], ids=["per-tensor", "per-channel-tails-batch3", "keep-dims-relu", "three-units"])
def test_dsp_target_folder_matches_tflm_on_the_host(kwargs, tmp_path):
    rng = np.random.default_rng(21)
    built = tb.fully_connected_model(rng, **kwargs)
    compiled = tinyedge.compile(bytes(built), tmp_path / "m4", target="cortex-m4")
    # fewer than four units: nothing to interleave, the rows stay
    assert _filter_layouts(tmp_path / "m4") == [int(kwargs["units"] >= 4)]
    for xs in tb.extreme_and_random_inputs(compiled, rng):
        ours = compiled.run(*xs)
        theirs = tb.run_tflm(built, xs)
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a, np.asarray(b).reshape(a.shape))


def test_targets_without_dsp_kernels_keep_rows(tmp_path):
    built = tb.fully_connected_model(np.random.default_rng(22), (1, 16), 8)
    for target in ("generic", "cortex-m0plus", "cortex-m3"):
        tinyedge.compile(bytes(built), tmp_path / target, target=target)
        assert _filter_layouts(tmp_path / target) == [0], target
    graph = read_tflite(bytes(built), "m")
    assert pack_weights(graph, ()) is graph


def test_pass_interleaves_the_filter_once_per_tensor():
    built = tb.fully_connected_model(np.random.default_rng(23), (1, 24), 6)
    graph = read_tflite(bytes(built), "m")
    node = graph.nodes[0]
    # two layers sharing one filter (tied weights) share its interleaved copy
    twice = dataclasses.replace(graph, nodes=[node, dataclasses.replace(node)])
    packed = pack_weights(twice, ("armv7em",))
    first, second = packed.nodes
    assert first.inputs[1] is second.inputs[1]
    assert first.options["filter_layout"] == second.options["filter_layout"] == 1
    filter_ = first.inputs[1]
    assert filter_.shape == node.inputs[1].shape and filter_.name.endswith("_quad_rows")
    np.testing.assert_array_equal(filter_.data.reshape(-1),
                                  fully_connected.quad_rows(node.inputs[1].data))
    assert node.inputs[1].data is not filter_.data  # the graph it was given is unchanged
    assert "filter_layout" not in node.options
    assert pack_weights(packed, ("armv7em",)).nodes[0].inputs[1] is filter_  # once only
