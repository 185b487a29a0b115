"""SOFTMAX: int8 in, int8 out (scale 1/256, zero point -128), TFLite's integer
algorithm; int16 in and out (16x8), TFLite's table-based SoftmaxInt16."""
from __future__ import annotations

import numpy as np

from tinyedge import quant
from tinyedge.ir import DType, Node
from tinyedge.planner.overlap import elementwise_limit
import functools
import math

from tinyedge.ops import CArray, CName, CStruct, IntArg, KernelCall, StructArg, TensorArg, \
    check_int16_activations, check_int8_activations, is_16x8, require, shape_text

# One line of `tinyedge ops`: types and constraints.
SUPPORT = (
    "int8 in and out over the last axis, any beta > 0; output scale 1/256, zero point -128; "
    "or int16 out, scale 1/65536, zero point -32768; int16 in and out (16x8): zero points 0, "
    "output scale 1/32768, depth <= 65536"
)

# Output type -> (scale, zero point, kernel), as TFLite Micro requires.
OUTPUTS = {DType.INT8: (1.0 / 256, -128, "te_softmax_s8"),
           DType.INT16: (1.0 / 65536, -32768, "te_softmax_s8_s16")}


def check(node: Node) -> list[str]:
    problems: list[str] = []
    require(problems, len(node.inputs) == 1 and len(node.outputs) == 1,
            "SOFTMAX takes 1 input and 1 output")
    if problems:
        return problems
    input_, output = node.inputs[0], node.outputs[0]
    if is_16x8(node):
        check_int16_activations(node, [input_, output], problems)
        if problems:
            return problems
        require(problems, input_.shape == output.shape and 1 <= input_.shape[-1] <= 65536,
                "SOFTMAX input and output shapes differ or the last axis is over 65536")
        require(problems, abs(output.quant.scale - 1.0 / 32768) <= 0.001 / 32768,
                f"SOFTMAX output '{output.name}' must have scale 1/32768 (found "
                f"{output.quant.scale})")
        require(problems, node.options.get("beta", 1.0) > 0, "SOFTMAX beta must be positive")
        return problems
    check_int8_activations(node, [input_] + ([] if output.dtype == DType.INT16 else [output]),
                           problems)
    if output.dtype == DType.INT16 and output.quant is None:
        problems.append(f"tensor '{output.name}' has no quantization parameters")
    if problems:
        return problems
    require(problems, input_.shape == output.shape and len(input_.shape) >= 1,
            "SOFTMAX input and output shapes differ")
    scale, zero_point, _ = OUTPUTS[output.dtype]
    # TFLite Micro wants 1/256 exactly for int8, 1/65536 within 0.1% for int16
    # (converters write 1.5259e-05); the kernel assumes the exact scale.
    close = (np.float32(output.quant.scale) == np.float32(scale) if output.dtype == DType.INT8
             else abs(output.quant.scale - scale) <= 0.001 * scale)
    require(problems, output.quant.zero_point == zero_point and close,
            f"SOFTMAX output '{output.name}' must have scale {scale:g} and zero point "
            f"{zero_point} (found {output.quant.scale}, {output.quant.zero_point})")
    require(problems, node.options.get("beta", 1.0) > 0, "SOFTMAX beta must be positive")
    return problems


def _round(x: np.float32) -> np.float32:
    """std::round in float: half away from zero."""
    return np.float32(math.copysign(math.floor(abs(float(x)) + 0.5), float(x)))


def _lut_int16(func, input_min: float, input_max: float) -> list[int]:
    """TFLite's gen_lut<float, int16_t, int16_t> over [input_min, input_max]
    with the output range [-1, 1]: 512 samples, each biased by half the
    interpolation error at its midpoint, and the end point; all in float32."""
    f = np.float32
    lo, hi = f(input_min), f(input_max)
    step = f((hi - lo) / f(512))
    half_step = f(step / f(2))
    scaling = f(f(65536) / f(2))
    table = []
    for i in range(512):
        val = func(f(lo + f(f(i) * step)))
        val_midpoint = func(f(f(lo + f(f(i) * step)) + half_step))
        val_next = func(f(lo + f(f(i + 1) * step)))
        sample = _round(f(val * scaling))
        interpolated = _round(f(f(f(val_next * scaling) + _round(f(val * scaling))) / f(2)))
        bias = _round(f(f(interpolated - _round(f(val_midpoint * scaling))) / f(2)))
        table.append(int(min(max(f(sample - bias), f(-32768)), f(32767))))
    table.append(int(min(max(_round(f(func(hi) * scaling)), f(-32768)), f(32767))))
    return table


@functools.lru_cache(maxsize=None)
def int16_luts() -> tuple[list[int], list[int]]:
    """SoftmaxInt16's tables: exp over [-10, 0] and 1 / (1 + x) over [0, 1]."""
    def exp(x):
        return np.float32(math.exp(float(x)))  # expf, correctly rounded

    def one_over_one_plus_x(x):
        return np.float32(np.float32(1) / np.float32(np.float32(1) + x))
    return _lut_int16(exp, -10.0, 0.0), _lut_int16(one_over_one_plus_x, 0.0, 1.0)


def _lower_int16(node: Node, prefix: str) -> KernelCall:
    input_ = node.inputs[0]
    # [-65535, 0] of the rescaled difference is [-10, 0]
    multiplier, shift = quant.quantize_multiplier(
        input_.quant.scale * node.options.get("beta", 1.0) / (10.0 / 65535.0))
    exp_lut, reciprocal_lut = int16_luts()
    exp_table = CArray("int16_t", f"{prefix}_exp_lut", exp_lut)
    reciprocal_table = CArray("int16_t", f"{prefix}_one_over_one_plus_x_lut", reciprocal_lut)
    params = CStruct("te_softmax_s16_params", f"{prefix}_params", [
        ("input_multiplier", multiplier), ("input_left_shift", shift),
        ("exp_lut", CName(exp_table.name)),
        ("one_over_one_plus_x_lut", CName(reciprocal_table.name))])
    depth = input_.shape[-1]
    return KernelCall(
        function="te_softmax_s16",
        args=[StructArg(params), IntArg(input_.size // depth), IntArg(depth),
              TensorArg(input_), TensorArg(node.outputs[0])],
        constants=[exp_table, reciprocal_table, params],
        summary=f"SOFTMAX {shape_text(input_)} int16")


def lower(node: Node, prefix: str) -> KernelCall:
    if is_16x8(node):
        return _lower_int16(node, prefix)
    input_, output = node.inputs[0], node.outputs[0]
    multiplier, left_shift, diff_min = quant.softmax_params(node.options.get("beta", 1.0),
                                                            input_.quant.scale)
    params = CStruct("te_softmax_params", f"{prefix}_params", [
        ("input_multiplier", multiplier), ("input_left_shift", left_shift),
        ("diff_min", diff_min)])
    depth = input_.shape[-1]
    return KernelCall(
        function=OUTPUTS[output.dtype][2],
        args=[StructArg(params), IntArg(input_.size // depth), IntArg(depth),
              TensorArg(input_), TensorArg(output)],
        constants=[params],
        summary=f"SOFTMAX {shape_text(input_)}")


def overlap(node: Node) -> dict[int, int]:
    """A row is read whole (max, sum of exponentials) before any of it is
    written; then element c is read just before it is written."""
    input_, output = node.inputs[0], node.outputs[0]
    return {0: elementwise_limit(np.arange(input_.size), input_.dtype.itemsize,
                                 output.dtype.itemsize)}
