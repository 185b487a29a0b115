"""The test-model builder makes models TFLite Micro accepts and computes sensibly.

For each convenience function and several seeded configurations:
* TFLite Micro loads and runs the model;
* outputs have the expected shape (computed here independently with TFLite's
  SAME/VALID formulas) and dtype; TFLite Micro does NOT check the output shape
  of CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED or the pools itself;
* outputs are not degenerate for random inputs (several distinct values, no
  single value dominating);
* TFLite Micro's dequantized outputs match the builder's float simulation
  within one output LSB, which shows that padding, dilation, groups, depth
  multiplier, broadcasting and the quantization all mean what the builder
  thinks they mean.
"""
from __future__ import annotations

import math
import zlib
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tflite_builder as tb  # noqa: E402
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema  # noqa: E402


def _out(size, k, s, d, padding):
    eff = (k - 1) * d + 1
    return math.ceil(size / s) if padding == "SAME" else math.ceil((size - eff + 1) / s)


def check_model(m: tb.BuiltModel, expected_shapes, expected_dtypes=None, lsb_tolerance=1.0):
    """Run every calibration sample through TFLite Micro and check it."""
    assert m.calibration, "builder kept no calibration samples"
    expected_dtypes = expected_dtypes or ["int8"] * len(expected_shapes)
    for spec, shape, dtype in zip(m.outputs, expected_shapes, expected_dtypes):
        assert spec.shape == tuple(shape), (spec.shape, shape)
        assert spec.dtype == dtype
    collected = [[] for _ in m.outputs]
    for inputs, floats in m.calibration:
        outs = tb.run_tflm(m, inputs)
        assert len(outs) == len(m.outputs)
        for j, (out, spec, ref) in enumerate(zip(outs, m.outputs, floats)):
            assert out.shape == spec.shape, (out.shape, spec.shape)
            assert out.dtype == spec.np_dtype, (out.dtype, spec.np_dtype)
            got = out.astype(np.float64) if spec.dtype == "float32" else spec.dequantize(out)
            lsb = m.params.get("output_lsb", spec.scale if spec.scales else 1.0)
            err = np.max(np.abs(got - ref)) / lsb
            assert err <= lsb_tolerance + 1e-6, f"output {j}: {err:.2f} LSB from float simulation"
            collected[j].append(out)
    for j, outs in enumerate(collected):
        values = np.concatenate([o.ravel() for o in outs])
        uniques, counts = np.unique(values, return_counts=True)
        assert len(uniques) >= min(3, values.size), f"output {j}: only {uniques}"
        assert counts.max() / values.size < 0.9, \
            f"output {j}: value {uniques[counts.argmax()]} is {counts.max() / values.size:.0%}"
    # Random inputs (not the calibration ones) run too.
    rng = np.random.default_rng(1234)
    outs = tb.run_tflm(m, m.random_inputs(rng))
    for out, spec in zip(outs, m.outputs):
        assert out.shape == spec.shape and out.dtype == spec.np_dtype


# --------------------------------------------------------------------------
# ModelBuilder itself
# --------------------------------------------------------------------------

def test_flatbuffer_layout():
    mb = tb.ModelBuilder()
    x = mb.add_tensor("x", [1, 4], "int8", 0.5, -3)
    c = mb.add_tensor("c", [4], "int8", 0.25, 1, data=np.arange(4))
    y = mb.add_tensor("y", [1, 4], "int8", 0.7, 2)
    mb.add_op("ADD", [x, c], [y], schema.AddOptionsT())
    mb.add_op(schema.BuiltinOperator.GELU, [y], [y])  # code > 127, parse only
    data = mb.build([x], [y])
    assert data[4:8] == b"TFL3"
    m = schema.ModelT.InitFromObj(schema.Model.GetRootAs(data, 0))
    assert m.version == 3
    assert m.buffers[0].data is None
    assert list(m.buffers[m.subgraphs[0].tensors[c].buffer].data) == [0, 1, 2, 3]
    codes = [(oc.deprecatedBuiltinCode, oc.builtinCode) for oc in m.operatorCodes]
    assert codes == [(schema.BuiltinOperator.ADD, schema.BuiltinOperator.ADD),
                     (127, schema.BuiltinOperator.GELU)]
    q = m.subgraphs[0].tensors[x].quantization
    assert list(q.scale) == [0.5] and list(q.zeroPoint) == [-3]


