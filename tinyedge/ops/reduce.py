"""MEAN and SUM over constant axes, int8, with TFLite Micro's integer
arithmetic: the zero-point-corrected int32 sum is requantized, MEAN folding
1/count into the multiplier. (The reference sources also hold a truncating
raw-sum mean for equal input and output quantization; the TFLite Micro build
used as the oracle does not take it: mobilenet_v2's MEAN, at equal
quantization, matches the requantized form only.)"""
from __future__ import annotations

from tinyedge import quant
from tinyedge.ir import Node, OpKind
from tinyedge.ops import CStruct, KernelCall, StructArg, TensorArg, check_int8_activations, \
    require, shape_text
from tinyedge.ops.movement import constant_ints, contiguous_strides

# One line of `tinyedge ops`: types and constraints.
SUPPORT = (
    "int8, up to 5-D, constant axes (at most 2 distinct, as TFLite Micro), keep_dims or not"
)

MAX_RANK = 5        # TFLite Micro's kMaxNumberOfAxis
MAX_AXES = 2        # TFLite Micro's kMaxNumberOfReducedAxis
TE_MAX_RANK = 6


def _axes(node: Node, problems: list[str]) -> list[int] | None:
    rank = len(node.inputs[0].shape)
    values = constant_ints(node, 1, "axis", problems)
    if values is None:
        return None
    axes = []
    for a in values:
        a = a + rank if a < 0 else a
        if not 0 <= a < rank:
            problems.append(f"axis {a} out of range for rank {rank}")
            return None
        if a not in axes:
            axes.append(a)
    if not axes:
        problems.append(f"{node.kind.name} with no axis is not supported")
        return None
    if len(axes) > MAX_AXES:
        problems.append(f"{node.kind.name} over {len(axes)} distinct axes: TFLite Micro reduces "
                        f"at most {MAX_AXES}")
        return None
    return axes


def check(node: Node) -> list[str]:
    problems: list[str] = []
    require(problems, len(node.inputs) == 2 and len(node.outputs) == 1,
            f"{node.kind.name} takes 2 inputs and 1 output")
    if problems:
        return problems
    input_, output = node.inputs[0], node.outputs[0]
    check_int8_activations(node, [input_, output], problems)
    require(problems, 1 <= len(input_.shape) <= MAX_RANK,
            f"{node.kind.name} supports 1 to {MAX_RANK} dimensions, found {len(input_.shape)}")
    if problems:
        return problems
    axes = _axes(node, problems)
    if axes is None:
        return problems
    kept = [d for i, d in enumerate(input_.shape) if i not in axes]
    keep = [1 if i in axes else d for i, d in enumerate(input_.shape)]
    want = keep if node.options.get("keep_dims") else kept
    require(problems, tuple(want) == tuple(output.shape),
            f"output shape {list(output.shape)} is not the reduced input {want}")
    return problems


def _requant(node: Node, count: int) -> tuple[int, int]:
    """TFLite's multiplier for input_scale / output_scale; MEAN folds 1/count
    into it: multiplier * 2^k / count (truncated), shift - k, with
    k = min(floor(log2(count)), 32, 31 + shift)."""
    input_, output = node.inputs[0], node.outputs[0]
    multiplier, shift = quant.quantize_multiplier(input_.quant.scale / output.quant.scale)
    if node.kind == OpKind.MEAN:
        extra = min(count.bit_length() - 1, 32, 31 + shift)
        assert extra >= 0, f"{node}: mean shift {extra}"
        multiplier = (multiplier << extra) // count
        shift -= extra
    return multiplier, shift


def lower(node: Node, prefix: str) -> KernelCall:
    input_, output = node.inputs[0], node.outputs[0]
    axes = sorted(_axes(node, []))
    rank = len(input_.shape)
    strides = contiguous_strides(input_.shape)
    kept = [i for i in range(rank) if i not in axes]
    order = kept + axes
    lead = TE_MAX_RANK - rank
    count = 1
    for a in axes:
        count *= input_.shape[a]
    multiplier, shift = _requant(node, count)
    params = CStruct("te_reduce_params", f"{prefix}_params", [
        ("shape", [1] * lead + [input_.shape[i] for i in order]),
        ("strides", [0] * lead + [strides[i] for i in order]),
        ("reduced_rank", len(axes)), ("count", count),
        ("input_zero_point", input_.quant.zero_point),
        ("output_zero_point", output.quant.zero_point),
        ("multiplier", multiplier), ("shift", shift)])
    return KernelCall(function="te_mean_s8",
                      args=[StructArg(params), TensorArg(input_), TensorArg(output)],
                      constants=[params],
                      summary=f"{node.kind.name} {shape_text(input_)} axes {axes} -> "
                              f"{shape_text(output)}")
