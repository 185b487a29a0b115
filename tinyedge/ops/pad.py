"""PAD and PADV2: the int8 or int16 input (copied raw, as TFLite Micro does) inside a
border of the output zero point (PAD) or of PADV2's constant value."""
from __future__ import annotations

import numpy as np

from tinyedge.ir import DType, Node, OpKind
from tinyedge.ops import CStruct, KernelCall, StructArg, TensorArg, require
from tinyedge.ops.movement import check_int8_or_int16, constant_ints, describe, read_index, \
    contiguous_strides, sparse_read_limit

# One line of `tinyedge ops`: types and constraints.
SUPPORT = (
    "int8 or int16 (16x8) up to 4-D, constant int32 paddings >= 0; PAD fills with the output "
    "zero point, PADV2 with its constant (same scale and zero point as the output)"
)

MAX_RANK = 4  # TFLite Micro's PAD limit
TE_MAX_RANK = 6


def _paddings(node: Node, problems: list[str]) -> list[tuple[int, int]] | None:
    values = constant_ints(node, 1, "paddings", problems)
    if values is None:
        return None
    rank = len(node.inputs[0].shape)
    if len(values) != 2 * rank:
        problems.append(f"paddings has {len(values)} values, expected {2 * rank}")
        return None
    pairs = [(values[2 * i], values[2 * i + 1]) for i in range(rank)]
    if any(a < 0 or b < 0 for a, b in pairs):
        problems.append(f"negative paddings {pairs} are not supported")
        return None
    return pairs


def _pad_value(node: Node) -> int:
    if node.kind == OpKind.PADV2 and len(node.inputs) > 2 and node.inputs[2] is not None:
        return int(np.asarray(node.inputs[2].data).reshape(-1)[0])
    return node.outputs[0].quant.zero_point if node.outputs[0].quant else 0


def check(node: Node) -> list[str]:
    problems: list[str] = []
    n_in = (2,) if node.kind == OpKind.PAD else (2, 3)
    if len(node.inputs) not in n_in or len(node.outputs) != 1 or node.inputs[0] is None:
        return [f"{node.kind.name} takes {' or '.join(map(str, n_in))} inputs and 1 output"]
    input_, output = node.inputs[0], node.outputs[0]
    check_int8_or_int16(node, [input_, output], problems)
    require(problems, 1 <= len(input_.shape) <= MAX_RANK,
            f"{node.kind.name} supports 1 to {MAX_RANK} dimensions, found {len(input_.shape)}")
    if problems:
        return problems
    pairs = _paddings(node, problems)
    if pairs is not None:
        want = tuple(d + a + b for d, (a, b) in zip(input_.shape, pairs))
        require(problems, want == tuple(output.shape),
                f"output shape {list(output.shape)} is not the padded input {list(want)}")
    if len(node.inputs) > 2 and node.inputs[2] is not None:
        value = node.inputs[2]
        require(problems, value.is_constant and value.size == 1 and value.dtype == input_.dtype,
                f"PADV2 needs a constant {input_.dtype.numpy_name} scalar pad value")
        require(problems, value.quant is not None and output.quant is not None
                and value.quant.zero_point == output.quant.zero_point
                and value.quant.scale == output.quant.scale,
                "PADV2 pad value must have the output's scale and zero point (as TFLite Micro "
                "requires)")
    else:
        require(problems, output.quant is not None, f"'{output.name}' has no quantization")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    input_, output = node.inputs[0], node.outputs[0]
    pairs = _paddings(node, [])
    lead = TE_MAX_RANK - len(pairs)
    params = CStruct("te_pad_params", f"{prefix}_params", [
        ("input_shape", [1] * lead + list(input_.shape)),
        ("pad_before", [0] * lead + [a for a, _ in pairs]),
        ("pad_after", [0] * lead + [b for _, b in pairs]),
        ("pad_value", _pad_value(node))])
    return KernelCall(function="te_pad_s16" if input_.dtype == DType.INT16 else "te_pad_s8",
                      args=[StructArg(params), TensorArg(input_), TensorArg(output)],
                      constants=[params],
                      summary=f"{describe(node)} pad {[list(p) for p in pairs]}")


def overlap(node: Node) -> dict[int, int]:
    """Output element k copies input element reads[k] (or is padding); a row's
    input part is moved with memmove when the row is written."""
    input_, output = node.inputs[0], node.outputs[0]
    pairs = _paddings(node, [])
    reads = np.full(output.shape, -1, dtype=np.int64)
    inner = tuple(slice(a, a + d) for (a, _), d in zip(pairs, input_.shape))
    reads[inner] = read_index(input_.shape, contiguous_strides(input_.shape), 0).reshape(
        input_.shape)
    return {0: sparse_read_limit(reads.reshape(-1), input_.dtype.itemsize)}
