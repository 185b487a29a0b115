"""Which optional paths of a target's kernels a model's layers can take.

The ARMv7E-M DSP kernels pick a path per call from the layer's shape
(kernels/src/armv7em/te_paths.h names the optional ones). The same tests, made
here on each layer's arguments, give the paths no layer of the model can take;
the output folder's te_paths.h turns those off, so that its firmware links none
of their code. A test may keep a path that the kernel would not take (it only
costs flash), never the reverse: a layer sent to a path left out (say, with
the kernels' constants changed by -D flags) takes a slower path that handles
it, or fails with TE_PATH_LEFT_OUT.
"""
from __future__ import annotations

from typing import Callable, Optional

from tinyedge.ir import Tensor
from tinyedge.ops import CArray, KernelCall, NullArg, StructArg

# Constants of kernels/src/armv7em/conv2d_s8.c, depthwise_conv2d_s8.c and te_dsp.h
DSP_MAX_K = 576  # TE_DSP_MAX_K: the longest window of the column path
DSP_NARROW_K = 16  # TE_DSP_NARROW_K: the widest pointwise input of conv_narrow
DSP_RQ_MAX_CH = 256  # TE_DSP_RQ_MAX_CH: the most channels a kernel prepares
SIX_MAX_K = 288  # TE_DSP_SIX_MAX_K
FILTER_COLUMN_BYTES = 1280  # TE_DSP_FILTER_COLUMN_BYTES
FILTER_COLUMN_MAX_K = 64  # TE_DSP_FILTER_COLUMN_MAX_K
DW_BAND_BYTES = 4096  # TE_DSP_DW_BAND_BYTES
DW_BAND_MIN_COLS = 8  # TE_DSP_DW_BAND_MIN_COLS
DW_PLANE_BYTES = 2048  # TE_DSP_DW_PLANE_BYTES
DW_PLANE_MIN_PIXELS = 12  # TE_DSP_DW_PLANE_MIN_PIXELS

ARMV7EM_PATHS = ("TE_CONV_SIX", "TE_CONV_PAIRED", "TE_CONV_FILTER_COLUMNS", "TE_CONV_COLUMNS",
                 "TE_CONV_ROW_BLOCKS", "TE_CONV_NARROW", "TE_CONV_LONG", "TE_CONV_IN_PLACE",
                 "TE_DW_BANDS", "TE_DW_STRIDE2", "TE_DW_PIXELS", "TE_ROW_BLOCKS")

# Where a tensor argument lies in the arena, or None (a weight, a state)
OffsetOf = Callable[[Tensor], Optional[int]]


def _struct(call: KernelCall, position: int) -> dict:
    arg = call.args[position]
    assert isinstance(arg, StructArg), (call.function, position)
    return dict(arg.struct.fields)


def _all_prepared(call: KernelCall) -> bool:
    """te_dsp_rq_table's answer: every channel's requantization in the fast
    form of te_dsp_rq_init (multiplier >= 0, and a right shift or none at all)."""
    arrays = {c.name.rsplit("_", 1)[-1]: c.values for c in call.constants
              if isinstance(c, CArray)}
    pairs = list(zip(arrays["multipliers"], arrays["shifts"]))
    return len(pairs) <= DSP_RQ_MAX_CH and all(
        m >= 0 and (s < 0 or m == 0) for m, s in pairs)


def _takes_six(call: KernelCall, k: int) -> bool:
    """takes_six: k a multiple of 4 from 16 up to TE_DSP_SIX_MAX_K, a bias,
    every channel prepared."""
    return (k % 4 == 0 and 16 <= k <= SIX_MAX_K and _all_prepared(call)
            and not isinstance(call.args[6], NullArg))


def _conv_is_pointwise(p: dict, in_dims: dict, filter_dims: dict, out_dims: dict) -> bool:
    """is_pointwise: 1x1, stride 1, no padding, the output as big as the input"""
    return (filter_dims["h"] == filter_dims["w"] == 1 and p["stride_h"] == p["stride_w"] == 1
            and p["pad_h"] == p["pad_w"] == 0
            and (out_dims["h"], out_dims["w"]) == (in_dims["h"], in_dims["w"]))


def _takes_filter_columns(call: KernelCall, pointwise: bool, k: int, cout: int) -> bool:
    """takes_filter_columns (groups 1, k <= TE_DSP_MAX_K)"""
    k4, cout4 = (k + 3) // 4 * 4, (cout + 3) // 4 * 4
    return (_all_prepared(call) and not pointwise and k <= FILTER_COLUMN_MAX_K
            and cout4 * k4 * 2 <= FILTER_COLUMN_BYTES)


