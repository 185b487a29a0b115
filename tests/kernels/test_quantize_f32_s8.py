"""te_quantize_f32_s8 against TFLite's AffineQuantize (float -> int8)."""
import numpy as np
import pytest

from kernel_harness import TE_ARG_ERROR, TE_OK, kernels, new, ptr
from tinyedge import reference as ref


def run_quantize(x, scale, zero_point):
    _, lib = kernels()
    x = np.ascontiguousarray(x, dtype=np.float32)
    out = np.zeros(x.shape, dtype=np.int8)
    status = lib.te_quantize_f32_s8(new("te_affine_params", scale=scale, zero_point=zero_point),
                                    x.size, ptr(x, "float"), ptr(out, "int8_t"))
    assert status == TE_OK
    return out


def test_worked_example():
    x = [0.0, 0.25, 0.75, -0.25, -0.75, 1.0, 100.0, -100.0,
         float("nan"), float("inf"), float("-inf")]
    got = run_quantize(x, 0.5, -3)
    # x / 0.5 rounded half away from zero, plus -3:
    # 0 -> -3; 0.5 -> 1 -> -2; 1.5 -> 2 -> -1; -0.5 -> -1 -> -4; -1.5 -> -2 -> -5; 2 -> -1;
    # 200 -> 197 saturates to 127; -200 -> -203 saturates to -128;
    # NaN -> the zero point; +inf and -inf saturate
    np.testing.assert_array_equal(got, [-3, -2, -1, -4, -5, -1, 127, -128, -3, 127, -128])


def test_division_is_float32():
    # -1.75 / 0.1 is -17.4999997 in double but exactly -17.5 in float32; TFLite
    # divides in float32 (val / static_cast<float>(scale)) and rounds -17.5
    # away from zero.
    assert float(np.float32(-1.75)) / float(np.float32(0.1)) > -17.5
    assert np.float32(-1.75) / np.float32(0.1) == np.float32(-17.5)
    np.testing.assert_array_equal(run_quantize([-1.75], 0.1, 0), [-18])


def test_random_against_reference():
    rng = np.random.default_rng(12)
    for case in range(60):
        scale = float(np.float32(10.0 ** rng.uniform(-4, 1)))
        zero_point = int(rng.integers(-128, 128))
        x = (rng.standard_normal(500) * scale * 100).astype(np.float32)
        # exact ties (k + 0.5) * scale and huge values
        x[:50] = ((rng.integers(-300, 300, 50) + 0.5) * np.float32(scale)).astype(np.float32)
        x[50:55] = [3e38, -3e38, 1e30, -1e-30, 0.0]
        got = run_quantize(x, scale, zero_point)
        np.testing.assert_array_equal(got, ref.quantize(x, scale, zero_point),
                                      err_msg=f"case {case}: scale {scale} zp {zero_point}")


def arg_error_call(**change):
    _, lib = kernels()
    x = np.zeros(4, dtype=np.float32)
    out = np.zeros(4, dtype=np.int8)
    p = dict(scale=0.1, zero_point=0)
    p.update(change.pop("set_params", {}))
    args = dict(params=new("te_affine_params", **p), size=4, input=ptr(x, "float"),
                output=ptr(out, "int8_t"))
    args.update(change)
    return lib.te_quantize_f32_s8(*args.values())


def test_valid_setup_is_ok():
    assert arg_error_call() == TE_OK
    assert arg_error_call(size=0) == TE_OK


@pytest.mark.parametrize("name", ["params", "input", "output"])
def test_null_pointer(name):
    ffi, _ = kernels()
    assert arg_error_call(**{name: ffi.NULL}) == TE_ARG_ERROR


@pytest.mark.parametrize("change", [
    {"size": -1},
    {"set_params": {"scale": 0.0}},
    {"set_params": {"scale": -1.0}},
    {"set_params": {"scale": float("nan")}},
    {"set_params": {"zero_point": 128}},
])
def test_inconsistent_arguments(change):
    assert arg_error_call(**change) == TE_ARG_ERROR
