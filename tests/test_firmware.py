"""Firmware on an emulated Cortex-M (tinyedge.firmware, `tinyedge bench`): the outputs equal
the host run bit for bit, the instruction counts are exact and repeatable, per-layer counts
add up, and missing tools or a hung emulator give a one-line error."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tinyedge
from tinyedge import firmware
from tinyedge.errors import EmulatorError, FirmwareMismatchError, ToolchainError
from tinyedge.firmware import BOARDS, bench, kernel_files

TOOLS = ("arm-none-eabi-gcc", "arm-none-eabi-nm", "arm-none-eabi-size", "qemu-system-arm")
pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS),
    reason="the Cortex-M toolchain or QEMU is not installed (scripts/setup.sh installs them)")


@pytest.fixture(scope="module")
def kws(shared_models, tmp_path_factory):
    return tinyedge.compile(shared_models / "mlperf_tiny" / "kws_ref_model.tflite",
                            tmp_path_factory.mktemp("fw") / "kws")


@pytest.fixture(scope="module")
def hello(shared_models, tmp_path_factory):
    return tinyedge.compile(shared_models / "tflm" / "hello_world_int8.tflite",
                            tmp_path_factory.mktemp("fw") / "hello")


def tinyedge_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "tinyedge", *map(str, args)],
                          capture_output=True, text=True, env=env)


def assert_one_line_error(result, code: int, *fragments: str):
    assert result.returncode == code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinyedge: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_kws_on_cortex_m4_matches_host_and_repeats(kws):
    first = bench(kws, "cortex-m4", seed=1, reference_only=True)
    second = bench(kws, "cortex-m4", seed=1, reference_only=True)
    assert first["outputs_match_host"] and second["outputs_match_host"]
    # Exact and repeatable: the same image on the same inputs counts the same, per layer too.
    assert first["instructions"] == second["instructions"]
    assert [e["instructions"] for e in first["layers"]] == \
        [e["instructions"] for e in second["layers"]]
    # KWS runs ~45 M instructions with the reference kernels (TFLite Micro's: 43 M).
    assert 5_000_000 < first["instructions"] < 100_000_000
    assert first["macs"] == 2_656_768
    assert first["macs_per_instruction"] == pytest.approx(first["macs"] / first["instructions"])

    # Flash: code + weights; the weights are the model's weight arrays, nothing else.
    assert first["code_bytes"] + first["weight_bytes"] == first["flash_bytes"]
    assert first["weight_bytes"] == kws.report["weight_bytes"]
    assert sum(first["code_breakdown"].values()) == first["code_bytes"]
    assert {"harness", "kernels", "model"} <= set(first["code_breakdown"])
    # RAM: the arena is the planned one; the stack was painted and measured.
    assert first["arena_bytes"] == kws.report["arena_bytes"]
    assert 0 < first["stack_bytes"] < 2048
    assert first["ram_bytes"] == (first["arena_bytes"] + first["stack_bytes"]
                                  + first["static_bytes"])


def test_per_layer_counts_add_up_to_the_total(kws):
    result = bench(kws, "cortex-m4", seed=2, reference_only=True)
    layers = result["layers"]
    assert [e["index"] for e in layers] == [e["index"] for e in kws.report["layers"]]
    for entry in layers:
        # A layer is one kernel call; a layer without a kernel (RESHAPE) costs nothing.
        assert (entry["instructions"] > 0) == (entry["kernel"] is not None), entry
    # Exactly: total = sum of the layers + the glue in <model>_invoke (argument checks,
    # copying the input in and the output out, argument set-up and status checks around
    # each call) + the few harness instructions between the two markers.
    total_layers = sum(e["instructions"] for e in layers)
    assert total_layers + result["glue_instructions"] == result["instructions"]
    assert 0 < result["glue_instructions"] < 2_000
    # The estimated cycles split the same way; every Cortex-M4 instruction takes a cycle or more.
    assert sum(e["cycles"] for e in layers) + result["glue_cycles"] == result["cycles"]
    for entry in layers:
        assert entry["cycles"] >= entry["instructions"], entry
        assert (entry["cycles"] > 0) == (entry["kernel"] is not None), entry
    assert result["macs_per_cycle"] == pytest.approx(result["macs"] / result["cycles"])
    # The convolutions dominate.
    convs = sum(e["instructions"] for e in layers if e["op"] in ("CONV_2D", "DEPTHWISE_CONV_2D"))
    assert convs > 0.9 * result["instructions"]


@pytest.mark.parametrize("wait_states", [0, 5])
def test_function_profile_adds_up_to_the_total(kws, wait_states):
    """bench's profile counts every instruction between the markers once, and charges
    every estimated cycle (branch refills and flash wait states included) to one of them."""
    result = bench(kws, "cortex-m4", seed=1, flash_wait_states=wait_states, profile=True)
    functions = result["functions"]
    assert sum(f["instructions"] for f in functions) == result["instructions"]
    assert sum(f["cycles"] for f in functions) == result["cycles"]
    names = [f["function"] for f in functions]
    assert len(set(names)) == len(names)
    assert [f["cycles"] for f in functions] == sorted((f["cycles"] for f in functions),
                                                      reverse=True)
    # KWS is mostly pointwise convolution: one inner loop holds much of the time.
    assert functions[0]["cycles"] > 0.3 * result["cycles"], functions[:3]
    assert "te_conv2d_s8" in names and "te_depthwise_conv2d_s8" in names
    text = firmware.format_bench(result)
    assert "function" in text and functions[0]["function"] in text


@pytest.mark.parametrize("target", sorted(BOARDS))
def test_hello_world_on_every_board(hello, target):
    result = bench(hello, target, seed=7)
    assert result["outputs_match_host"]
    assert result["board"] == BOARDS[target].machine
    assert 0 < result["instructions"] < 100_000
    # Cortex-M3/M4/M7 have a cycle model (docs/cycles.md); the M55 has none.
    assert (result["cycles"] is None) == (target == "cortex-m55")


def test_flash_wait_states_and_clock(hello):
    """Wait states add cycles (the weights and code are in flash), never instructions; the
    latency is the cycles at the clock."""
    plain = bench(hello, "cortex-m4", seed=7)
    slow = bench(hello, "cortex-m4", seed=7, clock="80MHz", flash_wait_states=5)
    assert slow["instructions"] == plain["instructions"]
    assert slow["cycles"] > plain["cycles"] >= plain["instructions"]
    assert (slow["cycles"] - plain["cycles"]) % 5 == 0
    assert plain["clock_hz"] == 100_000_000 and slow["clock_hz"] == 80_000_000
    assert slow["latency_ms"] == pytest.approx(slow["cycles"] / 80_000)
    with pytest.raises(tinyedge.TinyEdgeError, match="wait states"):
        bench(hello, "cortex-m4", flash_wait_states=-1)


def test_float_io_and_optimization_levels(shared_models, tmp_path):
    model = tinyedge.compile(shared_models / "mlperf_tiny" / "ad01_int8_floatio.tflite",
                             tmp_path / "ad")
    assert model.inputs[0]["dtype"] == "float32"
    counts = {opt: bench(model, "cortex-m4", opt=opt)["instructions"] for opt in ("-Os", "-O2")}
    assert counts["-O2"] < counts["-Os"]


def test_cli_bench_json(kws, tmp_path):
    result = tinyedge_cli("bench", kws.out_dir, "--target", "cortex-m4", "--per-layer", "--json",
                          "--seed", "3", "--build-dir", tmp_path / "build", "--ref-kernels",
                          "--clock", "80MHz", "--flash-wait-states", "3")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    for key in ("instructions", "macs", "macs_per_instruction", "code_bytes", "weight_bytes",
                "arena_bytes", "stack_bytes", "outputs_match_host", "layers", "cycles",
                "macs_per_cycle", "latency_ms", "clock_hz", "flash_wait_states"):
        assert key in figures, key
    assert figures["clock_hz"] == 80_000_000 and figures["flash_wait_states"] == 3
    assert figures["latency_ms"] == pytest.approx(figures["cycles"] / 80_000)
    assert all("cycles" in e for e in figures["layers"])
    assert figures["outputs_match_host"] is True
    assert figures["kernel_variants"] == []
    assert len(figures["layers"]) == len(kws.report["layers"])
    # The kept build folder holds the image, its map and the generated firmware sources.
    assert {"fw.elf", "fw.map", "main.c", "startup.c", "link.ld"} <= \
        {p.name for p in (tmp_path / "build").iterdir()}

    text = tinyedge_cli("bench", kws.out_dir, "--target", "cortex-m3")
    assert text.returncode == 0, text.stderr
    assert "instructions  " in text.stdout and "MACs          2,656,768" in text.stdout
    assert "cycles        " in text.stdout and "ms at 100 MHz" in text.stdout
    assert "equal to the host run byte for byte: yes" in text.stdout
    assert "layers" not in text.stdout


def test_mismatch_with_the_host_is_an_error(kws, monkeypatch):
    def wrong(*inputs):
        return [np.full(o["shape"], 42, dtype=o["dtype"]) for o in kws.outputs]

    monkeypatch.setattr(kws, "run", wrong)
    with pytest.raises(FirmwareMismatchError, match="disagrees with the host run"):
        bench(kws, "cortex-m4", reference_only=True)


def test_missing_toolchain_gives_a_clean_error(kws, tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = tinyedge_cli("bench", kws.out_dir, env=dict(os.environ, PATH=str(empty)))
    assert_one_line_error(result, 8, "arm-none-eabi-gcc not found", "gcc-arm-none-eabi")
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(ToolchainError):
        bench(kws, "cortex-m4")


def test_qemu_timeout_gives_a_clean_error(kws):
    result = tinyedge_cli("bench", kws.out_dir, "--timeout", "0.001", "--ref-kernels")
    assert_one_line_error(result, 9, "did not finish within")
    with pytest.raises(EmulatorError):
        bench(kws, "cortex-m4", timeout=0.001, reference_only=True)


def test_unknown_board_and_not_a_folder(tmp_path, hello):
    result = tinyedge_cli("bench", tmp_path)
    assert_one_line_error(result, 1, "not a tinyedge output folder")
    result = tinyedge_cli("bench", hello.out_dir, "--clock", "fast")
    assert_one_line_error(result, 1, "cannot read clock 'fast'")
    with pytest.raises(tinyedge.TinyEdgeError, match="no emulated board"):
        firmware.board_for("sensor")  # a budget class, no board of its own


def test_per_target_kernel_folder_replaces_the_reference_kernel(kws, tmp_path, monkeypatch):
    """An optimized kernel dropped into kernels/src/armv7em/ under the reference file's
    name is built instead of it for cortex-m4/m7, with no other change."""
    ref = kws.out_dir / "kernels" / "src" / "softmax_s8.c"
    variant_dir = tmp_path / "kernels" / "src" / "armv7em"
    variant_dir.mkdir(parents=True)
    variant = variant_dir / "softmax_s8.c"
    variant.write_text(ref.read_text() + "\n/* the ARMv7E-M variant */\n")
    monkeypatch.setattr(firmware, "KERNELS_DIR", tmp_path / "kernels")

    assert variant in kernel_files(kws, "cortex-m4")
    assert variant in kernel_files(kws, "cortex-m7")
    assert variant not in kernel_files(kws, "cortex-m3")
    assert ref in kernel_files(kws, "cortex-m3")
    assert ref in kernel_files(kws, "cortex-m4", reference_only=True)
    result = bench(kws, "cortex-m4")
    assert result["outputs_match_host"]
    assert result["kernel_variants"] == ["armv7em/softmax_s8.c"]


@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m7"])
def test_kws_with_the_targets_own_kernels_matches_host(kws, target):
    """End to end with whatever kernels the target builds (the ARMv7E-M ones once
    kernels/src/armv7em/ has them): the same bytes as the host's reference run. The
    folder was compiled for no target, so they are tinyedge's own, with every path."""
    result = bench(kws, target, seed=4)
    assert result["outputs_match_host"]
    assert result["kernel_variants"] and result["kernel_variants_from_tinyedge"]


def test_stateful_model_runs_from_the_reset_state(shared_models, tmp_path):
    """The firmware runs one inference from the reset state, so bench compares it
    with a host run from the reset state even after the host model has run."""
    model = tinyedge.compile(shared_models / "tflm" / "mnist_lstm_int8.tflite", tmp_path / "m")
    assert model.stateful
    x = np.full(model.inputs[0]["shape"], 100, dtype=model.inputs[0]["dtype"])
    for _ in range(3):  # leave state behind
        model.run(x)
    assert bench(model, "cortex-m4", seed=0)["outputs_match_host"]
