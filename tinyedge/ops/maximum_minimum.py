"""MAXIMUM and MINIMUM: int8 comparisons of the raw values, broadcasting up to 6-D."""
from __future__ import annotations

import numpy as np

from tinyedge.ir import Node, OpKind
from tinyedge.ops import KernelCall, StructArg, TensorArg, shape_text
from tinyedge.ops.add import elementwise_shape
from tinyedge.ops.elementwise import binary_overlap, check_binary

SUPPORT = ("int8; numpy broadcasting up to 6-D, either input may be constant; inputs and output "
           "share one scale and zero point (TFLite Micro compares the raw values)")

FUNCTIONS = {OpKind.MAXIMUM: "te_maximum_s8", OpKind.MINIMUM: "te_minimum_s8"}


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if not check_binary(node, problems):
        return problems
    output = node.outputs[0]
    for t in node.inputs:
        if (np.float32(t.quant.scale) != np.float32(output.quant.scale)
                or t.quant.zero_point != output.quant.zero_point):
            problems.append(f"{node.kind.name} input '{t.name}' is quantized differently from the "
                            f"output ({t.quant.scale:g}, {t.quant.zero_point} vs "
                            f"{output.quant.scale:g}, {output.quant.zero_point}); TFLite Micro "
                            "compares raw values, so they must agree")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    a, b, output = node.inputs[0], node.inputs[1], node.outputs[0]
    shape = elementwise_shape(f"{prefix}_shape", a, b, output)
    return KernelCall(
        function=FUNCTIONS[node.kind],
        args=[StructArg(shape), TensorArg(a), TensorArg(b), TensorArg(output)],
        constants=[shape],
        summary=f"{node.kind.name} {shape_text(a)}, {shape_text(b)} -> {shape_text(output)}")


overlap = binary_overlap
