"""SPLIT, SPLIT_V and UNPACK: raw int8 pieces of the input along one axis."""
from __future__ import annotations

import numpy as np

from tinyedge.ir import Node, OpKind
from tinyedge.ops import CArray, CName, CStruct, KernelCall, StructArg, TensorArg, \
    TensorListArg, require, shape_text
from tinyedge.ops.movement import check_int8, constant_ints, normalize_axis

# One line of `tinyedge ops`: types and constraints.
SUPPORT = "int8 (raw copy), constant axis and sizes; SPLIT, SPLIT_V and UNPACK"


def _data_and_axis(node: Node, problems: list[str]):
    if node.kind == OpKind.SPLIT:
        if len(node.inputs) != 2:
            problems.append("SPLIT takes 2 inputs (axis, data)")
            return None, None
        data = node.inputs[1]
        axis = constant_ints(node, 0, "axis", problems)
    elif node.kind == OpKind.SPLIT_V:
        if len(node.inputs) != 3:
            problems.append("SPLIT_V takes 3 inputs (data, sizes, axis)")
            return None, None
        data = node.inputs[0]
        axis = constant_ints(node, 2, "axis", problems)
    else:
        if len(node.inputs) != 1:
            problems.append("UNPACK takes 1 input")
            return None, None
        data = node.inputs[0]
        axis = [node.options.get("axis", 0)]
    if data is None or axis is None or len(axis) != 1:
        problems.append(f"{node.kind.name} needs a data input and one axis")
        return None, None
    a = normalize_axis(axis[0], len(data.shape))
    if a is None:
        problems.append(f"axis {axis[0]} out of range")
    return data, a


def check(node: Node) -> list[str]:
    problems: list[str] = []
    data, axis = _data_and_axis(node, problems)
    if problems:
        return problems
    check_int8(node, [data] + node.outputs, problems)
    if problems:
        return problems
    rank = len(data.shape)
    if node.kind == OpKind.UNPACK:
        want = [tuple(data.shape[:axis]) + tuple(data.shape[axis + 1:])] * data.shape[axis]
        require(problems, len(node.outputs) == data.shape[axis],
                f"UNPACK into {len(node.outputs)} outputs along an axis of {data.shape[axis]}")
    else:
        ok = all(len(t.shape) == rank and all(t.shape[d] == data.shape[d]
                                             for d in range(rank) if d != axis)
                 for t in node.outputs)
        require(problems, ok and sum(t.shape[axis] for t in node.outputs) == data.shape[axis],
                "the outputs do not split the input along the axis")
        want = [tuple(t.shape) for t in node.outputs]
    require(problems, [tuple(t.shape) for t in node.outputs] == want,
            f"output shapes {[list(t.shape) for t in node.outputs]} do not match the split")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    data, axis = _data_and_axis(node, [])
    outer = int(np.prod(data.shape[:axis], dtype=np.int64))
    chunks = [t.size // outer if outer else 0 for t in node.outputs]
    sizes = CArray("int32_t", f"{prefix}_chunks", chunks)
    params = CStruct("te_concat_params", f"{prefix}_params", [
        ("outer", outer), ("count", len(chunks)), ("chunks", CName(sizes.name))])
    return KernelCall(function="te_split_s8",
                      args=[StructArg(params), TensorArg(data),
                            TensorListArg(tuple(node.outputs), writable=True)],
                      constants=[sizes, params],
                      summary=f"{node.kind.name} {shape_text(data)} axis {axis} into "
                              f"{len(node.outputs)}")
