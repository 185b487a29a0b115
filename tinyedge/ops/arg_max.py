"""ARG_MAX and ARG_MIN: int8 in, int32 indices out; ties keep the first index."""
from __future__ import annotations

import numpy as np

from tinyedge.ir import DType, Node, OpKind
from tinyedge.ops import CStruct, KernelCall, StructArg, TensorArg, require, shape_text
from tinyedge.ops.movement import check_int8, constant_ints, normalize_axis

# One line of `tinyedge ops`: types and constraints.
SUPPORT = "int8 in, int32 out, one constant axis (int32 or int64)"


def _axis(node: Node, problems: list[str]) -> int | None:
    values = constant_ints(node, 1, "axis", problems, (DType.INT32, DType.INT64))
    if values is None or len(values) != 1:
        problems.append(f"{node.kind.name} needs one constant axis")
        return None
    axis = normalize_axis(values[0], len(node.inputs[0].shape))
    if axis is None:
        problems.append(f"axis {values[0]} out of range")
    return axis


def check(node: Node) -> list[str]:
    problems: list[str] = []
    require(problems, len(node.inputs) == 2 and len(node.outputs) == 1
            and node.inputs[0] is not None, f"{node.kind.name} takes 2 inputs and 1 output")
    if problems:
        return problems
    input_, output = node.inputs[0], node.outputs[0]
    check_int8(node, [input_], problems)
    require(problems, output.dtype == DType.INT32,
            f"{node.kind.name} output must be int32, found {output.dtype.name}")
    axis = _axis(node, problems)
    if axis is None or problems:
        return problems
    want = tuple(d for i, d in enumerate(input_.shape) if i != axis)
    require(problems, want == tuple(output.shape),
            f"output shape {list(output.shape)}, expected {list(want)}")
    require(problems, input_.shape[axis] >= 1, "empty axis")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    input_, output = node.inputs[0], node.outputs[0]
    axis = _axis(node, [])
    params = CStruct("te_arg_params", f"{prefix}_params", [
        ("outer", int(np.prod(input_.shape[:axis], dtype=np.int64))),
        ("axis_size", input_.shape[axis]),
        ("inner", int(np.prod(input_.shape[axis + 1:], dtype=np.int64))),
        ("is_min", int(node.kind == OpKind.ARG_MIN))])
    return KernelCall(function="te_arg_max_s8",
                      args=[StructArg(params), TensorArg(input_), TensorArg(output)],
                      constants=[params],
                      summary=f"{node.kind.name} {shape_text(input_)} axis {axis}")
