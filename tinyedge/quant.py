"""TFLite's integer arithmetic, in Python.

Everything here reproduces what TFLite Micro computes at preparation time
(multipliers, shifts, activation ranges), so the C kernels only compute.
TFLite works on float32 scales promoted to double; the helpers take Python
floats that were read as float32 and do the same double arithmetic.
"""
from __future__ import annotations

import math

import numpy as np

from tinyedge.errors import UnsupportedModelError

INT8_MIN, INT8_MAX = -128, 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def f32(x: float) -> float:
    """Round a Python float to float32 precision (and back to a Python float)."""
    return float(np.float32(x))


def round_half_away(x: float) -> int:
    """std::round: round to nearest, ties away from zero (exact for all doubles)."""
    ax = abs(x)
    r = math.floor(ax)
    if ax - r >= 0.5:
        r += 1
    return int(r) if x >= 0 else -int(r)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: real = multiplier * 2^(shift - 31).

    Returns (multiplier in [2^30, 2^31) or 0, shift). Multipliers whose shift
    would be below -31 flush to (0, 0), as TFLite does.
    """
    if real == 0.0:
        return 0, 0
    mantissa, shift = math.frexp(real)
    q = round_half_away(mantissa * (1 << 31))
    if q == (1 << 31):
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        # TFLite shifts left by `shift` in int32: past 30 its result is undefined.
        raise UnsupportedModelError(
            f"a rescaling factor of {real:.3g} is outside TFLite's integer range (below 2^30); "
            "the tensor scales are corrupt or extreme")
    return q, shift


def quantize_multiplier_greater_than_one(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplierGreaterThanOne: returns (multiplier, left_shift >= 0)."""
    multiplier, shift = quantize_multiplier(real)
    if shift < 0:
        raise ValueError(f"multiplier {real} is below one")
    return multiplier, shift


def quantize_value(value: float, scale: float, zero_point: int) -> int:
    """TFLite's Quantize of one float constant: zero_point + round(value / scale),
    the division in float32 as in CalculateActivationRangeQuantized."""
    return zero_point + round_half_away(float(np.float32(value) / np.float32(scale)))


def activation_range(activation: str, scale: float, zero_point: int,
                     qmin: int = INT8_MIN, qmax: int = INT8_MAX) -> tuple[int, int]:
    """Quantized clamp bounds of a fused activation ("NONE", "RELU", "RELU6",
    "RELU_N1_TO_1"), as TFLite's CalculateActivationRangeQuantized."""
    if activation == "NONE":
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, quantize_value(0.0, scale, zero_point)), qmax
    if activation == "RELU6":
        return (max(qmin, quantize_value(0.0, scale, zero_point)),
                min(qmax, quantize_value(6.0, scale, zero_point)))
    if activation == "RELU_N1_TO_1":
        return (max(qmin, quantize_value(-1.0, scale, zero_point)),
                min(qmax, quantize_value(1.0, scale, zero_point)))
    raise ValueError(f"unknown fused activation {activation}")


def conv_multipliers(input_scale: float, filter_scales: list[float],
                     output_scale: float) -> tuple[list[int], list[int]]:
    """Multipliers of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, one per
    filter scale: input_scale * filter_scale / output_scale, all in double
    (TFLite Micro's GetQuantizedConvolutionMultipler also multiplies in double)."""
    multipliers, shifts = [], []
    for filter_scale in filter_scales:
        m, s = quantize_multiplier(input_scale * filter_scale / output_scale)
        multipliers.append(m)
        shifts.append(s)
    return multipliers, shifts


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """TFLite's int8 softmax preparation with 5 integer bits for the scaled
    difference: returns (input_multiplier, input_left_shift, diff_min)."""
    integer_bits = 5
    real = min(beta * input_scale * (1 << (31 - integer_bits)), float((1 << 31) - 1))
    multiplier, left_shift = quantize_multiplier_greater_than_one(real)
    max_input_rescaled = (1.0 * ((1 << integer_bits) - 1) * (1 << (31 - integer_bits))
                          / (1 << left_shift))
    diff_min = -int(math.floor(max_input_rescaled))
    return multiplier, left_shift, diff_min


def add_params(input1_scale: float, input2_scale: float, output_scale: float,
               left_shift: int = 20) -> dict:
    """TFLite's general ADD rescaling (left shift 20 for int8, 15 for int16)."""
    twice_max = 2.0 * max(input1_scale, input2_scale)
    m1, s1 = quantize_multiplier(input1_scale / twice_max)
    m2, s2 = quantize_multiplier(input2_scale / twice_max)
    mo, so = quantize_multiplier(twice_max / ((1 << left_shift) * output_scale))
    return {"left_shift": left_shift,
            "input1_multiplier": m1, "input1_shift": s1,
            "input2_multiplier": m2, "input2_shift": s2,
            "output_multiplier": mo, "output_shift": so}


def compute_padding(in_size: int, filter_size: int, stride: int, dilation: int,
                    padding: str) -> tuple[int, int]:
    """TFLite's output size and leading padding for SAME or VALID padding."""
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        out = (in_size + stride - 1) // stride
    else:
        out = (in_size + stride - effective) // stride
    total = max(0, (out - 1) * stride + effective - in_size)
    return out, total // 2
