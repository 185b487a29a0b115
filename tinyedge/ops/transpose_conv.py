"""TRANSPOSE_CONV: int8 transposed convolution with per-channel or per-tensor
weights and an optional int32 bias, as TFLite Micro's reference kernel.

Inputs: [output_shape, filter, input, bias]. TFLite Micro ignores the
output_shape tensor (the output tensor's shape is what counts), computes the
padding as a SAME/VALID convolution from the output back to the input, and
accumulates in an int32 scratch buffer of the output's size. tinyedge gives
the node that scratch as a second, int32 output tensor (see
tinyedge/passes/scratch.py): the planner places it in the arena for this
layer only, so the reported arena counts it.
"""
from __future__ import annotations

from tinyedge import quant
from tinyedge.ir import DType, Node, Tensor
from tinyedge.ops import CStruct, KernelCall, NullArg, StructArg, TensorArg, check_activation, \
    check_int8_activations, dims_struct, require, requant_constants, shape_text
from tinyedge.ops.conv_common import check_weights
from tinyedge.planner.overlap import UNLIMITED

# One line of `tinyedge ops`: types and constraints.
SUPPORT = (
    "int8 NHWC, optional int32 bias; SAME/VALID, any stride; weights per tensor or per output "
    "channel (symmetric); fused activations as CONV_2D; int32 scratch of the output's size "
    "counted in the arena"
)

# The bias may be absent (index -1 in the model).
OPTIONAL_INPUTS = frozenset({3})

FILTER, INPUT, BIAS = 1, 2, 3


def _bias(node: Node) -> Tensor | None:
    return node.inputs[BIAS] if len(node.inputs) > BIAS else None


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if len(node.inputs) not in (3, 4) or len(node.outputs) != 1 \
            or node.inputs[FILTER] is None or node.inputs[INPUT] is None:
        return ["TRANSPOSE_CONV takes 3 or 4 inputs (output shape, filter, input, bias) and "
                "1 output"]
    input_, filter_, output = node.inputs[INPUT], node.inputs[FILTER], node.outputs[0]
    check_int8_activations(node, [input_, output], problems)
    if problems:
        return problems
    require(problems, len(input_.shape) == 4 and len(output.shape) == 4,
            f"TRANSPOSE_CONV needs 4-D input and output, found {list(input_.shape)} -> "
            f"{list(output.shape)}")
    require(problems, len(filter_.shape) == 4, "TRANSPOSE_CONV needs a 4-D filter "
            "[out, kh, kw, in]")
    if problems:
        return problems
    out_channels = output.shape[3]
    require(problems, input_.shape[0] == output.shape[0], "input and output batch sizes differ")
    require(problems, filter_.shape[0] == out_channels and filter_.shape[3] == input_.shape[3],
            f"filter {list(filter_.shape)} does not map {input_.shape[3]} input channels to "
            f"{out_channels} output channels")
    check_weights(node, filter_, _bias(node), out_channels, 0, problems)
    o = node.options
    require(problems, o["padding"] in ("SAME", "VALID"), f"padding {o['padding']} is not supported")
    require(problems, min(o["stride_h"], o["stride_w"]) >= 1, "strides must be at least 1")
    check_activation(node, problems)  # applied by TFLite Micro (older releases ignored it)
    require(problems, output.size * 4 < 2**31, "the int32 scratch would exceed 2 GB")
    return problems


def scratch_tensors(node: Node) -> list[Tensor]:
    """The int32 accumulator TFLite Micro requests for int8 (one per output element)."""
    output = node.outputs[0]
    return [Tensor(name=f"{output.name} (TRANSPOSE_CONV scratch)", shape=tuple(output.shape),
                   dtype=DType.INT32)]


def _padding(node: Node) -> tuple[int, int]:
    """TFLite Micro: the padding of a convolution from the output's size to the input's."""
    filter_, output = node.inputs[FILTER], node.outputs[0]
    o = node.options
    _, pad_h = quant.compute_padding(output.shape[1], filter_.shape[1], o["stride_h"], 1,
                                     o["padding"])
    _, pad_w = quant.compute_padding(output.shape[2], filter_.shape[2], o["stride_w"], 1,
                                     o["padding"])
    return pad_h, pad_w


def lower(node: Node, prefix: str) -> KernelCall:
    input_, filter_, output = node.inputs[INPUT], node.inputs[FILTER], node.outputs[0]
    assert len(node.outputs) == 2 and node.outputs[1].dtype == DType.INT32, \
        f"{node}: the scratch tensor was not attached (passes.scratch.attach_scratch)"
    scratch = node.outputs[1]
    bias = _bias(node)
    o = node.options
    pad_h, pad_w = _padding(node)
    out_channels = output.shape[3]
    filter_scales = list(filter_.quant.scales)
    if len(filter_scales) == 1:
        filter_scales *= out_channels
    multipliers, shifts = quant.conv_multipliers(input_.quant.scale, filter_scales,
                                                 output.quant.scale)
    act_min, act_max = quant.activation_range(o.get("activation", "NONE"), output.quant.scale,
                                              output.quant.zero_point)
    params = CStruct("te_conv_params", f"{prefix}_params", [
        ("stride_h", o["stride_h"]), ("stride_w", o["stride_w"]),
        ("dilation_h", 1), ("dilation_w", 1), ("pad_h", pad_h), ("pad_w", pad_w),
        ("depth_multiplier", 1),
        ("input_offset", -input_.quant.zero_point),
        ("output_offset", output.quant.zero_point),
        ("activation_min", act_min), ("activation_max", act_max)])
    requant = requant_constants(prefix, multipliers, shifts)
    in_dims = dims_struct(f"{prefix}_input_dims", input_.shape)
    filter_dims = dims_struct(f"{prefix}_filter_dims", filter_.shape)
    out_dims = dims_struct(f"{prefix}_output_dims", output.shape)
    _, kh, kw, in_channels = filter_.shape
    return KernelCall(
        function="te_transpose_conv_s8",
        args=[TensorArg(scratch), StructArg(params), StructArg(requant[-1]),
              StructArg(in_dims), TensorArg(input_), StructArg(filter_dims), TensorArg(filter_),
              TensorArg(bias) if bias is not None else NullArg(),
              StructArg(out_dims), TensorArg(output)],
        constants=[params] + requant + [in_dims, filter_dims, out_dims],
        macs=input_.size * kh * kw * out_channels,
        summary=f"TRANSPOSE_CONV {kh}x{kw} {shape_text(input_)} -> {shape_text(output)} "
                f"({o['padding']}, stride {o['stride_h']}x{o['stride_w']}; int32 scratch "
                f"{scratch.nbytes} bytes)")


def overlap(node: Node) -> dict[int, int]:
    """The kernel reads all of its input before it writes any output byte."""
    return {INPUT: UNLIMITED}
