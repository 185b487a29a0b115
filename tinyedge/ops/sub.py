"""SUB: int8 (or 16x8 int16) elementwise difference (ADD's general path) with
broadcasting up to 6-D."""
from __future__ import annotations

import numpy as np

from tinyedge import quant
from tinyedge.ir import Node
from tinyedge.ops import CStruct, KernelCall, StructArg, TensorArg, activation_bounds, \
    check_activation, is_16x8, shape_text
from tinyedge.ops.add import elementwise_shape
from tinyedge.ops.elementwise import binary_overlap, check_binary, quantize_multiplier_f32

SUPPORT = ("int8 or int16 (16x8, zero points 0); numpy broadcasting up to 6-D, either input may "
           "be constant; fused activations as CONV_2D")

LEFT_SHIFT = 20
LEFT_SHIFT_INT16 = 15


def params(node: Node) -> dict:
    """TFLite Micro's SUB preparation (left shift 20 for int8, 15 for int16).
    Unlike ADD's, its scale ratios are computed in float32
    (twice_max_input_scale is a float)."""
    a, b, output = node.inputs[0], node.inputs[1], node.outputs[0]
    left_shift = LEFT_SHIFT_INT16 if is_16x8(node) else LEFT_SHIFT
    s1, s2, so = (np.float32(t.quant.scale) for t in (a, b, output))
    twice_max = np.float32(2) * max(s1, s2)
    m1, sh1 = quantize_multiplier_f32(s1 / twice_max)
    m2, sh2 = quantize_multiplier_f32(s2 / twice_max)
    mo, sho = quantize_multiplier_f32(twice_max / (np.float32(1 << left_shift) * so))
    act_min, act_max = quant.activation_range(node.options.get("activation", "NONE"),
                                              output.quant.scale, output.quant.zero_point,
                                              *activation_bounds(node))
    return {"input1_offset": -a.quant.zero_point, "input2_offset": -b.quant.zero_point,
            "output_offset": output.quant.zero_point, "left_shift": left_shift,
            "input1_multiplier": m1, "input1_shift": sh1,
            "input2_multiplier": m2, "input2_shift": sh2,
            "output_multiplier": mo, "output_shift": sho,
            "activation_min": act_min, "activation_max": act_max}


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if not check_binary(node, problems, int16=True):
        return problems
    check_activation(node, problems)
    if problems:
        return problems
    p = params(node)
    if p["output_shift"] > 0 or p["output_shift"] < -31:
        problems.append(f"SUB output scale {node.outputs[0].quant.scale:g} is too small for the "
                        "input scales (TFLite needs a rescale below one)")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    a, b, output = node.inputs[0], node.inputs[1], node.outputs[0]
    struct = CStruct("te_add_params", f"{prefix}_params", list(params(node).items()))
    shape = elementwise_shape(f"{prefix}_shape", a, b, output)
    activation = node.options.get("activation", "NONE")
    return KernelCall(
        function="te_sub_s16" if is_16x8(node) else "te_sub_s8",
        args=[StructArg(struct), StructArg(shape), TensorArg(a), TensorArg(b), TensorArg(output)],
        constants=[struct, shape],
        summary=(f"SUB {shape_text(a)} - {shape_text(b)} -> {shape_text(output)}"
                 + (f" ({activation})" if activation != "NONE" else "")))


overlap = binary_overlap
