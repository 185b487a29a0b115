"""What CONV_2D and DEPTHWISE_CONV_2D share: checks of the filter, bias and
geometry, and the te_conv_params / te_requant constants."""
from __future__ import annotations

from tinyedge import quant, weight_layout
from tinyedge.ir import DType, Node, Tensor
from tinyedge.planner.overlap import window_limit
from tinyedge.ops import CStruct, activation_bounds, check_activation, check_activations, \
    is_16x8, require, requant_constants


def check_weights(node: Node, filter_: Tensor | None, bias: Tensor | None, out_channels: int,
                  channel_axis: int, problems: list[str]) -> None:
    """Filter: constant symmetric int8, per tensor or per channel along channel_axis.
    Bias: absent or constant int32 of out_channels values (int64 in the 16x8
    scheme, the only bias type TFLite Micro reads there)."""
    if filter_ is None or not filter_.is_constant:
        problems.append(f"{node.kind.name} needs constant weights")
        return
    require(problems, filter_.dtype == DType.INT8,
            f"filter '{filter_.name}' is {filter_.dtype.name}; only int8 weights are supported")
    q = filter_.quant
    require(problems, q is not None, f"filter '{filter_.name}' has no quantization parameters")
    if q is not None:
        require(problems, all(z == 0 for z in q.zero_points),
                f"filter '{filter_.name}' is not symmetric (zero points must be 0)")
        require(problems, not q.per_channel
                or (q.axis == channel_axis and len(q.scales) == out_channels),
                f"filter '{filter_.name}' has {len(q.scales)} scales on axis {q.axis}; expected "
                f"1 or {out_channels} on axis {channel_axis}")
    if bias is not None:
        bias_dtype = DType.INT64 if is_16x8(node) else DType.INT32
        require(problems, bias.is_constant and bias.dtype == bias_dtype
                and bias.size == out_channels,
                f"bias '{bias.name}' must be a constant {bias_dtype.numpy_name} vector of "
                f"{out_channels} values (found {bias.dtype.name} {list(bias.shape)})")


def window_geometry(node: Node, input_: Tensor, kernel_h: int, kernel_w: int
                    ) -> tuple[int, int, int, int]:
    """(out_h, out_w, pad_h, pad_w) of a sliding window op (conv, depthwise, pool)."""
    o = node.options
    out_h, pad_h = quant.compute_padding(input_.shape[1], kernel_h, o["stride_h"],
                                         o.get("dilation_h", 1), o["padding"])
    out_w, pad_w = quant.compute_padding(input_.shape[2], kernel_w, o["stride_w"],
                                         o.get("dilation_w", 1), o["padding"])
    return out_h, out_w, pad_h, pad_w


def check_geometry(node: Node, input_: Tensor, output: Tensor, kernel_h: int, kernel_w: int,
                   problems: list[str]) -> None:
    """Check the fused activation, padding, strides, dilations and the output shape."""
    o = node.options
    check_activation(node, problems)
    require(problems, o["padding"] in ("SAME", "VALID"), f"padding {o['padding']} is not supported")
    require(problems, min(o["stride_h"], o["stride_w"], o.get("dilation_h", 1),
                          o.get("dilation_w", 1)) >= 1,
            "strides and dilations must be at least 1")
    require(problems, kernel_h >= 1 and kernel_w >= 1, "the window must be at least 1x1")
    if problems:
        return
    out_h, out_w, _, _ = window_geometry(node, input_, kernel_h, kernel_w)
    require(problems, output.shape[1:3] == (out_h, out_w) and out_h > 0 and out_w > 0,
            f"output '{output.name}' has shape {list(output.shape)}, but {o['padding']} padding "
            f"gives {out_h}x{out_w}")


def check_tensors(node: Node, problems: list[str]) -> None:
    require(problems, len(node.inputs) in (2, 3) and len(node.outputs) == 1,
            f"{node.kind.name} takes 2 or 3 inputs and 1 output")
    if problems:
        return
    input_, output = node.inputs[0], node.outputs[0]
    check_activations(node, [input_, output], problems)
    require(problems, len(input_.shape) == 4 and len(output.shape) == 4,
            f"{node.kind.name} needs 4-D input and output, found {list(input_.shape)} -> "
            f"{list(output.shape)}")
    if problems:
        return
    require(problems, input_.shape[0] == output.shape[0], "input and output batch sizes differ")


def conv_constants(node: Node, prefix: str) -> list:
    """te_conv_params plus the per-channel requantization of a convolution."""
    input_, filter_, output = node.inputs[0], node.inputs[1], node.outputs[0]
    o = node.options
    _, _, pad_h, pad_w = window_geometry(node, input_, filter_.shape[1], filter_.shape[2])
    out_channels = output.shape[3]
    act_min, act_max = quant.activation_range(o["activation"], output.quant.scale,
                                              output.quant.zero_point, *activation_bounds(node))
    filter_scales = list(filter_.quant.scales)
    if len(filter_scales) == 1:
        filter_scales *= out_channels
    multipliers, shifts = quant.conv_multipliers(input_.quant.scale, filter_scales,
                                                 output.quant.scale)
    params = CStruct("te_conv_params", f"{prefix}_params", [
        ("stride_h", o["stride_h"]), ("stride_w", o["stride_w"]),
        ("dilation_h", o.get("dilation_h", 1)), ("dilation_w", o.get("dilation_w", 1)),
        ("pad_h", pad_h), ("pad_w", pad_w),
        ("depth_multiplier", o.get("depth_multiplier", 1)),
        ("input_offset", -input_.quant.zero_point),
        ("output_offset", output.quant.zero_point),
        ("activation_min", act_min), ("activation_max", act_max),
        ("filter_layout", weight_layout.layout(node))])
    return [params] + requant_constants(prefix, multipliers, shifts)


def check_16x8_scales(node: Node, problems: list[str]) -> None:
    """TFLite's int64 requantization (16x8 scheme) takes left shifts up to 7 only."""
    input_, filter_, output = node.inputs[0], node.inputs[1], node.outputs[0]
    if not is_16x8(node) or problems:
        return
    _, shifts = quant.conv_multipliers(input_.quant.scale, list(filter_.quant.scales),
                                       output.quant.scale)
    require(problems, max(shifts) <= 7,
            f"output '{output.name}' has a scale too small for its input and filter scales "
            f"(16x8 requantization shift {max(shifts)} > 7)")


def describe(node: Node) -> str:
    o = node.options
    parts = [f"{o['padding']}", f"stride {o['stride_h']}x{o['stride_w']}"]
    if (o.get("dilation_h", 1), o.get("dilation_w", 1)) != (1, 1):
        parts.append(f"dilation {o['dilation_h']}x{o['dilation_w']}")
    if o.get("activation", "NONE") != "NONE":
        parts.append(o["activation"])
    if o.get("from_depthwise"):
        parts.append("a DEPTHWISE_CONV_2D of one input channel")
    return ", ".join(parts)


def window_overlap(node: Node, kernel_h: int, kernel_w: int) -> dict[int, int]:
    """How far the output of a windowed op may overlap its input (see planner/overlap.py)."""
    input_, output = node.inputs[0], node.outputs[0]
    o = node.options
    _, _, pad_h, pad_w = window_geometry(node, input_, kernel_h, kernel_w)
    return {0: window_limit(input_.shape, output.shape, (kernel_h, kernel_w),
                            (o["stride_h"], o["stride_w"]),
                            (o.get("dilation_h", 1), o.get("dilation_w", 1)), (pad_h, pad_w),
                            input_.dtype.itemsize, output.dtype.itemsize)}
