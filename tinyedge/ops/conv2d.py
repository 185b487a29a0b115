"""CONV_2D: int8 NHWC convolution with per-channel or per-tensor weights, groups."""
from __future__ import annotations

from tinyedge import weight_layout
from tinyedge.ir import Node
from tinyedge.ops import KernelCall, NullArg, StructArg, TensorArg, dims_struct, is_16x8, \
    require, shape_text
from tinyedge.ops.conv_common import check_16x8_scales, check_geometry, check_tensors, \
    check_weights, conv_constants, describe, window_overlap

# One line of `tinyedge ops`: types and constraints.
SUPPORT = (
    "int8 NHWC, int32 bias, or 16x8 (int16 activations, int64 bias); SAME/VALID, any stride "
    "and dilation, groups; weights per tensor or per output channel (symmetric); fused "
    "NONE/RELU/RELU6/RELU_N1_TO_1"
)

# The bias may be absent (index -1 in the model).
OPTIONAL_INPUTS = frozenset({2})


def check(node: Node) -> list[str]:
    problems: list[str] = []
    check_tensors(node, problems)
    if problems:
        return problems
    input_, filter_, output = node.inputs[0], node.inputs[1], node.outputs[0]
    bias = node.inputs[2] if len(node.inputs) > 2 else None
    if filter_ is None or len(filter_.shape) != 4:
        return problems + ["CONV_2D needs a 4-D filter [out, kh, kw, in]"]
    out_channels = output.shape[3]
    require(problems, filter_.shape[0] == out_channels,
            f"filter has {filter_.shape[0]} output channels, output has {out_channels}")
    in_channels, filter_in = input_.shape[3], filter_.shape[3]
    require(problems, filter_in > 0 and in_channels % filter_in == 0
            and out_channels % (in_channels // max(filter_in, 1) or 1) == 0,
            f"input has {in_channels} channels, which does not split into groups of the "
            f"filter's {filter_in}")
    check_weights(node, filter_, bias, out_channels, 0, problems)
    if not problems:
        check_geometry(node, input_, output, filter_.shape[1], filter_.shape[2], problems)
    check_16x8_scales(node, problems)
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    input_, filter_, output = node.inputs[0], node.inputs[1], node.outputs[0]
    bias = node.inputs[2] if len(node.inputs) > 2 else None
    constants = conv_constants(node, prefix)
    params, quant_struct = constants[0], constants[-1]
    in_dims = dims_struct(f"{prefix}_input_dims", input_.shape)
    filter_dims = dims_struct(f"{prefix}_filter_dims", filter_.shape)
    out_dims = dims_struct(f"{prefix}_output_dims", output.shape)
    _, kh, kw, filter_in = filter_.shape
    macs = output.size * kh * kw * filter_in
    kernel = f"{kh}x{kw}"
    return KernelCall(
        function="te_conv2d_s16" if is_16x8(node) else "te_conv2d_s8",
        args=[StructArg(params), StructArg(quant_struct),
              StructArg(in_dims), TensorArg(input_), StructArg(filter_dims),
              TensorArg(weight_layout.kernel_input(node, 1)),
              TensorArg(bias) if bias is not None else NullArg(),
              StructArg(out_dims), TensorArg(output)],
        constants=constants + [in_dims, filter_dims, out_dims],
        macs=macs,
        summary=f"CONV_2D {kernel} {shape_text(input_)} -> {shape_text(output)} ({describe(node)})")



def overlap(node: Node) -> dict[int, int]:
    filter_ = node.inputs[1]
    return window_overlap(node, filter_.shape[1], filter_.shape[2])
