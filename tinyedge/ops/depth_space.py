"""DEPTH_TO_SPACE and SPACE_TO_DEPTH (NHWC, TFLite's DCR order): raw int8
strided copies over a 6-D view."""
from __future__ import annotations

from tinyedge.ir import Node, OpKind
from tinyedge.ops import require
from tinyedge.ops.movement import check_int8, describe, single_io, strided_copy, \
    strided_copy_overlap

# One line of `tinyedge ops`: types and constraints.
SUPPORT = "int8 (raw copy), 4-D NHWC, any block size >= 1"


def _expected(node: Node):
    n, h, w, c = node.inputs[0].shape
    b = node.options.get("block_size", 0)
    if node.kind == OpKind.DEPTH_TO_SPACE:
        if c % (b * b):
            return None
        return (n, h * b, w * b, c // (b * b))
    if h % b or w % b:
        return None
    return (n, h // b, w // b, c * b * b)


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if not single_io(node, (1,), problems):
        return problems
    input_, output = node.inputs[0], node.outputs[0]
    check_int8(node, [input_, output], problems)
    require(problems, len(input_.shape) == 4, f"{node.kind.name} needs a 4-D input")
    require(problems, node.options.get("block_size", 0) >= 1, "block size must be >= 1")
    if problems:
        return problems
    want = _expected(node)
    require(problems, want is not None and want == tuple(output.shape),
            f"output shape {list(output.shape)} does not match block size "
            f"{node.options['block_size']} and input {list(input_.shape)}")
    return problems


def _copy(node: Node):
    n, h, w, c = node.inputs[0].shape
    b = node.options["block_size"]
    if node.kind == OpKind.DEPTH_TO_SPACE:
        co = c // (b * b)
        # output viewed as [n, h, i, w, j, co] reads input [n, h, w, (i*b + j)*co + c]
        shape = [n, h, b, w, b, co]
        strides = [h * w * c, w * c, b * co, c, co, 1]
    else:
        ho, wo = h // b, w // b
        # output viewed as [n, ho, wo, i, j, c] reads input [n, ho*b + i, wo*b + j, c]
        shape = [n, ho, wo, b, b, c]
        strides = [h * w * c, b * w * c, b * c, w * c, c, 1]
    return shape, strides, 0


def lower(node: Node, prefix: str):
    return strided_copy(node, prefix, *_copy(node),
                        f"{describe(node)} block {node.options['block_size']}")


def overlap(node: Node) -> dict[int, int]:
    return strided_copy_overlap(*_copy(node))
