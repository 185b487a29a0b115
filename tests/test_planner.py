"""The memory planner: hand-written lifetimes, a property test on random
buffer graphs, and the in-place rule of each kernel checked byte for byte."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyedge
import tflite_builder as tb  # noqa: E402
from tinyedge.planner import GreedyPlanner, find_overlaps
from tinyedge.verify import run_tflm


def test_buffers_that_never_live_together_share_space():
    planner = GreedyPlanner()
    a = planner.add_buffer(100, 0, 1)
    b = planner.add_buffer(52, 1, 2)
    c = planner.add_buffer(100, 2, 3)
    assert planner.arena_size() == 152
    assert planner.offset(a) == planner.offset(c)
    assert find_overlaps(planner.buffers) == []


def test_alignment_rounds_offsets_up():
    planner = GreedyPlanner(alignment=16)
    planner.add_buffer(10, 0, 0)
    second = planner.add_buffer(10, 0, 0)
    planner.offset(second)
    assert sorted(b.offset for b in planner.buffers) == [0, 16]
    assert planner.arena_size() == 32


def test_an_allowed_overlap_saves_the_difference():
    # A 1x1 convolution over 100 pixels of 8 channels: the output may start one
    # pixel (8 bytes) below its input, which dies at that layer.
    planner = GreedyPlanner()
    x = planner.add_buffer(800, 0, 1)
    y = planner.add_buffer(800, 1, 2)
    planner.allow_overlap(x, y, -8)
    assert planner.arena_size() == 808
    assert planner.offset(y) - planner.offset(x) <= -8
    assert find_overlaps(planner.buffers, planner.overlap_limits) == []
    assert find_overlaps(planner.buffers) == [(0, 1)]  # without the rule it is a clash


def test_a_chain_of_in_place_layers_slides_down():
    planner = GreedyPlanner()
    ids = [planner.add_buffer(1000, step, step + 1) for step in range(5)]
    for a, b in zip(ids, ids[1:]):
        planner.allow_overlap(a, b, -40)
    assert planner.arena_size() == 1000 + 4 * 40


@st.composite
def buffer_graphs(draw):
    count = draw(st.integers(1, 14))
    buffers = []
    for _ in range(count):
        first = draw(st.integers(0, 10))
        buffers.append((draw(st.integers(0, 400)), first, first + draw(st.integers(0, 4))))
    # An op's output may overlap an input that dies where the output is born.
    pairs = [(i, j) for i, a in enumerate(buffers) for j, b in enumerate(buffers)
             if i != j and a[2] == b[1]]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=6)) if pairs else []
    limits = {pair: draw(st.integers(-300, 300)) for pair in chosen}
    return buffers, limits


@settings(max_examples=300, deadline=None)
@given(buffer_graphs(), st.sampled_from([1, 4, 16]))
def test_random_plans_never_clash(graph, alignment):
    buffers, limits = graph
    planner = GreedyPlanner(alignment)
    for size, first, last in buffers:
        planner.add_buffer(size, first, last)
    for (i, j), limit in limits.items():
        if (j, i) not in limits:
            planner.allow_overlap(i, j, limit)
    arena = planner.arena_size()
    assert find_overlaps(planner.buffers, planner.overlap_limits) == []
    assert all(b.offset >= 0 and b.offset % alignment == 0 for b in planner.buffers)
    assert all(b.offset + b.size <= arena for b in planner.buffers)
    assert arena <= sum(-(-size // alignment) * alignment for size, _, _ in buffers) or arena == 0


IN_PLACE_CASES = {
    "conv3x3": lambda rng: tb.conv2d_model(rng, (1, 9, 7, 8), 8, kernel=3, stride=1,
                                           padding="SAME"),
    "conv1x1-widening": lambda rng: tb.conv2d_model(rng, (1, 6, 6, 4), 12, kernel=1),
    "conv-stride2": lambda rng: tb.conv2d_model(rng, (1, 12, 12, 3), 8, kernel=3, stride=2,
                                                padding="SAME"),
    "depthwise": lambda rng: tb.depthwise_model(rng, (1, 10, 6, 16), kernel=3, stride=1,
                                                padding="SAME"),
    "depthwise-x2-dilated": lambda rng: tb.depthwise_model(rng, (1, 11, 9, 4), kernel=3,
                                                           dilation=2, padding="SAME",
                                                           depth_multiplier=2),
    "avg-pool": lambda rng: tb.pool_model(rng, "AVG", (1, 8, 8, 6), filter=3, stride=1,
                                          padding="SAME"),
    "max-pool": lambda rng: tb.pool_model(rng, "MAX", (1, 8, 8, 6), filter=2, stride=2),
    "fully-connected": lambda rng: tb.fully_connected_model(rng, (3, 40), 24),
    "add": lambda rng: tb.add_model(rng, (1, 5, 5, 8), (1, 1, 1, 8)),
    "softmax": lambda rng: tb.softmax_model(rng, (4, 10)),
}


@pytest.mark.parametrize("case", sorted(IN_PLACE_CASES))
def test_in_place_rule_holds_on_the_kernel(case, tmp_path):
    """The plan really overlaps the op's output with its input, and the
    kernel still gives TFLite Micro's bytes."""
    rng = np.random.default_rng(7)
    built = IN_PLACE_CASES[case](rng)
    model = tinyedge.compile(bytes(built), tmp_path / "out")
    spans = {b["tensors"][0]: (b["offset"], b["offset"] + b["bytes"])
             for b in model.report["buffers"]}
    (in_lo, in_hi), (out_lo, out_hi) = spans[model.inputs[0]["name"]], \
        spans[model.outputs[0]["name"]]
    assert in_lo < out_hi and out_lo < in_hi, f"{case}: output does not overlap its input"
    for _ in range(4):
        inputs = built.random_inputs(rng)
        expected = run_tflm(bytes(built), inputs, len(model.outputs))
        for ours, theirs in zip(model.run(*inputs), expected):
            np.testing.assert_array_equal(ours, theirs.reshape(ours.shape))


