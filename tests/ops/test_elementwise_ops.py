"""Seeded randomized sweeps of the int8 elementwise ops, built with TensorFlow
at test time (tests/ops/tf_convert.py): tinyedge vs TFLite Micro, bit for bit,
on random, all-minimum and all-maximum inputs.

MUL, SUB, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM (broadcasting, constant second
inputs), PRELU, LOGISTIC, TANH, HARD_SWISH, RELU, RELU6, LEAKY_RELU, RSQRT,
L2_NORMALIZATION. ELU is swept in test_elementwise_builder.py: the converter
keeps it in float. Each case also checks that the converted model really
holds the op under test.

Environment: TINYEDGE_SWEEP_CASES=N cases per op (default 20).
"""
from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tf_convert import assert_op_matches_tflm, convert, warm_up  # noqa: E402

N_CASES = int(os.environ.get("TINYEDGE_SWEEP_CASES", "20"))


def _rng(op: str, i: int) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"elementwise-{op}-{i}".encode()))


def _range(rng, positive: bool = False) -> tuple[float, float]:
    """Calibration ranges that move the zero point and the scale around."""
    if positive:
        lo = float(rng.choice([0.0, 0.05, 0.5, 2.0]))
        return lo, lo + float(rng.choice([0.5, 1.0, 4.0, 30.0]))
    lo = float(rng.choice([-8.0, -4.0, -1.0, -0.3, 0.0, 0.5]))
    return lo, lo + float(rng.choice([0.5, 1.0, 2.0, 6.0, 12.0]))


def _shape(rng, rank_lo: int = 1, rank_hi: int = 4) -> tuple[int, ...]:
    rank = int(rng.integers(rank_lo, rank_hi + 1))
    return (1,) + tuple(int(rng.integers(1, 7)) for _ in range(rank - 1)) if rank > 1 \
        else (int(rng.integers(1, 9)),)


def _broadcast_pair(rng, i):
    """Shape pairs covering the broadcast patterns, ranks 1 to 5 (batch 1)."""
    h, w, c = (int(rng.integers(1, 6)) for _ in range(3))
    a = int(rng.integers(2, 4))
    patterns = [
        ((1, h, w, c), (1, h, w, c)),        # same shape
        ((1, h, w, c), (1, 1, 1, c)),        # per channel
        ((1, h, 1, c), (1, 1, w, 1)),        # both sides broadcast
        ((1, h, w, c), (1, 1, 1, 1)),        # scalar-like
        ((1, c), (1, c)),                    # rank 2
        ((1, a, c), (1, 1, c)),              # rank 3
        ((1, 1, w, c), (1, h, w, c)),        # smaller first
        ((1, a, h, w, c), (1, a, 1, w, 1)),  # rank 5
        ((1, h, w, c), (1, h, w, 1)),        # per pixel
        ((1, a, h, 1, c), (1, 1, 1, w, c)),  # rank 5, both broadcast
    ]
    return patterns[i % len(patterns)]


# Each generator returns (key, fn, input shapes, value range, op name expected).
# fn takes tf and the input tensors and returns the output.

def _binary_case(name, op, tf_fn_name, i):
    rng = _rng(name, i)
    s1, s2 = _broadcast_pair(rng, i)
    if op == "SQUARED_DIFFERENCE" and max(len(s1), len(s2)) > 4:
        # the converter splits a 5-D squared difference into SUB and a float SQUARE
        s1, s2 = s1[1:], s2[1:]
    value_range = _range(rng)
    if i % 4 == 3:
        # second operand constant, quantized by the converter
        const = rng.uniform(value_range[0], value_range[1], size=s2).astype(np.float32)

        def fn(tf, x):
            return getattr(tf.math, tf_fn_name)(x, tf.constant(const))
        return f"{name}-{s1}-const{s2}-{value_range}", fn, [s1], value_range, op

    def fn(tf, x, y):
        return getattr(tf.math, tf_fn_name)(x, y)
    return f"{name}-{s1}-{s2}-{value_range}", fn, [s1, s2], value_range, op


def mul_case(i):
    return _binary_case("mul", "MUL", "multiply", i)


def sub_case(i):
    return _binary_case("sub", "SUB", "subtract", i)


def squared_difference_case(i):
    return _binary_case("sqdiff", "SQUARED_DIFFERENCE", "squared_difference", i)


def maximum_case(i):
    return _binary_case("maximum", "MAXIMUM", "maximum", i)


def minimum_case(i):
    return _binary_case("minimum", "MINIMUM", "minimum", i)


def _unary_case(name, op, fn, i, positive=False, rank_hi=4):
    rng = _rng(name, i)
    shape = _shape(rng, 1, rank_hi)
    value_range = _range(rng, positive)
    return f"{name}-{shape}-{value_range}", fn, [shape], value_range, op


def logistic_case(i):
    return _unary_case("logistic", "LOGISTIC", lambda tf, x: tf.math.sigmoid(x), i)


def tanh_case(i):
    return _unary_case("tanh", "TANH", lambda tf, x: tf.math.tanh(x), i)


