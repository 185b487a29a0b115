"""QUANTIZE and DEQUANTIZE at the edges of a model (float32 or uint8 to and
from int8, float32 to and from int16), and QUANTIZE as a requantization
between integer scales and types."""
from __future__ import annotations

from tinyedge import quant
import numpy as np

from tinyedge.ir import DType, Node, OpKind
from tinyedge.planner.overlap import elementwise_limit
from tinyedge.ops import CStruct, IntArg, KernelCall, StructArg, TensorArg, require, shape_text

# One line of `tinyedge ops`: types and constraints.
SUPPORT = (
    "QUANTIZE float32->int8, float32->int16, uint8->int8, int8->int8, int8->uint8, int8->int16, "
    "int16->int8, int16->int16, int16->int32; DEQUANTIZE int8->float32, uint8->float32, "
    "int16->float32"
)

# (op, input dtype, output dtype) -> kernel
FUNCTIONS = {
    (OpKind.QUANTIZE, DType.FLOAT32, DType.INT8): "te_quantize_f32_s8",
    (OpKind.QUANTIZE, DType.FLOAT32, DType.INT16): "te_quantize_f32_s16",
    (OpKind.QUANTIZE, DType.INT8, DType.INT8): "te_requantize_s8_s8",
    (OpKind.QUANTIZE, DType.UINT8, DType.INT8): "te_requantize_u8_s8",
    (OpKind.QUANTIZE, DType.INT8, DType.UINT8): "te_requantize_s8_u8",
    (OpKind.QUANTIZE, DType.INT8, DType.INT16): "te_requantize_s8_s16",
    (OpKind.QUANTIZE, DType.INT16, DType.INT16): "te_requantize_s16_s16",
    (OpKind.QUANTIZE, DType.INT16, DType.INT8): "te_requantize_s16_s8",
    (OpKind.QUANTIZE, DType.INT16, DType.INT32): "te_requantize_s16_s32",
    (OpKind.DEQUANTIZE, DType.INT8, DType.FLOAT32): "te_dequantize_s8_f32",
    (OpKind.DEQUANTIZE, DType.UINT8, DType.FLOAT32): "te_dequantize_u8_f32",
    (OpKind.DEQUANTIZE, DType.INT16, DType.FLOAT32): "te_dequantize_s16_f32",
}
ZERO_POINT_RANGES = {DType.INT8: (-128, 127), DType.UINT8: (0, 255),
                     DType.INT16: (-32768, 32767), DType.INT32: (-32768, 32767)}


def check(node: Node) -> list[str]:
    problems: list[str] = []
    require(problems, len(node.inputs) == 1 and len(node.outputs) == 1,
            f"{node.kind.name} takes 1 input and 1 output")
    if problems:
        return problems
    input_, output = node.inputs[0], node.outputs[0]
    key = (node.kind, input_.dtype, output.dtype)
    if key not in FUNCTIONS:
        supported = ", ".join(f"{i.name}->{o.name}" for k, i, o in FUNCTIONS if k == node.kind)
        return [f"{node.kind.name} from {input_.dtype.name} to {output.dtype.name} is not "
                f"supported (supported: {supported})"]
    require(problems, input_.size == output.size, f"{node.kind.name} changes the element count")
    for t in (input_, output):
        if t.dtype == DType.FLOAT32:
            continue
        if t.quant is None or t.quant.per_channel:
            problems.append(f"tensor '{t.name}' needs one scale and zero point")
            continue
        low, high = ZERO_POINT_RANGES[t.dtype]
        require(problems, low <= t.quant.zero_point <= high,
                f"tensor '{t.name}' has zero point {t.quant.zero_point} out of {t.dtype.name} range")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    input_, output = node.inputs[0], node.outputs[0]
    function = FUNCTIONS[(node.kind, input_.dtype, output.dtype)]
    if input_.dtype == DType.FLOAT32 or output.dtype == DType.FLOAT32:
        q = (output if input_.dtype == DType.FLOAT32 else input_).quant
        params = CStruct("te_affine_params", f"{prefix}_params",
                         [("scale", q.scale), ("zero_point", q.zero_point)])
    else:
        multiplier, shift = quant.quantize_multiplier(input_.quant.scale / output.quant.scale)
        params = CStruct("te_requantize_params", f"{prefix}_params", [
            ("input_zero_point", input_.quant.zero_point),
            ("output_zero_point", output.quant.zero_point),
            ("multiplier", multiplier), ("shift", shift)])
    return KernelCall(
        function=function,
        args=[StructArg(params), IntArg(input_.size), TensorArg(input_), TensorArg(output)],
        constants=[params],
        summary=(f"{node.kind.name} {shape_text(input_)} {input_.dtype.name} -> "
                 f"{output.dtype.name}"))


def overlap(node: Node) -> dict[int, int]:
    input_, output = node.inputs[0], node.outputs[0]
    return {0: elementwise_limit(np.arange(input_.size), input_.dtype.itemsize,
                                 output.dtype.itemsize)}
