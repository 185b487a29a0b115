"""A folder compiled for a DSP target turns off, in kernels/src/armv7em/te_paths.h, the
kernel paths none of its layers can take (tinyedge/kernel_paths.py), so that its firmware
is smaller; run on the emulator, it still equals the host run byte for byte. A layer sent
to a path that a build left out takes another path that handles it, or fails with
TE_PATH_LEFT_OUT."""
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

import tinyedge  # noqa: E402
from tinyedge.api import import_model, lower_graph  # noqa: E402
from tinyedge.errors import EmulatorError  # noqa: E402
from tinyedge.firmware import bench  # noqa: E402
from tinyedge.kernel_paths import ARMV7EM_PATHS, armv7em_paths  # noqa: E402
from tinyedge.ops import CArray  # noqa: E402

needs_emulator = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS),
    reason="the Cortex-M toolchain or QEMU is not installed (scripts/setup.sh installs them)")

# One layer per case, and the paths its folder keeps
CASES = {
    # a first layer: a short window, few filters, widened once (conv_filter_columns)
    "conv-3x3": (lambda rng: tb.conv2d_model(rng, (1, 9, 7, 3), 6, kernel=3, stride=2),
                 {"TE_CONV_FILTER_COLUMNS"}),
    # too many filters for that: column blocks of pixels
    "conv-3x3-many-filters": (lambda rng: tb.conv2d_model(rng, (1, 9, 7, 3), 48, kernel=3,
                                                          stride=2),
                              {"TE_CONV_COLUMNS"}),
    # windows of whole groups up to 288 values: blocks of six pixels (120 of them)
    "conv-3x3-six": (lambda rng: tb.conv2d_model(rng, (1, 10, 12, 8), 7, kernel=3),
                     {"TE_CONV_SIX"}),
    # longer ones with rows of whole groups of 4 (3 x 40 channels), widened four
    # pixels at a time
    "conv-3x3-rows": (lambda rng: tb.conv2d_model(rng, (1, 10, 12, 40), 7, kernel=3),
                      {"TE_CONV_COLUMNS", "TE_CONV_ROW_BLOCKS"}),
    "pointwise-narrow": (lambda rng: tb.conv2d_model(rng, (1, 6, 5, 12), 10, kernel=1),
                         {"TE_CONV_NARROW"}),
    # 32 inputs, whole groups of 4: blocks of six pixels (30 of them)...
    "pointwise-six": (lambda rng: tb.conv2d_model(rng, (1, 6, 5, 32), 9, kernel=1),
                      {"TE_CONV_SIX"}),
    # ...of two filters at a time, for an even number of them (passes/pack_weights.py)...
    "pointwise-paired": (lambda rng: tb.conv2d_model(rng, (1, 6, 5, 32), 10, kernel=1),
                         {"TE_CONV_PAIRED"}),
    "conv-3x3-paired": (lambda rng: tb.conv2d_model(rng, (1, 10, 12, 8), 8, kernel=3),
                        {"TE_CONV_PAIRED"}),
    # ...but one at a time where a last block of three would waste more than 5% of
    # the layer (7 pixels: 2 wasted; the last pixel takes a column block)...
    "pointwise-six-few-pixels": (lambda rng: tb.conv2d_model(rng, (1, 7, 1, 32), 10, kernel=1),
                                 {"TE_CONV_SIX", "TE_CONV_COLUMNS"}),
    # ...and of 29 pixels, the last 5 in column blocks (a short block of six would
    # waste a pixel's work, 3% of the layer's)...
    "pointwise-six-and-rest": (lambda rng: tb.conv2d_model(rng, (1, 29, 1, 48), 9, kernel=1),
                               {"TE_CONV_SIX", "TE_CONV_COLUMNS"}),
    # ...but of 125 (KWS's), in a short block: 0.8%, and no column path
    "pointwise-six-short-block": (lambda rng: tb.conv2d_model(rng, (1, 25, 5, 32), 9,
                                                              kernel=1),
                                  {"TE_CONV_SIX"}),
    "grouped": (lambda rng: tb.conv2d_model(rng, (1, 6, 6, 8), 6, kernel=3, groups=2),
                {"TE_CONV_IN_PLACE"}),
    "long-window": (lambda rng: tb.conv2d_model(rng, (1, 5, 5, 72), 5, kernel=3),
                    {"TE_CONV_LONG", "TE_CONV_IN_PLACE"}),
    # bands of rows
    "depthwise-3x3-stride-2": (lambda rng: tb.depthwise_model(rng, (1, 12, 11, 8), stride=(2, 1)),
                               {"TE_DW_BANDS", "TE_DW_STRIDE2"}),
    "depthwise-3x3": (lambda rng: tb.depthwise_model(rng, (1, 10, 9, 4)), {"TE_DW_BANDS"}),
    # planes (rows too short for bands: KWS's shape), then planes by bands of 4 channels
    "depthwise-planes": (lambda rng: tb.depthwise_model(rng, (1, 25, 5, 12), activation="RELU"),
                         {"TE_DW_BANDS"}),
    "depthwise-planes-by-bands": (lambda rng: tb.depthwise_model(rng, (1, 200, 6, 8), stride=2),
                                  {"TE_DW_BANDS", "TE_DW_STRIDE2"}),
    # the pixel path: other windows, depth multipliers, images too small for planes
    "depthwise-5x5": (lambda rng: tb.depthwise_model(rng, (1, 8, 8, 4), kernel=5),
                      {"TE_DW_PIXELS"}),
    "depthwise-multiplier-2": (lambda rng: tb.depthwise_model(rng, (1, 9, 9, 3),
                                                              depth_multiplier=2),
                               {"TE_DW_PIXELS"}),
    "depthwise-3x3-tiny": (lambda rng: tb.depthwise_model(rng, (1, 3, 3, 8)),
                           {"TE_DW_BANDS", "TE_DW_PIXELS"}),
    # filters interleaved for the DSP kernel (passes/pack_weights.py): no row blocks
    "fully-connected": (lambda rng: tb.fully_connected_model(rng, (2, 30), 9), set()),
}