def test_inspect_plot_draws_every_buffer(shared_models, tmp_path):
    import subprocess
    import sys
    svg = tmp_path / "mem.svg"
    result = subprocess.run([sys.executable, "-m", "tinyedge", "inspect",
                             shared_models / "mlperf_tiny" / "kws_ref_model.tflite",
                             "--plot", svg], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = svg.read_text()
    assert text.startswith("<?xml") and text.rstrip().endswith("</svg>")
    report = tinyedge.compile(shared_models / "mlperf_tiny" / "kws_ref_model.tflite",
                              tmp_path / "kws").report
    assert text.count("<rect x=") == len([b for b in report["buffers"] if b["bytes"]]) + 1


def test_branches_run_in_the_order_that_lowers_the_peak(tmp_path):
    """x feeds two branches: one widens to 64 channels and pools down to one
    pixel, the other is a 1x1 convolution; their sum is the output. The model
    lists the 1x1 branch first, which keeps its output alive while the wide
    one runs; running the wide branch first lowers the peak."""
    rng = np.random.default_rng(3)
    mb = tb.ModelBuilder()
    x = tb._input(mb, rng, "x", (1, 8, 8, 4))
    narrow = tb.add_conv2d(mb, rng, x, 64, kernel=1, name="narrow")
    wide = tb.add_conv2d(mb, rng, x, 64, kernel=3, name="wide")
    pooled = tb.add_pool(mb, rng, wide, "MAX", filter=8, stride=8, padding="VALID")
    y = tb.add_add(mb, rng, narrow, pooled)
    built = mb.build_model([x], [y])
    model = tinyedge.compile(bytes(built), tmp_path / "out")
    order = [layer["op"] for layer in model.report["layers"]]
    assert order == ["CONV_2D", "MAX_POOL_2D", "CONV_2D", "ADD"], order
    assert model.report["arena_bytes"] < model.report["plain_schedule_bytes"]
    inputs = built.random_inputs(rng)
    (ours,) = model.run(*inputs)
    (theirs,) = run_tflm(bytes(built), inputs, 1)
    np.testing.assert_array_equal(ours, theirs.reshape(ours.shape))
