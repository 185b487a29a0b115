"""LOGISTIC and TANH: int8, TFLite's gemmlowp fixed-point functions on a Q4.27
input, evaluated at compile time for every int8 input into a 256-entry table
(tinyedge.reference, which the kernel tests hold equal to te_logistic_s8 and
te_tanh_s8); int16 (16x8), TFLite's interpolated sigmoid table."""
from __future__ import annotations

import math

import numpy as np

from tinyedge import quant, reference
from tinyedge.ir import DType, Node, OpKind, Tensor
from tinyedge.ops import IntArg, KernelCall, TensorArg, is_16x8, require, shape_text
from tinyedge.ops.elementwise import check_unary, unary_overlap

SUPPORT = ("int8 (a 256-byte table per layer, computed at compile time); LOGISTIC output scale "
           "1/256 and zero point -128, TANH output scale 1/128 and zero point 0; int16 (16x8): "
           "zero points 0, output scale 2^-15")

INPUT_INTEGER_BITS = 4
# Output quantization each kernel produces: (scale, zero point).
OUTPUT_QUANT = {OpKind.LOGISTIC: (1.0 / 256, -128), OpKind.TANH: (1.0 / 128, 0)}
FUNCTIONS_INT16 = {OpKind.LOGISTIC: "te_logistic_tensor_s16", OpKind.TANH: "te_tanh_tensor_s16"}


def _checked_log2(x: float) -> tuple[int, bool]:
    """TFLite's CheckedLog2 (in float): the rounded log2 of x and whether x
    is within 1e-3 of that power of two, in log2."""
    log2 = np.float32(np.log(np.float32(x))) * np.float32(1.0 / np.log(np.float32(2.0)))
    rounded = np.round(log2)
    return int(rounded), bool(abs(log2 - rounded) < np.float32(1e-3))


def params_int16(kind: OpKind, input_scale: float) -> tuple[int, int]:
    """TFLite Micro's int16 LOGISTIC/TANH preparation, as (multiplier, right
    shift) for the kernel: a power-of-two input scale of 2^-12 (LOGISTIC) or
    2^-12/2^-11 (TANH) uses 3 << shift, others the input scale times
    3 * 4096 doubled up to 15 bits."""
    log2, is_pot = _checked_log2(input_scale)
    left_shift = 12 + log2
    if is_pot and left_shift in ((0,) if kind == OpKind.LOGISTIC else (0, 1)):
        return 3 << left_shift, 0
    multiplier, shift = input_scale * 4096.0 * 3.0, 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        multiplier *= 2.0
    return int(multiplier), shift


def params(input_scale: float, input_zero_point: int) -> dict:
    """TFLite Micro's int8 LOGISTIC/TANH preparation: the input scale times
    2^27 split by frexp (a left shift, not a normalized QuantizeMultiplier),
    and the radius beyond which the output saturates."""
    real = input_scale * float(1 << (31 - INPUT_INTEGER_BITS))
    mantissa, left_shift = math.frexp(real)
    multiplier = quant.round_half_away(mantissa * (1 << 31))
    radius = math.floor(((1 << INPUT_INTEGER_BITS) - 1) * float(1 << (31 - INPUT_INTEGER_BITS))
                        / float(1 << left_shift)) if left_shift >= 0 else -1
    return {"input_zero_point": input_zero_point, "input_range_radius": radius,
            "input_multiplier": multiplier, "input_left_shift": left_shift}


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if not check_unary(node, problems, int16=True):
        return problems
    input_, output = node.inputs[0], node.outputs[0]
    if is_16x8(node):
        log2, is_pot = _checked_log2(output.quant.scale)
        require(problems, is_pot and log2 == -15,
                f"{node.kind.name} output '{output.name}' must have scale 2^-15 (found "
                f"{output.quant.scale:g})")
        multiplier, _ = params_int16(node.kind, input_.quant.scale)
        require(problems, 1 <= multiplier <= 32767,
                f"{node.kind.name} input scale {input_.quant.scale:g} is out of the supported "
                "range")
        return problems
    scale, zero_point = OUTPUT_QUANT[node.kind]
    require(problems, np.float32(output.quant.scale) == np.float32(scale)
            and output.quant.zero_point == zero_point,
            f"{node.kind.name} output '{output.name}' must have scale {scale:g} and zero point "
            f"{zero_point} (found {output.quant.scale:g}, {output.quant.zero_point})")
    p = params(input_.quant.scale, input_.quant.zero_point)
    require(problems, 0 <= p["input_left_shift"] <= 31,
            f"{node.kind.name} input scale {input_.quant.scale:g} is out of the supported range")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    input_, output = node.inputs[0], node.outputs[0]
    if is_16x8(node):
        multiplier, right_shift = params_int16(node.kind, input_.quant.scale)
        return KernelCall(
            function=FUNCTIONS_INT16[node.kind],
            args=[IntArg(multiplier), IntArg(right_shift), IntArg(input_.size), TensorArg(input_),
                  TensorArg(output)],
            summary=f"{node.kind.name} {shape_text(input_)} int16")
    # An int8 -> int8 function: its value at each of the 256 inputs, as a table
    # (a few instructions per element instead of the fixed-point series).
    evaluate = reference.logistic if node.kind == OpKind.LOGISTIC else reference.tanh
    table = evaluate(np.arange(-128, 128), **params(input_.quant.scale,
                                                     input_.quant.zero_point))
    lut = Tensor(name=f"{prefix}_{node.kind.name.lower()}_table", shape=(256,),
                 dtype=DType.INT8, data=table)
    return KernelCall(
        function="te_lut_s8",
        args=[TensorArg(lut), IntArg(input_.size), TensorArg(input_), TensorArg(output)],
        summary=f"{node.kind.name} {shape_text(input_)} (table)")


overlap = unary_overlap