def _paths_h(out_dir: Path) -> dict[str, int]:
    text = (out_dir / "kernels" / "src" / "armv7em" / "te_paths.h").read_text()
    return {name: int(value) for name, value in re.findall(r"#define (TE_\w+) (\d)", text)}


def _set_paths(out_dir: Path, paths: dict[str, int]) -> None:
    header = out_dir / "kernels" / "src" / "armv7em" / "te_paths.h"
    text = header.read_text()
    for name, value in paths.items():
        text = re.sub(rf"#define {name} \d", f"#define {name} {value}", text)
    header.write_text(text)


@pytest.mark.parametrize("case", sorted(CASES))
def test_paths_of_single_layers(case, tmp_path):
    make, expected = CASES[case]
    model = tinyedge.compile(bytes(make(np.random.default_rng(7))), tmp_path / "m",
                             target="cortex-m4")
    assert {p for p, on in _paths_h(model.out_dir).items() if on} == expected


def test_a_channel_without_the_fast_requantization_keeps_the_column_path():
    """te_dsp_rq_init declines a shift >= 0 (a scale of 1/2 or more): conv_narrow and
    conv_filter_columns need every channel prepared, so such layers take the column path."""
    built = CASES["pointwise-narrow"][0](np.random.default_rng(7))
    (call,) = [layer.call for layer in lower_graph(import_model(bytes(built), "m"))]
    shifts = next(c for c in call.constants if isinstance(c, CArray) and c.name.endswith("_shifts"))
    shifts.values[-1] = 0
    paths = armv7em_paths([call])
    assert paths["TE_CONV_COLUMNS"] == 1 and paths["TE_CONV_NARROW"] == 0
    # the same for conv_filter_columns
    built = CASES["conv-3x3"][0](np.random.default_rng(7))
    (call,) = [layer.call for layer in lower_graph(import_model(bytes(built), "m"))]
    shifts = next(c for c in call.constants if isinstance(c, CArray) and c.name.endswith("_shifts"))
    assert armv7em_paths([call])["TE_CONV_FILTER_COLUMNS"] == 1
    shifts.values[0] = 1
    paths = armv7em_paths([call])
    assert paths["TE_CONV_COLUMNS"] == 1 and paths["TE_CONV_FILTER_COLUMNS"] == 0
    assert armv7em_paths([dataclasses.replace(call, function="te_conv2d_s16")]) == \
        dict.fromkeys(ARMV7EM_PATHS, 0)


@needs_emulator
@pytest.mark.parametrize("case", sorted(CASES))
def test_folder_builds_only_its_paths_and_matches_host(case, tmp_path):
    make, expected = CASES[case]
    built = make(np.random.default_rng(11))
    model = tinyedge.compile(bytes(built), tmp_path / "m4", target="cortex-m4")
    assert {p for p, on in _paths_h(model.out_dir).items() if on} == expected
    ours = bench(model, "cortex-m4", seed=3)
    assert ours["outputs_match_host"]
    # The same layer with every path built (tinyedge's own kernels)
    every = bench(tinyedge.compile(bytes(built), tmp_path / "generic"), "cortex-m4", seed=3)
    assert every["outputs_match_host"]
    assert ours["code_bytes"] < every["code_bytes"]
    if case.startswith("depthwise") and "TE_DW_PIXELS" not in expected:
        # The layer did not need the pixel path: with it, the same work (a
        # wrong guess would have run the plain loops, several times slower)
        _set_paths(model.out_dir, {"TE_DW_PIXELS": 1})
        with_pixels = bench(model, "cortex-m4", seed=3)
        assert abs(ours["instructions"] - with_pixels["instructions"]) < \
            0.01 * with_pixels["instructions"]
        assert with_pixels["code_bytes"] > ours["code_bytes"]


