"""FULLY_CONNECTED: int8 matrix-vector products, per-tensor or per-channel weights."""
from __future__ import annotations

from tinyedge import quant, weight_layout
from tinyedge.ir import Node
from tinyedge.ops import CStruct, KernelCall, NullArg, StructArg, TensorArg, activation_bounds, \
    check_activation, check_activations, dims_struct, is_16x8, require, requant_constants, \
    shape_text
from tinyedge.ops.conv_common import check_16x8_scales, check_weights
from tinyedge.planner.overlap import rows_limit

# One line of `tinyedge ops`: types and constraints.
SUPPORT = (
    "int8, int32 bias, or 16x8 (int16 activations, int64 bias); any input rank (rows of the "
    "filter depth), keep_num_dims; weights per tensor or per output channel (symmetric); fused "
    "activations as CONV_2D"
)

# The bias may be absent (index -1 in the model).
OPTIONAL_INPUTS = frozenset({2})


def check(node: Node) -> list[str]:
    problems: list[str] = []
    require(problems, len(node.inputs) in (2, 3) and len(node.outputs) == 1,
            "FULLY_CONNECTED takes 2 or 3 inputs and 1 output")
    if problems:
        return problems
    input_, filter_, output = node.inputs[0], node.inputs[1], node.outputs[0]
    bias = node.inputs[2] if len(node.inputs) > 2 else None
    check_activations(node, [input_, output], problems)
    check_activation(node, problems)
    require(problems, node.options.get("weights_format", 0) == 0,
            "FULLY_CONNECTED with shuffled weights is not supported")
    if filter_ is None or len(filter_.shape) != 2:
        return problems + ["FULLY_CONNECTED needs a 2-D filter [units, depth]"]
    units, depth = filter_.shape
    check_weights(node, filter_, bias, units, 0, problems)
    require(problems, depth > 0 and input_.size % depth == 0,
            f"input of {input_.size} values does not split into rows of depth {depth}")
    if depth > 0:
        require(problems, output.size == (input_.size // depth) * units,
                f"output '{output.name}' has {output.size} values, expected "
                f"{(input_.size // depth) * units}")
    check_16x8_scales(node, problems)
    return problems


def input_offset(node: Node) -> int:
    """The kernel's input offset: minus the input's zero point, or 0 once it is
    folded into the bias (passes/fold_input_offset.py)."""
    return 0 if node.options.get("input_offset_folded") else -node.inputs[0].quant.zero_point


def takes_quad_rows(node: Node) -> bool:
    """Whether the int8 kernel can read this layer's filter as TE_FC_QUAD_ROWS:
    a valid int8 layer of at least one group of four units."""
    return (len(node.inputs) in (2, 3) and node.inputs[0] is not None
            and node.inputs[1] is not None and not check(node) and not is_16x8(node)
            and node.inputs[1].shape[0] >= 4)


def lower(node: Node, prefix: str) -> KernelCall:
    input_, filter_, output = node.inputs[0], node.inputs[1], node.outputs[0]
    bias = node.inputs[2] if len(node.inputs) > 2 else None
    units, depth = filter_.shape
    batches = input_.size // depth
    in_q, f_q, out_q = input_.quant, filter_.quant, output.quant
    multipliers, shifts = quant.conv_multipliers(in_q.scale, list(f_q.scales), out_q.scale)
    act_min, act_max = quant.activation_range(node.options["activation"], out_q.scale,
                                              out_q.zero_point, *activation_bounds(node))
    params = CStruct("te_fc_params", f"{prefix}_params", [
        ("input_offset", input_offset(node)), ("filter_offset", -f_q.zero_point),
        ("output_offset", out_q.zero_point),
        ("activation_min", act_min), ("activation_max", act_max),
        ("filter_layout", weight_layout.layout(node))])
    requant = requant_constants(prefix, multipliers, shifts)
    in_dims = dims_struct(f"{prefix}_input_dims", (batches, 1, 1, depth))
    filter_dims = dims_struct(f"{prefix}_filter_dims", (units, 1, 1, depth))
    out_dims = dims_struct(f"{prefix}_output_dims", (batches, 1, 1, units))
    activation = node.options["activation"]
    return KernelCall(
        function="te_fully_connected_s16" if is_16x8(node) else "te_fully_connected_s8",
        args=[StructArg(params), StructArg(requant[-1]),
              StructArg(in_dims), TensorArg(input_), StructArg(filter_dims),
              TensorArg(weight_layout.kernel_input(node, 1)),
              TensorArg(bias) if bias is not None else NullArg(),
              StructArg(out_dims), TensorArg(output)],
        constants=[params] + requant + [in_dims, filter_dims, out_dims],
        macs=batches * units * depth,
        summary=(f"FULLY_CONNECTED {shape_text(input_)} -> {shape_text(output)}"
                 + (f" ({activation})" if activation != "NONE" else "")))


def overlap(node: Node) -> dict[int, int]:
    """Each output row is written while its whole input row may still be read."""
    input_, output = node.inputs[0], node.outputs[0]
    units, depth = node.inputs[1].shape
    return {0: rows_limit(input_.size // depth, depth * input_.dtype.itemsize,
                          units * output.dtype.itemsize)}
