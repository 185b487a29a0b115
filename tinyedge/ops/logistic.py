"""LOGISTIC and TANH: int8, TFLite's gemmlowp fixed-point functions on a Q4.27 input."""
from __future__ import annotations

import math

import numpy as np

from tinyedge import quant
from tinyedge.ir import Node, OpKind
from tinyedge.ops import CStruct, IntArg, KernelCall, StructArg, TensorArg, require, shape_text
from tinyedge.ops.elementwise import check_unary, unary_overlap

SUPPORT = ("int8; LOGISTIC output scale 1/256 and zero point -128, TANH output scale 1/128 and "
           "zero point 0")

INPUT_INTEGER_BITS = 4
# Output quantization each kernel produces: (scale, zero point).
OUTPUT_QUANT = {OpKind.LOGISTIC: (1.0 / 256, -128), OpKind.TANH: (1.0 / 128, 0)}
FUNCTIONS = {OpKind.LOGISTIC: "te_logistic_s8", OpKind.TANH: "te_tanh_s8"}


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
    if not check_unary(node, problems):
        return problems
    input_, output = node.inputs[0], node.outputs[0]
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
    struct = CStruct("te_sigmoid_params", f"{prefix}_params",
                     list(params(input_.quant.scale, input_.quant.zero_point).items()))
    return KernelCall(
        function=FUNCTIONS[node.kind],
        args=[StructArg(struct), IntArg(input_.size), TensorArg(input_), TensorArg(output)],
        constants=[struct],
        summary=f"{node.kind.name} {shape_text(input_)}")


overlap = unary_overlap
