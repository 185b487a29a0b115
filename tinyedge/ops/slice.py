"""SLICE and STRIDED_SLICE: a raw int8 or int16 strided copy of part of the input,
with TFLite Micro's begin/end/stride resolution (masks, negative indices,
clamping)."""
from __future__ import annotations

import math

from tinyedge.ir import DType, Node, OpKind
from tinyedge.ops import require
from tinyedge.ops.movement import check_int8_or_int16, constant_ints, contiguous_strides, \
    describe, single_io, strided_copy, strided_copy_overlap

# One line of `tinyedge ops`: types and constraints.
SUPPORT = (
    "int8 or int16 (16x8; raw copy), up to 4-D for STRIDED_SLICE (5-D for SLICE), constant "
    "begin/end/strides, begin/end/shrink-axis masks, negative strides; no ellipsis or new-axis "
    "masks"
)

MAX_RANK = {OpKind.SLICE: 5, OpKind.STRIDED_SLICE: 4}


def _clamp(v: int, lo: int, hi: int) -> int:
    return max(lo, min(v, hi))


def _strided_plan(node: Node, problems: list[str]):
    """(copy shape, start per axis, stride per axis, output shape) or None."""
    shape = node.inputs[0].shape
    rank = len(shape)
    o = node.options
    begin = constant_ints(node, 1, "begin", problems)
    end = constant_ints(node, 2, "end", problems)
    strides = constant_ints(node, 3, "strides", problems)
    if begin is None or end is None or strides is None:
        return None
    if not (len(begin) == len(end) == len(strides) == rank):
        problems.append("begin, end and strides must have one value per input dimension")
        return None
    if o.get("ellipsis_mask") or o.get("new_axis_mask"):
        problems.append("STRIDED_SLICE ellipsis and new-axis masks are not supported "
                        "(TFLite Micro ignores them)")
        return None
    if o.get("offset"):
        problems.append("STRIDED_SLICE with offset=true is not supported")
        return None
    copy_shape, starts, out_shape = [], [], []
    for axis in range(rank):
        size, stride = shape[axis], strides[axis]
        if stride == 0:
            problems.append("STRIDED_SLICE stride 0")
            return None
        start = begin[axis] + size if begin[axis] < 0 else begin[axis]
        start = _clamp(start, 0, size) if stride > 0 else _clamp(start, -1, size - 1)
        if o.get("begin_mask", 0) >> axis & 1:
            start = 0 if stride > 0 else size - 1
        shrink = o.get("shrink_axis_mask", 0) >> axis & 1
        if shrink:
            stop = start + 1
        else:
            stop = end[axis] + size if end[axis] < 0 else end[axis]
            stop = _clamp(stop, 0, size) if stride > 0 else _clamp(stop, -1, size - 1)
            if o.get("end_mask", 0) >> axis & 1:
                stop = size if stride > 0 else -1
        count = max(0, math.ceil((stop - start) / stride))
        copy_shape.append(count)
        starts.append(start)
        if not shrink:
            out_shape.append(count)
    return copy_shape, starts, strides, out_shape


def _slice_plan(node: Node, problems: list[str]):
    shape = node.inputs[0].shape
    begin = constant_ints(node, 1, "begin", problems, (DType.INT32, DType.INT64))
    size = constant_ints(node, 2, "size", problems, (DType.INT32, DType.INT64))
    if begin is None or size is None:
        return None
    if not len(begin) == len(size) == len(shape):
        problems.append("begin and size must have one value per input dimension")
        return None
    size = [d - b if s == -1 else s for d, b, s in zip(shape, begin, size)]
    if any(b < 0 or s < 0 or b + s > d for d, b, s in zip(shape, begin, size)):
        problems.append(f"slice begin {begin} size {size} outside the input {list(shape)}")
        return None
    return size, begin, [1] * len(shape), size


def strided_copy_plan(node: Node, problems: list[str]):
    """The strided copy a SLICE or STRIDED_SLICE node makes (problems are appended)."""
    if node.kind == OpKind.SLICE:
        return _slice_plan(node, problems)
    return _strided_plan(node, problems)


def check(node: Node) -> list[str]:
    problems: list[str] = []
    n_inputs = (3,) if node.kind == OpKind.SLICE else (4,)
    if not single_io(node, n_inputs, problems):
        return problems
    input_, output = node.inputs[0], node.outputs[0]
    check_int8_or_int16(node, [input_, output], problems)
    limit = MAX_RANK[node.kind]
    require(problems, 1 <= len(input_.shape) <= limit,
            f"{node.kind.name} supports 1 to {limit} dimensions, found {len(input_.shape)}")
    if problems:
        return problems
    plan = strided_copy_plan(node, problems)
    if plan is not None:
        require(problems, tuple(plan[3]) == tuple(output.shape),
                f"the slice has shape {plan[3]}, the output {list(output.shape)}")
        require(problems, output.size > 0, f"{node.kind.name} output is empty")
    return problems


def _copy(node: Node):
    copy_shape, starts, steps, _ = strided_copy_plan(node, [])
    in_strides = contiguous_strides(node.inputs[0].shape)
    offset = sum(s * st for s, st in zip(starts, in_strides))
    return copy_shape, [st * k for st, k in zip(in_strides, steps)], offset


def lower(node: Node, prefix: str):
    return strided_copy(node, prefix, *_copy(node), describe(node))


def overlap(node: Node) -> dict[int, int]:
    return strided_copy_overlap(*_copy(node), node.inputs[0].dtype.itemsize)
