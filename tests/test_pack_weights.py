"""For targets with DSP kernels, the weight matrices of int8 FULLY_CONNECTED and
LSTM layers are emitted with their rows interleaved in fours (TE_FC_QUAD_ROWS),
and the filters of the CONV_2D layers the DSP kernel computes two at a time
interleaved in pairs (TE_CONV_FILTER_PAIRS; tinyedge/passes/pack_weights.py).
The reference kernels read those layouts too, so the same output folder runs on
the host: its outputs must stay TFLite Micro's byte for byte, and the
firmware's the host's."""
from __future__ import annotations

import dataclasses
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tflite_builder as tb  # noqa: E402
from test_firmware import TOOLS  # noqa: E402
from test_stateful_models import run_stream, sequence  # noqa: E402

import tinyedge  # noqa: E402
from tinyedge import weight_layout  # noqa: E402
from tinyedge.api import import_model, lower_graph  # noqa: E402
from tinyedge.kernel_paths import armv7em_paths  # noqa: E402
from tinyedge.planner.schedule import plan_best_schedule  # noqa: E402
from tinyedge.firmware import bench  # noqa: E402
from tinyedge.frontend.tflite import read_tflite  # noqa: E402
from tinyedge.passes.pack_weights import pack_weights  # noqa: E402


def _layouts(out_dir: Path, field: str = "filter_layout") -> list[int]:
    source = next(p for p in out_dir.glob("*.c") if not p.name.endswith("_weights.c"))
    return [int(v) for v in re.findall(rf"\.{field} = (\d+)", source.read_text())]


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
    assert _layouts(tmp_path / "m4") == [int(kwargs["units"] >= 4)]
    tb.assert_matches_tflm(compiled, built, rng)
    # cortex-m55's Helium kernel reads rows; its firmware equals the host run
    helium = tinyedge.compile(bytes(built), tmp_path / "m55", target="cortex-m55")
    assert _layouts(tmp_path / "m55") == [0]
    if all(shutil.which(t) for t in TOOLS):
        assert bench(helium, "cortex-m55", seed=3)["outputs_match_host"]


def test_targets_without_dsp_kernels_keep_rows(tmp_path):
    """Rows for targets without the ARMv7E-M kernels, and for cortex-m55, whose fully
    connected kernel is the Helium one."""
    built = tb.fully_connected_model(np.random.default_rng(22), (1, 16), 8)
    for target in ("generic", "cortex-m0plus", "cortex-m3", "cortex-m55"):
        tinyedge.compile(bytes(built), tmp_path / target, target=target)
        assert _layouts(tmp_path / target) == [0], target
    graph = read_tflite(bytes(built), "m")
    assert pack_weights(graph, ()) is graph


def test_pass_interleaves_each_matrix_once():
    built = tb.fully_connected_model(np.random.default_rng(23), (1, 24), 6)
    graph = read_tflite(bytes(built), "m")
    node = graph.nodes[0]
    # two layers sharing one filter (tied weights) share its interleaved copy
    twice = dataclasses.replace(graph, nodes=[node, dataclasses.replace(node)])
    packed = pack_weights(twice, ("armv7em",))
    first, second = packed.nodes
    copy = weight_layout.kernel_input(first, 1)
    assert copy is weight_layout.kernel_input(second, 1)
    assert weight_layout.layout(first) == weight_layout.layout(second) == weight_layout.QUAD_ROWS
    assert copy.shape == node.inputs[1].shape and copy.name.endswith("_quad_rows")
    np.testing.assert_array_equal(copy.data.reshape(-1),
                                  weight_layout.quad_rows(node.inputs[1].data))
    # the inputs keep their rows (the bias folding and checks read them), and the
    # graph it was given is unchanged
    assert first.inputs[1] is node.inputs[1] and "weight_layout" not in node.options
    assert weight_layout.kernel_input(node, 1) is node.inputs[1]
    assert pack_weights(packed, ("armv7em",)) is packed  # once only


def test_filter_pairs_interleave_words_of_two_filters():
    filters = np.arange(4 * 2 * 1 * 4, dtype=np.int8).reshape(4, 2, 1, 4)  # k = 8
    rows = filters.reshape(4, 8)
    expected = np.concatenate([rows[0, :4], rows[1, :4], rows[0, 4:], rows[1, 4:],
                               rows[2, :4], rows[3, :4], rows[2, 4:], rows[3, 4:]])
    np.testing.assert_array_equal(weight_layout.filter_pairs(filters), expected)


