"""TRANSPOSE: a raw int8 permutation of the axes (a strided copy)."""
from __future__ import annotations

from tinyedge.ir import Node
from tinyedge.ops import require
from tinyedge.ops.movement import check_int8, constant_ints, contiguous_strides, describe, \
    single_io, strided_copy, strided_copy_overlap

# One line of `tinyedge ops`: types and constraints.
SUPPORT = "int8 (raw copy, as TFLite Micro), up to 5-D, constant permutation"

MAX_RANK = 5  # TFLite Micro's TRANSPOSE limit


def _perm(node: Node, problems: list[str]) -> list[int] | None:
    rank = len(node.inputs[0].shape)
    perm = constant_ints(node, 1, "permutation", problems)
    if perm is None:
        return None
    perm = [p + rank if p < 0 else p for p in perm]
    if sorted(perm) != list(range(rank)):
        problems.append(f"permutation {perm} is not a permutation of {rank} axes")
        return None
    return perm


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if not single_io(node, (2,), problems):
        return problems
    input_, output = node.inputs[0], node.outputs[0]
    check_int8(node, [input_, output], problems)
    require(problems, 1 <= len(input_.shape) <= MAX_RANK,
            f"TRANSPOSE supports 1 to {MAX_RANK} dimensions, found {len(input_.shape)}")
    perm = _perm(node, problems)
    if perm is not None and not problems:
        want = tuple(input_.shape[p] for p in perm)
        require(problems, want == tuple(output.shape),
                f"output shape {list(output.shape)} is not the permuted input {list(want)}")
    return problems


def _copy(node: Node):
    input_ = node.inputs[0]
    perm = _perm(node, [])
    strides = contiguous_strides(input_.shape)
    return [input_.shape[p] for p in perm], [strides[p] for p in perm], 0


def lower(node: Node, prefix: str):
    shape, strides, offset = _copy(node)
    perm = _perm(node, [])
    return strided_copy(node, prefix, shape, strides, offset, f"{describe(node)} perm {perm}")


def overlap(node: Node) -> dict[int, int]:
    return strided_copy_overlap(*_copy(node))
