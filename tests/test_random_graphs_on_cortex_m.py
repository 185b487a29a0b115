"""Random stacks of CONV_2D and DEPTHWISE_CONV_2D layers (shapes, strides, dilations,
paddings, groups, depth multipliers, activations drawn per seed), compiled for cortex-m4:
their firmware, with the DSP kernels and the paths its te_paths.h keeps, equals the host
run byte for byte, and takes at most 2% more estimated cycles than a build with every path
and the filters in rows (a layer sent to a path left out would run a much slower one;
filters in pairs take more instructions, fewer cycles)."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tflite_builder as tb  # noqa: E402
from test_firmware import TOOLS  # noqa: E402

import tinyedge  # noqa: E402
from tinyedge.firmware import bench  # noqa: E402

pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS),
    reason="the Cortex-M toolchain or QEMU is not installed (scripts/setup.sh installs them)")

# TINYEDGE_RANDOM_GRAPHS sets the count (default 12, about 30 s)
SEEDS = range(int(os.environ.get("TINYEDGE_RANDOM_GRAPHS", "12")))
ACTIVATIONS = ["NONE", "RELU", "RELU6"]


def random_stack(seed: int) -> tb.BuiltModel:
    """2 to 4 layers on a random image; each layer's output keeps at least 1x1."""
    rng = np.random.default_rng(seed)
    mb = tb.ModelBuilder(f"random_stack_{seed}")
    shape = (1, int(rng.integers(3, 30)), int(rng.integers(3, 30)), int(rng.integers(1, 17)))
    x = tb._input(mb, rng, "input", shape)
    for i in range(int(rng.integers(2, 5))):
        _, h, w, c = tb._info(mb, x).shape
        depthwise = rng.random() < 0.5
        kernel = (int(rng.choice([1, 3, 3, 5])), int(rng.choice([1, 3, 3, 5])))
        stride = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        dilation = (1, 1) if rng.random() < 0.8 else (int(rng.integers(1, 3)),) * 2
        padding = "SAME" if rng.random() < 0.7 else "VALID"
        activation = str(rng.choice(ACTIVATIONS))
        if any(tb.conv_out_size(size, k, s, d, padding) < 1
               for size, k, s, d in zip((h, w), kernel, stride, dilation)):
            padding = "SAME"
        if depthwise:
            multiplier = 1 if rng.random() < 0.8 else 2
            if c * multiplier > 64:
                multiplier = 1
            x = tb.add_depthwise(mb, rng, x, kernel, stride, dilation, padding, multiplier,
                                 activation, name=f"dw{i}")
        else:
            groups = 2 if c % 2 == 0 and c >= 4 and rng.random() < 0.15 else 1
            out_c = int(rng.integers(1, 33)) * groups
            x = tb.add_conv2d(mb, rng, x, out_c, kernel, stride, dilation, padding, activation,
                              groups=groups, name=f"conv{i}")
    return mb.build_model([min(mb.input_samples)], [x])


@pytest.mark.parametrize("seed", SEEDS)
def test_random_stack_on_cortex_m4(seed, tmp_path):
    built = random_stack(seed)
    model = tinyedge.compile(bytes(built), tmp_path / "m4", target="cortex-m4")
    ours = bench(model, "cortex-m4", seed=seed)
    assert ours["outputs_match_host"]
    every = bench(tinyedge.compile(bytes(built), tmp_path / "generic"), "cortex-m4", seed=seed)
    assert ours["cycles"] <= 1.02 * every["cycles"]
    assert ours["code_bytes"] <= every["code_bytes"]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_stack_on_cortex_m55(seed, tmp_path):
    """The same stacks on cortex-m55, whose convolutions take the Helium kernel: the
    firmware equals the host run byte for byte."""
    built = random_stack(seed)
    model = tinyedge.compile(bytes(built), tmp_path / "m55", target="cortex-m55")
    assert bench(model, "cortex-m55", seed=seed)["outputs_match_host"]
