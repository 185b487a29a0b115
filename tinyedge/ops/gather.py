"""GATHER: int8 values (an activation or a constant table), int32 positions
(constant or computed); out-of-range positions fail the invocation, as in
TFLite Micro."""
from __future__ import annotations

import numpy as np

from tinyedge.ir import DType, Node
from tinyedge.ops import CStruct, KernelCall, StructArg, TensorArg, require, shape_text
from tinyedge.ops.movement import check_int8, normalize_axis

# One line of `tinyedge ops`: types and constraints.
SUPPORT = "int8 values, int32 positions, any axis and batch_dims"


def gather_axes(node: Node):
    """GATHER's axis (normalized) and batch_dims."""
    values, positions = node.inputs[0], node.inputs[1]
    axis = normalize_axis(node.options.get("axis", 0), len(values.shape))
    batch_dims = node.options.get("batch_dims", 0)
    if batch_dims < 0:
        batch_dims += len(positions.shape)
    return axis, batch_dims


def check(node: Node) -> list[str]:
    problems: list[str] = []
    require(problems, len(node.inputs) == 2 and len(node.outputs) == 1
            and all(t is not None for t in node.inputs), "GATHER takes 2 inputs and 1 output")
    if problems:
        return problems
    values, positions, output = node.inputs[0], node.inputs[1], node.outputs[0]
    check_int8(node, [values, output], problems)
    require(problems, positions.dtype == DType.INT32,
            f"GATHER positions must be int32 (TFLite Micro), found {positions.dtype.name}")
    axis, batch_dims = gather_axes(node)
    require(problems, axis is not None, "GATHER axis out of range")
    if problems:
        return problems
    require(problems, 0 <= batch_dims <= axis and batch_dims <= len(positions.shape)
            and values.shape[:batch_dims] == positions.shape[:batch_dims],
            f"GATHER batch_dims {batch_dims} does not fit the inputs")
    if problems:
        return problems
    want = tuple(values.shape[:axis]) + tuple(positions.shape[batch_dims:]) + \
        tuple(values.shape[axis + 1:])
    require(problems, want == tuple(output.shape),
            f"output shape {list(output.shape)}, expected {list(want)}")
    if positions.is_constant:
        p = np.asarray(positions.data)
        require(problems, bool(((p >= 0) & (p < values.shape[axis])).all()),
                "GATHER has constant positions outside the axis")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    values, positions, output = node.inputs[0], node.inputs[1], node.outputs[0]
    axis, batch_dims = gather_axes(node)

    def prod(dims):
        return int(np.prod(dims, dtype=np.int64))

    params = CStruct("te_gather_params", f"{prefix}_params", [
        ("batch", prod(values.shape[:batch_dims])),
        ("outer", prod(values.shape[batch_dims:axis])),
        ("axis_size", values.shape[axis]),
        ("inner", prod(values.shape[axis + 1:])),
        ("coords", prod(positions.shape[batch_dims:]))])
    return KernelCall(function="te_gather_s8",
                      args=[StructArg(params), TensorArg(positions), TensorArg(values),
                            TensorArg(output)],
                      constants=[params],
                      summary=f"GATHER {shape_text(values)}[{shape_text(positions)}] axis {axis} "
                              f"-> {shape_text(output)}")