def test_per_channel_quantization_is_stored():
    m = tb.conv2d_model(np.random.default_rng(0), (1, 5, 5, 3), 4, per_channel=True)
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(m.data, 0))
    tensors = {t.name.decode(): t for t in model.subgraphs[0].tensors}
    f, b = tensors["conv/filter"], tensors["conv/bias"]
    assert len(f.quantization.scale) == 4 and f.quantization.quantizedDimension == 0
    inp = tensors["input"].quantization.scale[0]
    np.testing.assert_allclose(b.quantization.scale, np.float32(inp) * np.float32(f.quantization.scale),
                               rtol=1e-6)
    assert list(b.quantization.zeroPoint) == [0] * 4
    w = np.frombuffer(bytes(model.buffers[f.buffer].data), np.int8)
    assert w.min() >= -127 and np.abs(w).max() == 127


def test_depthwise_per_channel_axis_3():
    m = tb.depthwise_model(np.random.default_rng(0), (1, 5, 5, 3), depth_multiplier=2)
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(m.data, 0))
    f = [t for t in model.subgraphs[0].tensors if t.name == b"dwconv/filter"][0]
    assert list(f.shape) == [1, 3, 3, 6]
    assert f.quantization.quantizedDimension == 3 and len(f.quantization.scale) == 6


# --------------------------------------------------------------------------
# Convenience functions, run in TFLite Micro
# --------------------------------------------------------------------------

CONV_CASES = [
    # input, out_ch, kernel, stride, dilation, padding, act, per_channel, groups, bias
    ((1, 8, 8, 3), 4, 3, 1, 1, "SAME", "NONE", True, 1, True),
    ((1, 9, 7, 4), 6, (3, 2), 2, 2, "VALID", "RELU6", False, 2, True),
    ((1, 10, 11, 4), 6, (5, 3), (1, 3), (2, 1), "SAME", "RELU", True, 2, False),
    ((1, 7, 7, 5), 3, 1, 3, 1, "VALID", "RELU", True, 1, True),
    ((1, 6, 13, 2), 8, (1, 5), (2, 1), (1, 2), "SAME", "RELU6", False, 1, True),
    ((1, 12, 12, 6), 6, 3, 2, 1, "SAME", "NONE", True, 3, True),
]


@pytest.mark.parametrize("seed,case", list(enumerate(CONV_CASES)))
def test_conv2d(seed, case):
    shape, oc, k, s, d, pad, act, pc, g, bias = case
    m = tb.conv2d_model(np.random.default_rng(seed), shape, oc, k, s, d, pad, act, pc, g, bias)
    kh, kw = tb._pair(k)
    sh, sw = tb._pair(s)
    dh, dw = tb._pair(d)
    check_model(m, [(1, _out(shape[1], kh, sh, dh, pad), _out(shape[2], kw, sw, dw, pad), oc)])


def test_conv2d_pre_activation_range():
    m = tb.conv2d_model(np.random.default_rng(7), (1, 6, 6, 3), 5, 3, 1, 1, "SAME", "RELU6",
                        pre_activation_range=True)
    check_model(m, [(1, 6, 6, 5)])
    assert m.outputs[0].zero_point > -128  # the clamp at 0 is inside the int8 range


DW_CASES = [
    # input, kernel, stride, dilation, padding, multiplier, act, per_channel, bias
    ((1, 8, 8, 3), 3, 1, 1, "SAME", 1, "NONE", True, True),
    ((1, 9, 10, 3), (3, 5), (2, 3), (2, 1), "SAME", 3, "RELU6", False, True),
    ((1, 7, 7, 4), 5, 1, 1, "VALID", 2, "RELU", True, False),
    ((1, 11, 5, 2), (1, 3), 2, 2, "VALID", 1, "NONE", True, True),
    ((1, 6, 6, 8), 3, 2, 1, "SAME", 1, "RELU", False, True),
]


@pytest.mark.parametrize("seed,case", list(enumerate(DW_CASES)))
def test_depthwise(seed, case):
    shape, k, s, d, pad, mult, act, pc, bias = case
    m = tb.depthwise_model(np.random.default_rng(seed), shape, k, s, d, pad, mult, act, pc, bias)
    kh, kw = tb._pair(k)
    sh, sw = tb._pair(s)
    dh, dw = tb._pair(d)
    check_model(m, [(1, _out(shape[1], kh, sh, dh, pad), _out(shape[2], kw, sw, dw, pad),
                     shape[3] * mult)])