FALLBACK_CASES = {
    "5x5-same": dict(input_shape=(1, 8, 8, 4), kernel=5),
    "multiplier-2-dilated": dict(input_shape=(1, 9, 9, 3), depth_multiplier=2, dilation=2),
    "3x3-stride-2-valid-batch-2": dict(input_shape=(2, 7, 9, 5), stride=2, padding="VALID",
                                       activation="RELU6"),
    "per-tensor-no-bias": dict(input_shape=(1, 5, 6, 4), kernel=(2, 3), per_channel=False,
                               bias=False),
}


@needs_emulator
@pytest.mark.parametrize("case", sorted(FALLBACK_CASES))
def test_depthwise_without_its_pixel_path_still_matches_host(case, tmp_path):
    """Layers that need the pixel path, in a build that left it out, run the
    plain loops (depthwise_plain): slower, the same bytes."""
    built = tb.depthwise_model(np.random.default_rng(2), **FALLBACK_CASES[case])
    model = tinyedge.compile(bytes(built), tmp_path / "m4", target="cortex-m4")
    assert _paths_h(model.out_dir)["TE_DW_PIXELS"] == 1
    fast = bench(model, "cortex-m4", seed=1)
    _set_paths(model.out_dir, {"TE_DW_PIXELS": 0})
    plain = bench(model, "cortex-m4", seed=1)
    assert fast["outputs_match_host"] and plain["outputs_match_host"]
    assert plain["code_bytes"] < fast["code_bytes"]


@needs_emulator
def test_a_left_out_path_falls_back_or_fails(tmp_path):
    built = CASES["conv-3x3"][0](np.random.default_rng(5))
    model = tinyedge.compile(bytes(built), tmp_path / "m4", target="cortex-m4")
    _set_paths(model.out_dir, {"TE_CONV_FILTER_COLUMNS": 0, "TE_CONV_COLUMNS": 1})
    assert bench(model, "cortex-m4")["outputs_match_host"]  # column blocks of pixels
    _set_paths(model.out_dir, {"TE_CONV_COLUMNS": 0, "TE_CONV_IN_PLACE": 1})
    assert bench(model, "cortex-m4")["outputs_match_host"]  # one pixel at a time
    _set_paths(model.out_dir, {"TE_CONV_IN_PLACE": 0})
    with pytest.raises(EmulatorError, match="returned status -2"):
        bench(model, "cortex-m4")


@needs_emulator
def test_filters_in_pairs_without_the_paired_path_fail(tmp_path):
    """Filters in pairs (TE_CONV_FILTER_PAIRS) are read by the paired path only: a
    build that leaves it out fails with TE_PATH_LEFT_OUT, even with the others."""
    built = CASES["pointwise-paired"][0](np.random.default_rng(5))
    model = tinyedge.compile(bytes(built), tmp_path / "m4", target="cortex-m4")
    assert bench(model, "cortex-m4")["outputs_match_host"]
    _set_paths(model.out_dir, {"TE_CONV_PAIRED": 0, "TE_CONV_SIX": 1, "TE_CONV_COLUMNS": 1,
                               "TE_CONV_IN_PLACE": 1})
    with pytest.raises(EmulatorError, match="returned status -2"):
        bench(model, "cortex-m4")


@needs_emulator
@pytest.mark.parametrize("stem, variant", [("keyword_scrambled", "svdf_s8.c"),
                                           ("mnist_lstm_int8", "lstm_s8_s16.c")])
def test_variants_that_wrap_their_reference_build_from_the_folder(shared_models, tmp_path,
                                                                   stem, variant):
    """SVDF's and LSTM's DSP versions include the reference kernel (../ref/<file>.c);
    the folder carries that copy too, and its firmware matches the host."""
    model = tinyedge.compile(shared_models / "tflm" / f"{stem}.tflite", tmp_path / stem,
                             target="cortex-m4")
    assert (model.out_dir / "kernels" / "src" / "ref" / variant).is_file()
    result = bench(model, "cortex-m4")
    assert result["outputs_match_host"]
    assert f"armv7em/{variant}" in result["kernel_variants"]
    assert not result["kernel_variants_from_tinyedge"]  # the folder's own


@needs_emulator
def test_conv_rows_without_row_blocks_still_matches_host(tmp_path):
    """Left out, TE_CONV_ROW_BLOCKS sends such blocks to the pixel-by-pixel
    gather: the same bytes, more instructions."""
    built = CASES["conv-3x3-rows"][0](np.random.default_rng(5))
    model = tinyedge.compile(bytes(built), tmp_path / "m4", target="cortex-m4")
    assert _paths_h(model.out_dir)["TE_CONV_ROW_BLOCKS"] == 1
    blocks = bench(model, "cortex-m4", seed=1)
    _set_paths(model.out_dir, {"TE_CONV_ROW_BLOCKS": 0})
    pixels = bench(model, "cortex-m4", seed=1)
    assert blocks["outputs_match_host"] and pixels["outputs_match_host"]
    assert blocks["instructions"] < pixels["instructions"]
