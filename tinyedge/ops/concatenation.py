"""CONCATENATION and PACK: raw int8 bytes of each input, in order along the
axis. TFLite Micro copies int8 inputs without requantizing them, even when
their scales differ from the output's; tinyedge does the same."""
from __future__ import annotations

import numpy as np

from tinyedge.ir import Node, OpKind
from tinyedge.ops import CArray, CName, CStruct, KernelCall, StructArg, TensorArg, \
    TensorListArg, require, shape_text
from tinyedge.ops.movement import check_int8, normalize_axis, sparse_read_limit

# One line of `tinyedge ops`: types and constraints.
SUPPORT = (
    "int8 raw bytes (no requantization, as TFLite Micro), CONCATENATION up to 4-D and 10 "
    "inputs without fused activation, PACK any rank; constant inputs allowed"
)

MAX_INPUTS = 10  # TFLite Micro's kMaxInputNum
MAX_RANK = 4


def _axis_and_chunks(node: Node):
    output = node.outputs[0]
    rank = len(output.shape)
    axis = normalize_axis(node.options.get("axis", 0), rank)
    if axis is None:
        return None
    outer = int(np.prod(output.shape[:axis], dtype=np.int64))
    if node.kind == OpKind.PACK:
        chunks = [int(np.prod(t.shape[axis:], dtype=np.int64)) for t in node.inputs]
    else:
        chunks = [int(np.prod(t.shape[axis:], dtype=np.int64)) for t in node.inputs]
    return axis, outer, chunks


def check(node: Node) -> list[str]:
    problems: list[str] = []
    require(problems, len(node.inputs) >= 1 and len(node.outputs) == 1
            and all(t is not None for t in node.inputs),
            f"{node.kind.name} takes 1 or more inputs and 1 output")
    if problems:
        return problems
    output = node.outputs[0]
    check_int8(node, list(node.inputs) + [output], problems)
    if node.kind == OpKind.CONCATENATION:
        require(problems, len(node.inputs) <= MAX_INPUTS,
                f"CONCATENATION of {len(node.inputs)} inputs: TFLite Micro takes at most "
                f"{MAX_INPUTS}")
        require(problems, node.options.get("activation", "NONE") == "NONE",
                "CONCATENATION with a fused activation is not supported (TFLite Micro refuses it)")
        require(problems, all(len(t.shape) <= MAX_RANK for t in node.inputs),
                f"CONCATENATION supports up to {MAX_RANK} dimensions")
    if problems:
        return problems
    plan = _axis_and_chunks(node)
    if plan is None:
        return [f"axis {node.options.get('axis')} out of range"]
    axis = plan[0]
    if node.kind == OpKind.PACK:
        first = node.inputs[0].shape
        require(problems, all(t.shape == first for t in node.inputs),
                "PACK inputs must all have the same shape")
        want = tuple(first[:axis]) + (len(node.inputs),) + tuple(first[axis:])
    else:
        rank = len(output.shape)
        ok = all(len(t.shape) == rank and all(t.shape[d] == output.shape[d]
                                             for d in range(rank) if d != axis)
                 for t in node.inputs)
        require(problems, ok, "CONCATENATION inputs differ outside the axis")
        want = tuple(output.shape[:axis]) + (sum(t.shape[axis] for t in node.inputs),) + \
            tuple(output.shape[axis + 1:])
    require(problems, want == tuple(output.shape),
            f"output shape {list(output.shape)}, expected {list(want)}")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    axis, outer, chunks = _axis_and_chunks(node)
    sizes = CArray("int32_t", f"{prefix}_chunks", chunks)
    params = CStruct("te_concat_params", f"{prefix}_params", [
        ("outer", outer), ("count", len(chunks)), ("chunks", CName(sizes.name))])
    ins = " + ".join(shape_text(t) for t in node.inputs)
    return KernelCall(function="te_concatenation_s8",
                      args=[StructArg(params), TensorListArg(tuple(node.inputs)),
                            TensorArg(node.outputs[0])],
                      constants=[sizes, params],
                      summary=f"{node.kind.name} {ins} -> {shape_text(node.outputs[0])} "
                              f"axis {axis}")


def overlap(node: Node) -> dict[int, int]:
    """Output block k holds, in order, piece k of every input; each piece is
    moved (memmove) when it is written."""
    _, outer, chunks = _axis_and_chunks(node)
    total = sum(chunks)
    limits = {}
    start = 0
    for i, n in enumerate(chunks):
        reads = np.full((outer, total), -1, dtype=np.int64)
        reads[:, start:start + n] = np.arange(outer * n, dtype=np.int64).reshape(outer, n)
        limits[i] = sparse_read_limit(reads.reshape(-1))
        start += n
    return limits
