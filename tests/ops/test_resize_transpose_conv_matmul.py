"""Seeded randomized sweeps of RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR,
TRANSPOSE_CONV and BATCH_MATMUL, built with TensorFlow at test time
(tests/ops/tf_convert.py): tinyedge vs TFLite Micro, bit for bit, on random,
all-minimum and all-maximum inputs. Each case also checks that the converted
model really holds the op under test.

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
from tf_convert import (assert_op_matches_tflm, convert, edge_and_random_inputs,  # noqa: E402
                        warm_up)

N_CASES = int(os.environ.get("TINYEDGE_SWEEP_CASES", "20"))


def _rng(op: str, i: int) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{op}-{i}".encode()))


def _range(rng) -> tuple[float, float]:
    """Calibration ranges that move the zero point and the scale around."""
    lo = float(rng.choice([-4.0, -1.0, -0.3, 0.0, 0.5]))
    return lo, lo + float(rng.choice([0.5, 1.0, 2.0, 6.0]))


# Each generator returns (key, fn, input shapes, value range, op name expected).
# fn takes tf and the input tensors and returns the output.

_MODES = ("asymmetric", "align_corners", "half_pixel_centers")


def _resize_case(name: str, i: int):
    rng = _rng(name, i)
    shape = (1 if i % 7 else 2, int(rng.integers(1, 7)), int(rng.integers(1, 7)),
             int(rng.integers(1, 5)))
    size = [int(rng.integers(1, 13)), int(rng.integers(1, 13))]
    if i % 5 == 0:
        size = [2 * shape[1], 2 * shape[2]]  # the common 2x upsampling
    mode = _MODES[i % 3]
    method = "nearest" if name == "resize_nearest" else "bilinear"

    def fn(tf, x):
        flags = {"align_corners": mode == "align_corners",
                 "half_pixel_centers": mode == "half_pixel_centers"}
        if method == "nearest":
            return tf.compat.v1.image.resize_nearest_neighbor(x, size, **flags)
        return tf.compat.v1.image.resize_bilinear(x, size, **flags)
    op = "RESIZE_NEAREST_NEIGHBOR" if method == "nearest" else "RESIZE_BILINEAR"
    return f"{name}-{shape}-{size}-{mode}", fn, [shape], _range(rng), op


def resize_nearest_case(i):
    return _resize_case("resize_nearest", i)


def resize_bilinear_case(i):
    return _resize_case("resize_bilinear", i)


def transpose_conv_case(i):
    rng = _rng("transpose_conv", i)
    shape = (1 if i % 6 else 2, int(rng.integers(1, 6)), int(rng.integers(1, 6)),
             int(rng.integers(1, 5)))
    filters = int(rng.integers(1, 6))
    kernel = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    strides = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    padding = "same" if i % 2 else "valid"
    use_bias = i % 4 != 3
    output_padding = None
    if i % 5 == 4 and padding == "valid" and min(strides) > 1:
        # (with SAME padding Keras' output_padding can give an empty output)
        output_padding = (int(rng.integers(0, strides[0])), int(rng.integers(0, strides[1])))
    seed = int(rng.integers(0, 2**31))

    def fn(tf, x):
        init = tf.keras.initializers
        layer = tf.keras.layers.Conv2DTranspose(
            filters, kernel, strides=strides, padding=padding, use_bias=use_bias,
            output_padding=output_padding,
            kernel_initializer=init.RandomUniform(-0.6, 0.6, seed=seed),
            bias_initializer=init.RandomUniform(-0.5, 0.5, seed=seed + 1))
        return layer(x)
    key = (f"tconv-{shape}-{filters}-{kernel}-{strides}-{padding}-{use_bias}-{output_padding}-"
           f"{seed}")
    return key, fn, [shape], _range(rng), "TRANSPOSE_CONV"


def batch_matmul_case(i):
    rng = _rng("batch_matmul", i)
    rank = int(rng.integers(3, 5))
    batch = [int(rng.integers(1, 4)) for _ in range(rank - 2)]
    batch[0] = 1 if i % 4 else 2
    lb = list(batch)
    rb = [d if rng.random() < 0.7 else 1 for d in batch]  # broadcast some rhs batch dims
    m, k, n = (int(rng.integers(1, 7)) for _ in range(3))
    adj_x, adj_y = bool(i % 2), bool((i // 2) % 2)
    lhs = tuple(lb + ([k, m] if adj_x else [m, k]))
    rhs = tuple(rb + ([n, k] if adj_y else [k, n]))

    def fn(tf, x, y):
        return tf.matmul(x, y, transpose_a=adj_x, transpose_b=adj_y)
    return (f"bmm-{lhs}-{rhs}-{adj_x}-{adj_y}", fn, [lhs, rhs], _range(rng), "BATCH_MATMUL")


FAMILIES = {
    "resize_nearest": resize_nearest_case, "resize_bilinear": resize_bilinear_case,
    "transpose_conv": transpose_conv_case, "batch_matmul": batch_matmul_case,
}

CASES = [pytest.param(family, i, id=f"{family}-{i:02d}")
         for family in FAMILIES for i in range(N_CASES)]


def _model(family: str, i: int) -> tuple[bytes, str]:
    warm_up(__file__)
    import tensorflow as tf

    key, fn, shapes, value_range, op = FAMILIES[family](i)

    def body(*xs):
        if family == "transpose_conv":
            return fn(tf, *xs)  # a Keras layer already
        layer = tf.keras.layers.Lambda(lambda t: fn(tf, *t) if isinstance(t, list) else fn(tf, t))
        return layer(list(xs) if len(xs) > 1 else xs[0])

    data = convert(body, shapes, seed=zlib.crc32(key.encode()) % 1000,
                   value_range=value_range, key="resize-tconv-bmm-" + key)
    return data, op


@pytest.mark.parametrize("family,i", CASES)
def test_resize_transpose_conv_matmul_op(family, i, tmp_path):
    data, op = _model(family, i)
    assert_op_matches_tflm(data, op, i, tmp_path / "out")


def test_transpose_conv_scratch_is_in_the_arena(tmp_path):
    """The int32 scratch is a buffer of the plan, alive for its layer only."""
    import tinyedge

    data, _ = _model("transpose_conv", 1)
    compiled = tinyedge.compile(data, tmp_path / "out")
    report = compiled.report
    step = next(k for k, layer in enumerate(report["layers"]) if layer["op"] == "TRANSPOSE_CONV")
    out_shape = report["layers"][step]["outputs"][0]
    scratch = [b for b in report["buffers"] if any("scratch" in t for t in b["tensors"])]
    assert len(scratch) == 1
    assert scratch[0]["bytes"] == 4 * int(np.prod(out_shape))
    assert scratch[0]["first_layer"] == scratch[0]["last_layer"] == step
    assert report["arena_bytes"] >= scratch[0]["bytes"] + int(np.prod(out_shape))


@pytest.mark.parametrize("activation", ["RELU", "RELU6", "RELU_N1_TO_1"])
def test_transpose_conv_fused_activation(activation, tmp_path):
    """The converter keeps activations separate, but a model may fuse one:
    TFLite Micro clamps to it (older releases ignored it), and so does tinyedge.
    Built without TensorFlow, with an output range where the clamp matters."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tflite_builder import ACTIVATIONS, ModelBuilder
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    import tinyedge
    from tinyedge.verify import run_tflm

    rng = np.random.default_rng(zlib.crc32(activation.encode()))
    mb = ModelBuilder()
    x = mb.add_tensor("x", [1, 3, 3, 2], "int8", 0.05, 3)
    w = mb.add_tensor("w", [4, 3, 3, 2], "int8", [0.01, 0.02, 0.015, 0.03], [0] * 4,
                      data=rng.integers(-127, 128, size=(4, 3, 3, 2)), quantized_dimension=0)
    b = mb.add_tensor("b", [4], "int32", data=rng.integers(-300, 300, size=4))
    shape = mb.add_tensor("shape", [4], "int32", data=np.array([1, 6, 6, 4], np.int32))
    y = mb.add_tensor("y", [1, 6, 6, 4], "int8", 0.04, -5)
    options = schema.TransposeConvOptionsT()
    options.padding, options.strideH, options.strideW = schema.Padding.SAME, 2, 2
    options.fusedActivationFunction = ACTIVATIONS[activation]
    mb.add_op("TRANSPOSE_CONV", [shape, w, x, b], [y], options)
    data = mb.build([x], [y])
    compiled = tinyedge.compile(data, tmp_path / "out")
    for label, xs in edge_and_random_inputs(compiled, 7):
        ours = compiled.run(*xs)[0]
        theirs = np.asarray(run_tflm(data, xs, 1)[0]).reshape(ours.shape)
        np.testing.assert_array_equal(ours, theirs, err_msg=label)


if __name__ == "__main__":  # convert (and cache) every case: see tf_convert.warm_up
    for _family in FAMILIES:
        for _i in range(N_CASES):
            _model(_family, _i)
