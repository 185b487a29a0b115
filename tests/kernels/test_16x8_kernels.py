"""The 16x8 kernels (int16 activations, int8 weights, int64 bias, and the
int16 elementwise, data movement and QUANTIZE kernels) on small cases whose
expected values are worked out by hand in the comments.

TFLite's int64 requantization rounds the multiplier to 16 bits and shifts
once: out = (acc * round(multiplier / 2^16) + 2^(14 - shift)) >> (15 - shift),
so with multiplier 2^30 (0.5) and shift 0, out = floor((acc + 1) / 2).
"""
from __future__ import annotations

import functools

import numpy as np
import pytest

from kernel_harness import INCLUDE_DIR, KERNEL_SOURCES, TE_ARG_ERROR, TE_OK
from tinyedge.host import build_library, load_library

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
te_status te_fully_connected_s16(const te_fc_params *params, const te_requant *quant,
                                 const te_dims *input_dims, const int16_t *input,
                                 const te_dims *filter_dims, const int8_t *filter,
                                 const int64_t *bias, const te_dims *output_dims, int16_t *output);
te_status te_conv2d_s16(const te_conv_params *params, const te_requant *quant,
                        const te_dims *input_dims, const int16_t *input,
                        const te_dims *filter_dims, const int8_t *filter,
                        const int64_t *bias, const te_dims *output_dims, int16_t *output);
typedef struct { float scale; int32_t zero_point; } te_affine_params;
typedef struct {
    int32_t input_zero_point; int32_t output_zero_point; int32_t multiplier; int32_t shift;
} te_requantize_params;
typedef struct {
    int32_t input1_offset; int32_t input2_offset; int32_t output_offset; int32_t left_shift;
    int32_t input1_multiplier; int32_t input1_shift;
    int32_t input2_multiplier; int32_t input2_shift;
    int32_t output_multiplier; int32_t output_shift;
    int32_t activation_min; int32_t activation_max;
} te_add_params;
typedef struct {
    int32_t input1_offset; int32_t input2_offset; int32_t output_offset;
    int32_t output_multiplier; int32_t output_shift;
    int32_t activation_min; int32_t activation_max;
} te_mul_params;
typedef struct {
    int32_t broadcast; int32_t output_shape[6]; int32_t input1_strides[6];
    int32_t input2_strides[6];
} te_elementwise_shape;
typedef struct {
    int32_t shape[6]; int32_t strides[6]; int32_t offset; int32_t input_size;
} te_strided_copy_params;
typedef struct {
    int32_t input_shape[6]; int32_t pad_before[6]; int32_t pad_after[6]; int32_t pad_value;
} te_pad_params;
typedef struct {
    int32_t input_zero_point; int32_t output_zero_point;
    int32_t identity_multiplier; int32_t identity_shift;
    int32_t alpha_multiplier; int32_t alpha_shift;
} te_leaky_relu_params;
typedef struct {
    int32_t input_multiplier; int32_t input_left_shift;
    const int16_t *exp_lut; const int16_t *one_over_one_plus_x_lut;
} te_softmax_s16_params;
te_status te_softmax_s16(const te_softmax_s16_params *params, int32_t outer_size,
                         int32_t depth, const int16_t *input, int16_t *output);
te_status te_quantize_f32_s16(const te_affine_params *params, int32_t size,
                              const float *input, int16_t *output);
te_status te_dequantize_s16_f32(const te_affine_params *params, int32_t size,
                                const int16_t *input, float *output);
te_status te_requantize_s16_s16(const te_requantize_params *params, int32_t size,
                                const int16_t *input, int16_t *output);
te_status te_requantize_s8_s16(const te_requantize_params *params, int32_t size,
                               const int8_t *input, int16_t *output);
te_status te_add_s16(const te_add_params *params, const te_elementwise_shape *shape,
                     const int16_t *input1, const int16_t *input2, int16_t *output);
te_status te_sub_s16(const te_add_params *params, const te_elementwise_shape *shape,
                     const int16_t *input1, const int16_t *input2, int16_t *output);
