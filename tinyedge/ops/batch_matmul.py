"""BATCH_MATMUL: int8 matrix products over broadcast batch dimensions, as
TFLite Micro (either operand may be an activation; adj_x / adj_y transpose
the last two dimensions of lhs / rhs; no fused activation; one per-tensor
rescale lhs_scale * rhs_scale / output_scale)."""
from __future__ import annotations

import numpy as np

from tinyedge import quant
from tinyedge.ir import Node
from tinyedge.ops import CStruct, KernelCall, StructArg, TensorArg, check_int8_activations, \
    require, shape_text
from tinyedge.planner.overlap import elementwise_limit

# One line of `tinyedge ops`: types and constraints.
SUPPORT = (
    "int8, per-tensor quantization, ranks 2 to 5 with broadcast batch dimensions; adj_x/adj_y; "
    "either operand an activation or a constant"
)

MAX_RANK = 5  # TFLite Micro's limit
MAX_BATCH_DIMS = 3


def _layout(node: Node) -> dict:
    """Every extent and stride of the product, from the shapes and adj flags."""
    lhs, rhs = node.inputs[0], node.inputs[1]
    rank = max(len(lhs.shape), len(rhs.shape))
    ls = (1,) * (rank - len(lhs.shape)) + tuple(lhs.shape)
    rs = (1,) * (rank - len(rhs.shape)) + tuple(rhs.shape)
    adj_x, adj_y = node.options["adj_x"], node.options["adj_y"]
    r0, r1 = ls[-2], ls[-1]
    s0, s1 = rs[-2], rs[-1]
    layout = {
        "rows": r1 if adj_x else r0, "lhs_depth": r0 if adj_x else r1,
        "lhs_row_stride": 1 if adj_x else r1, "lhs_depth_stride": r1 if adj_x else 1,
        "cols": s0 if adj_y else s1, "rhs_depth": s1 if adj_y else s0,
        "rhs_col_stride": s1 if adj_y else 1, "rhs_depth_stride": 1 if adj_y else s1,
    }
    lb, rb = ls[:-2], rs[:-2]
    batch = tuple(max(a, b) for a, b in zip(lb, rb))
    layout["broadcast_ok"] = all(a == b or a == 1 or b == 1 for a, b in zip(lb, rb))

    def strides(dims, matrix):
        out, step = [], matrix
        for d in reversed(dims):
            out.append(0 if d == 1 else step)
            step *= d
        return list(reversed(out))

    pad = MAX_BATCH_DIMS - len(batch)
    layout["batch"] = [1] * pad + list(batch)
    layout["lhs_batch_strides"] = [0] * pad + strides(lb, r0 * r1)
    layout["rhs_batch_strides"] = [0] * pad + strides(rb, s0 * s1)
    layout["output_shape"] = batch + (layout["rows"], layout["cols"])
    return layout


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if len(node.inputs) != 2 or len(node.outputs) != 1 or None in node.inputs:
        return ["BATCH_MATMUL takes 2 inputs and 1 output"]
    lhs, rhs, output = node.inputs[0], node.inputs[1], node.outputs[0]
    check_int8_activations(node, [lhs, rhs, output], problems)
    if problems:
        return problems
    for t in (lhs, rhs):
        require(problems, 2 <= len(t.shape) <= MAX_RANK,
                f"'{t.name}' has rank {len(t.shape)}; BATCH_MATMUL takes ranks 2 to {MAX_RANK}")
    if problems:
        return problems
    layout = _layout(node)
    require(problems, layout["broadcast_ok"],
            f"batch dimensions of {list(lhs.shape)} and {list(rhs.shape)} do not broadcast")
    require(problems, layout["lhs_depth"] == layout["rhs_depth"],
            f"{list(lhs.shape)} x {list(rhs.shape)} (adj_x {node.options['adj_x']}, adj_y "
            f"{node.options['adj_y']}): inner dimensions {layout['lhs_depth']} and "
            f"{layout['rhs_depth']} differ")
    if not problems:
        require(problems, tuple(output.shape) == layout["output_shape"],
                f"output shape {list(output.shape)} is not the product's "
                f"{list(layout['output_shape'])}")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    lhs, rhs, output = node.inputs[0], node.inputs[1], node.outputs[0]
    layout = _layout(node)
    (multiplier,), (shift,) = quant.conv_multipliers(lhs.quant.scale, [rhs.quant.scale],
                                                     output.quant.scale)
    params = CStruct("te_batch_matmul_params", f"{prefix}_params", [
        ("batch_shape", layout["batch"]),
        ("lhs_batch_strides", layout["lhs_batch_strides"]),
        ("rhs_batch_strides", layout["rhs_batch_strides"]),
        ("rows", layout["rows"]), ("cols", layout["cols"]), ("depth", layout["lhs_depth"]),
        ("lhs_row_stride", layout["lhs_row_stride"]),
        ("lhs_depth_stride", layout["lhs_depth_stride"]),
        ("rhs_depth_stride", layout["rhs_depth_stride"]),
        ("rhs_col_stride", layout["rhs_col_stride"]),
        ("lhs_size", lhs.size), ("rhs_size", rhs.size),
        ("lhs_offset", -lhs.quant.zero_point), ("rhs_offset", -rhs.quant.zero_point),
        ("output_offset", output.quant.zero_point),
        ("output_multiplier", multiplier), ("output_shift", shift)])
    flags = "".join(f", {f}" for f in ("adj_x", "adj_y") if node.options[f])
    return KernelCall(function="te_batch_matmul_s8",
                      args=[StructArg(params), TensorArg(lhs), TensorArg(rhs),
                            TensorArg(output)],
                      constants=[params],
                      macs=output.size * layout["lhs_depth"],
                      summary=f"BATCH_MATMUL {shape_text(lhs)} x {shape_text(rhs)} -> "
                              f"{shape_text(output)}{flags}")


def overlap(node: Node) -> dict[int, int]:
    """Output element (b, i, j) reads lhs row i and rhs column j of its batch,
    all before it is written; the lowest of those is element k = 0."""
    layout = _layout(node)
    batch = np.indices(layout["batch"]).reshape(3, -1).T.astype(np.int64)
    lhs_base = batch @ np.array(layout["lhs_batch_strides"], dtype=np.int64)
    rhs_base = batch @ np.array(layout["rhs_batch_strides"], dtype=np.int64)
    rows = np.arange(layout["rows"], dtype=np.int64) * layout["lhs_row_stride"]
    cols = np.arange(layout["cols"], dtype=np.int64) * layout["rhs_col_stride"]
    shape = (lhs_base.size, rows.size, cols.size)
    lhs_reads = np.broadcast_to(lhs_base[:, None, None] + rows[None, :, None], shape)
    rhs_reads = np.broadcast_to(rhs_base[:, None, None] + cols[None, None, :], shape)
    return {0: elementwise_limit(lhs_reads.reshape(-1), 1, 1),
            1: elementwise_limit(rhs_reads.reshape(-1), 1, 1)}