def hard_swish_case(i):
    key, fn, shapes, (lo, hi), op = _unary_case(
        "hard_swish", "HARD_SWISH", lambda tf, x: x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0), i)
    if hi < -2.0:
        # an output range of (almost) only zeros gives an output scale so small
        # that TFLite Micro refuses the model too (output exponent > 0)
        lo, hi = lo + 6.0, hi + 6.0
    return f"{key}-shifted{lo}", fn, shapes, (lo, hi), op


def relu_case(i):
    return _unary_case("relu", "RELU", lambda tf, x: tf.nn.relu(x), i)


def relu6_case(i):
    return _unary_case("relu6", "RELU6", lambda tf, x: tf.nn.relu6(x), i)


def leaky_relu_case(i):
    alpha = [0.2, 0.01, 0.3, 1.5, -0.25][i % 5]
    key, fn, shapes, value_range, op = _unary_case(
        "leaky_relu", "LEAKY_RELU", lambda tf, x: tf.nn.leaky_relu(x, alpha), i)
    return f"{key}-alpha{alpha}", fn, shapes, value_range, op


def rsqrt_case(i):
    return _unary_case("rsqrt", "RSQRT", lambda tf, x: tf.math.rsqrt(x), i, positive=True)


def l2_normalization_case(i):
    return _unary_case("l2norm", "L2_NORMALIZATION",
                       lambda tf, x: tf.math.l2_normalize(x, axis=-1), i)


def prelu_case(i):
    rng = _rng("prelu", i)
    shape = _shape(rng, 2, 4)
    value_range = _range(rng)
    shared = [None, [1], [1, 2]][i % 3] if len(shape) == 4 else None
    alpha_shape = list(shape[1:])
    for axis in shared or []:
        alpha_shape[axis - 1] = 1
    alpha = rng.uniform(-0.5, 1.2, size=alpha_shape).astype(np.float32)

    def fn(tf, x):
        layer = tf.keras.layers.PReLU(alpha_initializer=tf.keras.initializers.Constant(alpha),
                                      shared_axes=shared)
        return layer(x)
    return f"prelu-{shape}-shared{shared}-{value_range}", fn, [shape], value_range, "PRELU"


FAMILIES = {
    "mul": mul_case, "sub": sub_case, "squared_difference": squared_difference_case,
    "maximum": maximum_case, "minimum": minimum_case, "prelu": prelu_case,
    "logistic": logistic_case, "tanh": tanh_case, "hard_swish": hard_swish_case,
    "relu": relu_case, "relu6": relu6_case, "leaky_relu": leaky_relu_case,
    "rsqrt": rsqrt_case, "l2_normalization": l2_normalization_case,
}

CASES = [pytest.param(family, i, id=f"{family}-{i:02d}")
         for family in FAMILIES for i in range(N_CASES)]


def _model(family: str, i: int) -> tuple[bytes, str]:
    warm_up(__file__)
    key, fn, shapes, value_range, op = FAMILIES[family](i)
    import tensorflow as tf

    if family == "prelu":
        def body(x):
            return fn(tf, x)
    else:
        def body(*xs):
            layer = tf.keras.layers.Lambda(
                lambda t: fn(tf, *t) if isinstance(t, list) else fn(tf, t))
            return layer(list(xs) if len(xs) > 1 else xs[0])

    data = convert(body, shapes, seed=zlib.crc32(key.encode()) % 1000,
                   value_range=value_range, key="elementwise-" + key)
    return data, op


def _input_sets(compiled, seed: int, lowest=None) -> list[tuple[str, list[np.ndarray]]]:
    from tinyedge.verify import random_inputs

    rng = np.random.default_rng(seed)
    sets = [("random0", random_inputs(compiled.inputs, rng)),
            ("random1", random_inputs(compiled.inputs, rng))]
    for label, pick in (("allmin", "min"), ("allmax", "max")):
        sets.append((label, [np.full(s["shape"], getattr(np.iinfo(s["dtype"]), pick), s["dtype"])
                             for s in compiled.inputs]))
    # every int8 value once (in the first input), for the lookup-like unary ops
    first = compiled.inputs[0]
    if int(np.prod(first["shape"])) >= 256:
        sweep = np.resize(np.arange(-128, 128, dtype=np.int8), first["shape"])
        sets.append(("every", [sweep] + [x.copy() for x in sets[0][1][1:]]))
    if lowest is not None:
        sets = [(label, [np.maximum(x, np.int8(lowest)) for x in xs]) for label, xs in sets]
    return sets


@pytest.mark.parametrize("family,i", CASES)
def test_elementwise_op(family, i, tmp_path):
    data, op = _model(family, i)
    lowest = None
    if family == "rsqrt":  # TFLite Micro fails on negative reals; keep inputs >= zero point
        from tinyedge.frontend.tflite import read_tflite
        lowest = read_tflite(data).inputs[0].quant.zero_point
    assert_op_matches_tflm(data, op, i, tmp_path / "out",
                           input_sets=lambda compiled: _input_sets(compiled, i, lowest))


if __name__ == "__main__":  # convert (and cache) every case: see tf_convert.warm_up
    for _family in FAMILIES:
        for _i in range(N_CASES):
            _model(_family, _i)
