"""End to end on real models: compile, run the generated C on the host (under
ASan/UBSan in the test suite), and compare every output byte with TFLite Micro
run in the same test, on seeded random inputs, the shipped golden and the
shipped real samples."""
from __future__ import annotations

import numpy as np
import pytest

import tinyedge
from samples import person_detect_input
from tinyedge.verify import random_inputs, run_tflm

RANDOM_CASES = 20

MODELS = [
    "mlperf_tiny/kws_ref_model",
    "mlperf_tiny/vww_96_int8",
    "mlperf_tiny/pretrainedResnet_quant",
    "mlperf_tiny/pretrainedResnet_large_int8",
    "mlperf_tiny/ad01_int8",
    "mlperf_tiny/ad01_int8_floatio",
    "mlperf_tiny/str_ww_ref_model",
    "tflm/hello_world_int8",
    "tflm/micro_speech_quantized",
    "tflm/person_detect",
    "tflm/simple_add_model",
    "tflm/test_conv_model",
]


@pytest.fixture(scope="module", params=MODELS)
def compiled(request, shared_models, tmp_path_factory):
    path = shared_models / f"{request.param}.tflite"
    model = tinyedge.compile(path, tmp_path_factory.mktemp("out") / path.stem)
    return request.param, path.read_bytes(), model


def assert_same_as_tflm(model_bytes, model, inputs):
    expected = run_tflm(model_bytes, inputs, len(model.outputs))
    ours = model.run(*inputs)
    for ours_out, tflm_out in zip(ours, expected):
        assert ours_out.dtype == tflm_out.dtype
        np.testing.assert_array_equal(ours_out, tflm_out.reshape(ours_out.shape))
    return ours


def test_random_inputs_match_tflm(compiled):
    name, model_bytes, model = compiled
    rng = np.random.default_rng(sum(map(ord, name)))
    for _ in range(RANDOM_CASES):
        assert_same_as_tflm(model_bytes, model, random_inputs(model.inputs, rng))


def test_golden_matches(compiled, shared_models):
    name, model_bytes, model = compiled
    golden = np.load(shared_models / "goldens" / f"{name}.npz")
    inputs = [golden[f"input_{i}"] for i in range(len(model.inputs))]
    ours = assert_same_as_tflm(model_bytes, model, inputs)
    for i, out in enumerate(ours):
        np.testing.assert_array_equal(out, golden[f"output_{i}"].reshape(out.shape))


def test_kws_sample_is_on(shared_models, tmp_path):
    path = shared_models / "mlperf_tiny" / "kws_ref_model.tflite"
    model = tinyedge.compile(path, tmp_path / "kws")
    x = np.load(shared_models / "data" / "mlperf_tiny" / "kws_sample_input.npy")
    (scores,) = assert_same_as_tflm(path.read_bytes(), model, [x.reshape(1, 49, 10, 1)])
    # MLPerf Tiny label order: down go left no off on right stop up yes silence unknown
    assert scores.reshape(-1).tolist() == [-128] * 5 + [127] + [-128] * 6


@pytest.mark.parametrize("image, expected", [("person.bmp", [-113, 113]),
                                             ("no_person.bmp", None)])
def test_person_detect_samples(shared_models, tmp_path, image, expected):
    path = shared_models / "tflm" / "person_detect.tflite"
    model = tinyedge.compile(path, tmp_path / "person_detect")
    x = person_detect_input(shared_models / "data" / "tflm" / image)
    (scores,) = assert_same_as_tflm(path.read_bytes(), model, [x])
    if expected is not None:  # TFLite Micro's published result for this image
        assert scores.reshape(-1).tolist() == expected
    else:
        no_person, person = scores.reshape(-1).tolist()
        assert no_person > person


def test_report_is_consistent(compiled):
    _, _, model = compiled
    report = model.report
    assert report == tinyedge.load(model.out_dir).report
    assert report["macs"] == sum(layer["macs"] for layer in report["layers"])
    # The arena holds every layer's live bytes, and overlapping an op's output
    # with its dying input never needs more than keeping them apart.
    assert report["arena_bytes"] >= max(layer["live_bytes"] for layer in report["layers"])
    assert report["arena_bytes"] <= report["plain_schedule_bytes"] + 16
    header = (model.out_dir / f"{model.name}.h").read_text()
    assert f"#define {model.name.upper()}_ARENA_SIZE {report['arena_bytes']}\n" in header
