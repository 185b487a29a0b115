"""HARD_SWISH: int8, TFLite's 16-bit fixed-point x * relu6(x + 3) / 6."""
from __future__ import annotations

import numpy as np

from tinyedge import quant
from tinyedge.ir import Node
from tinyedge.ops import CStruct, IntArg, KernelCall, StructArg, TensorArg, require, shape_text
from tinyedge.ops.elementwise import check_unary, unary_overlap

SUPPORT = "int8 (output scale at least input scale / 128)"


def downscale_to_int16(multiplier: int) -> int:
    """TFLite's DownScaleInt32ToInt16Multiplier: round a Q0.31 multiplier to Q0.15."""
    if multiplier >= (2**31 - 1) - (1 << 15):
        return 2**15 - 1
    return (multiplier + (1 << 15)) >> 16


def params(input_scale: float, input_zero_point: int, output_scale: float,
           output_zero_point: int) -> dict:
    """TFLite Micro's HardSwishPrepare; the scale ratios are float32 divisions."""
    hires_input_scale = np.float32(1.0 / 128.0) * np.float32(input_scale)
    reluish_scale = np.float32(3.0) / np.float32(32768.0)
    out_m, out_e = quant.quantize_multiplier(float(hires_input_scale / np.float32(output_scale)))
    rel_m, rel_e = quant.quantize_multiplier(float(hires_input_scale / reluish_scale))
    return {"input_zero_point": input_zero_point, "output_zero_point": output_zero_point,
            "reluish_multiplier": downscale_to_int16(rel_m), "reluish_exponent": rel_e,
            "output_multiplier": downscale_to_int16(out_m), "output_exponent": out_e}


def _params(node: Node) -> dict:
    input_, output = node.inputs[0], node.outputs[0]
    return params(input_.quant.scale, input_.quant.zero_point, output.quant.scale,
                  output.quant.zero_point)


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if not check_unary(node, problems):
        return problems
    p = _params(node)
    require(problems, -15 <= p["output_exponent"] <= 0,
            f"HARD_SWISH output scale {node.outputs[0].quant.scale:g} is out of range for the "
            f"input scale {node.inputs[0].quant.scale:g} (TFLite needs output scale >= input "
            "scale / 128)")
    require(problems, -15 <= p["reluish_exponent"] <= 15,
            f"HARD_SWISH input scale {node.inputs[0].quant.scale:g} is out of the supported range")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    input_, output = node.inputs[0], node.outputs[0]
    struct = CStruct("te_hard_swish_params", f"{prefix}_params", list(_params(node).items()))
    return KernelCall(
        function="te_hard_swish_s8",
        args=[StructArg(struct), IntArg(input_.size), TensorArg(input_), TensorArg(output)],
        constants=[struct],
        summary=f"HARD_SWISH {shape_text(input_)}")


overlap = unary_overlap
