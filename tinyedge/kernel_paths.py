"""Which optional paths of a target's kernels a model's layers can take.

The ARMv7E-M DSP kernels pick a path per call from the layer's shape
(kernels/src/armv7em/te_paths.h names the optional ones). The same tests, made
here on each layer's arguments, give the paths no layer of the model can take;
the output folder's te_paths.h turns those off, so that its firmware links none
of their code. A test may keep a path that the kernel would not take (it only
costs flash), never the reverse.
"""
from __future__ import annotations

from tinyedge.ops import CArray, KernelCall, StructArg

# Constants of kernels/src/armv7em/conv2d_s8.c and te_dsp.h
DSP_MAX_K = 576  # TE_DSP_MAX_K: the longest window of the column path
DSP_NARROW_K = 16  # TE_DSP_NARROW_K: the widest pointwise input of conv_narrow
DSP_RQ_MAX_CH = 256  # TE_DSP_RQ_MAX_CH: the most channels a kernel prepares

ARMV7EM_PATHS = ("TE_CONV_COLUMNS", "TE_CONV_NARROW", "TE_CONV_LONG", "TE_CONV_IN_PLACE",
                 "TE_DW_BANDS", "TE_DW_STRIDE2")


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


def armv7em_paths(calls: list[KernelCall]) -> dict[str, int]:
    """TE_* of te_paths.h -> 1 where some call can take that path, else 0."""
    on = dict.fromkeys(ARMV7EM_PATHS, 0)
    for call in calls:
        if call.function == "te_conv2d_s8":
            p, in_dims, filter_dims, out_dims = (_struct(call, i) for i in (0, 2, 4, 7))
            k = filter_dims["h"] * filter_dims["w"] * filter_dims["c"]
            if in_dims["c"] != filter_dims["c"]:  # grouped
                on["TE_CONV_IN_PLACE"] = 1
            elif k > DSP_MAX_K:  # conv_long, or conv_in_place for many filters
                on["TE_CONV_LONG"] = on["TE_CONV_IN_PLACE"] = 1
            else:
                pointwise = (filter_dims["h"] == filter_dims["w"] == 1
                             and p["stride_h"] == p["stride_w"] == 1
                             and p["pad_h"] == p["pad_w"] == 0
                             and (out_dims["h"], out_dims["w"]) == (in_dims["h"], in_dims["w"]))
                if pointwise and k <= DSP_NARROW_K and _all_prepared(call):
                    on["TE_CONV_NARROW"] = 1
                else:
                    on["TE_CONV_COLUMNS"] = 1
        elif call.function == "te_depthwise_conv2d_s8":
            p, filter_dims = _struct(call, 0), _struct(call, 4)
            if (p["depth_multiplier"] == 1 and p["dilation_h"] == p["dilation_w"] == 1
                    and filter_dims["h"] == filter_dims["w"] == 3
                    and max(p["stride_h"], p["stride_w"]) <= 2):
                on["TE_DW_BANDS"] = 1
                if max(p["stride_h"], p["stride_w"]) == 2:
                    on["TE_DW_STRIDE2"] = 1
    return on


# Per folder of target kernels: the paths its te_paths.h sets for a model
PATH_HEADERS = {"armv7em": armv7em_paths}