# (model, filters in pairs?): pairs where the DSP kernel's filters_paired takes the layer
# (kernel_paths.pairs_filters)
CONV_CASES = {
    "pointwise": (lambda rng: tb.conv2d_model(rng, (1, 6, 5, 32), 10, kernel=1), True),
    "3x3-per-tensor-relu": (lambda rng: tb.conv2d_model(rng, (1, 10, 12, 8), 8, kernel=3,
                                                        per_channel=False, activation="RELU"),
                            True),
    "3x3-stride-2-batch-2": (lambda rng: tb.conv2d_model(rng, (2, 9, 8, 4), 40, kernel=3,
                                                         stride=2), True),
    "odd-filters": (lambda rng: tb.conv2d_model(rng, (1, 6, 5, 32), 9, kernel=1), False),
    "no-bias": (lambda rng: tb.conv2d_model(rng, (1, 6, 5, 32), 10, kernel=1, bias=False),
                False),
    "window-of-160": (lambda rng: tb.conv2d_model(rng, (1, 6, 5, 160), 10, kernel=1), True),
    "window-over-288": (lambda rng: tb.conv2d_model(rng, (1, 6, 5, 320), 10, kernel=1), False),
}


@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_conv_filters_in_pairs_match_tflm_and_firmware(case, tmp_path):
    make, paired = CONV_CASES[case]
    rng = np.random.default_rng(24)
    built = make(rng)
    compiled = tinyedge.compile(bytes(built), tmp_path / "m4", target="cortex-m4")
    assert _layouts(tmp_path / "m4") == [int(paired)]
    tb.assert_matches_tflm(compiled, built, rng)
    if paired and all(shutil.which(t) for t in TOOLS):
        result = bench(compiled, "cortex-m4", seed=4)
        assert result["outputs_match_host"]
        # on cortex-m55 the folder's own ARMv7E-M conv2d, which reads its pairs, comes
        # before tinyedge's Helium one
        on_m55 = bench(compiled, "cortex-m55", seed=4)
        assert on_m55["outputs_match_host"] and "armv7em/conv2d_s8.c" in on_m55["kernel_variants"]
    # the same model for a target without DSP kernels keeps the filters in rows, and so
    # does cortex-m55's, whose Helium convolution reads rows
    tinyedge.compile(bytes(built), tmp_path / "m3", target="cortex-m3")
    assert _layouts(tmp_path / "m3") == [0]
    helium = tinyedge.compile(bytes(built), tmp_path / "m55", target="cortex-m55")
    assert _layouts(tmp_path / "m55") == [0]
    if all(shutil.which(t) for t in TOOLS):
        assert bench(helium, "cortex-m55", seed=4)["outputs_match_host"]


@pytest.mark.parametrize("name", ["mnist_lstm_int8", "micro_speech_lstm"])
def test_lstm_matrices_interleaved_match_tflm_and_firmware(name, shared_models, tmp_path):
    data = (shared_models / "tflm" / f"{name}.tflite").read_bytes()
    golden = np.load(shared_models / "goldens" / "tflm" / f"{name}.npz")
    model = tinyedge.compile(data, tmp_path / name, target="cortex-m4", name=name)
    assert _layouts(tmp_path / name, "weight_layout") == [1]
    run_stream(model, data, sequence(model, golden, 2, 5))
    if all(shutil.which(t) for t in TOOLS):
        assert bench(model, "cortex-m4", seed=2)["outputs_match_host"]


@pytest.mark.parametrize("name", ["mnist_lstm_int8", "ad01_int8"])
def test_row_blocks_are_kept_only_for_matrices_left_in_rows(name, shared_models):
    """TE_ROW_BLOCKS (te_paths.h): a folder for a DSP target leaves the rows'
    four-at-a-time loops out, as its layers read interleaved matrices."""
    folder = "tflm" if "lstm" in name else "mlperf_tiny"
    data = (shared_models / folder / f"{name}.tflite").read_bytes()
    graph, _ = plan_best_schedule(import_model(data, "m"))
    in_rows = armv7em_paths([layer.call for layer in lower_graph(graph)])
    packed = armv7em_paths([layer.call for layer in
                            lower_graph(pack_weights(graph, ("armv7em",)))])
    assert in_rows["TE_ROW_BLOCKS"] == 1 and packed["TE_ROW_BLOCKS"] == 0
