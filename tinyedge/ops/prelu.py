"""PRELU: int8 with an alpha tensor broadcasting against the input (per channel as a rule)."""
from __future__ import annotations

from tinyedge import quant
from tinyedge.ir import Node
from tinyedge.ops import CStruct, KernelCall, StructArg, TensorArg, shape_text
from tinyedge.ops.add import elementwise_shape
from tinyedge.ops.elementwise import binary_overlap, check_binary, require_multiplier

SUPPORT = ("int8 input and alpha (alpha quantized per tensor, broadcasting against the input up "
           "to 6-D)")


def params(node: Node) -> dict:
    input_, alpha, output = node.inputs[0], node.inputs[1], node.outputs[0]
    m1, s1 = quant.quantize_multiplier(input_.quant.scale / output.quant.scale)
    m2, s2 = quant.quantize_multiplier(input_.quant.scale * alpha.quant.scale
                                       / output.quant.scale)
    return {"input_offset": -input_.quant.zero_point, "alpha_offset": -alpha.quant.zero_point,
            "output_offset": output.quant.zero_point,
            "output_multiplier_1": m1, "output_shift_1": s1,
            "output_multiplier_2": m2, "output_shift_2": s2}


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if not check_binary(node, problems):
        return problems
    if node.outputs[0].shape != node.inputs[0].shape:
        problems.append(f"PRELU alpha {list(node.inputs[1].shape)} must broadcast into the input "
                        f"{list(node.inputs[0].shape)}")
        return problems
    p = params(node)
    require_multiplier(problems, node, "identity", p["output_multiplier_1"], p["output_shift_1"])
    require_multiplier(problems, node, "alpha", p["output_multiplier_2"], p["output_shift_2"])
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    input_, alpha, output = node.inputs[0], node.inputs[1], node.outputs[0]
    struct = CStruct("te_prelu_params", f"{prefix}_params", list(params(node).items()))
    shape = elementwise_shape(f"{prefix}_shape", input_, alpha, output)
    return KernelCall(
        function="te_prelu_s8",
        args=[StructArg(struct), StructArg(shape), TensorArg(input_), TensorArg(alpha),
              TensorArg(output)],
        constants=[struct, shape],
        summary=f"PRELU {shape_text(input_)} alpha {shape_text(alpha)}")


overlap = binary_overlap
