"""Seeded sweeps of int8 unary activations built directly as flatbuffers with
tests/tflite_builder.py (no TensorFlow), for what the TF converter does not
produce: ELU (the converter keeps it in float), and quantization choices
(input and output scales and zero points) the converter would not make.

Every case runs every int8 input value through tinyedge and TFLite Micro and
compares all output bytes.

Environment: TINYEDGE_SWEEP_CASES=N cases per op (default 20).
"""
from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import tflite_builder as tb  # noqa: E402
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema  # noqa: E402

N_CASES = int(os.environ.get("TINYEDGE_SWEEP_CASES", "20"))

# op -> fixed output quantization (None: random)
OPS = {"ELU": None, "RELU": None, "RELU6": None, "HARD_SWISH": None, "LEAKY_RELU": None,
       "LOGISTIC": (1.0 / 256, -128), "TANH": (1.0 / 128, 0)}


def _quant(rng) -> tuple[float, int]:
    scale = float(np.float32(10.0 ** rng.uniform(-3.0, -0.5)))
    return scale, int(rng.integers(-128, 128))


def build(op: str, i: int) -> tuple[bytes, np.ndarray]:
    rng = np.random.default_rng(zlib.crc32(f"elementwise-builder-{op}-{i}".encode()))
    in_scale, in_zp = _quant(rng)
    out = OPS[op]
    if out is None:
        out = _quant(rng)
        if op == "HARD_SWISH":  # TFLite needs output scale >= input scale / 128
            out = (max(out[0], in_scale / 100.0), out[1])
    shape = [(1, 256), (1, 4, 8, 8), (2, 128), (1, 2, 2, 64)][i % 4]
    mb = tb.ModelBuilder(f"{op} sweep {i}")
    x = mb.add_tensor("x", shape, "int8", in_scale, in_zp)
    y = mb.add_tensor("y", shape, "int8", out[0], out[1])
    options = None
    if op == "LEAKY_RELU":
        options = schema.LeakyReluOptionsT()
        options.alpha = float([0.1, -0.3, 2.0, 0.01, 0.7][i % 5])
    mb.add_op(op, [x], [y], options)
    every = np.resize(np.arange(-128, 128, dtype=np.int8), shape)
    if i % 2:
        every = every.reshape(-1)[rng.permutation(every.size)].reshape(shape)
    return mb.build([x], [y]), every


CASES = [pytest.param(op, i, id=f"{op.lower()}-{i:02d}") for op in OPS
         for i in range(N_CASES if op == "ELU" else max(1, N_CASES // 2))]


@pytest.mark.parametrize("op,i", CASES)
def test_builder_activation(op, i, tmp_path):
    import tinyedge
    from tinyedge.verify import run_tflm

    data, x = build(op, i)
    compiled = tinyedge.compile(data, tmp_path / "out")
    assert [layer["op"] for layer in compiled.report["layers"]] == [op]
    (ours,) = compiled.run(x)
    (theirs,) = run_tflm(data, [x], 1)
    theirs = np.asarray(theirs).reshape(ours.shape)
    diff = np.flatnonzero(ours.reshape(-1) != theirs.reshape(-1))
    assert diff.size == 0, (f"{diff.size}/{ours.size} differ, first at input "
                            f"{x.reshape(-1)[diff[0]]}: ours {ours.reshape(-1)[diff[0]]}, "
                            f"TFLM {theirs.reshape(-1)[diff[0]]}")
