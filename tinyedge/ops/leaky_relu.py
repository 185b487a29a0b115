"""LEAKY_RELU: int8 or int16 (16x8), two rescales (identity and alpha), any alpha."""
from __future__ import annotations

import numpy as np

from tinyedge import quant
from tinyedge.ir import Node
from tinyedge.ops import CStruct, IntArg, KernelCall, StructArg, TensorArg, is_16x8, require, \
    shape_text
from tinyedge.ops.elementwise import check_unary, require_multiplier, unary_overlap

SUPPORT = "int8 or int16 (16x8, zero points 0), any alpha (negative or above one too)"


def params(node: Node) -> dict:
    """TFLite Micro's LeakyReluPrepare: both ratios computed in float32; a
    negative alpha gives a negative multiplier."""
    input_, output = node.inputs[0], node.outputs[0]
    s_in, s_out = np.float32(input_.quant.scale), np.float32(output.quant.scale)
    alpha = np.float32(node.options.get("alpha", 0.2))
    alpha_m, alpha_s = quant.quantize_multiplier(float(s_in * alpha / s_out))
    ident_m, ident_s = quant.quantize_multiplier(float(s_in / s_out))
    return {"input_zero_point": input_.quant.zero_point,
            "output_zero_point": output.quant.zero_point,
            "identity_multiplier": ident_m, "identity_shift": ident_s,
            "alpha_multiplier": alpha_m, "alpha_shift": alpha_s}


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if not check_unary(node, problems, int16=True):
        return problems
    p = params(node)
    require_multiplier(problems, node, "identity", p["identity_multiplier"], p["identity_shift"])
    require_multiplier(problems, node, "alpha", abs(p["alpha_multiplier"]), p["alpha_shift"])
    require(problems, p["alpha_multiplier"] != -(2**31),
            "LEAKY_RELU alpha multiplier overflows int32")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    input_, output = node.inputs[0], node.outputs[0]
    struct = CStruct("te_leaky_relu_params", f"{prefix}_params", list(params(node).items()))
    return KernelCall(
        function="te_leaky_relu_s16" if is_16x8(node) else "te_leaky_relu_s8",
        args=[StructArg(struct), IntArg(input_.size), TensorArg(input_), TensorArg(output)],
        constants=[struct],
        summary=f"LEAKY_RELU {shape_text(input_)} alpha {node.options.get('alpha', 0.2):g}")


overlap = unary_overlap
