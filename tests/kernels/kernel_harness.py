"""Builds every reference kernel (kernels/src/ref/*.c) into one shared library
and gives the tests small helpers to call it on numpy arrays.

The library is built once per test session (and cached on disk by content
hash by tinyedge.host). Under the test suite's conftest it is built with
AddressSanitizer and UndefinedBehaviorSanitizer.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from tinyedge.host import build_library, load_library

ROOT = Path(__file__).resolve().parents[2]
INCLUDE_DIR = ROOT / "kernels" / "include"
KERNEL_SOURCES = sorted((ROOT / "kernels" / "src" / "ref").glob("*.c"))
ARITH_SHIM = Path(__file__).resolve().parent / "arith_shim.c"

TE_OK = 0
TE_ARG_ERROR = -1

CDEF = """
typedef enum { TE_OK = 0, TE_ARG_ERROR = -1 } te_status;
typedef struct { int32_t n; int32_t h; int32_t w; int32_t c; } te_dims;
typedef struct { const int32_t *multipliers; const int8_t *shifts; int32_t count; } te_requant;
typedef struct {
    int32_t stride_h; int32_t stride_w; int32_t dilation_h; int32_t dilation_w;
    int32_t pad_h; int32_t pad_w; int32_t depth_multiplier;
    int32_t input_offset; int32_t output_offset;
    int32_t activation_min; int32_t activation_max; int32_t filter_layout;
} te_conv_params;
typedef struct {
    int32_t input_offset; int32_t filter_offset; int32_t output_offset;
    int32_t activation_min; int32_t activation_max; int32_t filter_layout;
} te_fc_params;
typedef struct {
    int32_t stride_h; int32_t stride_w; int32_t filter_h; int32_t filter_w;
    int32_t pad_h; int32_t pad_w; int32_t activation_min; int32_t activation_max;
} te_pool_params;
typedef struct {
    int32_t input1_offset; int32_t input2_offset; int32_t output_offset; int32_t left_shift;
    int32_t input1_multiplier; int32_t input1_shift;
    int32_t input2_multiplier; int32_t input2_shift;
    int32_t output_multiplier; int32_t output_shift;
    int32_t activation_min; int32_t activation_max;
} te_add_params;
typedef struct {
    int32_t broadcast;
    int32_t output_shape[6];
    int32_t input1_strides[6];
    int32_t input2_strides[6];
} te_elementwise_shape;
typedef struct { int32_t input_multiplier; int32_t input_left_shift; int32_t diff_min; } te_softmax_params;
typedef struct { float scale; int32_t zero_point; } te_affine_params;
typedef struct {
    int32_t input_zero_point; int32_t output_zero_point; int32_t multiplier; int32_t shift;
} te_requantize_params;

te_status te_conv2d_s8(const te_conv_params *params, const te_requant *quant,
                       const te_dims *input_dims, const int8_t *input,
                       const te_dims *filter_dims, const int8_t *filter,
                       const int32_t *bias, const te_dims *output_dims, int8_t *output);
te_status te_depthwise_conv2d_s8(const te_conv_params *params, const te_requant *quant,
                                 const te_dims *input_dims, const int8_t *input,
                                 const te_dims *filter_dims, const int8_t *filter,
                                 const int32_t *bias, const te_dims *output_dims, int8_t *output);
te_status te_fully_connected_s8(const te_fc_params *params, const te_requant *quant,
                                const te_dims *input_dims, const int8_t *input,
                                const te_dims *filter_dims, const int8_t *filter,
                                const int32_t *bias, const te_dims *output_dims, int8_t *output);
te_status te_avg_pool2d_s8(const te_pool_params *params, const te_dims *input_dims,
                           const int8_t *input, const te_dims *output_dims, int8_t *output);
te_status te_max_pool2d_s8(const te_pool_params *params, const te_dims *input_dims,
                           const int8_t *input, const te_dims *output_dims, int8_t *output);
te_status te_add_s8(const te_add_params *params, const te_elementwise_shape *shape,
                    const int8_t *input1, const int8_t *input2, int8_t *output);
te_status te_softmax_s8(const te_softmax_params *params, int32_t outer_size, int32_t depth,
                        const int8_t *input, int8_t *output);
te_status te_quantize_f32_s8(const te_affine_params *params, int32_t size,
                             const float *input, int8_t *output);
te_status te_dequantize_s8_f32(const te_affine_params *params, int32_t size,
                               const int8_t *input, float *output);