FC_CASES = [
    # input, units, act, per_channel, keep_num_dims, bias
    ((1, 16), 8, "NONE", False, False, True),
    ((1, 33), 10, "RELU", True, False, True),
    ((1, 3, 8), 5, "NONE", True, True, True),
    ((1, 3, 8), 5, "RELU6", False, False, False),
    ((1, 2, 2, 6), 7, "NONE", True, False, True),
]


@pytest.mark.parametrize("seed,case", list(enumerate(FC_CASES)))
def test_fully_connected(seed, case):
    shape, units, act, pc, keep, bias = case
    m = tb.fully_connected_model(np.random.default_rng(seed), shape, units, act, pc, keep, bias)
    expected = tuple(shape[:-1]) + (units,) if keep else (math.prod(shape[:-1]), units)
    check_model(m, [expected])


POOL_CASES = [
    ("AVG", (1, 8, 8, 3), 2, 2, "VALID", "NONE"),
    ("AVG", (1, 7, 7, 3), 3, 2, "SAME", "RELU"),
    ("MAX", (1, 8, 8, 3), 2, 2, "VALID", "NONE"),
    ("MAX", (1, 7, 9, 4), (3, 2), (2, 3), "SAME", "RELU6"),
    ("AVG", (1, 10, 5, 2), (5, 1), (1, 1), "VALID", "NONE"),
]


@pytest.mark.parametrize("seed,case", list(enumerate(POOL_CASES)))
def test_pool(seed, case):
    kind, shape, f, s, pad, act = case
    m = tb.pool_model(np.random.default_rng(seed), kind, shape, f, s, pad, act)
    fh, fw = tb._pair(f)
    sh, sw = tb._pair(s)
    check_model(m, [(1, _out(shape[1], fh, sh, 1, pad), _out(shape[2], fw, sw, 1, pad), shape[3])])
    assert m.outputs[0].scale == m.inputs[0].scale  # TFLM requires equal pool quantization


ADD_CASES = [
    ((1, 4, 4, 8), (1, 4, 4, 8), "NONE", False),
    ((1, 4, 4, 8), (1, 1, 1, 8), "RELU", False),
    ((1, 4, 1, 8), (1, 1, 5, 1), "NONE", False),
    ((1, 4, 4, 8), (8,), "RELU6", True),
    ((3, 5), (1, 5), "NONE", False),
    ((1, 2, 3, 4, 5), (1, 1, 3, 1, 5), "NONE", False),
    ((1, 6, 6, 3), (1, 6, 6, 3), "NONE", True),
]


@pytest.mark.parametrize("seed,case", list(enumerate(ADD_CASES)))
def test_add(seed, case):
    s1, s2, act, const = case
    m = tb.add_model(np.random.default_rng(seed), s1, s2, act, const_second=const)
    assert len(m.inputs) == (1 if const else 2)
    check_model(m, [np.broadcast_shapes(s1, s2)])


@pytest.mark.parametrize("seed,case", list(enumerate([((1, 10), 1.0), ((1, 3, 20), 0.3),
                                                       ((1, 2, 2, 16), 2.0), ((4, 7), 1.0)])))
def test_softmax(seed, case):
    shape, beta = case
    m = tb.softmax_model(np.random.default_rng(seed), shape, beta)
    assert (m.outputs[0].scale, m.outputs[0].zero_point) == (1 / 256, -128)
    check_model(m, [shape])


@pytest.mark.parametrize("seed,case", list(enumerate([
    ((1, 4, 4, 2), (1, 32), True), ((1, 32), (1, 2, 4, 4), False), ((1, 3, 5, 2), (1, -1), True)])))
def test_reshape(seed, case):
    src, dst, shape_tensor = case
    m = tb.reshape_model(np.random.default_rng(seed), src, dst, shape_tensor)
    expected = tuple(d if d != -1 else math.prod(src) // -math.prod(dst) for d in dst)
    check_model(m, [expected])


@pytest.mark.parametrize("edge", ["float32", "uint8"])
@pytest.mark.parametrize("inner", tb.INNER_OPS)
def test_quantize_edges(edge, inner):
    m = tb.quantize_edges_model(np.random.default_rng(zlib.crc32(f"{edge}-{inner}".encode())),
                                (1, 6, 6, 3), edge, inner)
    assert m.inputs[0].dtype == edge
    shape = {"conv": (1, 6, 6, 4), "depthwise": (1, 6, 6, 6), "fc": (1, 6, 6, 6),
             "avgpool": (1, 3, 3, 3), "maxpool": (1, 3, 3, 3)}.get(inner, (1, 6, 6, 3))
    check_model(m, [shape], [edge])
