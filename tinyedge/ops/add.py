"""ADD: int8 (or 16x8 int16) elementwise addition with numpy-style broadcasting up to 6-D."""
from __future__ import annotations

import numpy as np

from tinyedge import quant
from tinyedge.ir import Node, Tensor
from tinyedge.planner.overlap import elementwise_limit
from tinyedge.ops import CStruct, KernelCall, StructArg, TensorArg, activation_bounds, \
    check_activation, check_activations, is_16x8, require, shape_text

# One line of `tinyedge ops`: types and constraints.
SUPPORT = (
    "int8 or int16 (16x8, zero points 0); numpy broadcasting up to 6-D, either input may be "
    "constant; fused activations as CONV_2D"
)

MAX_RANK = 6


def broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    """numpy's broadcast of two shapes, or None when they do not broadcast."""
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def check(node: Node) -> list[str]:
    problems: list[str] = []
    require(problems, len(node.inputs) == 2 and len(node.outputs) == 1,
            "ADD takes 2 inputs and 1 output")
    if problems:
        return problems
    a, b, output = node.inputs[0], node.inputs[1], node.outputs[0]
    check_activations(node, [a, b, output], problems)
    check_activation(node, problems)
    shape = broadcast_shape(a.shape, b.shape)
    require(problems, shape is not None and shape == output.shape,
            f"inputs {list(a.shape)} and {list(b.shape)} do not broadcast to the output "
            f"{list(output.shape)}")
    require(problems, len(output.shape) <= MAX_RANK,
            f"ADD supports up to {MAX_RANK} dimensions, found {len(output.shape)}")
    if not problems and is_16x8(node):
        p = _params(node)
        require(problems, max(p["input1_shift"], p["input2_shift"], p["output_shift"]) <= 0,
                f"ADD output scale {output.quant.scale:g} is too small for the input scales "
                "(TFLite needs rescales below one)")
    return problems


def _params(node: Node) -> dict:
    """TFLite's ADD preparation: left shift 20 for int8, 15 for int16."""
    a, b, output = node.inputs[0], node.inputs[1], node.outputs[0]
    return quant.add_params(a.quant.scale, b.quant.scale, output.quant.scale,
                            15 if is_16x8(node) else 20)


def _strides(shape: tuple[int, ...], out_shape: tuple[int, ...]) -> list[int]:
    """Element strides of `shape` read along `out_shape` (0 where it broadcasts)."""
    padded = (1,) * (len(out_shape) - len(shape)) + tuple(shape)
    strides, step = [], 1
    for dim, out_dim in zip(reversed(padded), reversed(out_shape)):
        strides.append(step if dim == out_dim else 0)
        step *= dim
    return list(reversed(strides))


def elementwise_shape(name: str, a: Tensor, b: Tensor, output: Tensor) -> CStruct:
    out_shape = tuple(output.shape)
    pad = MAX_RANK - len(out_shape)
    broadcast = int(a.shape != out_shape or b.shape != out_shape)
    return CStruct("te_elementwise_shape", name, [
        ("broadcast", broadcast),
        ("output_shape", [1] * pad + list(out_shape)),
        ("input1_strides", [0] * pad + _strides(a.shape, out_shape)),
        ("input2_strides", [0] * pad + _strides(b.shape, out_shape))])


def lower(node: Node, prefix: str) -> KernelCall:
    a, b, output = node.inputs[0], node.inputs[1], node.outputs[0]
    p = _params(node)
    act_min, act_max = quant.activation_range(node.options["activation"], output.quant.scale,
                                              output.quant.zero_point, *activation_bounds(node))
    params = CStruct("te_add_params", f"{prefix}_params", [
        ("input1_offset", -a.quant.zero_point), ("input2_offset", -b.quant.zero_point),
        ("output_offset", output.quant.zero_point), ("left_shift", p["left_shift"]),
        ("input1_multiplier", p["input1_multiplier"]), ("input1_shift", p["input1_shift"]),
        ("input2_multiplier", p["input2_multiplier"]), ("input2_shift", p["input2_shift"]),
        ("output_multiplier", p["output_multiplier"]), ("output_shift", p["output_shift"]),
        ("activation_min", act_min), ("activation_max", act_max)])
    shape = elementwise_shape(f"{prefix}_shape", a, b, output)
    activation = node.options["activation"]
    return KernelCall(
        function="te_add_s16" if is_16x8(node) else "te_add_s8",
        args=[StructArg(params), StructArg(shape), TensorArg(a), TensorArg(b), TensorArg(output)],
        constants=[params, shape],
        summary=(f"ADD {shape_text(a)} + {shape_text(b)} -> {shape_text(output)}"
                 + (f" ({activation})" if activation != "NONE" else "")))


def overlap(node: Node) -> dict[int, int]:
    """Output element k reads element k of each input (or its broadcast source)."""
    output = node.outputs[0]
    limits = {}
    for i, t in enumerate(node.inputs):
        source = np.broadcast_to(np.arange(t.size).reshape(t.shape), output.shape)
        limits[i] = elementwise_limit(source, t.dtype.itemsize, output.dtype.itemsize)
    return limits
