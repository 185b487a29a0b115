"""te_softmax_s8 against TFLite's int8 softmax (gemmlowp fixed point)."""
import numpy as np
import pytest

from kernel_harness import TE_ARG_ERROR, TE_OK, kernels, new, ptr
from tinyedge import reference as ref
from tinyedge.quant import softmax_params


def run_softmax(x, beta, input_scale):
    _, lib = kernels()
    x = np.ascontiguousarray(x, dtype=np.int8)
    out = np.zeros_like(x)
    m, s, d = softmax_params(beta, input_scale)
    params = new("te_softmax_params", input_multiplier=m, input_left_shift=s, diff_min=d)
    status = lib.te_softmax_s8(params, x.size // x.shape[-1], x.shape[-1],
                               ptr(x, "int8_t"), ptr(out, "int8_t"))
    assert status == TE_OK
    return out, dict(input_multiplier=m, input_left_shift=s, diff_min=d)


def test_worked_example():
    # output q = -128 + 256 * probability (scale 1/256, zero point -128)
    x = np.array([[5, 5, -7, -7],       # two equal maxima, the rest e^-12 ~ 0: 1/2 -> 0
                  [0, 0, 0, 0],         # uniform: 1/4 -> 64 - 128 = -64
                  [127, -128, -128, -128],  # one winner: 1.0 -> 256, saturates to 127
                  [3, 2, 2, 2]],        # e^1 / (e^1 + 3) = 0.4754 -> 121.7 -> -6
                 dtype=np.int8)
    out, _ = run_softmax(x, beta=1.0, input_scale=1.0)
    np.testing.assert_array_equal(out, [[0, 0, -128, -128],
                                        [-64, -64, -64, -64],
                                        [127, -128, -128, -128],
                                        [-6, -83, -83, -83]])  # e^0 / (e + 3) -> 44.8 -> 45


def test_random_against_reference():
    rng = np.random.default_rng(9)
    for case in range(120):
        outer = int(rng.integers(1, 5))
        depth = int(rng.integers(1, 200))
        scale = float(np.float32(10.0 ** rng.uniform(-3, 0.5)))
        beta = 1.0 if case % 2 else float(np.float32(rng.uniform(0.1, 3.0)))
        x = rng.integers(-128, 128, (outer, depth), dtype=np.int8)
        if case % 5 == 0:
            x = np.clip(x // 16 + 100, -128, 127).astype(np.int8)  # many near-ties
        got, params = run_softmax(x, beta, scale)
        np.testing.assert_array_equal(got, ref.softmax(x, **params),
                                      err_msg=f"case {case}: beta {beta} scale {scale}")


def test_matches_float_softmax_to_one_step():
    rng = np.random.default_rng(10)
    x = rng.integers(-128, 128, (8, 10), dtype=np.int8)
    got, _ = run_softmax(x, 1.0, 0.05)
    xi = x.astype(np.int64)
    real = np.exp(0.05 * (xi - xi.max(axis=1, keepdims=True)))
    real = real / real.sum(axis=1, keepdims=True)
    assert np.max(np.abs(got.astype(int) + 128 - np.minimum(real * 256, 255))) <= 1


def test_sum_beyond_tflite_limit_gives_zero_probabilities():
    # 600 equal values: every probability is 1/600 < 1/512, below the int8
    # output's half step. TFLite aborts here (shift > 31); the kernel outputs -128.
    x = np.zeros((1, 600), dtype=np.int8)
    got, params = run_softmax(x, 1.0, 0.1)
    np.testing.assert_array_equal(got, np.full_like(x, -128))
    np.testing.assert_array_equal(got, ref.softmax(x, **params))
    # and just below the limit (511 equal values) the normal path still runs
    x = np.zeros((1, 511), dtype=np.int8)
    got, params = run_softmax(x, 1.0, 0.1)
    np.testing.assert_array_equal(got, ref.softmax(x, **params))


def arg_error_call(**change):
    _, lib = kernels()
    x = np.zeros(12, dtype=np.int8)
    out = np.zeros(12, dtype=np.int8)
    m, s, d = softmax_params(1.0, 0.1)
    p = dict(input_multiplier=m, input_left_shift=s, diff_min=d)
    p.update(change.pop("set_params", {}))
    args = dict(params=new("te_softmax_params", **p), outer_size=3, depth=4,
                input=ptr(x, "int8_t"), output=ptr(out, "int8_t"))
    args.update(change)
    return lib.te_softmax_s8(*args.values())


def test_valid_setup_is_ok():
    assert arg_error_call() == TE_OK


@pytest.mark.parametrize("name", ["params", "input", "output"])
def test_null_pointer(name):
    ffi, _ = kernels()
    assert arg_error_call(**{name: ffi.NULL}) == TE_ARG_ERROR


@pytest.mark.parametrize("change", [
    {"outer_size": 0},
    {"depth": 0},
    {"set_params": {"diff_min": 1}},
    {"set_params": {"input_multiplier": -1}},
    {"set_params": {"input_left_shift": 32}},
    {"set_params": {"input_left_shift": 30, "diff_min": -255}},  # diff * 2^30 overflows
])
def test_inconsistent_arguments(change):
    assert arg_error_call(**change) == TE_ARG_ERROR
