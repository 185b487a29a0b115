"""The command line as a user meets it: reports, one-line errors, exit codes,
and an output folder that is either complete or untouched."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tflite_builder import ModelBuilder


def tinyedge(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tinyedge", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def assert_one_line_error(result, code: int, *fragments: str):
    assert result.returncode == code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinyedge: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def kws(shared_models):
    return shared_models / "mlperf_tiny" / "kws_ref_model.tflite"


def test_compile_run_inspect(kws, shared_models, tmp_path):
    out = tmp_path / "kws"
    result = tinyedge("compile", kws, "-o", out, "--verify", "3")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert f"arena      {report['arena_bytes']:,} B" in result.stdout
    assert "MACs       2,656,768" in result.stdout
    assert "state " not in result.stdout  # stateless
    assert "verified   3 random inputs against TFLite Micro: 0 of 36 output values differ" \
        in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "CMakeLists.txt", "kernels", "kws_ref_model.c", "kws_ref_model.h",
        "kws_ref_model_weights.c", "report.json"]

    sample = np.load(shared_models / "data" / "mlperf_tiny" / "kws_sample_input.npy")
    np.save(tmp_path / "x.npy", sample.reshape(1, 49, 10, 1))
    result = tinyedge("run", out, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npz")
    assert result.returncode == 0, result.stderr
    assert "(argmax 5)" in result.stdout
    saved = np.load(tmp_path / "y.npz")["output_0"]
    assert saved.reshape(-1)[5] == 127

    result = tinyedge("inspect", kws)
    assert result.returncode == 0, result.stderr
    assert "DEPTHWISE_CONV_2D" in result.stdout
    assert f"memory plan: arena {report['arena_bytes']:,} B" in result.stdout


def test_truncated_model(kws, tmp_path):
    bad = tmp_path / "truncated.tflite"
    bad.write_bytes(kws.read_bytes()[:5000])
    result = tinyedge("compile", bad, "-o", tmp_path / "out")
    assert_one_line_error(result, 3, "TFLite model")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["truncated.tflite"]  # no staging leftovers


def test_foreign_file(tmp_path):
    bad = tmp_path / "image.tflite"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    assert_one_line_error(tinyedge("compile", bad, "-o", tmp_path / "out"), 3,
                          "not a TFLite model")
    assert not (tmp_path / "out").exists()


def test_missing_file(tmp_path):
    assert_one_line_error(tinyedge("compile", tmp_path / "nope.tflite", "-o", tmp_path / "o"), 1,
                          "nope.tflite")


def unsupported_model(tmp_path):
    """Two int8 ops tinyedge does not compile (FLOOR, CEIL), at operators 0 and 1."""
    mb = ModelBuilder()
    x = mb.add_tensor("x", [1, 4], "int8", scale=0.5, zero_point=0)
    y = mb.add_tensor("y", [1, 4], "int8", scale=0.5, zero_point=0)
    z = mb.add_tensor("z", [1, 4], "int8", scale=0.5, zero_point=0)
    mb.add_op("FLOOR", [x], [y])
    mb.add_op("CEIL", [y], [z])
    path = tmp_path / "unsupported.tflite"
    path.write_bytes(mb.build([x], [z]))
    return path


def test_unsupported_ops_are_all_named(tmp_path):
    result = tinyedge("compile", unsupported_model(tmp_path), "-o", tmp_path / "out")
    assert_one_line_error(result, 4, "FLOOR (operator 0)", "CEIL (operator 1)")
    assert not (tmp_path / "out").exists()


def test_float_model_is_refused(tmp_path):
    mb = ModelBuilder()
    x = mb.add_tensor("x", [1, 4], "float32")
    w = mb.add_tensor("w", [2, 4], "float32", data=np.ones((2, 4), np.float32))
    y = mb.add_tensor("y", [1, 2], "float32")
    mb.add_op("FULLY_CONNECTED", [x, w, -1], [y])
    path = tmp_path / "float.tflite"
    path.write_bytes(mb.build([x], [y]))
    result = tinyedge("compile", path, "-o", tmp_path / "out")
    assert_one_line_error(result, 4, "FULLY_CONNECTED", "FLOAT32", "int8")


def test_failed_compile_keeps_previous_output(kws, shared_models, tmp_path):
    out = tmp_path / "out"
    assert tinyedge("compile", kws, "-o", out).returncode == 0
    before = (out / "report.json").read_bytes()
    result = tinyedge("compile", unsupported_model(tmp_path), "-o", out)
    assert_one_line_error(result, 4, "FLOOR (operator 0)")
    assert (out / "report.json").read_bytes() == before


def test_compile_never_destroys_what_is_not_its_output(kws, tmp_path):
    """An output path that is a file, a link or a folder of someone else's files
    is refused before anything is written; an unwritable one is a one-line error."""
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep")
    assert_one_line_error(tinyedge("compile", kws, "-o", a_file), 1, "is not a folder")
    assert a_file.read_text() == "keep"

    project = tmp_path / "project"
    project.mkdir()
    (project / "main.c").write_text("int main(void) { return 0; }\n")
    assert_one_line_error(tinyedge("compile", kws, "-o", project), 1,
                          "not a tinyedge output folder", "new or empty folder")
    assert sorted(p.name for p in project.iterdir()) == ["main.c"]

    (tmp_path / "link").symlink_to(project)
    assert_one_line_error(tinyedge("compile", kws, "-o", tmp_path / "link"), 1,
                          "symbolic link")

    assert_one_line_error(tinyedge("compile", kws, "-o", a_file / "out"), 1,
                          "cannot write the output folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "notes.txt", "project"]

    empty = tmp_path / "empty"
    empty.mkdir()
    assert tinyedge("compile", kws, "-o", empty).returncode == 0
    assert tinyedge("compile", kws, "-o", empty).returncode == 0  # its own output: replaced


def test_unwritable_output_paths_are_one_line_errors(kws, tmp_path):
    out = tmp_path / "kws"
    assert tinyedge("compile", kws, "-o", out).returncode == 0
    np.save(tmp_path / "x.npy", np.zeros((1, 49, 10, 1), np.int8))
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep")
    assert_one_line_error(tinyedge("run", out, "--input", tmp_path / "x.npy",
                                   "--output", a_file / "y.npz"), 1, "y.npz", "Not a directory")
    assert_one_line_error(tinyedge("inspect", kws, "--plot", a_file / "m.svg"), 1, "m.svg")


def test_budget_error_names_the_peak(tmp_path):
    # A 360,000-byte activation (the ADD writes over its input) cannot fit a 256 KiB device.
    mb = ModelBuilder()
    shape = [1, 300, 300, 4]
    x = mb.add_tensor("x", shape, "int8", 0.1, 0)
    y = mb.add_tensor("y", shape, "int8", 0.2, 0)
    mb.add_op("ADD", [x, x], [y])
    path = tmp_path / "big.tflite"
    path.write_bytes(mb.build([x], [y]))
    result = tinyedge("compile", path, "-o", tmp_path / "out", "--target", "cortex-m0plus")
    assert_one_line_error(result, 5, "360,000 bytes of RAM", "262,144", "operator 0 (ADD)")
    assert not (tmp_path / "out").exists()
    assert tinyedge("compile", path, "-o", tmp_path / "out").returncode == 0  # generic: no budget


def test_run_checks_inputs(kws, tmp_path):
    out = tmp_path / "kws"
    assert tinyedge("compile", kws, "-o", out).returncode == 0
    np.save(tmp_path / "wrong.npy", np.zeros((3, 3), np.int8))
    assert_one_line_error(tinyedge("run", out, "--input", tmp_path / "wrong.npy"), 1,
                          "must be int8 of shape [1, 49, 10, 1]")
    assert_one_line_error(tinyedge("run", out), 1, "takes 1 inputs")
    assert_one_line_error(tinyedge("run", tmp_path, "--input", tmp_path / "wrong.npy"), 1,
                          "not a tinyedge output folder")


def test_a_report_tinyedge_did_not_write_is_refused(kws, tmp_path):
    out = tmp_path / "kws"
    assert tinyedge("compile", kws, "-o", out).returncode == 0
    np.save(tmp_path / "x.npy", np.zeros((1, 49, 10, 1), np.int8))
    for text, missing in [("[1, 2]", "'model'"), ('{"model": "kws"}', "'inputs'")]:
        (out / "report.json").write_text(text)
        for args in (["run", out, "--input", tmp_path / "x.npy"], ["bench", out]):
            assert_one_line_error(tinyedge(*args), 1, "is not a report tinyedge", missing,
                                  "compile the model")


def test_usage_error_exit_code():
    assert tinyedge("compile").returncode == 2
    assert tinyedge("frobnicate").returncode == 2
    # counts, seeds and timeouts out of range are usage errors, not tracebacks
    for args, fragment in [(["compile", "m.tflite", "-o", "out", "--verify", "-3"], "--verify"),
                           (["compile", "m.tflite", "-o", "out", "--seed", "2x"], "--seed"),
                           (["bench", "out", "--seed", "-1"], "--seed"),
                           (["bench", "out", "--timeout", "0"], "--timeout")]:
        result = tinyedge(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert f"argument {fragment}:" in result.stderr.splitlines()[-1]


def test_ops_table_is_current():
    from pathlib import Path
    result = tinyedge("ops", "--markdown")
    assert result.returncode == 0
    table = Path(__file__).resolve().parents[1] / "docs" / "ops.md"
    assert result.stdout == table.read_text(), \
        "docs/ops.md is stale: run `tinyedge ops --markdown > docs/ops.md`"


def test_ram_limit_names_the_layers_that_set_the_peak(shared_models, tmp_path):
    vww = shared_models / "mlperf_tiny" / "vww_96_int8.tflite"
    result = tinyedge("compile", vww, "-o", tmp_path / "out", "--ram-limit", "16K")
    assert_one_line_error(result, 5, "the RAM limit is 16,384", "(DEPTHWISE_CONV_2D) needs",
                          "(CONV_2D) needs", "more layers")
    assert not (tmp_path / "out").exists()
    assert tinyedge("compile", vww, "-o", tmp_path / "out", "--ram-limit", "1M").returncode == 0
    assert tinyedge("compile", vww, "-o", tmp_path / "o2", "--ram-limit", "lots").returncode == 2


def test_hostile_tensor_names_stay_in_their_comments(tmp_path):
    mb = ModelBuilder()
    x = mb.add_tensor("x */ int evil; /* \n\x1b[2J", [1, 4], "int8", 0.1, 0)
    y = mb.add_tensor("y", [1, 4], "int8", 0.2, 0)
    mb.add_op("ADD", [x, x], [y])
    path = tmp_path / "names.tflite"
    path.write_bytes(mb.build([x], [y]))
    out = tmp_path / "out"
    assert tinyedge("compile", path, "-o", out).returncode == 0
    np.save(tmp_path / "x.npy", np.ones((1, 4), np.int8))
    result = tinyedge("run", out, "--input", tmp_path / "x.npy")
    assert result.returncode == 0, result.stderr
    assert "evil" not in (out / "names.h").read_text().split("*/")[-1]


def test_mobilenet_v2_is_too_big_for_an_earbud(shared_models, tmp_path):
    model = shared_models / "tflm" / "mobilenet_v2_quantized_1x3x224x224.tflite"
    result = tinyedge("compile", model, "-o", tmp_path / "out", "--target", "earbud")
    assert_one_line_error(result, 5, "bytes of RAM and target earbud has 1,048,576",
                          "needs")
    assert not (tmp_path / "out").exists()
    # tests/test_mobilenet_v2.py compiles it for the generic target and checks it bit for bit


def test_compile_prints_the_state_of_a_stateful_model(shared_models, tmp_path):
    result = tinyedge("compile", shared_models / "tflm" / "mnist_lstm_int8.tflite",
                      "-o", tmp_path / "m")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "m" / "report.json").read_text())
    assert report["state_bytes"] > 0
    assert (f"state      {report['state_bytes']:,} B (kept between invocations, reset by "
            "mnist_lstm_int8_reset())") in result.stdout


def test_a_reader_that_stops_early_gets_no_traceback(shared_models):
    """`tinyedge inspect -v model | head`: the pipe closes before the output ends."""
    proc = subprocess.Popen([sys.executable, "-m", "tinyedge", "inspect", "-v",
                             str(shared_models / "mlperf_tiny" / "vww_96_int8.tflite")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before the first line is written
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert stderr == ""


def test_compile_for_a_dsp_target_names_its_kernels_and_paths(kws, tmp_path):
    result = tinyedge("compile", kws, "-o", tmp_path / "m4", "--target", "cortex-m4")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert ("kernels    avg_pool2d_s8, conv2d_s8, depthwise_conv2d_s8, fully_connected_s8: "
            "the cortex-m4 versions (armv7em)") in lines
    paths = next(line for line in lines if line.startswith("paths      left out of armv7em/"))
    assert "TE_CONV_IN_PLACE" in paths and "TE_DW_BANDS" not in paths
    report = json.loads((tmp_path / "m4" / "report.json").read_text())
    assert "kernels/src/armv7em/conv2d_s8.c" in report["target_sources"]
    assert report["kernel_paths"]["armv7em"]["TE_DW_BANDS"] == 1
    generic = tinyedge("compile", kws, "-o", tmp_path / "generic")
    assert "kernels    " not in generic.stdout