te_status te_dequantize_u8_f32(const te_affine_params *params, int32_t size,
                               const uint8_t *input, float *output);
te_status te_requantize_s8_s8(const te_requantize_params *params, int32_t size,
                              const int8_t *input, int8_t *output);
te_status te_requantize_u8_s8(const te_requantize_params *params, int32_t size,
                              const uint8_t *input, int8_t *output);
te_status te_requantize_s8_u8(const te_requantize_params *params, int32_t size,
                              const int8_t *input, uint8_t *output);

int32_t te_test_srdhm(int32_t a, int32_t b);
int32_t te_test_rdbpot(int32_t x, int32_t exponent);
int32_t te_test_mbqm(int32_t x, int32_t m, int32_t s);
int32_t te_test_exp_on_negative_values(int32_t a);
int32_t te_test_one_over_one_plus_x(int32_t a);
int32_t te_test_get_reciprocal(int32_t x, int32_t *num_bits_over_unit);
"""


@functools.lru_cache(maxsize=None)
def kernels():
    """(ffi, lib) over all reference kernels plus the te_arith test shim."""
    lib_path = build_library(KERNEL_SOURCES + [ARITH_SHIM], [INCLUDE_DIR])
    return load_library(lib_path, CDEF)


def ptr(array: np.ndarray, ctype: str):
    """A C pointer into a contiguous numpy array (kept alive by the array)."""
    ffi, _ = kernels()
    assert array.flags["C_CONTIGUOUS"], "kernel buffers must be contiguous"
    return ffi.cast(ctype + " *", ffi.from_buffer(array))


def dims(n: int, h: int, w: int, c: int):
    ffi, _ = kernels()
    return ffi.new("te_dims *", {"n": n, "h": h, "w": w, "c": c})


def dims_of(shape) -> object:
    """te_dims of a 4-D NHWC shape."""
    return dims(*[int(v) for v in shape])


class Requant:
    """A te_requant with its arrays kept alive."""

    def __init__(self, multipliers, shifts):
        ffi, _ = kernels()
        self.multipliers = np.ascontiguousarray(multipliers, dtype=np.int32).reshape(-1)
        shifts = np.asarray(shifts).reshape(-1)
        assert shifts.min(initial=0) >= -31 and shifts.max(initial=0) <= 30, "te_requant's range"
        self.shifts = np.ascontiguousarray(shifts, dtype=np.int8)
        assert self.multipliers.size == self.shifts.size, "one shift per multiplier"
        self.struct = ffi.new("te_requant *", {
            "multipliers": ptr(self.multipliers, "int32_t"),
            "shifts": ptr(self.shifts, "int8_t"),
            "count": self.multipliers.size})


def new(ctype: str, **fields):
    ffi, _ = kernels()
    return ffi.new(ctype + " *", fields)


def random_multipliers(rng: np.random.Generator, count: int, shift_range=(-12, 0)):
    """Valid TFLite multipliers in [2^30, 2^31 - 1] with shifts in shift_range,
    including the extremes of both."""
    m = rng.integers(2**30, 2**31, size=count, dtype=np.int64)
    s = rng.integers(shift_range[0], shift_range[1] + 1, size=count, dtype=np.int64)
    if count >= 2:
        m[0], m[1] = 2**30, 2**31 - 1
        s[0], s[1] = shift_range
    return m.astype(np.int32), s.astype(np.int32)


def random_clamp(rng: np.random.Generator):
    """An activation range: mostly none or ReLU-like, sometimes arbitrary or
    only two values wide."""
    kind = rng.choice(4, p=[0.5, 0.25, 0.2, 0.05])
    if kind == 0:
        return -128, 127
    if kind == 1:
        return int(rng.integers(-128, 0)), 127
    if kind == 2:
        lo = int(rng.integers(-128, 0))
        return lo, int(rng.integers(lo, 128))
    lo = int(rng.integers(-128, 127))
    return lo, lo + 1


def shift_range_for(case: int, depth: int, operand_scale: float = 74.0 * 90.0):
    """Shift range for a random case: mostly one that maps the typical
    accumulator (sqrt(depth) * operand_scale) onto about +-64, so that most
    outputs are not clamped; one case in four an extreme range instead."""
    if case % 8 == 3:
        return (-31, -20)   # tiny scales: outputs collapse to the zero point
    if case % 8 == 7:
        return (0, 4)       # scales above one: saturation and int32 wrap-around
    base = int(np.ceil(np.log2(np.sqrt(depth) * operand_scale / 64.0)))
    return (-base - 2, -base + 1)
