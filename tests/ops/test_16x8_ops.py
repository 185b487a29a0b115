"""Seeded randomized sweeps of the 16x8 scheme (int16 activations, int8
weights, int64 bias), built with TensorFlow at test time
(tests/ops/tf_convert.py, scheme="16x8"): tinyedge vs TFLite Micro, byte for
byte, on random, all-minimum and all-maximum inputs.

Each converted model holds GROUP independent cases (one input, one op and one
output each, with its own shapes, options and calibration range), so one
conversion and one C build check several cases. Each test also checks that
the converted model really runs the op under test on int16 tensors.

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
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tf_convert import convert, warm_up  # noqa: E402

N_CASES = int(os.environ.get("TINYEDGE_SWEEP_CASES", "20"))
GROUP = 4
ACTIVATIONS = [None, "relu", "relu6", None]


def _rng(op: str, i: int) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"16x8-{op}-{i}".encode()))


def _range(rng) -> tuple[float, float]:
    """Calibration ranges around zero that move the (symmetric int16) scale
    around; both signs, so that a fused ReLU never sees only negatives."""
    return -float(rng.choice([0.25, 1.0, 3.0, 8.0])), float(rng.choice([0.5, 1.0, 2.5, 6.0]))


def _seeded(rng, shape, scale=0.5):
    return tuple(rng.normal(0.0, scale, size=s).astype(np.float32) for s in shape)


# Each case generator returns (key, input shapes, value ranges, builder); the
# builder takes tf and returns a callable from the case's input tensors to its
# output.

def _one_input(key, shape, value_range, layer):
    return key, [shape], [value_range], lambda tf: layer(tf)


def _lambda(fn):
    """A builder that applies fn(tf, *tensors) as a Keras Lambda layer."""
    return lambda tf: lambda *xs: tf.keras.layers.Lambda(
        lambda t: fn(tf, *t) if isinstance(t, list) else fn(tf, t))(
        list(xs) if len(xs) > 1 else xs[0])

def fully_connected_case(i):
    rng = _rng("fc", i)
    depth, units = int(rng.integers(1, 40)), int(rng.integers(1, 20))
    shape = [(1, depth), (1, int(rng.integers(2, 5)), depth)][i % 2]
    activation, bias = ACTIVATIONS[i % 4], i % 5 != 4
    kernel, b = _seeded(rng, [(depth, units), (units,)])

    def layer(tf):
        return tf.keras.layers.Dense(
            units, activation=activation, use_bias=bias,
            kernel_initializer=tf.keras.initializers.Constant(kernel),
            bias_initializer=tf.keras.initializers.Constant(b))
    return _one_input(f"fc-{shape}-u{units}-{activation}-b{bias}", shape, _range(rng), layer)


def conv2d_case(i):
    rng = _rng("conv", i)
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    dilation = (1, 1) if i % 3 else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    strides = (1, 1) if dilation != (1, 1) else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    padding = ("same", "valid")[i % 2]
    groups = (1, 1, 2)[i % 3] if dilation == (1, 1) else 1
    cin, cout = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    h = int(rng.integers((kh - 1) * dilation[0] + 1, 9))
    w = int(rng.integers((kw - 1) * dilation[1] + 1, 9))
    activation, bias = ACTIVATIONS[i % 4], i % 5 != 4
    kernel, b = _seeded(rng, [(kh, kw, cin // groups, cout), (cout,)])

    def layer(tf):
        return tf.keras.layers.Conv2D(
            cout, (kh, kw), strides=strides, padding=padding, dilation_rate=dilation,
            groups=groups, activation=activation, use_bias=bias,
            kernel_initializer=tf.keras.initializers.Constant(kernel),
            bias_initializer=tf.keras.initializers.Constant(b))
    key = f"conv-{h}x{w}x{cin}-oc{cout}-k{kh}x{kw}-s{strides}-d{dilation}-{padding}-g{groups}" \
          f"-{activation}-b{bias}"
    return _one_input(key, (1, h, w, cin), _range(rng), layer)


def depthwise_case(i):
    rng = _rng("depthwise", i)
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    dilation = (1, 1) if i % 3 else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    strides = (1, 1) if dilation != (1, 1) else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    padding = ("same", "valid")[i % 2]
    multiplier, c = (1, 2, 3)[i % 3], int(rng.integers(1, 5))
    h = int(rng.integers((kh - 1) * dilation[0] + 1, 9))
    w = int(rng.integers((kw - 1) * dilation[1] + 1, 9))
    activation, bias = ACTIVATIONS[i % 4], i % 5 != 4
    kernel, b = _seeded(rng, [(kh, kw, c, multiplier), (c * multiplier,)])

    def layer(tf):
        return tf.keras.layers.DepthwiseConv2D(
            (kh, kw), strides=strides, padding=padding, depth_multiplier=multiplier,
            dilation_rate=dilation, activation=activation, use_bias=bias,
            depthwise_initializer=tf.keras.initializers.Constant(kernel),
            bias_initializer=tf.keras.initializers.Constant(b))
    key = f"dw-{h}x{w}x{c}-m{multiplier}-k{kh}x{kw}-s{strides}-d{dilation}-{padding}" \
          f"-{activation}-b{bias}"
    return _one_input(key, (1, h, w, c), _range(rng), layer)


def quantize_case(i):
    """float32 -> int16 QUANTIZE at the input, int16 -> float32 DEQUANTIZE at the
    output (io_type float32), around a FULLY_CONNECTED."""
    key, shapes, value_ranges, layer = fully_connected_case(100 + i)
    return "quantize-" + key, shapes, value_ranges, layer


def _broadcast_pair(rng, i):
    """Shape pairs covering the broadcast patterns, ranks 1 to 5."""
    h, w, c = (int(rng.integers(1, 6)) for _ in range(3))
    patterns = [
        ((1, h, w, c), (1, h, w, c)),        # same shape
        ((1, h, w, c), (1, 1, 1, c)),        # per channel
        ((1, h, 1, c), (1, 1, w, 1)),        # both sides broadcast
        ((1, c), (1, c)),                    # rank 2
        ((c,), (c,)),                        # rank 1
        ((1, 2, h, w, c), (1, 2, 1, w, 1)),  # rank 5
        ((1, 1, w, c), (1, h, w, c)),        # smaller first
    ]
    return patterns[i % len(patterns)]


def _binary_case(name, tf_name, i):
    rng = _rng(name, i)
    s1, s2 = _broadcast_pair(rng, i)
    r1, r2 = _range(rng), _range(rng)
    if i % 5 == 4:  # a constant second operand, quantized by the converter
        const = rng.uniform(r2[0], r2[1], size=s2).astype(np.float32)
        return (f"{name}-{s1}-const{s2}-{r1}", [s1], [r1],
                _lambda(lambda tf, x: getattr(tf.math, tf_name)(x, tf.constant(const))))
    return (f"{name}-{s1}-{s2}-{r1}-{r2}", [s1, s2], [r1, r2],
            _lambda(lambda tf, x, y: getattr(tf.math, tf_name)(x, y)))


def add_case(i):
    return _binary_case("add", "add", i)


def sub_case(i):
    return _binary_case("sub", "subtract", i)


def mul_case(i):
    return _binary_case("mul", "multiply", i)


def pad_case(i):
    rng = _rng("pad", i)
    shape = (1,) + tuple(int(rng.integers(1, 5)) for _ in range(int(rng.integers(1, 4))))
    paddings = [[0, 0]] + [[int(rng.integers(0, 3)), int(rng.integers(0, 3))]
                           for _ in shape[1:]]
    paddings[-1][1] += 1  # never an identity, which the converter would drop
    return (f"pad-{shape}-{paddings}", [shape], [_range(rng)],
            _lambda(lambda tf, x: tf.pad(x, paddings)))


def strided_slice_case(i):
    """Non-empty slices with positive and negative steps and shrunk axes; the
    last axis is never copied whole (an identity the converter would drop)."""
    rng = _rng("strided_slice", i)
    shape = (1,) + tuple(int(rng.integers(2, 7)) for _ in range(int(rng.integers(1, 4))))
    index = [slice(None)]
    for k, d in enumerate(shape[1:]):
        last = k == len(shape) - 2
        if not last and rng.random() < 0.2:
            index.append(int(rng.integers(0, d)))
            continue
        step = int(rng.choice([1, 2, -1, -2]))
        start = int(rng.integers(1 if last and step > 0 else 0, d))
        if step > 0:
            stop = int(rng.integers(start + 1, d + 1))
        else:
            stop = int(rng.integers(-1, start))
        index.append(slice(start, None if stop < 0 else stop, step))
    return (f"strided_slice-{shape}-{index}", [shape], [_range(rng)],
            _lambda(lambda tf, x: x[tuple(index)]))


def slice_case(i):
    rng = _rng("slice", i)
    shape = (1,) + tuple(int(rng.integers(2, 7)) for _ in range(int(rng.integers(1, 4))))
    begin = [0] + [int(rng.integers(0, d)) for d in shape[1:]]
    begin[-1] = max(begin[-1], 1)  # never the identity, which the converter would drop
    size = [1] + [int(rng.integers(1, d - b + 1)) for d, b in zip(shape[1:], begin[1:])]
    return (f"slice-{shape}-{begin}-{size}", [shape], [_range(rng)],
            _lambda(lambda tf, x: tf.slice(x, begin, size)))


def _unary_case(name, fn, i):
    rng = _rng(name, i)
    shape = (1,) + tuple(int(rng.integers(1, 7)) for _ in range(int(rng.integers(0, 4))))
    value_range = _range(rng)
    return f"{name}-{shape}-{value_range}", [shape], [value_range], _lambda(fn)


def logistic_case(i):
    return _unary_case("logistic", lambda tf, x: tf.math.sigmoid(x), i)


def tanh_case(i):
    return _unary_case("tanh", lambda tf, x: tf.math.tanh(x), i)


def leaky_relu_case(i):
    alpha = [0.2, 0.01, 0.3, 1.5, -0.25][i % 5]
    key, shapes, ranges, fn = _unary_case(
        "leaky_relu", lambda tf, x: tf.nn.leaky_relu(x, alpha), i)
    return f"{key}-alpha{alpha}", shapes, ranges, fn


def softmax_case(i):
    rng = _rng("softmax", i)
    depth = int(rng.integers(2, 41))
    shape = [(1, depth), (1, int(rng.integers(1, 5)), depth),
             (1, int(rng.integers(1, 4)), int(rng.integers(1, 4)), depth)][i % 3]
    value_range = (-float(rng.choice([1.0, 4.0, 10.0])), float(rng.choice([1.0, 4.0, 10.0])))
    return (f"softmax-{shape}-{value_range}", [shape], [value_range],
            _lambda(lambda tf, x: tf.nn.softmax(x, axis=-1)))


# op family -> (case generator, TFLite ops the converted model must hold, io type)
FAMILIES = {
    "fully_connected": (fully_connected_case, ("FULLY_CONNECTED",), "int16"),
    "conv2d": (conv2d_case, ("CONV_2D",), "int16"),
    "depthwise_conv2d": (depthwise_case, ("DEPTHWISE_CONV_2D",), "int16"),
    "quantize_float": (quantize_case, ("QUANTIZE", "DEQUANTIZE"), "float32"),
    "add": (add_case, ("ADD",), "int16"),
    "sub": (sub_case, ("SUB",), "int16"),
    "mul": (mul_case, ("MUL",), "int16"),
    "pad": (pad_case, ("PAD",), "int16"),
    "strided_slice": (strided_slice_case, ("STRIDED_SLICE",), "int16"),
    "slice": (slice_case, ("SLICE",), "int16"),
    "logistic": (logistic_case, ("LOGISTIC",), "int16"),
    "tanh": (tanh_case, ("TANH",), "int16"),
    "leaky_relu": (leaky_relu_case, ("LEAKY_RELU",), "int16"),
    "softmax": (softmax_case, ("SOFTMAX",), "int16"),
}
# Integer QUANTIZE to or from int16 (int8 -> int16, int16 -> int16, int16 ->
# int8) never comes out of TensorFlow's 16x8 converter, which only takes
# float32 or int16 at a model's edges: those models are built directly with
# tests/tflite_builder.py.
REQUANTIZE = "requantize"

GROUPS = [pytest.param(family, g, id=f"{family}-{g * GROUP:02d}-{(g + 1) * GROUP - 1:02d}")
          for family in list(FAMILIES) + [REQUANTIZE]
          for g in range((N_CASES + GROUP - 1) // GROUP)]


def _requantize_model(group: int) -> bytes:
    """GROUP independent QUANTIZE ops between int8 and int16 (zero point 0
    for int16, as the 16x8 scheme has it) with random scales."""
    import tflite_builder as tb

    mb = tb.ModelBuilder()
    inputs, outputs = [], []
    for i in range(group * GROUP, min((group + 1) * GROUP, N_CASES)):
        rng = _rng("requantize", i)
        src, dst = [("int8", "int16"), ("int16", "int16"), ("int16", "int8")][i % 3]
        shape = [1] + [int(rng.integers(1, 6)) for _ in range(int(rng.integers(1, 4)))]
        scales = [float(np.float32(10.0 ** rng.uniform(-5, -1))) for _ in range(2)]
        zero_points = [0 if t == "int16" else int(rng.integers(-128, 128)) for t in (src, dst)]
        inputs.append(mb.add_tensor(f"in{i}", shape, src, scales[0], zero_points[0]))
        outputs.append(mb.add_tensor(f"out{i}", shape, dst, scales[1], zero_points[1]))
        mb.add_op("QUANTIZE", [inputs[-1]], [outputs[-1]], tb.schema.QuantizeOptionsT())
    return mb.build(inputs, outputs)


def _model(family: str, group: int) -> bytes:
    if family == REQUANTIZE:
        return _requantize_model(group)
    warm_up(__file__)
    generator, _, io_type = FAMILIES[family]
    cases = [generator(i) for i in range(group * GROUP, min((group + 1) * GROUP, N_CASES))]
    import tensorflow as tf

    def body(*inputs):
        outputs, used = [], 0
        for case in cases:
            count = len(case[1])
            outputs.append(case[3](tf)(*inputs[used:used + count]))
            used += count
        return outputs

    key = "|".join(case[0] for case in cases)
    return convert(body, [s for case in cases for s in case[1]],
                   seed=zlib.crc32(key.encode()) % 1000,
                   value_range=[r for case in cases for r in case[2]], key="16x8-" + key,
                   scheme="16x8", io_type=io_type)


def _input_sets(compiled, seed: int) -> list[tuple[str, list[np.ndarray]]]:
    from tinyedge.verify import random_inputs

    rng = np.random.default_rng(seed)
    sets = [(f"random{k}", random_inputs(compiled.inputs, rng)) for k in range(2)]
    # small values that exercise rounding near zero
    small = []
    for s in compiled.inputs:
        values = rng.integers(-300, 301, size=s["shape"])
        small.append((values * 1e-4 if s["dtype"] == "float32" else np.clip(
            values, np.iinfo(s["dtype"]).min, np.iinfo(s["dtype"]).max)).astype(s["dtype"]))
    sets.append(("small", small))
    for label, pick in (("allmin", 0), ("allmax", 1)):
        arrays = []
        for s in compiled.inputs:
            if s["dtype"] == "float32":  # beyond the calibrated range: saturation
                value = s["range"][pick] + (1.0 if pick else -1.0)
            else:
                value = (np.iinfo(s["dtype"]).min, np.iinfo(s["dtype"]).max)[pick]
            arrays.append(np.full(s["shape"], value, s["dtype"]))
        sets.append((label, arrays))
    return sets


def _holds_int16_op(data: bytes, op: str) -> bool:
    from tinyedge.frontend.tflite import read_tflite

    return any(node.kind.name == op and any(
        t is not None and t.dtype.name == "INT16" for t in node.inputs + node.outputs)
        for node in read_tflite(data).nodes)


@pytest.mark.parametrize("family,group", GROUPS)
def test_16x8_op(family, group, tmp_path):
    import tinyedge
    from tinyedge.verify import run_tflm

    data = _model(family, group)
    for op in ("QUANTIZE",) if family == REQUANTIZE else FAMILIES[family][1]:
        assert _holds_int16_op(data, op), f"the model holds no {op} on int16 tensors"
    compiled = tinyedge.compile(data, tmp_path / "out")
    for label, xs in _input_sets(compiled, group):
        ours = compiled.run(*xs)
        theirs = run_tflm(data, xs, len(compiled.outputs))
        for j, (a, b) in enumerate(zip(ours, theirs)):
            b = np.asarray(b).reshape(a.shape)
            assert a.dtype == b.dtype, f"output {j}: dtype {a.dtype}, TFLM {b.dtype}"
            if a.dtype.kind == "f":  # bit patterns
                a, b = a.view(np.uint32), b.view(np.uint32)
            diff = np.flatnonzero(a.reshape(-1) != b.reshape(-1))
            assert diff.size == 0, (f"inputs {label} output {j}: {diff.size}/{a.size} differ, "
                                    f"first at {diff[0]}: ours {a.reshape(-1)[diff[0]]}, "
                                    f"TFLM {b.reshape(-1)[diff[0]]}")


if __name__ == "__main__":  # convert (and cache) every model: see tf_convert.warm_up
    for _param in GROUPS:
        if _param.values[0] != REQUANTIZE:
            _model(*_param.values)


@pytest.mark.parametrize("problem", ["zero_point", "int32_bias", "mixed_types"])
def test_16x8_refuses_what_tflite_micro_refuses(problem, tmp_path):
    """int16 activations with a zero point, an int32 bias (TFLite Micro reads
    16x8 biases as int64) and int16 mixed with int8 in one op are refused
    with one error naming the tensor."""
    import tflite_builder as tb

    import tinyedge
    from tinyedge.errors import UnsupportedModelError

    mb = tb.ModelBuilder()
    x = mb.add_tensor("x", [1, 4], "int16", 1e-3, 7 if problem == "zero_point" else 0)
    w = mb.add_tensor("w", [2, 4], "int8", 0.01, 0, data=np.ones((2, 4)))
    bias_type = "int32" if problem == "int32_bias" else "int64"
    b = mb.add_tensor("b", [2], bias_type, 1e-5, 0, data=np.zeros(2))
    y = mb.add_tensor("y", [1, 2], "int8" if problem == "mixed_types" else "int16", 1e-3, 0)
    mb.add_op("FULLY_CONNECTED", [x, w, b], [y], tb.schema.FullyConnectedOptionsT())
    expected = {"zero_point": "'x' has zero point 7", "int32_bias": "bias 'b' must be a constant "
                "int64", "mixed_types": "tensor 'y' is INT8"}[problem]
    with pytest.raises(UnsupportedModelError, match=expected):
        tinyedge.compile(mb.build([x], [y]), tmp_path / "out")
