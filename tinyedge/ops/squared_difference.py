"""SQUARED_DIFFERENCE: int8 (x - y)^2 with broadcasting up to 6-D."""
from __future__ import annotations

import numpy as np

from tinyedge import quant
from tinyedge.ir import Node
from tinyedge.ops import CStruct, KernelCall, StructArg, TensorArg, shape_text
from tinyedge.ops.add import elementwise_shape
from tinyedge.ops.elementwise import binary_overlap, check_binary, require_multiplier

SUPPORT = "int8; numpy broadcasting up to 6-D, either input may be constant"

LEFT_SHIFT = 7


def params(node: Node) -> dict:
    """TFLite Micro's SQUARED_DIFFERENCE preparation (in double; the output
    divisor 2^14 * output_scale is a float32 product)."""
    a, b, output = node.inputs[0], node.inputs[1], node.outputs[0]
    twice_max = 2.0 * max(a.quant.scale, b.quant.scale)
    m1, sh1 = quant.quantize_multiplier(a.quant.scale / twice_max)
    m2, sh2 = quant.quantize_multiplier(b.quant.scale / twice_max)
    divisor = float(np.float32(1 << (2 * LEFT_SHIFT)) * np.float32(output.quant.scale))
    mo, sho = quant.quantize_multiplier(twice_max * twice_max / divisor)
    return {"input1_offset": -a.quant.zero_point, "input2_offset": -b.quant.zero_point,
            "output_offset": output.quant.zero_point, "left_shift": LEFT_SHIFT,
            "input1_multiplier": m1, "input1_shift": sh1,
            "input2_multiplier": m2, "input2_shift": sh2,
            "output_multiplier": mo, "output_shift": sho,
            "activation_min": -128, "activation_max": 127}


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if not check_binary(node, problems):
        return problems
    p = params(node)
    require_multiplier(problems, node, "output", p["output_multiplier"], p["output_shift"])
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    a, b, output = node.inputs[0], node.inputs[1], node.outputs[0]
    struct = CStruct("te_add_params", f"{prefix}_params", list(params(node).items()))
    shape = elementwise_shape(f"{prefix}_shape", a, b, output)
    return KernelCall(
        function="te_squared_difference_s8",
        args=[StructArg(struct), StructArg(shape), TensorArg(a), TensorArg(b), TensorArg(output)],
        constants=[struct, shape], macs=output.size,
        summary=f"SQUARED_DIFFERENCE {shape_text(a)}, {shape_text(b)} -> {shape_text(output)}")


overlap = binary_overlap
