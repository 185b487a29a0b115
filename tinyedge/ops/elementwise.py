"""Shared checks, prepare helpers and overlap rules of the elementwise
ops (MUL, SUB, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, PRELU and the unary
activations). Binary ops reuse ADD's te_elementwise_shape."""
from __future__ import annotations

import numpy as np

from tinyedge import quant
from tinyedge.ir import Node
from tinyedge.ops import check_activations, check_int8_activations, require
from tinyedge.ops.add import MAX_RANK, broadcast_shape
from tinyedge.planner.overlap import elementwise_limit


def f32(x: float) -> np.float32:
    return np.float32(x)


def check_binary(node: Node, problems: list[str], int16: bool = False) -> bool:
    """Two int8 inputs (or int16 ones, 16x8, where the op has `int16` kernels)
    broadcasting to the output, rank <= 6."""
    name = node.kind.name
    require(problems, len(node.inputs) == 2 and len(node.outputs) == 1
            and all(t is not None for t in node.inputs),
            f"{name} takes 2 inputs and 1 output")
    if problems:
        return False
    a, b, output = node.inputs[0], node.inputs[1], node.outputs[0]
    (check_activations if int16 else check_int8_activations)(node, [a, b, output], problems)
    shape = broadcast_shape(a.shape, b.shape)
    require(problems, shape is not None and shape == output.shape,
            f"inputs {list(a.shape)} and {list(b.shape)} do not broadcast to the output "
            f"{list(output.shape)}")
    require(problems, len(output.shape) <= MAX_RANK,
            f"{name} supports up to {MAX_RANK} dimensions, found {len(output.shape)}")
    return not problems


def check_unary(node: Node, problems: list[str], int16: bool = False) -> bool:
    """One int8 input and an int8 output of the same shape (or int16 ones,
    16x8, where the op has `int16` kernels)."""
    name = node.kind.name
    require(problems, len(node.inputs) >= 1 and node.inputs[0] is not None
            and len(node.outputs) == 1, f"{name} takes 1 input and 1 output")
    if problems:
        return False
    input_, output = node.inputs[0], node.outputs[0]
    (check_activations if int16 else check_int8_activations)(node, [input_, output], problems)
    require(problems, input_.shape == output.shape,
            f"{name} input {list(input_.shape)} and output {list(output.shape)} differ")
    return not problems


def require_multiplier(problems: list[str], node: Node, what: str, multiplier: int,
                       shift: int, lowest: int = -31, highest: int = 30) -> None:
    """A (multiplier, shift) pair the kernels take: shift in [lowest, highest]."""
    require(problems, multiplier == 0 or lowest <= shift <= highest,
            f"{node.kind.name} {what} scale ratio {multiplier * 2.0 ** (shift - 31):.3g} is "
            f"out of the supported range")


def binary_overlap(node: Node) -> dict[int, int]:
    """Output element k reads element k of each input (or its broadcast source)."""
    output = node.outputs[0]
    limits = {}
    for i, t in enumerate(node.inputs):
        if t is None or t.is_constant:
            continue
        source = np.broadcast_to(np.arange(t.size).reshape(t.shape), output.shape)
        limits[i] = elementwise_limit(source, t.dtype.itemsize, output.dtype.itemsize)
    return limits


def unary_overlap(node: Node) -> dict[int, int]:
    """Element k is read just before element k is written."""
    input_, output = node.inputs[0], node.outputs[0]
    return {0: elementwise_limit(np.arange(input_.size), input_.dtype.itemsize,
                                 output.dtype.itemsize)}


def quantize_multiplier_f32(real) -> tuple[int, int]:
    """QuantizeMultiplier of a value TFLite computed in float32."""
    return quant.quantize_multiplier(float(np.float32(real)))
