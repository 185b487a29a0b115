"""Fuzzed models: every mutation of a real model either compiles and runs
bit-exact with TFLite Micro on the host, or raises tinyedge's own one-line
error, in under 10 seconds. TINYEDGE_FUZZ_CASES sets the count (default
2000); scripts/fuzz.py runs longer campaigns."""
from __future__ import annotations

import os
from collections import Counter

import flatbuffers
import pytest
from fuzz_models import STATEFUL_SEEDS, check_case, schema

import tinyedge
from tinyedge.errors import ModelFormatError

CASES = int(os.environ.get("TINYEDGE_FUZZ_CASES", "2000"))
STATEFUL_CASES = CASES // 5
# Seeds beyond the CI range that long campaigns (scripts/fuzz.py) found failing,
# kept as regressions: a conv output of rank 0, a scale without a zero point, a RESHAPE
# without its data input, a model whose arena is empty (unused variable in the C), RSQRT of
# a negative value (both fail at run time), a FULLY_CONNECTED without its input (the
# offset-folding pass read it before the model's checks).
FOUND_BY_LONG_RUNS = [5848, 6198, 21179, 20627, 24878, 40518]
STATEFUL_FOUND_BY_LONG_RUNS = [1693]  # an LSTM bias that leaves int32 once folded


def test_mutated_models(shared_models, tmp_path):
    outcomes = Counter(check_case(shared_models, seed, tmp_path / "out")
                       for seed in range(CASES))
    print(f"\nfuzz: {CASES} cases: {dict(outcomes)}")
    assert sum(outcomes.values()) == CASES


def test_mutated_stateful_models(shared_models, tmp_path):
    seeds = [*range(STATEFUL_CASES), *STATEFUL_FOUND_BY_LONG_RUNS]
    outcomes = Counter(check_case(shared_models, seed, tmp_path / "out", STATEFUL_SEEDS)
                       for seed in seeds)
    print(f"\nfuzz (stateful): {len(seeds)} cases: {dict(outcomes)}")
    assert sum(outcomes.values()) == len(seeds)


@pytest.mark.parametrize("seed", FOUND_BY_LONG_RUNS)
def test_seeds_found_by_long_runs(shared_models, tmp_path, seed):
    check_case(shared_models, seed, tmp_path / "out")  # raises on a crash or a wrong byte


def test_absent_vectors_are_a_format_error(shared_models, tmp_path):
    """A flatbuffer whose operator-code or buffer vector is absent (found by the
    long fuzz campaign: it used to raise a TypeError) is refused in one line."""
    for field in ("operatorCodes", "buffers"):
        model = schema.ModelT.InitFromPackedBuf(
            (shared_models / "tflm" / "hello_world_int8.tflite").read_bytes(), 0)
        setattr(model, field, None)
        builder = flatbuffers.Builder(1024)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        with pytest.raises(ModelFormatError, match="corrupt TFLite model"):
            tinyedge.compile(bytes(builder.Output()), tmp_path / field)
        assert not (tmp_path / field).exists()


def test_zero_point_outside_its_type_is_refused(shared_models, tmp_path):
    """An int8 weight with zero point 128 (found by a long run: the LSTM kernel then
    refused it at run time while TFLite Micro ran) is refused when compiling."""
    model = schema.ModelT.InitFromPackedBuf(
        (shared_models / "tflm" / "mnist_lstm_int8.tflite").read_bytes(), 0)
    tensor = model.subgraphs[0].tensors[16]
    tensor.quantization.zeroPoint = [128]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    with pytest.raises(tinyedge.errors.TinyEdgeError,
                       match="tensor 16 .* has a zero point outside the int8 range"):
        tinyedge.compile(bytes(builder.Output()), tmp_path / "m")
