"""numpy references of the int8 kernels, following TFLite Micro's reference kernels.

Written from TFLite's definitions (tensorflow/lite/kernels/internal/common.h,
reference/integer_ops/*.h, reference/softmax.h and gemmlowp's fixedpoint.h), not
from the C kernels, so the kernel tests compare two independent readings.
All integer arithmetic is done on int64 arrays; where TFLite's int32 arithmetic
would wrap (accumulators, the left shift before the high multiply) the result
is wrapped explicitly with ``wrap_int32``.
"""
from __future__ import annotations

import numpy as np

from tinyedge.quant import INT8_MAX, INT8_MIN, INT32_MAX, INT32_MIN

# ---------------------------------------------------------------------------
# Integer building blocks (vectorized over int64 arrays)
# ---------------------------------------------------------------------------


def wrap_int32(x):
    """Two's complement wrap of integers to int32 (what int32 hardware does)."""
    x = np.asarray(x, dtype=np.int64)
    return ((x + 2**31) % 2**32) - 2**31


def srdhm(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul: a * b / 2^31 rounded to
    nearest with ties toward +infinity; -2^31 * -2^31 saturates to 2^31 - 1."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    result = (a * b + 2**30) >> 31  # >> is floor division on int64
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, result)


def rdbpot(x, exponent):
    """gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    half = np.where(exponent > 0, np.left_shift(1, np.maximum(exponent - 1, 0)), 0)
    magnitude = (np.abs(x) + half) >> exponent
    return np.where(x < 0, -magnitude, magnitude)


def mbqm(x, multiplier, shift):
    """TFLite MultiplyByQuantizedMultiplier without TFLITE_SINGLE_ROUNDING:
    x * 2^max(shift, 0) (int32, wrapping), high multiply, then a rounding
    right shift by max(-shift, 0)."""
    x = np.asarray(x, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.clip(shift, 0, 31)
    right = np.clip(-shift, 0, 31)
    return rdbpot(srdhm(wrap_int32(x << left), multiplier), right)


def _requantize_acc(acc, multipliers, shifts, output_offset, act_min, act_max):
    """Accumulator (any integer width, wrapped to int32 as TFLite's) -> int8."""
    out = mbqm(wrap_int32(acc), multipliers, shifts)
    out = wrap_int32(out + output_offset)
    return np.clip(out, act_min, act_max).astype(np.int8)


def _per_channel(values, channels):
    values = np.asarray(values, dtype=np.int64).reshape(-1)
    return np.broadcast_to(values, (channels,)) if values.size == 1 else values


# ---------------------------------------------------------------------------
# Convolutions and fully connected
# ---------------------------------------------------------------------------


def _windows(x, out_h, out_w, kh, kw, stride, dilation, pad):
    """Yield (ky, kx, patch) with patch[n, oy, ox, c] = x at the input point
    that filter tap (ky, kx) of output (oy, ox) reads, 0 outside the image."""
    n, h, w, c = x.shape
    (sh, sw), (dh, dw), (ph, pw) = stride, dilation, pad
    need_h = (out_h - 1) * sh + (kh - 1) * dh + 1
    need_w = (out_w - 1) * sw + (kw - 1) * dw + 1
    padded = np.zeros((n, max(need_h, ph + h), max(need_w, pw + w), c), dtype=np.int64)
    padded[:, ph:ph + h, pw:pw + w, :] = x
    for ky in range(kh):
        for kx in range(kw):
            y0, x0 = ky * dh, kx * dw
            yield ky, kx, padded[:, y0:y0 + (out_h - 1) * sh + 1:sh,
                                 x0:x0 + (out_w - 1) * sw + 1:sw, :]


def conv2d(x, filt, bias, multipliers, shifts, *, out_hw, stride=(1, 1),
           dilation=(1, 1), pad=(0, 0), input_offset=0, output_offset=0,
           act_min=INT8_MIN, act_max=INT8_MAX):
    """TFLite ConvPerChannel (int8), with groups = C_in / filter depth.

    x [N, H, W, C_in] int8, filt [C_out, KH, KW, C_in/groups] int8,
    bias [C_out] int32 or None; returns [N, OH, OW, C_out] int8."""
    c_out, kh, kw, c_per_group = filt.shape
    groups = x.shape[3] // c_per_group
    f_per_group = c_out // groups
    # Adding the offset before zero padding makes padded taps contribute 0,
    # as TFLite skips them.
    xo = x.astype(np.int64) + input_offset
    acc = np.zeros((x.shape[0], out_hw[0], out_hw[1], c_out), dtype=np.int64)
    for ky, kx, patch in _windows(xo, out_hw[0], out_hw[1], kh, kw, stride, dilation, pad):
        for g in range(groups):
            ins = patch[..., g * c_per_group:(g + 1) * c_per_group]
            taps = filt[g * f_per_group:(g + 1) * f_per_group, ky, kx, :].astype(np.int64)
            acc[..., g * f_per_group:(g + 1) * f_per_group] += np.einsum("nhwc,oc->nhwo", ins, taps)
    if bias is not None:
        acc += np.asarray(bias, dtype=np.int64)
    return _requantize_acc(acc, _per_channel(multipliers, c_out), _per_channel(shifts, c_out),
                           output_offset, act_min, act_max)


def depthwise_conv2d(x, filt, bias, multipliers, shifts, *, out_hw, depth_multiplier=1,
                     stride=(1, 1), dilation=(1, 1), pad=(0, 0), input_offset=0,
                     output_offset=0, act_min=INT8_MIN, act_max=INT8_MAX):
    """TFLite DepthwiseConvPerChannel (int8): output channel ic * dm + m reads
    input channel ic. filt [1, KH, KW, C_in * dm]."""
    _, kh, kw, c_out = filt.shape
    xo = x.astype(np.int64) + input_offset
    acc = np.zeros((x.shape[0], out_hw[0], out_hw[1], c_out), dtype=np.int64)
    for ky, kx, patch in _windows(xo, out_hw[0], out_hw[1], kh, kw, stride, dilation, pad):
        acc += np.repeat(patch, depth_multiplier, axis=3) * filt[0, ky, kx, :].astype(np.int64)
    if bias is not None:
        acc += np.asarray(bias, dtype=np.int64)
    return _requantize_acc(acc, _per_channel(multipliers, c_out), _per_channel(shifts, c_out),
                           output_offset, act_min, act_max)


def fully_connected(x, filt, bias, multipliers, shifts, *, input_offset=0, filter_offset=0,
                    output_offset=0, act_min=INT8_MIN, act_max=INT8_MAX):
    """TFLite FullyConnected (per tensor, with filter offset) and
    FullyConnectedPerChannel. x [batches, depth], filt [units, depth]."""
    units = filt.shape[0]
    acc = (x.astype(np.int64) + input_offset) @ (filt.astype(np.int64) + filter_offset).T
    if bias is not None:
        acc += np.asarray(bias, dtype=np.int64)
    return _requantize_acc(acc, _per_channel(multipliers, units), _per_channel(shifts, units),
                           output_offset, act_min, act_max)


# ---------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------


def _pool_windows(x, out_hw, filter_hw, stride, pad):
    """Yield (oy, ox, window) with the window clipped to the input."""
    _, h, w, _ = x.shape
    for oy in range(out_hw[0]):
        y0 = oy * stride[0] - pad[0]
        for ox in range(out_hw[1]):
            x0 = ox * stride[1] - pad[1]
            yield oy, ox, x[:, max(y0, 0):min(y0 + filter_hw[0], h),
                            max(x0, 0):min(x0 + filter_hw[1], w), :]


def avg_pool2d(x, *, out_hw, filter_hw, stride=(1, 1), pad=(0, 0),
               act_min=INT8_MIN, act_max=INT8_MAX):
    """TFLite AveragePool (int8): the mean over the in-bounds part of the window,
    rounded half away from zero."""
    out = np.zeros((x.shape[0], out_hw[0], out_hw[1], x.shape[3]), dtype=np.int64)
    for oy, ox, win in _pool_windows(x, out_hw, filter_hw, stride, pad):
        count = win.shape[1] * win.shape[2]
        assert count > 0, f"empty pooling window at output ({oy}, {ox})"
        total = win.astype(np.int64).sum(axis=(1, 2))
        out[:, oy, ox, :] = np.sign(total) * ((np.abs(total) + count // 2) // count)
    return np.clip(out, act_min, act_max).astype(np.int8)


def max_pool2d(x, *, out_hw, filter_hw, stride=(1, 1), pad=(0, 0),
               act_min=INT8_MIN, act_max=INT8_MAX):
    """TFLite MaxPool (int8): an all-padding window gives -128 before the clamp."""
    out = np.full((x.shape[0], out_hw[0], out_hw[1], x.shape[3]), INT8_MIN, dtype=np.int64)
    for oy, ox, win in _pool_windows(x, out_hw, filter_hw, stride, pad):
        if win.size:
            out[:, oy, ox, :] = win.max(axis=(1, 2))
    return np.clip(out, act_min, act_max).astype(np.int8)


# ---------------------------------------------------------------------------
# Elementwise
# ---------------------------------------------------------------------------


def add(x1, x2, *, input1_offset, input2_offset, output_offset, left_shift,
        input1_multiplier, input1_shift, input2_multiplier, input2_shift,
        output_multiplier, output_shift, act_min=INT8_MIN, act_max=INT8_MAX):
    """TFLite integer ADD (AddFunc), numpy-broadcasting x1 against x2.
    The input rescales are MultiplyByQuantizedMultiplierSmallerThanOneExp,
    which is mbqm with shift <= 0."""
    a = (x1.astype(np.int64) + input1_offset) * 2**left_shift
    b = (x2.astype(np.int64) + input2_offset) * 2**left_shift
    total = mbqm(a, input1_multiplier, input1_shift) + mbqm(b, input2_multiplier, input2_shift)
    out = mbqm(total, output_multiplier, output_shift) + output_offset
    return np.clip(out, act_min, act_max).astype(np.int8)


# ---------------------------------------------------------------------------
# Softmax (gemmlowp fixed point)
# ---------------------------------------------------------------------------

_SCALED_DIFF_INTEGER_BITS = 5
_ACCUMULATION_INTEGER_BITS = 12


def _rescale(x, src_bits, dst_bits):
    """gemmlowp Rescale<dst_bits> of a raw int32 value with src_bits integer bits."""
    exponent = src_bits - dst_bits
    if exponent > 0:
        return np.clip(np.asarray(x, dtype=np.int64) * 2**exponent, INT32_MIN, INT32_MAX)
    return rdbpot(x, -exponent)


def _exp_on_interval_between_negative_one_quarter_and_0_excl(a):
    """exp(a) for a in [-1/4, 0), Q0.31 in and out (Taylor series around -1/8)."""
    constant_term = 1895147668       # exp(-1/8)
    constant_1_over_3 = 715827883    # 1/3
    x = a + 2**28                    # a + 1/8
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rdbpot(x4, 2)
    poly = rdbpot(srdhm(x4_over_4 + x3, constant_1_over_3) + x2, 1)
    return constant_term + srdhm(constant_term, x + poly)


def exp_on_negative_values(a, integer_bits=_SCALED_DIFF_INTEGER_BITS):
    """gemmlowp exp_on_negative_values: a <= 0 with integer_bits integer bits,
    result Q0.31."""
    a = np.asarray(a, dtype=np.int64)
    fractional_bits = 31 - integer_bits
    quarter = 2**(fractional_bits - 2)
    a_mod_quarter_minus_quarter = (a & (quarter - 1)) - quarter
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(
        _rescale(a_mod_quarter_minus_quarter, integer_bits, 0))
    remainder = a_mod_quarter_minus_quarter - a
    multipliers = {-2: 1672461947, -1: 1302514674, 0: 790015084, 1: 290630308,
                   2: 39332535, 3: 720401, 4: 242}  # exp(-2^k) in Q0.31
    for k, multiplier in multipliers.items():
        if integer_bits > k:
            bit_set = (remainder >> (fractional_bits + k)) & 1
            result = np.where(bit_set == 1, srdhm(result, multiplier), result)
    return np.where(a == 0, INT32_MAX, result)


def one_over_one_plus_x_for_x_in_0_1(a):
    """gemmlowp: 1 / (1 + a) for a in [0, 1), Q0.31 in and out."""
    a = np.asarray(a, dtype=np.int64)
    total = a + INT32_MAX
    half_denominator = np.where(total >= 0, (total + 1) // 2, -((-total + 1) // 2))
    x = 1515870810 + srdhm(half_denominator, -1010580540)  # 48/17 - 32/17 * d, Q2.29
    for _ in range(3):
        one_minus = 2**29 - srdhm(half_denominator, x)
        x = x + _rescale(srdhm(x, one_minus), 4, 2)
    return _rescale(x, 1, 0)


def get_reciprocal(x, x_integer_bits):
    """TFLite GetReciprocal: returns (1/x scaled to Q0.31, num_bits_over_unit)."""
    x = int(x)
    headroom_plus_one = 32 - x.bit_length()
    shifted_minus_one = wrap_int32(((x << headroom_plus_one) & 0xFFFFFFFF) - 2**31)
    return (int(one_over_one_plus_x_for_x_in_0_1(shifted_minus_one)),
            x_integer_bits - headroom_plus_one)


def softmax(x, *, input_multiplier, input_left_shift, diff_min):
    """TFLite int8 softmax over the last axis; output scale 1/256, zero point -128.

    Where TFLite aborts (a sum of exponentials of 512 or more makes its final
    shift exceed 31), every output of the row is -128, the limit of that shift."""
    x = np.asarray(x, dtype=np.int64)
    rows = x.reshape(-1, x.shape[-1])
    out = np.full(rows.shape, INT8_MIN, dtype=np.int64)
    for r, row in enumerate(rows):
        diff = row - row.max(initial=INT8_MIN)
        used = diff >= diff_min
        scaled = mbqm(diff, input_multiplier, input_left_shift)
        exps = exp_on_negative_values(scaled)
        total = int(_rescale(exps[used], 0, _ACCUMULATION_INTEGER_BITS).sum())
        total = min(total, INT32_MAX)
        reciprocal, bits_over_unit = get_reciprocal(total, _ACCUMULATION_INTEGER_BITS)
        exponent = bits_over_unit + 31 - 8
        if exponent > 31:
            continue
        probs = rdbpot(srdhm(reciprocal, exps), exponent) + INT8_MIN
        out[r] = np.where(used, np.clip(probs, INT8_MIN, INT8_MAX), INT8_MIN)
    return out.reshape(x.shape).astype(np.int8)


# ---------------------------------------------------------------------------
# Quantize, dequantize, requantize
# ---------------------------------------------------------------------------


def quantize(x, scale, zero_point, qmin=INT8_MIN, qmax=INT8_MAX):
    """TFLite AffineQuantize: round(x / scale) with the division in float32
    (val / static_cast<float>(scale)), ties away from zero, plus the zero
    point, saturated. NaN maps to the zero point, infinities saturate."""
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scaled = (x / np.float32(scale)).astype(np.float64)
    nan = np.isnan(scaled)
    scaled = np.clip(np.where(nan, 0.0, scaled), -1e6, 1e6)
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)  # exact: |scaled| < 2^24 in float
    q = np.where(nan, zero_point, rounded.astype(np.int64) + zero_point)
    return np.clip(q, qmin, qmax).astype(np.int8 if qmin < 0 else np.uint8)


def dequantize(q, scale, zero_point):
    """TFLite Dequantize: float(double(scale) * (q - zero_point))."""
    diff = np.asarray(q, dtype=np.int64) - zero_point
    return (np.float64(np.float32(scale)) * diff.astype(np.float64)).astype(np.float32)


def requantize(q, *, input_zero_point, output_zero_point, multiplier, shift, out_dtype):
    """TFLite Requantize: mbqm(q - zp_in) + zp_out, saturated to out_dtype."""
    info = np.iinfo(out_dtype)
    out = wrap_int32(mbqm(np.asarray(q, dtype=np.int64) - input_zero_point, multiplier, shift)
                     + output_zero_point)
    return np.clip(out, info.min, info.max).astype(out_dtype)


# ---------------------------------------------------------------------------
# Elementwise arithmetic and activations (TFLite Micro's int8 kernels)
# ---------------------------------------------------------------------------


def mul(x1, x2, *, input1_offset, input2_offset, output_offset, output_multiplier,
        output_shift, act_min=INT8_MIN, act_max=INT8_MAX):
    """TFLite int8 MUL (MulElementwise), numpy-broadcasting x1 against x2."""
    product = (x1.astype(np.int64) + input1_offset) * (x2.astype(np.int64) + input2_offset)
    out = mbqm(product, output_multiplier, output_shift) + output_offset
    return np.clip(out, act_min, act_max).astype(np.int8)


def sub(x1, x2, *, input1_offset, input2_offset, output_offset, left_shift,
        input1_multiplier, input1_shift, input2_multiplier, input2_shift,
        output_multiplier, output_shift, act_min=INT8_MIN, act_max=INT8_MAX):
    """TFLite int8 SUB (SubElementwise / BroadcastQuantSubSlow)."""
    a = (x1.astype(np.int64) + input1_offset) * 2**left_shift
    b = (x2.astype(np.int64) + input2_offset) * 2**left_shift
    diff = mbqm(a, input1_multiplier, input1_shift) - mbqm(b, input2_multiplier, input2_shift)
    out = mbqm(diff, output_multiplier, output_shift) + output_offset
    return np.clip(out, act_min, act_max).astype(np.int8)


def squared_difference(x1, x2, *, input1_offset, input2_offset, output_offset, left_shift,
                       input1_multiplier, input1_shift, input2_multiplier, input2_shift,
                       output_multiplier, output_shift, act_min=INT8_MIN, act_max=INT8_MAX):
    """TFLite Micro int8 SQUARED_DIFFERENCE; the int32 square wraps as TFLite's."""
    a = (x1.astype(np.int64) + input1_offset) * 2**left_shift
    b = (x2.astype(np.int64) + input2_offset) * 2**left_shift
    diff = mbqm(a, input1_multiplier, input1_shift) - mbqm(b, input2_multiplier, input2_shift)
    out = mbqm(wrap_int32(diff * diff), output_multiplier, output_shift) + output_offset
    return np.clip(out, act_min, act_max).astype(np.int8)


def prelu(x, alpha, *, input_offset, alpha_offset, output_offset, output_multiplier_1,
          output_shift_1, output_multiplier_2, output_shift_2):
    """TFLite int8 PRELU, alpha numpy-broadcast against x."""
    xi = x.astype(np.int64) + input_offset
    ai = np.broadcast_to(alpha.astype(np.int64) + alpha_offset, np.broadcast_shapes(x.shape,
                                                                                  alpha.shape))
    xi = np.broadcast_to(xi, ai.shape)
    out = np.where(xi >= 0, mbqm(xi, output_multiplier_1, output_shift_1),
                   mbqm(xi * ai, output_multiplier_2, output_shift_2)) + output_offset
    return np.clip(out, INT8_MIN, INT8_MAX).astype(np.int8)


def _logistic_q4(a):
    """gemmlowp logistic of Q4.27 values, Q0.31 result."""
    a = np.asarray(a, dtype=np.int64)
    positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-np.abs(a), 4))
    return np.where(a == 0, 2**30, np.where(a > 0, positive, INT32_MAX - positive))


def _tanh_q4(a):
    """gemmlowp tanh of Q4.27 values, Q0.31 result (exp(-2|a|) read in Q5.26)."""
    a = np.asarray(a, dtype=np.int64)
    e = exp_on_negative_values(-np.abs(a), 5)
    total = e + INT32_MAX
    half_denominator = np.where(total >= 0, (total + 1) // 2, -((-total + 1) // 2))
    x = 1515870810 + srdhm(half_denominator, -1010580540)  # Q2.29
    for _ in range(3):
        x = x + _rescale(srdhm(x, 2**29 - srdhm(half_denominator, x)), 4, 2)
    t = _rescale(x - 2**29, 2, 0)
    return np.where(a == 0, 0, np.where(a < 0, -t, t))


def _sigmoid_family(x, fn, shift, offset, *, input_zero_point, input_range_radius,
                    input_multiplier, input_left_shift):
    d = x.astype(np.int64) - input_zero_point
    inside = np.clip(d, -input_range_radius + 1, input_range_radius - 1)
    value = rdbpot(fn(mbqm(inside, input_multiplier, input_left_shift)), shift) + offset
    out = np.where(d <= -input_range_radius, INT8_MIN,
                   np.where(d >= input_range_radius, INT8_MAX, value))
    return np.clip(out, INT8_MIN, INT8_MAX).astype(np.int8)


def logistic(x, **params):
    """TFLite int8 LOGISTIC: output scale 1/256, zero point -128."""
    return _sigmoid_family(x, _logistic_q4, 23, INT8_MIN, **params)


def tanh(x, **params):
    """TFLite int8 TANH: output scale 1/128, zero point 0."""
    return _sigmoid_family(x, _tanh_q4, 24, 0, **params)


def _srdhm16(a, b):
    ab = np.asarray(a, dtype=np.int64) * np.asarray(b, dtype=np.int64)
    nudged = np.where(ab >= 0, ab + 2**14, ab + 1 - 2**14)
    result = np.trunc(nudged / 2**15).astype(np.int64)
    return np.where((a == -32768) & (b == -32768), 32767, result)


def hard_swish(x, *, input_zero_point, output_zero_point, reluish_multiplier, reluish_exponent,
               output_multiplier, output_exponent):
    """TFLite int8 HARD_SWISH (reference_ops::HardSwish, int16 fixed point)."""
    hires = (x.astype(np.int64) - input_zero_point) * 128
    preshift = _srdhm16(hires, output_multiplier)
    reluish = hires
    if reluish_exponent > 0:
        reluish = np.clip(reluish * 2**(reluish_exponent - 1), -32768, 32767)
    reluish = _srdhm16(reluish, reluish_multiplier)
    if reluish_exponent > 0:
        reluish = np.clip(reluish * 2, -32768, 32767)
    elif reluish_exponent < 0:
        reluish = rdbpot(reluish, -reluish_exponent)
    reluish = (reluish + 32768) >> 1
    product = np.trunc(reluish * preshift / 2**15).astype(np.int64)
    out = rdbpot(product, -output_exponent) + output_zero_point
    out = ((out + 32768) % 65536) - 32768  # TFLite adds the zero point in int16
    return np.clip(out, INT8_MIN, INT8_MAX).astype(np.int8)


def relu(x, *, input_zero_point, output_zero_point, output_multiplier, output_shift,
         activation_min, activation_max):
    """TFLite Micro int8 RELU (ReluQuantized)."""
    out = output_zero_point + mbqm(x.astype(np.int64) - input_zero_point, output_multiplier,
                                   output_shift)
    return np.clip(out, activation_min, activation_max).astype(np.int8)


def leaky_relu(x, *, input_zero_point, output_zero_point, identity_multiplier, identity_shift,
               alpha_multiplier, alpha_shift):
    """TFLite Micro int8 LEAKY_RELU (QuantizeLeakyRelu; negative alpha by magnitude)."""
    d = x.astype(np.int64) - input_zero_point
    negative = mbqm(d, abs(alpha_multiplier), alpha_shift)
    negative = -negative if alpha_multiplier < 0 else negative
    out = np.where(d >= 0, mbqm(d, identity_multiplier, identity_shift), negative)
    return np.clip(out + output_zero_point, INT8_MIN, INT8_MAX).astype(np.int8)


def inv_sqrt_multiplier_exp(x):
    """TFLite GetInvSqrtQuantizedMultiplierExp(x, kReverseShift): (multiplier, left shift)."""
    x = int(x)
    if x <= 1:
        return INT32_MAX, 0
    shift = 11
    while x >= 2**29:
        x //= 4
        shift += 1
    pairs = (32 - x.bit_length() - 1) // 2 - 1
    shift -= pairs
    x <<= 2 * pairs
    half_input = int(rdbpot(x >> 1, 1))
    y = 2**28
    for _ in range(5):
        y3 = int(_rescale(srdhm(srdhm(y, y), y), 9, 3))
        y = int(_rescale(int(srdhm(3 * 2**27, y)) - int(srdhm(half_input, y3)), 6, 3))
    y = int(srdhm(y, 1518500250))
    if shift < 0:
        y = int(wrap_int32(y << -shift))
        shift = 0
    return y, -shift


def rsqrt(x, *, input_zero_point, output_zero_point, output_multiplier, output_shift):
    """TFLite Micro int8 RSQRT for inputs >= input_zero_point."""
    out = []
    for v in np.asarray(x, dtype=np.int64).reshape(-1) - input_zero_point:
        if v == 0:
            out.append(INT8_MAX)
            continue
        m, s = inv_sqrt_multiplier_exp(v)
        scaled = mbqm(1, m, s + 20)
        out.append(int(np.clip(mbqm(scaled, output_multiplier, output_shift - 20)
                               + output_zero_point, INT8_MIN, INT8_MAX)))
    return np.array(out, dtype=np.int8).reshape(np.shape(x))


def l2_normalization(x, *, input_zero_point):
    """TFLite int8 L2_NORMALIZATION over the last axis (output scale 1/128, zero point 0)."""
    d = np.asarray(x, dtype=np.int64) - input_zero_point
    rows = d.reshape(-1, d.shape[-1])
    out = np.empty_like(rows)
    for r, row in enumerate(rows):
        m, s = inv_sqrt_multiplier_exp(int((row * row).sum()))
        out[r] = np.clip(mbqm(row, m, s + 7), INT8_MIN, INT8_MAX)
    return out.reshape(d.shape).astype(np.int8)


# ---------------------------------------------------------------------------
# Data movement and reductions (PAD, TRANSPOSE, slices, CONCATENATION, SPLIT,
# GATHER, MEAN/SUM, ARG_MAX), from TFLite Micro's semantics in numpy terms
# ---------------------------------------------------------------------------


def pad(x, paddings, pad_value):
    """PAD/PADV2: the raw input inside a border of pad_value."""
    return np.pad(np.asarray(x, dtype=np.int8), paddings, constant_values=pad_value)


def transpose(x, perm):
    return np.ascontiguousarray(np.transpose(np.asarray(x, dtype=np.int8), perm))


def strided_slice(x, starts, stops, steps):
    """x[start:stop:step] per axis; a stop of -1 with a negative step means
    'through index 0'."""
    index = tuple(slice(a, None if (b < 0 and c < 0) else b, c)
                  for a, b, c in zip(starts, stops, steps))
    return np.ascontiguousarray(np.asarray(x, dtype=np.int8)[index])


def concatenation(xs, axis):
    """Raw bytes along the axis (TFLite Micro does not requantize int8)."""
    return np.concatenate([np.asarray(x, dtype=np.int8) for x in xs], axis=axis)


def split(x, sizes, axis):
    bounds = np.cumsum(sizes)[:-1]
    return [np.ascontiguousarray(p) for p in np.split(np.asarray(x, dtype=np.int8), bounds, axis)]


def gather(x, positions, axis, batch_dims=0):
    x = np.asarray(x, dtype=np.int8)
    positions = np.asarray(positions)
    if batch_dims == 0:
        return np.take(x, positions, axis=axis)
    return np.stack([gather(x[b], positions[b], axis - 1, batch_dims - 1)
                     for b in range(x.shape[0])])


def mean_or_sum(x, axes, *, input_zero_point, output_zero_point, multiplier, shift, mean):
    """TFLite's QuantizedMeanOrSum: the int32 sum over the axes minus
    zero_point * count, requantized (for MEAN with 1/count folded into the
    multiplier: multiplier * 2^k // count, shift - k, k = min(floor(log2
    count), 32, 31 + shift))."""
    x = np.asarray(x, dtype=np.int64)
    axes = tuple(sorted(a % x.ndim for a in axes))
    count = int(np.prod([x.shape[a] for a in axes]))
    if mean:
        k = min(count.bit_length() - 1, 32, 31 + shift)
        multiplier, shift = (multiplier << k) // count, shift - k
    total = wrap_int32(x.sum(axis=axes) - input_zero_point * count)
    out = mbqm(total, multiplier, shift) + output_zero_point
    return np.clip(out, INT8_MIN, INT8_MAX).astype(np.int8)


def arg_max(x, axis, is_min=False):
    """First index of the extreme value along the axis, int32."""
    x = np.asarray(x, dtype=np.int8)
    return (np.argmin(x, axis=axis) if is_min else np.argmax(x, axis=axis)).astype(np.int32)


# ---------------------------------------------------------------------------
# Resizing, transposed convolution, batched matrix products
# ---------------------------------------------------------------------------


def _nearest_source(out_size, in_size, align_corners, half_pixel_centers):
    """TFLite GetNearestNeighbor for every output position (float32 math)."""
    if align_corners and out_size > 1:
        scale = np.float32(np.float32(in_size - 1) / np.float32(out_size - 1))
    else:
        scale = np.float32(np.float32(in_size) / np.float32(out_size))
    pos = (np.arange(out_size, dtype=np.float32)
           + np.float32(0.5 if half_pixel_centers else 0.0)) * scale
    pos = pos.astype(np.float64)  # exact: float32 values
    if align_corners:
        src = np.sign(pos) * np.floor(np.abs(pos) + 0.5)  # std::round, exact in double
    else:
        src = np.floor(pos)
    src = np.minimum(src.astype(np.int64), in_size - 1)
    return np.maximum(src, 0) if half_pixel_centers else src


def resize_nearest(x, out_hw, *, align_corners=False, half_pixel_centers=False):
    """TFLite ResizeNearestNeighbor on [N, H, W, C] int8 (raw values)."""
    ys = _nearest_source(out_hw[0], x.shape[1], align_corners, half_pixel_centers)
    xs = _nearest_source(out_hw[1], x.shape[2], align_corners, half_pixel_centers)
    return x[:, ys][:, :, xs]


def resize_bilinear(x, out_hw, *, align_corners=False, half_pixel_centers=False):
    """TFLite ResizeBilinearInteger on [N, H, W, C] int8 (raw values):
    positions in 1/1024 steps, weights summing to 2^20, rounded half away from 0."""
    def axis(in_size, out_size):
        if align_corners and out_size > 1:
            scale = (1024 * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
        else:
            scale = (1024 * in_size + out_size // 2) // out_size
        pos = np.arange(out_size, dtype=np.int64) * scale
        if half_pixel_centers:
            pos = pos + scale // 2 - 512
        lower = np.maximum(np.fix(pos / 1024).astype(np.int64), 0)
        upper = np.minimum(np.fix((pos + 1023) / 1024).astype(np.int64), in_size - 1)
        return lower, upper, pos - 1024 * lower

    y0, y1, dy = axis(x.shape[1], out_hw[0])
    x0, x1, dx = axis(x.shape[2], out_hw[1])
    v = x.astype(np.int64)
    dy, dx = dy[None, :, None, None], dx[None, None, :, None]
    total = (v[:, y0][:, :, x0] * (1024 - dy) * (1024 - dx) + v[:, y1][:, :, x0] * dy * (1024 - dx)
             + v[:, y0][:, :, x1] * (1024 - dy) * dx + v[:, y1][:, :, x1] * dy * dx)
    rounded = np.where(total > 0, total + 2**19, total - 2**19)
    return (np.sign(rounded) * (np.abs(rounded) >> 20)).astype(np.int8)


def transpose_conv(x, filt, bias, multipliers, shifts, *, out_hw, stride=(1, 1), pad=(0, 0),
                   input_offset=0, output_offset=0, act_min=INT8_MIN, act_max=INT8_MAX):
    """TFLite reference_integer_ops::TransposeConv: x [N, H, W, C_in] int8,
    filt [C_out, KH, KW, C_in], pad the top/left padding of the output."""
    n, h, w, _ = x.shape
    c_out, kh, kw, _ = filt.shape
    sh, sw = stride
    # scatter into a canvas large enough for every tap, then crop the padding
    canvas = np.zeros((n, (h - 1) * sh + kh, (w - 1) * sw + kw, c_out), dtype=np.int64)
    xo = x.astype(np.int64) + input_offset
    for ky in range(kh):
        for kx in range(kw):
            contrib = np.einsum("nhwc,oc->nhwo", xo, filt[:, ky, kx, :].astype(np.int64))
            canvas[:, ky:ky + (h - 1) * sh + 1:sh, kx:kx + (w - 1) * sw + 1:sw, :] += contrib
    ph, pw = pad
    oh, ow = out_hw
    acc = np.zeros((n, oh, ow, c_out), dtype=np.int64)
    ys = slice(ph, min(ph + oh, canvas.shape[1]))
    xs = slice(pw, min(pw + ow, canvas.shape[2]))
    part = canvas[:, ys, xs, :]
    acc[:, :part.shape[1], :part.shape[2], :] = part
    acc = wrap_int32(acc)
    if bias is not None:
        acc = acc + np.asarray(bias, dtype=np.int64)
    return _requantize_acc(acc, _per_channel(multipliers, c_out), _per_channel(shifts, c_out),
                           output_offset, act_min, act_max)


def batch_matmul(lhs, rhs, multiplier, shift, *, lhs_offset=0, rhs_offset=0, output_offset=0,
                 adj_x=False, adj_y=False):
    """TFLite BatchMatMul (int8): numpy-broadcast batch dimensions, adj_x /
    adj_y transpose the last two axes, one per-tensor rescale, clamp to int8."""
    a = lhs.astype(np.int64) + lhs_offset
    b = rhs.astype(np.int64) + rhs_offset
    if adj_x:
        a = np.swapaxes(a, -1, -2)
    if adj_y:
        b = np.swapaxes(b, -1, -2)
    return _requantize_acc(np.matmul(a, b), multiplier, shift, output_offset, INT8_MIN, INT8_MAX)


# ---------------------------------------------------------------------------
# Stateful ops: SVDF and the integer LSTM (TFLite Micro's reference kernels)
# ---------------------------------------------------------------------------


def svdf(x, weights_feature, weights_time, bias, state, *, rank, input_zero_point,
         state_zero_point, output_zero_point, feature_multiplier, feature_shift,
         output_multiplier, output_shift):
    """One SVDF invocation (EvalIntegerSvdfReference). x [batches, input_size];
    state [batches, filters * memory] (int16 or int8, updated copy returned).
    Returns (output int8 [batches, units], new state)."""
    x = np.asarray(x, dtype=np.int64)
    wf = np.asarray(weights_feature, dtype=np.int64)
    wt = np.asarray(weights_time, dtype=np.int64)
    info = np.iinfo(np.asarray(state).dtype)
    batches = x.shape[0]
    filters, memory = wt.shape
    s = np.asarray(state, dtype=np.int64).reshape(-1).copy()
    s[:-1] = s[1:]  # the whole buffer shifts left by one element
    s = s.reshape(batches, filters, memory)
    feature = wrap_int32((x - input_zero_point) @ wf.T)  # [batches, filters]
    # Saturated first, then the zero point added and narrowed (wrapping) into the
    # state, as TFLite Micro does.
    newest = np.clip(mbqm(feature, feature_multiplier, feature_shift), info.min, info.max)
    s[:, :, -1] = (newest + state_zero_point).astype(info.dtype)
    time = wrap_int32(((s - state_zero_point) * wt[None]).sum(axis=2))  # [batches, filters]
    acc = time.reshape(batches, filters // rank, rank).sum(axis=2)
    if bias is not None:
        acc = acc + np.asarray(bias, dtype=np.int64)[None]
    out = mbqm(wrap_int32(acc), output_multiplier, output_shift) + output_zero_point
    return (np.clip(out, INT8_MIN, INT8_MAX).astype(np.int8),
            s.reshape(np.asarray(state).shape).astype(info.dtype))


def _sigmoid_table() -> np.ndarray:
    """TFLite's sigmoid_table_uint16 (sigmoid(i / 24) in Q0.16), as the C kernel holds it."""
    import re
    from tinyedge import KERNELS_DIR
    text = (KERNELS_DIR / "include" / "tinyedge" / "te_sigmoid16.h").read_text()
    body = text[text.index("te_sigmoid16_table[256] = {"):]
    body = body[body.index("{") + 1:body.index("};")]
    return np.array([int(v) for v in re.findall(r"\d+", body)], dtype=np.int64)


def _scaled16(x, multiplier, right_shift):
    x = np.asarray(x, dtype=np.int64)
    rounding = (1 << (right_shift - 1)) if right_shift > 0 else 0
    return (x * multiplier + rounding) >> right_shift


def sigmoid_s16(x, multiplier=3, right_shift=0):
    """reference_integer_ops::Logistic on int16 (Q3.12 in, Q0.15 out with multiplier 3)."""
    table = _sigmoid_table()
    v = _scaled16(x, multiplier, right_shift)
    a = np.abs(v)
    hi = a >> 9
    idx = np.minimum(hi, 254)
    interp = (table[idx] << 9) + (a & 0x1FF) * (table[idx + 1] - table[idx])
    r = np.where(hi >= 255, 0x7FFF << 10, interp)
    r = np.where(v >= 0, r + (1 << 9), (1 << 25) - r + (1 << 9) - 1)
    return (r >> 10).astype(np.int16)


def tanh_s16(x, multiplier=3, right_shift=0):
    """reference_integer_ops::Tanh on int16."""
    table = _sigmoid_table()
    v = _scaled16(x, multiplier, right_shift)
    a = np.abs(v)
    hi = a >> 8
    idx = np.minimum(hi, 254)
    interp = (table[idx] << 8) + (a & 0xFF) * (table[idx + 1] - table[idx])
    r = np.where(hi >= 255, 0xFFFF << 8, interp)
    r = np.where(v >= 0, r - (1 << 23) + (1 << 7), -r + (1 << 23) + (1 << 7) - 1)
    return (r >> 8).astype(np.int16)


def lstm(x, weights, biases, hidden, cell, *, input_zero_point, hidden_zero_point,
         input_mults, recurrent_mults, forget_cell_mult, input_cell_mult, hidden_mult,
         cell_clip, cell_tanh, cell_gate_sigmoid=False):
    """TFLite Micro's integer LSTM over x [batches, steps, input_size] (batch
    major). weights: 8 int8 matrices (input-to then recurrent-to gates i, f, c,
    o); biases: 4 int32 gate biases; *_mults: (multiplier, shift) pairs, the
    gate ones per gate; cell_tanh: (multiplier, right shift). Returns (output,
    new hidden, new cell)."""
    x = np.asarray(x, dtype=np.int64)
    h = np.asarray(hidden, dtype=np.int64).reshape(x.shape[0], -1).copy()
    c = np.asarray(cell, dtype=np.int64).reshape(x.shape[0], -1).copy()
    w = [np.asarray(m, dtype=np.int64) for m in weights]
    out = np.zeros((x.shape[0], x.shape[1], h.shape[1]), dtype=np.int8)
    sat16 = lambda v: np.clip(v, -32768, 32767)  # noqa: E731

    def gate(g, xt, hb):
        from_x = sat16(mbqm(wrap_int32(w[g] @ (xt - input_zero_point) + biases[g]),
                            *input_mults[g]))
        from_h = sat16(mbqm(wrap_int32(w[4 + g] @ (hb - hidden_zero_point)),
                            *recurrent_mults[g]))
        total = sat16(from_x + from_h)
        if g == 2 and not cell_gate_sigmoid:
            return tanh_s16(total).astype(np.int64)
        return sigmoid_s16(total).astype(np.int64)

    for b in range(x.shape[0]):
        for t in range(x.shape[1]):
            xt, hb = x[b, t], h[b]
            i_g, f_g, c_g = gate(0, xt, hb), gate(1, xt, hb), gate(2, xt, hb)
            new_c = sat16(sat16(mbqm(f_g * c[b], *forget_cell_mult))
                          + sat16(mbqm(i_g * c_g, *input_cell_mult)))
            if cell_clip > 0:
                new_c = np.clip(new_c, -cell_clip, cell_clip)
            c[b] = new_c
            o_g = gate(3, xt, hb)
            act = tanh_s16(c[b], *cell_tanh).astype(np.int64)
            h[b] = np.clip(mbqm(act * o_g, *hidden_mult) + hidden_zero_point, -128, 127)
            out[b, t] = h[b]
    return out, h.astype(np.int8), c.astype(np.int16)
