"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR: int8 NHWC images resized in
height and width, as TFLite Micro does it.

TFLite Micro resizes the raw int8 values without looking at the
quantization (the converter gives input and output the same), so neither
does tinyedge. The source rows and columns are computed here, once:
nearest neighbour with TFLite's float32 arithmetic (GetNearestNeighbor),
bilinear with TFLite's integer path (ResizeBilinearInteger: positions in
1/1024 steps, weights summing to 2^20, rounded half away from zero)."""
from __future__ import annotations

import numpy as np

from tinyedge.ir import Node, OpKind
from tinyedge.quant import round_half_away
from tinyedge.ops import CArray, CName, CStruct, KernelCall, StructArg, TensorArg, require
from tinyedge.ops.movement import check_int8, constant_ints, describe
from tinyedge.planner.overlap import elementwise_limit

# One line of `tinyedge ops`: types and constraints.
SUPPORT = (
    "int8 NHWC (raw values, as TFLite Micro), constant int32 size; align_corners or "
    "half_pixel_centers (not both); bilinear with TFLite's integer arithmetic"
)


def _size(node: Node, problems: list[str]) -> tuple[int, int] | None:
    values = constant_ints(node, 1, "size", problems)
    if values is None:
        return None
    if len(values) != 2 or min(values) < 1:
        problems.append(f"size must be 2 positive values (height, width), found {values}")
        return None
    return values[0], values[1]


def nearest_indices(in_size: int, out_size: int, align_corners: bool,
                    half_pixel_centers: bool) -> list[int]:
    """TFLite's GetNearestNeighbor for each output position, in float32."""
    if align_corners and out_size > 1:
        scale = np.float32(in_size - 1) / np.float32(out_size - 1)
    else:
        scale = np.float32(in_size) / np.float32(out_size)
    offset = np.float32(0.5 if half_pixel_centers else 0.0)
    result = []
    for i in range(out_size):
        position = np.float32(np.float32(i) + offset) * scale
        if align_corners:  # std::round: half away from zero
            index = round_half_away(float(position))
        else:
            index = int(np.floor(position))
        index = min(index, in_size - 1)
        if half_pixel_centers:
            index = max(0, index)
        result.append(index)
    return result


def _trunc_div(a: int, b: int) -> int:
    """C integer division (toward zero) for b > 0."""
    return a // b if a >= 0 else -((-a) // b)


