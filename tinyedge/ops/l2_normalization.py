"""L2_NORMALIZATION: int8 over the last axis, output scale 1/128 and zero point 0."""
from __future__ import annotations

import numpy as np

from tinyedge.ir import Node
from tinyedge.ops import IntArg, KernelCall, TensorArg, require, shape_text
from tinyedge.ops.elementwise import check_unary, unary_overlap

SUPPORT = "int8 over the last axis, rank <= 4, no fused activation; output scale 1/128, zero point 0"


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if not check_unary(node, problems):
        return problems
    input_, output = node.inputs[0], node.outputs[0]
    require(problems, 1 <= len(input_.shape) <= 4,
            f"L2_NORMALIZATION supports ranks 1 to 4, found {len(input_.shape)}")
    require(problems, node.options.get("activation", "NONE") == "NONE",
            "L2_NORMALIZATION with a fused activation is not supported (TFLite Micro refuses it)")
    require(problems, np.float32(output.quant.scale) == np.float32(1.0 / 128)
            and output.quant.zero_point == 0,
            f"L2_NORMALIZATION output '{output.name}' must have scale 1/128 and zero point 0 "
            f"(found {output.quant.scale:g}, {output.quant.zero_point})")
    if input_.shape:
        require(problems, input_.shape[-1] <= 33025,
                f"L2_NORMALIZATION depth {input_.shape[-1]} above 33025")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    input_, output = node.inputs[0], node.outputs[0]
    depth = input_.shape[-1]
    return KernelCall(
        function="te_l2_normalization_s8",
        args=[IntArg(input_.quant.zero_point), IntArg(input_.size // depth), IntArg(depth),
              TensorArg(input_), TensorArg(output)],
        macs=input_.size,
        summary=f"L2_NORMALIZATION {shape_text(input_)}")


def overlap(node: Node) -> dict[int, int]:
    """A row is read whole (its sum of squares) before any of it is written;
    then element c is read just before it is written."""
    return unary_overlap(node)