te_status te_mul_s16(const te_mul_params *params, const te_elementwise_shape *shape,
                     const int16_t *input1, const int16_t *input2, int16_t *output);
te_status te_strided_copy_s16(const te_strided_copy_params *params,
                              const int16_t *input, int16_t *output);
te_status te_pad_s16(const te_pad_params *params, const int16_t *input, int16_t *output);
te_status te_logistic_tensor_s16(int32_t multiplier, int32_t right_shift, int32_t size,
                                 const int16_t *input, int16_t *output);
te_status te_tanh_tensor_s16(int32_t multiplier, int32_t right_shift, int32_t size,
                             const int16_t *input, int16_t *output);
te_status te_leaky_relu_s16(const te_leaky_relu_params *params, int32_t size,
                            const int16_t *input, int16_t *output);
te_status te_depthwise_conv2d_s16(const te_conv_params *params, const te_requant *quant,
                                  const te_dims *input_dims, const int16_t *input,
                                  const te_dims *filter_dims, const int8_t *filter,
                                  const int64_t *bias, const te_dims *output_dims,
                                  int16_t *output);
"""

HALF = 1 << 30  # multiplier of 0.5 with shift 0


@functools.lru_cache(maxsize=None)
def kernels():
    return load_library(build_library(KERNEL_SOURCES, [INCLUDE_DIR]), CDEF)


def cptr(a, ctype):
    ffi, _ = kernels()
    return ffi.cast(ctype + " *", ffi.from_buffer(a))


class Requant:
    def __init__(self, multipliers, shifts):
        ffi, _ = kernels()
        self.m = np.asarray(multipliers, np.int32)
        self.s = np.asarray(shifts, np.int8)
        self.struct = ffi.new("te_requant *", {"multipliers": cptr(self.m, "int32_t"),
                                               "shifts": cptr(self.s, "int8_t"),
                                               "count": self.m.size})


def dims(n, h, w, c):
    ffi, _ = kernels()
    return ffi.new("te_dims *", {"n": n, "h": h, "w": w, "c": c})


def fully_connected(x, weights, bias, multiplier, shift, act=(-32768, 32767), layout=0,
                    **offsets):
    ffi, lib = kernels()
    x = np.ascontiguousarray(x, np.int16).reshape(1, -1)
    weights = np.ascontiguousarray(weights, np.int8)
    units, depth = weights.shape
    out = np.zeros(units, np.int16)
    params = ffi.new("te_fc_params *", {"input_offset": offsets.get("input_offset", 0),
                                        "filter_offset": 0, "output_offset": 0,
                                        "activation_min": act[0], "activation_max": act[1],
                                        "filter_layout": layout})
    quant = Requant([multiplier], [shift])
    b = None if bias is None else np.ascontiguousarray(bias, np.int64)
    status = lib.te_fully_connected_s16(params, quant.struct, dims(1, 1, 1, depth),
                                        cptr(x, "int16_t"), dims(units, 1, 1, depth),
                                        cptr(weights, "int8_t"),
                                        ffi.NULL if b is None else cptr(b, "int64_t"),
                                        dims(1, 1, 1, units), cptr(out, "int16_t"))
    return status, out


def conv_params(**fields):
    ffi, _ = kernels()
    base = {"stride_h": 1, "stride_w": 1, "dilation_h": 1, "dilation_w": 1, "pad_h": 0,
            "pad_w": 0, "depth_multiplier": 1, "input_offset": 0, "output_offset": 0,
            "activation_min": -32768, "activation_max": 32767}
    base.update(fields)
    return ffi.new("te_conv_params *", base)


def test_fully_connected_rounds_half_up():
    # acc = 3*2 + (-5)*1 + 10 = 11; 11 * 0.5 = 5.5 -> 6
    assert fully_connected([3, -5], [[2, 1]], [10], HALF, 0)[1].tolist() == [6]
    # acc = -11: -5.5 rounds toward +infinity -> -5 (the int8 path gives -6)
    assert fully_connected([0, 0], [[2, 1]], [-11], HALF, 0)[1].tolist() == [-5]


def test_fully_connected_accumulates_in_int64():
    # bias 3 * 2^33 overflows int32; multiplier 0.5 * 2^-20: 3 * 2^33 / 2^21 = 12288
    assert fully_connected([0], [[1]], [3 << 33], HALF, -20)[1].tolist() == [12288]
    # 100 products of 32767 * 127 = 416,140,900 > 2^31: times 2^-16 (0.5 * 2^-15)
    # gives 6349.8... -> 6350
    status, out = fully_connected([32767] * 100, [[127] * 100], None, HALF, -15)
    assert status == TE_OK and out.tolist() == [6350]


def test_fully_connected_clamps_and_refuses_offsets():
    assert fully_connected([1000], [[100]], None, HALF, 0, act=(0, 777))[1].tolist() == [777]
    assert fully_connected([1000], [[-100]], None, HALF, 0, act=(0, 777))[1].tolist() == [0]
    assert fully_connected([1], [[1]], None, HALF, 0, input_offset=1)[0] == TE_ARG_ERROR
    assert fully_connected([1], [[1]], None, HALF, 8)[0] == TE_ARG_ERROR  # shift > 7
    # rows only: the compiler interleaves int8 layers' filters, never these
    assert fully_connected([1] * 4, [[1] * 4] * 4, None, HALF, 0, layout=1)[0] == TE_ARG_ERROR


def test_conv2d_window_sums():
    ffi, lib = kernels()
    # 3x3 image 1..9, 2x2 filter of ones, VALID, scale 1 (multiplier 0.5, shift 1)
    x = np.arange(1, 10, dtype=np.int16)
    f = np.ones(4, np.int8)
    bias = np.array([100], np.int64)
    out = np.zeros(4, np.int16)
    quant = Requant([HALF], [1])
    status = lib.te_conv2d_s16(conv_params(), quant.struct, dims(1, 3, 3, 1), cptr(x, "int16_t"),
                               dims(1, 2, 2, 1), cptr(f, "int8_t"), cptr(bias, "int64_t"),
                               dims(1, 2, 2, 1), cptr(out, "int16_t"))
    # windows: 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9, plus 100
    assert status == TE_OK and out.tolist() == [112, 116, 124, 128]


def test_conv2d_padding_and_groups():
    ffi, lib = kernels()
    # 1x2 image, 2 channels ([1, 10], [2, 20]); 2 groups, one 1x2 filter each
    # ([1, 1] and [3, -1]), SAME padding 1 on the left: output pixel 0 sees
    # (pad, pixel 0), output pixel 1 sees (pixel 0, pixel 1)
    x = np.array([1, 10, 2, 20], np.int16)
    f = np.array([1, 1, 3, -1], np.int8)  # [C_out=2, 1, 2, C_in/groups=1]
    out = np.zeros(4, np.int16)
    quant = Requant([HALF], [1])
    status = lib.te_conv2d_s16(conv_params(pad_w=1), quant.struct, dims(1, 1, 2, 2),
                               cptr(x, "int16_t"), dims(2, 1, 2, 1), cptr(f, "int8_t"), ffi.NULL,
                               dims(1, 1, 2, 2), cptr(out, "int16_t"))
    # group 0: [0*1 + 1*1, 1*1 + 2*1] = [1, 3]; group 1: [0*3 - 10, 10*3 - 20] = [-10, 10]
    assert status == TE_OK and out.tolist() == [1, -10, 3, 10]
    status = lib.te_conv2d_s16(conv_params(output_offset=1), quant.struct, dims(1, 1, 2, 2),
                               cptr(x, "int16_t"), dims(2, 1, 2, 1), cptr(f, "int8_t"), ffi.NULL,
                               dims(1, 1, 2, 2), cptr(out, "int16_t"))
    assert status == TE_ARG_ERROR


def test_depthwise_conv2d_multiplier():
    ffi, lib = kernels()
    # 1x2 image of 1 channel [7, -3]; depth multiplier 2 with 1x2 filters
    # [1, 2] and [-1, 1]; VALID: one output pixel of 2 channels
    x = np.array([7, -3], np.int16)
    f = np.array([1, -1, 2, 1], np.int8)  # [1, 1, 2, C_out=2]
    bias = np.array([0, 5], np.int64)
    out = np.zeros(2, np.int16)
    quant = Requant([HALF, HALF], [1, 0])  # channel 1 scaled by 0.5
    status = lib.te_depthwise_conv2d_s16(conv_params(depth_multiplier=2), quant.struct,
                                         dims(1, 1, 2, 1), cptr(x, "int16_t"), dims(1, 1, 2, 2),
                                         cptr(f, "int8_t"), cptr(bias, "int64_t"),
                                         dims(1, 1, 1, 2), cptr(out, "int16_t"))
    # channel 0: 7*1 - 3*2 = 1; channel 1: (-7 - 3 + 5) * 0.5 = -2.5 -> -2
    assert status == TE_OK and out.tolist() == [1, -2]


@pytest.mark.parametrize("kernel", ["te_conv2d_s16", "te_depthwise_conv2d_s16"])
def test_conv_refuses_bad_shift(kernel):
    ffi, lib = kernels()
    x = np.zeros(1, np.int16)
    f = np.zeros(1, np.int8)
    out = np.zeros(1, np.int16)
    quant = Requant([HALF], [8])
    status = getattr(lib, kernel)(conv_params(), quant.struct, dims(1, 1, 1, 1),
                                  cptr(x, "int16_t"), dims(1, 1, 1, 1), cptr(f, "int8_t"),
                                  ffi.NULL, dims(1, 1, 1, 1), cptr(out, "int16_t"))
    assert status == TE_ARG_ERROR


def test_quantize_and_dequantize_s16():
    ffi, lib = kernels()
    params = ffi.new("te_affine_params *", {"scale": 0.5, "zero_point": 0})
    x = np.array([1.25, -1.25, 0.2, 1e6, -1e6, np.nan], np.float32)
    q = np.zeros(6, np.int16)
    assert lib.te_quantize_f32_s16(params, 6, cptr(x, "float"), cptr(q, "int16_t")) == TE_OK
    # 2.5 and -2.5 round away from zero; 0.4 -> 0; saturation; NaN -> zero point
    assert q.tolist() == [3, -3, 0, 32767, -32768, 0]
    params = ffi.new("te_affine_params *", {"scale": 0.25, "zero_point": 0})
    q = np.array([-32768, 3], np.int16)
    y = np.zeros(2, np.float32)
    assert lib.te_dequantize_s16_f32(params, 2, cptr(q, "int16_t"), cptr(y, "float")) == TE_OK
    assert y.tolist() == [-8192.0, 0.75]


def test_requantize_to_int16():
    ffi, lib = kernels()
    # x 0.75 (multiplier 0.75 * 2^31, shift 0): 4 -> 3, -4 -> -3
    three_quarters = ffi.new("te_requantize_params *", {
        "input_zero_point": 0, "output_zero_point": 0, "multiplier": 3 << 29, "shift": 0})
    x = np.array([4, -4], np.int16)
    y = np.zeros(2, np.int16)
    assert lib.te_requantize_s16_s16(three_quarters, 2, cptr(x, "int16_t"),
                                     cptr(y, "int16_t")) == TE_OK
    assert y.tolist() == [3, -3]
    # int8 with zero point -10, x 300 (0.5859375 * 2^9): -10 -> 0, -9 -> 300,
    # -128 -> -35400 saturates
    times_300 = ffi.new("te_requantize_params *", {
        "input_zero_point": -10, "output_zero_point": 0, "multiplier": 1258291200, "shift": 9})
    x8 = np.array([-10, -9, -128], np.int8)
    y = np.zeros(3, np.int16)
    assert lib.te_requantize_s8_s16(times_300, 3, cptr(x8, "int8_t"),
                                    cptr(y, "int16_t")) == TE_OK
    assert y.tolist() == [0, 300, -32768]


def _shape(output_shape, strides1, strides2, broadcast=1):
    ffi, _ = kernels()
    pad = 6 - len(output_shape)
    return ffi.new("te_elementwise_shape *", {
        "broadcast": broadcast, "output_shape": [1] * pad + list(output_shape),
        "input1_strides": [0] * pad + list(strides1),
        "input2_strides": [0] * pad + list(strides2)})


def test_add_sub_s16_left_shift_15():
    ffi, lib = kernels()
    # all scales 1: inputs x 0.5 after << 15, output x 2 / 2^15 = 2^-14
    params = ffi.new("te_add_params *", {
        "input1_offset": 0, "input2_offset": 0, "output_offset": 0, "left_shift": 15,
        "input1_multiplier": HALF, "input1_shift": 0, "input2_multiplier": HALF,
        "input2_shift": 0, "output_multiplier": HALF, "output_shift": -13,
        "activation_min": -32768, "activation_max": 32767})
    a = np.array([100, 30000, -7], np.int16)
    b = np.array([200, 30000], np.int16)
    out = np.zeros(3, np.int16)
    shape = _shape([3], [1], [0])  # b[0] against every element of a
    assert lib.te_add_s16(params, shape, cptr(a, "int16_t"), cptr(b, "int16_t"),
                          cptr(out, "int16_t")) == TE_OK
    # 100 + 200, 30000 + 200, -7 + 200
    assert out.tolist() == [300, 30200, 193]
    assert lib.te_sub_s16(params, shape, cptr(a, "int16_t"), cptr(b, "int16_t"),
                          cptr(out, "int16_t")) == TE_OK
    assert out.tolist() == [-100, 29800, -207]
    params.output_offset = 1
    assert lib.te_add_s16(params, shape, cptr(a, "int16_t"), cptr(b, "int16_t"),
                          cptr(out, "int16_t")) == TE_ARG_ERROR


def test_mul_s16_rounds_half_away_from_zero():
    ffi, lib = kernels()
    # 300 * -200 / 64 = -937.5 -> -938; 300 * 200 / 64 = 937.5 -> 938
    params = ffi.new("te_mul_params *", {
        "input1_offset": 0, "input2_offset": 0, "output_offset": 0,
        "output_multiplier": HALF, "output_shift": -5,
        "activation_min": -32768, "activation_max": 32767})
    a = np.array([300, 300], np.int16)
    b = np.array([-200, 200], np.int16)
    out = np.zeros(2, np.int16)
    assert lib.te_mul_s16(params, _shape([2], [1], [1], broadcast=0), cptr(a, "int16_t"),
                          cptr(b, "int16_t"), cptr(out, "int16_t")) == TE_OK
    assert out.tolist() == [-938, 938]


def test_pad_and_strided_copy_s16():
    ffi, lib = kernels()
    x = np.array([1000, -1000], np.int16)
    out = np.zeros(5, np.int16)
    params = ffi.new("te_pad_params *", {"input_shape": [1, 1, 1, 1, 1, 2],
                                         "pad_before": [0, 0, 0, 0, 0, 1],
                                         "pad_after": [0, 0, 0, 0, 0, 2], "pad_value": -5})
    assert lib.te_pad_s16(params, cptr(x, "int16_t"), cptr(out, "int16_t")) == TE_OK
    assert out.tolist() == [-5, 1000, -1000, -5, -5]
    x = np.arange(6, dtype=np.int16) * 1000
    out = np.zeros(3, np.int16)
    # every second element backwards from the last
    params = ffi.new("te_strided_copy_params *", {"shape": [1, 1, 1, 1, 1, 3],
                                                  "strides": [0, 0, 0, 0, 0, -2],
                                                  "offset": 5, "input_size": 6})
    assert lib.te_strided_copy_s16(params, cptr(x, "int16_t"), cptr(out, "int16_t")) == TE_OK
    assert out.tolist() == [5000, 3000, 1000]
    params.offset = 6  # reads past the input
    assert lib.te_strided_copy_s16(params, cptr(x, "int16_t"),
                                   cptr(out, "int16_t")) == TE_ARG_ERROR


def test_logistic_and_tanh_s16():
    ffi, lib = kernels()
    x = np.array([0, 32767, -32768], np.int16)
    out = np.zeros(3, np.int16)
    # multiplier 32767: |x| * 32767 >> 9 is past the table, so both saturate.
    # sigmoid: 0 -> table[0] << 9 = 2^24, + 2^9, >> 10 = 16384; +big ->
    # (0x7FFF << 10) + 2^9 >> 10 = 32767; -big -> (2^25 - (0x7FFF << 10) + 511) >> 10 = 1
    assert lib.te_logistic_tensor_s16(32767, 0, 3, cptr(x, "int16_t"),
                                      cptr(out, "int16_t")) == TE_OK
    assert out.tolist() == [16384, 32767, 1]
    # tanh: 0 -> (2^23 - 2^23 + 2^7) >> 8 = 0; +big -> (0xFFFF << 8) - 2^23 + 2^7 >> 8
    # = 32767; -big -> floor((-(0xFFFF << 8) + 2^23 + 127) / 256) = -32767
    assert lib.te_tanh_tensor_s16(32767, 0, 3, cptr(x, "int16_t"),
                                  cptr(out, "int16_t")) == TE_OK
    assert out.tolist() == [0, 32767, -32767]
    assert lib.te_tanh_tensor_s16(0, 0, 3, cptr(x, "int16_t"),
                                  cptr(out, "int16_t")) == TE_ARG_ERROR


def test_leaky_relu_s16():
    ffi, lib = kernels()
    x = np.array([1000, -1000], np.int16)
    out = np.zeros(2, np.int16)
    # identity x1 (0.5 * 2^1), alpha 0.25 (0.5 * 2^-1)
    params = ffi.new("te_leaky_relu_params *", {
        "input_zero_point": 0, "output_zero_point": 0, "identity_multiplier": HALF,
        "identity_shift": 1, "alpha_multiplier": HALF, "alpha_shift": -1})
    assert lib.te_leaky_relu_s16(params, 2, cptr(x, "int16_t"), cptr(out, "int16_t")) == TE_OK
    assert out.tolist() == [1000, -250]
    params.alpha_multiplier = -HALF  # alpha -0.25
    assert lib.te_leaky_relu_s16(params, 2, cptr(x, "int16_t"), cptr(out, "int16_t")) == TE_OK
    assert out.tolist() == [1000, 250]


def test_softmax_s16_with_simple_tables():
    ffi, lib = kernels()
    # exp table 64 * i (end point 32767), reciprocal table 1/2 everywhere.
    # Inputs [0, 0], scale 1: differences 0 -> centred 32767 -> index 511,
    # offset 127: 32704 + (63 * 127 + 64 >> 7) = 32767 each; sum 65534 has 16
    # leading zeros; each output (32767 * 16384 + 2^14) >> 15 = 16384.
    exp_lut = np.minimum(np.arange(513) * 64, 32767).astype(np.int16)
    reciprocal_lut = np.full(513, 16384, np.int16)
    params = ffi.new("te_softmax_s16_params *", {
        "input_multiplier": HALF, "input_left_shift": 1,
        "exp_lut": cptr(exp_lut, "int16_t"),
        "one_over_one_plus_x_lut": cptr(reciprocal_lut, "int16_t")})
    x = np.array([0, 0], np.int16)
    out = np.zeros(2, np.int16)
    assert lib.te_softmax_s16(params, 1, 2, cptr(x, "int16_t"), cptr(out, "int16_t")) == TE_OK
    assert out.tolist() == [16384, 16384]
    assert lib.te_softmax_s16(params, 1, 0, cptr(x, "int16_t"),
                              cptr(out, "int16_t")) == TE_ARG_ERROR