def bilinear_table(in_size: int, out_size: int, align_corners: bool,
                   half_pixel_centers: bool) -> list[tuple[int, int, int]]:
    """(lower, upper, distance from lower in 1/1024) per output position, as
    TFLite's ComputeInterpolationValuesInteger. lower may exceed in_size - 1
    for absurd upscaling (TFLite would read out of bounds): check() refuses."""
    if align_corners and out_size > 1:
        scale = ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        scale = ((1 << 10) * in_size + out_size // 2) // out_size
    table = []
    for i in range(out_size):
        scaled = i * scale + scale // 2 - (1 << 9) if half_pixel_centers else i * scale
        lower = max(_trunc_div(scaled, 1 << 10), 0)
        upper = min(_trunc_div(scaled + (1 << 10) - 1, 1 << 10), in_size - 1)
        table.append((lower, upper, scaled - (1 << 10) * lower))
    return table


def check(node: Node) -> list[str]:
    problems: list[str] = []
    if len(node.inputs) != 2 or len(node.outputs) != 1 or node.inputs[0] is None:
        return [f"{node.kind.name} takes 2 inputs and 1 output"]
    input_, output = node.inputs[0], node.outputs[0]
    check_int8(node, [input_, output], problems)
    require(problems, len(input_.shape) == 4 and len(output.shape) == 4,
            f"{node.kind.name} needs 4-D input and output, found {list(input_.shape)} -> "
            f"{list(output.shape)}")
    o = node.options
    require(problems, not (o["align_corners"] and o["half_pixel_centers"]),
            "align_corners and half_pixel_centers cannot both be set (TFLite Micro refuses it)")
    if problems:
        return problems
    size = _size(node, problems)
    if size is None:
        return problems
    want = (input_.shape[0], size[0], size[1], input_.shape[3])
    require(problems, tuple(output.shape) == want,
            f"output shape {list(output.shape)} is not the resized input {list(want)}")
    require(problems, max(size) < 1 << 16 and max(input_.shape[1:3]) < 1 << 16,
            f"sizes above 65535 are not supported (found {list(input_.shape)} -> {list(size)})")
    if not problems and node.kind == OpKind.RESIZE_BILINEAR:
        for axis, (in_size, out_size) in enumerate(zip(input_.shape[1:3], size)):
            table = bilinear_table(in_size, out_size, o["align_corners"], o["half_pixel_centers"])
            require(problems, all(lo < in_size for lo, _, _ in table),
                    f"resizing {in_size} to {out_size} on axis {axis + 1} makes TFLite's integer "
                    "positions leave the input (TFLite Micro would read out of bounds)")
    return problems


def _tables(node: Node):
    input_, output = node.inputs[0], node.outputs[0]
    o = node.options
    flags = (o["align_corners"], o["half_pixel_centers"])
    if node.kind == OpKind.RESIZE_NEAREST_NEIGHBOR:
        return [[(i, i, 0) for i in nearest_indices(input_.shape[a], output.shape[a], *flags)]
                for a in (1, 2)]
    return [bilinear_table(input_.shape[a], output.shape[a], *flags) for a in (1, 2)]


def lower(node: Node, prefix: str) -> KernelCall:
    input_, output = node.inputs[0], node.outputs[0]
    rows, cols = _tables(node)
    if node.kind == OpKind.RESIZE_NEAREST_NEIGHBOR:
        function = "te_resize_nearest_s8"
        row_values = [lo for lo, _, _ in rows]
        col_values = [lo for lo, _, _ in cols]
    else:
        function = "te_resize_bilinear_s8"
        row_values = [v for entry in rows for v in entry]
        col_values = [v for entry in cols for v in entry]
    row_array = CArray("int32_t", f"{prefix}_rows", row_values)
    col_array = CArray("int32_t", f"{prefix}_cols", col_values)
    n, in_h, in_w, channels = input_.shape
    params = CStruct("te_resize_params", f"{prefix}_params", [
        ("batches", n), ("input_h", in_h), ("input_w", in_w), ("channels", channels),
        ("output_h", output.shape[1]), ("output_w", output.shape[2]),
        ("rows", CName(row_array.name)), ("cols", CName(col_array.name))])
    o = node.options
    mode = ("align_corners" if o["align_corners"] else
            "half_pixel_centers" if o["half_pixel_centers"] else "asymmetric")
    return KernelCall(function=function,
                      args=[StructArg(params), TensorArg(input_), TensorArg(output)],
                      constants=[row_array, col_array, params],
                      summary=f"{describe(node)} ({mode})")


def overlap(node: Node) -> dict[int, int]:
    """Output element (b, y, x, c) reads input (b, lower_y, lower_x, c) first
    (the lowest of its 1 or 4 reads) just before it is written."""
    input_, output = node.inputs[0], node.outputs[0]
    rows, cols = _tables(node)
    n, in_h, in_w, channels = input_.shape
    lower_y = np.array([lo for lo, _, _ in rows], dtype=np.int64)
    lower_x = np.array([lo for lo, _, _ in cols], dtype=np.int64)
    reads = ((np.arange(n, dtype=np.int64)[:, None, None, None] * in_h
              + lower_y[None, :, None, None]) * in_w
             + lower_x[None, None, :, None]) * channels \
        + np.arange(channels, dtype=np.int64)[None, None, None, :]
    return {0: elementwise_limit(reads.reshape(-1), 1, 1)}