def pairs_filters(call: KernelCall) -> bool:
    """Whether tinyedge hands this te_conv2d_s8 call its filters in pairs
    (TE_CONV_FILTER_PAIRS) for the ARMv7E-M kernel's filters_paired: a layer
    that would take conv_six in rows (groups 1, not the filter column path,
    six pixels or more), with C_out even, where its last block, which
    computes 3 or 6 pixels, wastes at most 5% of the layer (pairs save about
    7%)."""
    p, in_dims, filter_dims, out_dims = (_struct(call, i) for i in (0, 2, 4, 7))
    k = filter_dims["h"] * filter_dims["w"] * filter_dims["c"]
    if in_dims["c"] != filter_dims["c"] or out_dims["c"] % 2:
        return False
    pointwise = _conv_is_pointwise(p, in_dims, filter_dims, out_dims)
    pixels = out_dims["n"] * out_dims["h"] * out_dims["w"]
    wasted = -pixels % 3
    return (not _takes_filter_columns(call, pointwise, k, out_dims["c"])
            and _takes_six(call, k) and pixels >= 6 and 20 * wasted <= pixels)


def _c_div(a: int, b: int) -> int:
    """C's integer division (toward zero)."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _band_pitch(cols: int, stride: int) -> int:
    return cols + 3 if stride == 1 else 2 * (cols + (cols & 1)) + 2


def _copy_span(n: int, stride: int) -> int:
    return (n - 1) * stride + 3


def _band_rows(row_bytes: int, out_w: int, stride_h: int) -> int:
    return _c_div(DW_BAND_BYTES - 4 - (3 - stride_h) * row_bytes,
                  stride_h * row_bytes + 4 * out_w)


def _band_dot_cost(rows: int, cols: int, stride: int) -> int:
    return rows * (14 + (24 if stride == 1 else 33) * ((cols + 1) // 2))


def _plan_band(ch: int, out_h: int, out_w: int, sh: int, sw: int) -> bool:
    """plan_band's answer for a layer of the band path's shape"""
    if out_w < DW_BAND_MIN_COLS or out_w > DW_BAND_BYTES:
        return False
    pitch = _band_pitch(out_w, sw)
    return ch <= DW_BAND_BYTES // pitch and _band_rows(ch * pitch, out_w, sh) >= sh


def _plan_planes(ch: int, out_h: int, out_w: int, sh: int, sw: int) -> bool:
    """plan_planes' answer for a layer of the band path's shape"""
    if out_h > DW_PLANE_BYTES or out_w > DW_PLANE_BYTES or out_h * out_w < DW_PLANE_MIN_PIXELS:
        return False
    transposed = _band_dot_cost(out_w, out_h, sh) < _band_dot_cost(out_h, out_w, sw)
    rows, cols = (out_w, out_h) if transposed else (out_h, out_w)
    plane = (_band_pitch(cols, sh if transposed else sw)
             * _copy_span(rows, sw if transposed else sh))
    room = DW_PLANE_BYTES - 4 * (out_h * out_w + 1)
    block = min(ch, room // plane) if room >= plane else 0
    if block > 4:
        block -= block % 4
    if block >= min(ch, 4):
        return True
    rows_of_4 = min(out_h, _band_rows(min(ch, 4) * _band_pitch(out_w, sw), out_w, sh))
    return rows_of_4 >= 1 or block >= 1


def _band_shaped(p: dict, filter_dims: dict) -> bool:
    """band_shaped: 3x3 windows, strides 1 or 2, depth multiplier 1, no dilation"""
    return (p["depth_multiplier"] == 1 and p["dilation_h"] == p["dilation_w"] == 1
            and filter_dims["h"] == filter_dims["w"] == 3
            and max(p["stride_h"], p["stride_w"]) <= 2)


def _plane_order_is_safe(in_at: int, in_bytes: int, out_at: int, out_bytes: int,
                         ch: int) -> bool:
    if out_at + out_bytes <= in_at or in_at + in_bytes <= out_at:
        return True
    return out_at <= in_at and (in_at - out_at) % ch == 0


def _depthwise_takes_pixels(call: KernelCall, offset_of: OffsetOf | None) -> bool:
    """Whether te_depthwise_conv2d_s8 sends this call to its pixel path: not
    to the band path, nor to the plane path where its output's placement
    allows (unknown placements count as not allowing it)."""
    p, in_dims, filter_dims, out_dims = (_struct(call, i) for i in (0, 2, 4, 7))
    sh, sw = p["stride_h"], p["stride_w"]
    if not _band_shaped(p, filter_dims):
        return True
    ch, out_h, out_w = in_dims["c"], out_dims["h"], out_dims["w"]
    if _plan_band(ch, out_h, out_w, sh, sw):
        return False
    if not _plan_planes(ch, out_h, out_w, sh, sw):
        return True
    at = [offset_of(call.args[i].tensor) if offset_of is not None else None for i in (3, 8)]
    if None in at:
        return True
    in_bytes = in_dims["n"] * in_dims["h"] * in_dims["w"] * in_dims["c"]
    out_bytes = out_dims["n"] * out_dims["h"] * out_dims["w"] * out_dims["c"]
    return not _plane_order_is_safe(at[0], in_bytes, at[1], out_bytes, ch)


def armv7em_paths(calls: list[KernelCall], offset_of: OffsetOf | None = None) -> dict[str, int]:
    """TE_* of te_paths.h -> 1 where some call can take that path, else 0;
    offset_of places the calls' tensors in the arena (without it, the
    depthwise plane path counts as unsafe)."""
    on = dict.fromkeys(ARMV7EM_PATHS, 0)
    for call in calls:
        if call.function == "te_conv2d_s8":
            p, in_dims, filter_dims, out_dims = (_struct(call, i) for i in (0, 2, 4, 7))
            k = filter_dims["h"] * filter_dims["w"] * filter_dims["c"]
            if p["filter_layout"] == 1:  # TE_CONV_FILTER_PAIRS (pairs_filters)
                on["TE_CONV_PAIRED"] = 1
            elif in_dims["c"] != filter_dims["c"]:  # grouped
                on["TE_CONV_IN_PLACE"] = 1
            elif k > DSP_MAX_K:  # conv_long, or conv_in_place for many filters
                on["TE_CONV_LONG"] = on["TE_CONV_IN_PLACE"] = 1
            else:
                pointwise = _conv_is_pointwise(p, in_dims, filter_dims, out_dims)
                row = filter_dims["w"] * filter_dims["c"]
                # conv_columns' rows_aligned
                rows_aligned = int(not pointwise and row % 4 == 0 and row >= 16)
                if _takes_filter_columns(call, pointwise, k, out_dims["c"]):
                    on["TE_CONV_FILTER_COLUMNS"] = 1
                    continue
                pixels = out_dims["n"] * out_dims["h"] * out_dims["w"]
                if _takes_six(call, k) and pixels >= 6:
                    on["TE_CONV_SIX"] = 1
                    # A last, short block computes six pixels for fewer: where that
                    # wastes more than 1% of the layer, its pixels take column blocks
                    # (six_pixels); else the column path is left out unless another
                    # layer needs it (the short block is then its own: less code).
                    if pixels % 6 and (6 - pixels % 6) > 0.01 * pixels:
                        on["TE_CONV_COLUMNS"] = 1
                        on["TE_CONV_ROW_BLOCKS"] |= rows_aligned
                elif pointwise and k <= DSP_NARROW_K and _all_prepared(call):
                    on["TE_CONV_NARROW"] = 1
                else:
                    on["TE_CONV_COLUMNS"] = 1
                    on["TE_CONV_ROW_BLOCKS"] |= rows_aligned
        elif call.function == "te_depthwise_conv2d_s8":
            p, filter_dims = _struct(call, 0), _struct(call, 4)
            if _band_shaped(p, filter_dims):
                on["TE_DW_BANDS"] = 1
                if max(p["stride_h"], p["stride_w"]) == 2:
                    on["TE_DW_STRIDE2"] = 1
            if _depthwise_takes_pixels(call, offset_of):
                on["TE_DW_PIXELS"] = 1
        elif call.function == "te_fully_connected_s8":
            p, filter_dims = _struct(call, 0), _struct(call, 4)
            if p["filter_layout"] == 0 and filter_dims["n"] >= 4:  # TE_FC_ROWS
                on["TE_ROW_BLOCKS"] = 1
        elif call.function == "te_lstm_s8_s16":
            p = _struct(call, 0)
            if p["weight_layout"] == 0 and p["units"] >= 4:
                on["TE_ROW_BLOCKS"] = 1
    return on


# Per folder of target kernels: the paths its te_paths.h sets for a model
PATH_HEADERS = {"armv7em": armv7em_paths}
