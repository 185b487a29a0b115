"""RSQRT: int8, TFLite's integer inverse square root."""
from __future__ import annotations

import math

from tinyedge import quant
from tinyedge.ir import Node
from tinyedge.ops import CStruct, IntArg, KernelCall, StructArg, TensorArg, require, shape_text
from tinyedge.ops.elementwise import check_unary, unary_overlap

SUPPORT = ("int8; an input below its zero point (a negative real) makes the invocation fail, as "
           "in TFLite Micro")

GUARD_BITS = 20


def params(node: Node) -> dict:
    """TFLite Micro's rsqrt preparation: 1 / (sqrt(input_scale) * output_scale)."""
    input_, output = node.inputs[0], node.outputs[0]
    multiplier, shift = quant.quantize_multiplier(
        1.0 / (math.sqrt(input_.quant.scale) * output.quant.scale))
    return {"input_zero_point": input_.quant.zero_point,
            "output_zero_point": output.quant.zero_point,
            "output_multiplier": multiplier, "output_shift": shift}


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if not check_unary(node, problems):
        return problems
    p = params(node)
    require(problems, -31 <= p["output_shift"] - GUARD_BITS and p["output_shift"] <= 30,
            f"RSQRT output scale {node.outputs[0].quant.scale:g} is out of the supported range")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    input_, output = node.inputs[0], node.outputs[0]
    struct = CStruct("te_rsqrt_params", f"{prefix}_params", list(params(node).items()))
    return KernelCall(
        function="te_rsqrt_s8",
        args=[StructArg(struct), IntArg(input_.size), TensorArg(input_), TensorArg(output)],
        constants=[struct],
        summary=f"RSQRT {shape_text(input_)}")


def overlap(node: Node) -> dict[int, int]:
    """The whole input is checked for negative values before any write; then
    element k is read just before it is written."""
    return unary_overlap(node)
