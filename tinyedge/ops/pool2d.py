"""AVERAGE_POOL_2D and MAX_POOL_2D, int8 NHWC."""
from __future__ import annotations

from tinyedge import quant
from tinyedge.ir import Node, OpKind
from tinyedge.ops import CStruct, KernelCall, StructArg, TensorArg, check_int8_activations, \
    dims_struct, require, shape_text
from tinyedge.ops.conv_common import check_geometry, describe, window_geometry, window_overlap

# One line of `tinyedge ops`: types and constraints.
SUPPORT = (
    "int8 NHWC; SAME/VALID, any stride and window; input and output share quantization; fused "
    "activations as CONV_2D"
)

FUNCTIONS = {OpKind.AVERAGE_POOL_2D: "te_avg_pool2d_s8", OpKind.MAX_POOL_2D: "te_max_pool2d_s8"}


def check(node: Node) -> list[str]:
    problems: list[str] = []
    require(problems, len(node.inputs) == 1 and len(node.outputs) == 1,
            f"{node.kind.name} takes 1 input and 1 output")
    if problems:
        return problems
    input_, output = node.inputs[0], node.outputs[0]
    check_int8_activations(node, [input_, output], problems)
    require(problems, len(input_.shape) == 4 and len(output.shape) == 4,
            f"{node.kind.name} needs 4-D input and output")
    if problems:
        return problems
    require(problems, input_.shape[0] == output.shape[0] and input_.shape[3] == output.shape[3],
            "input and output differ in batch or channels")
    require(problems, input_.quant.scales == output.quant.scales
            and input_.quant.zero_points == output.quant.zero_points,
            f"{node.kind.name} needs the same quantization on input and output")
    o = node.options
    check_geometry(node, input_, output, o["filter_h"], o["filter_w"], problems)
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    input_, output = node.inputs[0], node.outputs[0]
    o = node.options
    _, _, pad_h, pad_w = window_geometry(node, input_, o["filter_h"], o["filter_w"])
    act_min, act_max = quant.activation_range(o["activation"], output.quant.scale,
                                              output.quant.zero_point)
    params = CStruct("te_pool_params", f"{prefix}_params", [
        ("stride_h", o["stride_h"]), ("stride_w", o["stride_w"]),
        ("filter_h", o["filter_h"]), ("filter_w", o["filter_w"]),
        ("pad_h", pad_h), ("pad_w", pad_w),
        ("activation_min", act_min), ("activation_max", act_max)])
    in_dims = dims_struct(f"{prefix}_input_dims", input_.shape)
    out_dims = dims_struct(f"{prefix}_output_dims", output.shape)
    return KernelCall(
        function=FUNCTIONS[node.kind],
        args=[StructArg(params), StructArg(in_dims), TensorArg(input_),
              StructArg(out_dims), TensorArg(output)],
        constants=[params, in_dims, out_dims],
        macs=0,  # comparisons and additions, no multiplies
        summary=(f"{node.kind.name} {o['filter_h']}x{o['filter_w']} {shape_text(input_)} -> "
                 f"{shape_text(output)} ({describe(node)})"))


def overlap(node: Node) -> dict[int, int]:
    return window_overlap(node, node.options["filter_h"], node.options["filter_w"])
