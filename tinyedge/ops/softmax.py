"""SOFTMAX: int8 in, int8 out (scale 1/256, zero point -128), TFLite's integer algorithm."""
from __future__ import annotations

import numpy as np

from tinyedge import quant
from tinyedge.ir import DType, Node
from tinyedge.planner.overlap import elementwise_limit
from tinyedge.ops import CStruct, IntArg, KernelCall, StructArg, TensorArg, \
    check_int8_activations, require, shape_text

# One line of `tinyedge ops`: types and constraints.
SUPPORT = (
    "int8 in and out over the last axis, any beta > 0; output scale 1/256, zero point -128; "
    "or int16 out, scale 1/65536, zero point -32768"
)

# Output type -> (scale, zero point, kernel), as TFLite Micro requires.
OUTPUTS = {DType.INT8: (1.0 / 256, -128, "te_softmax_s8"),
           DType.INT16: (1.0 / 65536, -32768, "te_softmax_s8_s16")}


def check(node: Node) -> list[str]:
    problems: list[str] = []
    require(problems, len(node.inputs) == 1 and len(node.outputs) == 1,
            "SOFTMAX takes 1 input and 1 output")
    if problems:
        return problems
    input_, output = node.inputs[0], node.outputs[0]
    check_int8_activations(node, [input_] + ([] if output.dtype == DType.INT16 else [output]),
                           problems)
    if output.dtype == DType.INT16 and output.quant is None:
        problems.append(f"tensor '{output.name}' has no quantization parameters")
    if problems:
        return problems
    require(problems, input_.shape == output.shape and len(input_.shape) >= 1,
            "SOFTMAX input and output shapes differ")
    scale, zero_point, _ = OUTPUTS[output.dtype]
    # TFLite Micro wants 1/256 exactly for int8, 1/65536 within 0.1% for int16
    # (converters write 1.5259e-05); the kernel assumes the exact scale.
    close = (np.float32(output.quant.scale) == np.float32(scale) if output.dtype == DType.INT8
             else abs(output.quant.scale - scale) <= 0.001 * scale)
    require(problems, output.quant.zero_point == zero_point and close,
            f"SOFTMAX output '{output.name}' must have scale {scale:g} and zero point "
            f"{zero_point} (found {output.quant.scale}, {output.quant.zero_point})")
    require(problems, node.options.get("beta", 1.0) > 0, "SOFTMAX beta must be positive")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    input_, output = node.inputs[0], node.outputs[0]
    multiplier, left_shift, diff_min = quant.softmax_params(node.options.get("beta", 1.0),
                                                            input_.quant.scale)
    params = CStruct("te_softmax_params", f"{prefix}_params", [
        ("input_multiplier", multiplier), ("input_left_shift", left_shift),
        ("diff_min", diff_min)])
    depth = input_.shape[-1]
    return KernelCall(
        function=OUTPUTS[output.dtype][2],
        args=[StructArg(params), IntArg(input_.size // depth), IntArg(depth),
              TensorArg(input_), TensorArg(output)],
        constants=[params],
        summary=f"SOFTMAX {shape_text(input_)}")


def overlap(node: Node) -> dict[int, int]:
    """A row is read whole (max, sum of exponentials) before any of it is
    written; then element c is read just before it is written."""
    return {0: elementwise_limit(np.arange(node.inputs[0].size), 1,
                                 node.outputs[0].dtype.itemsize)}
