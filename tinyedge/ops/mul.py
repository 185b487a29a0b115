"""MUL: int8 (or 16x8 int16) elementwise product with numpy broadcasting up to 6-D."""
from __future__ import annotations

from tinyedge import quant
from tinyedge.ir import Node
from tinyedge.ops import CStruct, KernelCall, StructArg, TensorArg, activation_bounds, \
    check_activation, is_16x8, shape_text
from tinyedge.ops.add import elementwise_shape
from tinyedge.ops.elementwise import binary_overlap, check_binary, require_multiplier

SUPPORT = ("int8 or int16 (16x8, zero points 0); numpy broadcasting up to 6-D, either input may "
           "be constant; fused activations as CONV_2D")


def params(node: Node) -> dict:
    """TFLite Micro's MUL preparation: input1 * input2 / output scale, in double."""
    a, b, output = node.inputs[0], node.inputs[1], node.outputs[0]
    multiplier, shift = quant.quantize_multiplier(a.quant.scale * b.quant.scale
                                                  / output.quant.scale)
    act_min, act_max = quant.activation_range(node.options.get("activation", "NONE"),
                                              output.quant.scale, output.quant.zero_point,
                                              *activation_bounds(node))
    return {"input1_offset": -a.quant.zero_point, "input2_offset": -b.quant.zero_point,
            "output_offset": output.quant.zero_point, "output_multiplier": multiplier,
            "output_shift": shift, "activation_min": act_min, "activation_max": act_max}


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if not check_binary(node, problems, int16=True):
        return problems
    check_activation(node, problems)
    if problems:
        return problems
    p = params(node)
    require_multiplier(problems, node, "output", p["output_multiplier"], p["output_shift"])
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    a, b, output = node.inputs[0], node.inputs[1], node.outputs[0]
    struct = CStruct("te_mul_params", f"{prefix}_params", list(params(node).items()))
    shape = elementwise_shape(f"{prefix}_shape", a, b, output)
    activation = node.options.get("activation", "NONE")
    return KernelCall(
        function="te_mul_s16" if is_16x8(node) else "te_mul_s8",
        args=[StructArg(struct), StructArg(shape), TensorArg(a), TensorArg(b), TensorArg(output)],
        constants=[struct, shape], macs=output.size,
        summary=(f"MUL {shape_text(a)} * {shape_text(b)} -> {shape_text(output)}"
                 + (f" ({activation})" if activation != "NONE" else "")))


overlap = binary_overlap
