"""te_requantize_{s8_s8,u8_s8,s8_u8} against TFLite's Requantize."""
import numpy as np
import pytest

from kernel_harness import TE_ARG_ERROR, TE_OK, kernels, new, ptr
from tinyedge import reference as ref
from tinyedge.quant import quantize_multiplier

KERNELS = {
    (np.int8, np.int8): ("te_requantize_s8_s8", "int8_t", "int8_t"),
    (np.uint8, np.int8): ("te_requantize_u8_s8", "uint8_t", "int8_t"),
    (np.int8, np.uint8): ("te_requantize_s8_u8", "int8_t", "uint8_t"),
}


def run_requantize(q, out_dtype, zp_in, zp_out, multiplier, shift, out=None):
    _, lib = kernels()
    name, in_ctype, out_ctype = KERNELS[(q.dtype.type, out_dtype)]
    if out is None:
        out = np.zeros(q.shape, dtype=out_dtype)
    params = new("te_requantize_params", input_zero_point=zp_in, output_zero_point=zp_out,
                 multiplier=multiplier, shift=shift)
    status = getattr(lib, name)(params, q.size, ptr(q, in_ctype), ptr(out, out_ctype))
    assert status == TE_OK
    return out


def test_worked_example():
    q = np.array([-128, -10, 0, 5, 127], dtype=np.int8)
    # scale ratio 0.5 (2^30, shift 0), zero point 0 -> 4: (q - 0) * 0.5 + 4
    got = run_requantize(q, np.int8, 0, 4, 2**30, 0)
    # -64 + 4 = -60; -5 + 4 = -1; 4; 2.5 -> 3 (away from zero) + 4 = 7; 63.5 -> 64 + 4 = 68
    np.testing.assert_array_equal(got, [-60, -1, 4, 7, 68])


def test_uint8_int8_same_scale_is_a_shift_of_128():
    # TFLite's fast path (x ^ 0x80) equals the general one at equal scales.
    m, s = quantize_multiplier(1.0)
    assert (m, s) == (2**30, 1)
    u = np.arange(256).astype(np.uint8)
    np.testing.assert_array_equal(run_requantize(u, np.int8, 128, 0, m, s),
                                  np.arange(-128, 128))
    q = np.arange(-128, 128).astype(np.int8)
    np.testing.assert_array_equal(run_requantize(q, np.uint8, 0, 128, m, s), np.arange(256))


@pytest.mark.parametrize("in_dtype,out_dtype", list(KERNELS))
def test_random_against_reference(in_dtype, out_dtype):
    rng = np.random.default_rng(14)
    in_info, out_info = np.iinfo(in_dtype), np.iinfo(out_dtype)
    q = np.arange(in_info.min, in_info.max + 1).astype(in_dtype)
    for case in range(60):
        ratio = 10.0 ** rng.uniform(-3, 3) if case % 4 else 10.0 ** rng.uniform(-9, 9)
        multiplier, shift = quantize_multiplier(ratio)
        zp_in = int(rng.integers(in_info.min, in_info.max + 1))
        zp_out = int(rng.integers(out_info.min, out_info.max + 1))
        got = run_requantize(q, out_dtype, zp_in, zp_out, multiplier, shift)
        want = ref.requantize(q, input_zero_point=zp_in, output_zero_point=zp_out,
                              multiplier=multiplier, shift=shift, out_dtype=out_dtype)
        np.testing.assert_array_equal(got, want, err_msg=f"ratio {ratio}")


def test_in_place():
    q = np.arange(-128, 128).astype(np.int8)
    want = ref.requantize(q, input_zero_point=3, output_zero_point=-7, multiplier=1518500250,
                          shift=0, out_dtype=np.int8)
    run_requantize(q, np.int8, 3, -7, 1518500250, 0, out=q)
    np.testing.assert_array_equal(q, want)


@pytest.mark.parametrize("name,in_ctype,out_ctype", KERNELS.values())
def test_arguments(name, in_ctype, out_ctype):
    ffi, lib = kernels()
    buf_in = np.zeros(4, dtype=np.int8 if in_ctype == "int8_t" else np.uint8)
    buf_out = np.zeros(4, dtype=np.int8 if out_ctype == "int8_t" else np.uint8)
    kernel = getattr(lib, name)

    def call(size=4, params=None, src=None, dst=None, **fields):
        p = dict(input_zero_point=0, output_zero_point=0, multiplier=2**30, shift=1)
        p.update(fields)
        return kernel(params if params is not None else new("te_requantize_params", **p), size,
                      src if src is not None else ptr(buf_in, in_ctype),
                      dst if dst is not None else ptr(buf_out, out_ctype))

    assert call() == TE_OK
    assert call(params=ffi.NULL) == TE_ARG_ERROR
    assert call(src=ffi.NULL) == TE_ARG_ERROR
    assert call(dst=ffi.NULL) == TE_ARG_ERROR
    assert call(size=-1) == TE_ARG_ERROR
    assert call(input_zero_point=256) == TE_ARG_ERROR
    assert call(output_zero_point=-256) == TE_ARG_ERROR
    assert call(multiplier=-5) == TE_ARG_ERROR
