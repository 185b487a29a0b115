"""te_dequantize_s8_f32 and te_dequantize_u8_f32 against TFLite's Dequantize."""
import numpy as np
import pytest

from kernel_harness import TE_ARG_ERROR, TE_OK, kernels, new, ptr
from tinyedge import reference as ref

KERNELS = {np.int8: ("te_dequantize_s8_f32", "int8_t"),
           np.uint8: ("te_dequantize_u8_f32", "uint8_t")}


def run_dequantize(q, scale, zero_point):
    _, lib = kernels()
    name, ctype = KERNELS[q.dtype.type]
    out = np.zeros(q.shape, dtype=np.float32)
    status = getattr(lib, name)(new("te_affine_params", scale=scale, zero_point=zero_point),
                                q.size, ptr(q, ctype), ptr(out, "float"))
    assert status == TE_OK
    return out


def test_worked_example():
    q = np.array([-128, -3, 0, 127], dtype=np.int8)
    # scale 0.5, zero point -3: (q + 3) * 0.5
    np.testing.assert_array_equal(run_dequantize(q, 0.5, -3), [-62.5, 0.0, 1.5, 65.0])
    u = np.array([0, 128, 255], dtype=np.uint8)
    # scale 0.25, zero point 128: (u - 128) * 0.25
    np.testing.assert_array_equal(run_dequantize(u, 0.25, 128), [-32.0, 0.0, 31.75])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_random_against_reference(dtype):
    rng = np.random.default_rng(13)
    info = np.iinfo(dtype)
    q = np.arange(info.min, info.max + 1).astype(dtype)  # every value
    for _ in range(40):
        scale = float(np.float32(10.0 ** rng.uniform(-6, 3)))
        zero_point = int(rng.integers(info.min, info.max + 1))
        got = run_dequantize(q, scale, zero_point)
        want = ref.dequantize(q, scale, zero_point)
        np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("name,ctype", KERNELS.values())
def test_arguments(name, ctype):
    ffi, lib = kernels()
    q = np.zeros(4, dtype=np.int8 if ctype == "int8_t" else np.uint8)
    out = np.zeros(4, dtype=np.float32)
    params = new("te_affine_params", scale=0.1, zero_point=0)
    kernel = getattr(lib, name)
    assert kernel(params, 4, ptr(q, ctype), ptr(out, "float")) == TE_OK
    assert kernel(ffi.NULL, 4, ptr(q, ctype), ptr(out, "float")) == TE_ARG_ERROR
    assert kernel(params, 4, ffi.NULL, ptr(out, "float")) == TE_ARG_ERROR
    assert kernel(params, 4, ptr(q, ctype), ffi.NULL) == TE_ARG_ERROR
    assert kernel(params, -1, ptr(q, ctype), ptr(out, "float")) == TE_ARG_ERROR
