"""RELU and RELU6: int8, as TFLite Micro's kernels."""
from __future__ import annotations

from tinyedge import quant
from tinyedge.ir import Node, OpKind
from tinyedge.ops import CStruct, IntArg, KernelCall, StructArg, TensorArg, shape_text
from tinyedge.ops.elementwise import check_unary, require_multiplier, unary_overlap

SUPPORT = ("int8; RELU rescales to the output quantization, RELU6 clamps the raw input to its "
           "own 0 and 6 (TFLite Micro ignores RELU6's output quantization)")


def relu_params(node: Node) -> dict:
    input_, output = node.inputs[0], node.outputs[0]
    multiplier, shift = quant.quantize_multiplier(input_.quant.scale / output.quant.scale)
    return {"input_zero_point": input_.quant.zero_point,
            "output_zero_point": output.quant.zero_point,
            "output_multiplier": multiplier, "output_shift": shift,
            "activation_min": max(-128, output.quant.zero_point), "activation_max": 127}


def relu6_bounds(node: Node) -> tuple[int, int]:
    """TFLite Micro's Relu6Prepare: the input's quantized 0 and 6 (clamped to int8)."""
    input_ = node.inputs[0]
    six = quant.quantize_value(6.0, input_.quant.scale, input_.quant.zero_point)
    return input_.quant.zero_point, min(127, max(-128, six))


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if not check_unary(node, problems):
        return problems
    if node.kind == OpKind.RELU:
        p = relu_params(node)
        require_multiplier(problems, node, "output", p["output_multiplier"], p["output_shift"])
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    input_, output = node.inputs[0], node.outputs[0]
    if node.kind == OpKind.RELU6:
        lower_bound, upper_bound = relu6_bounds(node)
        return KernelCall(
            function="te_relu6_s8",
            args=[IntArg(lower_bound), IntArg(upper_bound), IntArg(input_.size),
                  TensorArg(input_), TensorArg(output)],
            summary=f"RELU6 {shape_text(input_)}")
    struct = CStruct("te_relu_params", f"{prefix}_params", list(relu_params(node).items()))
    return KernelCall(
        function="te_relu_s8",
        args=[StructArg(struct), IntArg(input_.size), TensorArg(input_), TensorArg(output)],
        constants=[struct],
        summary=f"RELU {shape_text(input_)}")


overlap = unary_overlap
