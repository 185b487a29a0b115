"""te_resize_nearest_s8, te_resize_bilinear_s8, te_transpose_conv_s8 and
te_batch_matmul_s8: worked examples a reader can check by hand, then
randomized cases against tinyedge.reference (an independent numpy reading of
TFLite's reference kernels) with the tables and parameters tinyedge's ops
modules compute."""
from __future__ import annotations

import functools

import numpy as np
import pytest

from kernel_harness import INCLUDE_DIR, KERNEL_SOURCES, TE_ARG_ERROR, TE_OK, random_multipliers
from tinyedge import reference as ref
from tinyedge.host import build_library, load_library
from tinyedge.ops.resize import bilinear_table, nearest_indices

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
typedef struct { int32_t batches; int32_t input_h; int32_t input_w; int32_t channels;
                 int32_t output_h; int32_t output_w; const int32_t *rows; const int32_t *cols;
} te_resize_params;
typedef struct {
    int32_t batch_shape[3]; int32_t lhs_batch_strides[3]; int32_t rhs_batch_strides[3];
    int32_t rows; int32_t cols; int32_t depth;
    int32_t lhs_row_stride; int32_t lhs_depth_stride; int32_t rhs_depth_stride;
    int32_t rhs_col_stride; int32_t lhs_size; int32_t rhs_size;
    int32_t lhs_offset; int32_t rhs_offset; int32_t output_offset;
    int32_t output_multiplier; int32_t output_shift;
} te_batch_matmul_params;
te_status te_resize_nearest_s8(const te_resize_params *params, const int8_t *input,
                               int8_t *output);
te_status te_resize_bilinear_s8(const te_resize_params *params, const int8_t *input,
                                int8_t *output);
te_status te_transpose_conv_s8(int32_t *scratch, const te_conv_params *params,
                               const te_requant *quant,
                               const te_dims *input_dims, const int8_t *input,
                               const te_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias, const te_dims *output_dims, int8_t *output);
int32_t te_transpose_conv_s8_scratch_size(const te_dims *output_dims);
te_status te_batch_matmul_s8(const te_batch_matmul_params *params, const int8_t *lhs,
                             const int8_t *rhs, int8_t *output);
"""


@functools.lru_cache(maxsize=None)
def lib():
    return load_library(build_library(KERNEL_SOURCES, [INCLUDE_DIR]), CDEF)


def p(a: np.ndarray, ctype: str = "int8_t"):
    ffi, _ = lib()
    assert a.flags["C_CONTIGUOUS"]
    return ffi.cast(ctype + " *", ffi.from_buffer(a))


# -- resize --------------------------------------------------------------------

def run_resize(kind, x, out_hw, align_corners=False, half_pixel_centers=False, out=None):
    ffi, c = lib()
    flags = (align_corners, half_pixel_centers)
    if kind == "nearest":
        rows = np.array(nearest_indices(x.shape[1], out_hw[0], *flags), np.int32)
        cols = np.array(nearest_indices(x.shape[2], out_hw[1], *flags), np.int32)
        fn = c.te_resize_nearest_s8
    else:
        rows = np.array(bilinear_table(x.shape[1], out_hw[0], *flags), np.int32).reshape(-1)
        cols = np.array(bilinear_table(x.shape[2], out_hw[1], *flags), np.int32).reshape(-1)
        fn = c.te_resize_bilinear_s8
    params = ffi.new("te_resize_params *", {
        "batches": x.shape[0], "input_h": x.shape[1], "input_w": x.shape[2],
        "channels": x.shape[3], "output_h": out_hw[0], "output_w": out_hw[1],
        "rows": p(rows, "int32_t"), "cols": p(cols, "int32_t")})
    if out is None:
        out = np.zeros((x.shape[0], out_hw[0], out_hw[1], x.shape[3]), np.int8)
    assert fn(params, p(np.ascontiguousarray(x)), p(out)) == TE_OK
    return out


def test_resize_nearest_worked_example():
    x = np.array([1, 2, 3, 4], np.int8).reshape(1, 2, 2, 1)
    # 2x2 -> 3x3 without flags: scale 2/3, sources floor(0, 0.67, 1.33) = 0, 0, 1
    np.testing.assert_array_equal(run_resize("nearest", x, (3, 3))[0, :, :, 0],
                                  [[1, 1, 2], [1, 1, 2], [3, 3, 4]])
    # align_corners: scale 1/2, sources round(0, 0.5, 1) = 0, 1, 1 (0.5 rounds away from 0)
    np.testing.assert_array_equal(run_resize("nearest", x, (3, 3), align_corners=True)[0, :, :, 0],
                                  [[1, 2, 2], [3, 4, 4], [3, 4, 4]])


def test_resize_bilinear_worked_example():
    x = np.array([0, 100, 20, 120], np.int8).reshape(1, 2, 2, 1)
    # 2x2 -> 1x3 align_corners: columns at 0, 1/2, 1 (scale 1024/2 = 512);
    # the middle is (0 + 100) / 2 = 50 on row 0
    got = run_resize("bilinear", x, (1, 3), align_corners=True)
    np.testing.assert_array_equal(got[0, 0, :, 0], [0, 50, 100])
    # 1x2 -> 1x4 half-pixel: scale 512, positions -256, 256, 768, 1280 (/1024);
    # the first clamps to column 0 with weights 1280 and -256 on the same value
    y = np.array([10, 30], np.int8).reshape(1, 1, 2, 1)
    np.testing.assert_array_equal(run_resize("bilinear", y, (1, 4), half_pixel_centers=True)
                                  [0, 0, :, 0], [10, 15, 25, 30])


@pytest.mark.parametrize("kind", ["nearest", "bilinear"])
def test_resize_random(kind):
    rng = np.random.default_rng(31 if kind == "nearest" else 32)
    fn = ref.resize_nearest if kind == "nearest" else ref.resize_bilinear
    for case in range(80):
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 9)), int(rng.integers(1, 9)),
                 int(rng.integers(1, 5)))
        out_hw = (int(rng.integers(1, 20)), int(rng.integers(1, 20)))
        mode = case % 3
        flags = {"align_corners": mode == 1, "half_pixel_centers": mode == 2}
        x = rng.integers(-128, 128, size=shape, dtype=np.int8)
        np.testing.assert_array_equal(run_resize(kind, x, out_hw, **flags),
                                      fn(x, out_hw, **flags), err_msg=f"{shape} {out_hw} {flags}")


def test_resize_arguments():
    ffi, c = lib()
    x, out = np.zeros(4, np.int8), np.zeros(9, np.int8)
    rows, cols = np.array([0, 1, 1], np.int32), np.array([0, 0, 1], np.int32)
    good = {"batches": 1, "input_h": 2, "input_w": 2, "channels": 1, "output_h": 3,
            "output_w": 3, "rows": p(rows, "int32_t"), "cols": p(cols, "int32_t")}
    assert c.te_resize_nearest_s8(ffi.new("te_resize_params *", good), p(x), p(out)) == TE_OK
    bad_rows = np.array([0, 2, 1], np.int32)  # row 2 of a 2-row input
    for change in ({"rows": p(bad_rows, "int32_t")}, {"channels": 0}, {"rows": ffi.NULL}):
        bad = ffi.new("te_resize_params *", dict(good, **change))
        assert c.te_resize_nearest_s8(bad, p(x), p(out)) == TE_ARG_ERROR, change
    table = np.array([0, 1, 512, 1, 1, 0, 1, 1, 0], np.int32)
    far = np.array([0, 1, 2000, 1, 1, 0, 1, 1, 0], np.int32)  # fraction beyond 1024
    good_b = dict(good, rows=p(table, "int32_t"), cols=p(table, "int32_t"))
    assert c.te_resize_bilinear_s8(ffi.new("te_resize_params *", good_b), p(x), p(out)) == TE_OK
    bad = ffi.new("te_resize_params *", dict(good_b, cols=p(far, "int32_t")))
    assert c.te_resize_bilinear_s8(bad, p(x), p(out)) == TE_ARG_ERROR
    assert c.te_resize_bilinear_s8(ffi.NULL, p(x), p(out)) == TE_ARG_ERROR


@pytest.mark.parametrize("kind", ["nearest", "bilinear"])
def test_resize_in_place_at_the_planner_limit(kind):
    # The output starts as far from its input as the planner's rule allows, in
    # one buffer: every input byte is still read before it is overwritten.
    from tinyedge.ir import DType, Node, OpKind, Quantization, Tensor
    from tinyedge.ops import resize

    shape, out_hw = (1, 4, 5, 3), (3, 4)  # a downscale: the output may overlap
    q = Quantization((0.1,), (0,))
    op = OpKind.RESIZE_NEAREST_NEIGHBOR if kind == "nearest" else OpKind.RESIZE_BILINEAR
    node = Node(op, [Tensor("x", shape, DType.INT8, q),
                     Tensor("size", (2,), DType.INT32, data=np.array(out_hw, np.int32))],
                [Tensor("y", (1,) + out_hw + (3,), DType.INT8, q)],
                {"align_corners": False, "half_pixel_centers": True})
    assert resize.check(node) == []
    limit = resize.overlap(node)[0]
    x = np.arange(1, 61, dtype=np.int8).reshape(shape)
    fn = ref.resize_nearest if kind == "nearest" else ref.resize_bilinear
    want = fn(x, out_hw, half_pixel_centers=True)
    assert limit <= 0
    buf = np.zeros(-limit + x.size, np.int8)
    buf[-limit:] = x.reshape(-1)
    run_resize(kind, buf[-limit:].reshape(shape), out_hw, half_pixel_centers=True,
               out=buf[:want.size].reshape(want.shape))
    np.testing.assert_array_equal(buf[:want.size].reshape(want.shape), want)


# -- transpose conv --------------------------------------------------------------

def run_transpose_conv(x, filt, bias, mult, shift, out_hw, stride, pad, input_offset=0,
                       output_offset=0, act=(-128, 127), scratch=None):
    ffi, c = lib()
    n, _, _, _ = x.shape
    c_out = filt.shape[0]
    out = np.zeros((n, out_hw[0], out_hw[1], c_out), np.int8)
    out_dims = ffi.new("te_dims *", {"n": n, "h": out_hw[0], "w": out_hw[1], "c": c_out})
    size = c.te_transpose_conv_s8_scratch_size(out_dims)
    assert size == out.size * 4
    if scratch is None:
        scratch = np.full(out.size, 12345, np.int32)  # garbage: the kernel clears it
    mult = np.ascontiguousarray(mult, np.int32)
    shift = np.ascontiguousarray(shift, np.int8)
    quant = ffi.new("te_requant *", {"multipliers": p(mult, "int32_t"),
                                     "shifts": p(shift, "int8_t"), "count": mult.size})
    params = ffi.new("te_conv_params *", {
        "stride_h": stride[0], "stride_w": stride[1], "dilation_h": 1, "dilation_w": 1,
        "pad_h": pad[0], "pad_w": pad[1], "depth_multiplier": 1,
        "input_offset": input_offset, "output_offset": output_offset,
        "activation_min": act[0], "activation_max": act[1]})
    bias_ptr = p(np.ascontiguousarray(bias, np.int32), "int32_t") if bias is not None else ffi.NULL
    status = c.te_transpose_conv_s8(
        p(scratch, "int32_t"), params, quant, ffi.new("te_dims *", dict(zip("nhwc", x.shape))),
        p(np.ascontiguousarray(x)), ffi.new("te_dims *", dict(zip("nhwc", filt.shape))),
        p(np.ascontiguousarray(filt)), bias_ptr, out_dims, p(out))
    assert status == TE_OK
    return out


def test_transpose_conv_worked_example():
    # One channel, a 2x2 input, a 2x2 filter of ones, stride 2, no padding:
    # each input value is copied into its own 2x2 block of the 4x4 output.
    # Multiplier 2^30 with shift 1 is a scale of exactly 1.
    x = np.array([1, 2, 3, 4], np.int8).reshape(1, 2, 2, 1)
    filt = np.ones((1, 2, 2, 1), np.int8)
    got = run_transpose_conv(x, filt, None, [2**30], [1], (4, 4), (2, 2), (0, 0))
    np.testing.assert_array_equal(got[0, :, :, 0], [[1, 1, 2, 2], [1, 1, 2, 2],
                                                    [3, 3, 4, 4], [3, 3, 4, 4]])
    # Stride 1 with a 2x2 filter: overlapping blocks add up (the middle sees
    # all four inputs: 1 + 2 + 3 + 4 = 10), plus a bias of 5.
    got = run_transpose_conv(x, filt, [5], [2**30], [1], (3, 3), (1, 1), (0, 0))
    np.testing.assert_array_equal(got[0, :, :, 0], [[6, 8, 7], [9, 15, 11], [8, 12, 9]])


def test_transpose_conv_random():
    rng = np.random.default_rng(41)
    for case in range(60):
        n = int(rng.integers(1, 3))
        h, w = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        c_in, c_out = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        out_hw = ((h - 1) * stride[0] + kh - int(rng.integers(0, 3)),
                  (w - 1) * stride[1] + kw - int(rng.integers(0, 3)))
        out_hw = (max(out_hw[0], 1), max(out_hw[1], 1))
        pad = (int(rng.integers(0, kh)), int(rng.integers(0, kw)))
        x = rng.integers(-128, 128, size=(n, h, w, c_in), dtype=np.int8)
        filt = rng.integers(-127, 128, size=(c_out, kh, kw, c_in), dtype=np.int8)
        bias = rng.integers(-5000, 5000, size=c_out).astype(np.int32) if case % 2 else None
        count = c_out if case % 3 else 1
        mult, shift = random_multipliers(rng, count, (-12, -6) if case % 5 else (-2, 2))
        in_off, out_off = int(rng.integers(-127, 129)), int(rng.integers(-128, 128))
        act = (-128, 127) if case % 4 else (int(rng.integers(-128, 0)), int(rng.integers(0, 128)))
        got = run_transpose_conv(x, filt, bias, mult, shift, out_hw, stride, pad, in_off,
                                 out_off, act)
        want = ref.transpose_conv(x, filt, bias, mult, shift, out_hw=out_hw, stride=stride,
                                  pad=pad, input_offset=in_off, output_offset=out_off,
                                  act_min=act[0], act_max=act[1])
        np.testing.assert_array_equal(got, want, err_msg=f"case {case}")


def test_transpose_conv_arguments():
    ffi, c = lib()
    x, filt = np.zeros((1, 2, 2, 1), np.int8), np.ones((1, 2, 2, 1), np.int8)
    out, scratch = np.zeros(16, np.int8), np.zeros(16, np.int32)
    mult, shift = np.array([2**30], np.int32), np.array([1], np.int8)
    quant = ffi.new("te_requant *", {"multipliers": p(mult, "int32_t"),
                                     "shifts": p(shift, "int8_t"), "count": 1})
    good = {"stride_h": 2, "stride_w": 2, "dilation_h": 1, "dilation_w": 1, "pad_h": 0,
            "pad_w": 0, "depth_multiplier": 1, "input_offset": 0, "output_offset": 0,
            "activation_min": -128, "activation_max": 127}
    in_dims = ffi.new("te_dims *", {"n": 1, "h": 2, "w": 2, "c": 1})
    f_dims = ffi.new("te_dims *", {"n": 1, "h": 2, "w": 2, "c": 1})
    o_dims = ffi.new("te_dims *", {"n": 1, "h": 4, "w": 4, "c": 1})

    def call(params=good, scratch_ptr=None, out_dims=o_dims):
        return c.te_transpose_conv_s8(
            p(scratch, "int32_t") if scratch_ptr is None else scratch_ptr,
            ffi.new("te_conv_params *", params), quant, in_dims, p(x), f_dims, p(filt),
            ffi.NULL, out_dims, p(out))
    assert call() == TE_OK
    for change in ({"dilation_h": 2}, {"stride_w": 0}, {"pad_h": -1}, {"input_offset": 129}):
        assert call(dict(good, **change)) == TE_ARG_ERROR, change
    assert call(scratch_ptr=ffi.NULL) == TE_ARG_ERROR
    assert call(out_dims=ffi.new("te_dims *", {"n": 1, "h": 4, "w": 4, "c": 2})) == TE_ARG_ERROR
    assert c.te_transpose_conv_s8_scratch_size(ffi.new("te_dims *", {"n": 1, "h": 0, "w": 4,
                                                                     "c": 1})) == 0
    assert c.te_transpose_conv_s8_scratch_size(ffi.NULL) == 0


def test_transpose_conv_scratch_size_matches_the_plan():
    # The compiler sizes the scratch tensor in Python; the C companion agrees.
    from tinyedge.ir import DType, Node, OpKind, Quantization, Tensor
    from tinyedge.ops import transpose_conv

    ffi, c = lib()
    out = Tensor("y", (1, 7, 9, 3), DType.INT8, Quantization((0.1,), (0,)))
    node = Node(OpKind.TRANSPOSE_CONV, [None, None, None], [out])
    (scratch,) = transpose_conv.scratch_tensors(node)
    assert scratch.dtype == DType.INT32
    assert scratch.nbytes == c.te_transpose_conv_s8_scratch_size(
        ffi.new("te_dims *", {"n": 1, "h": 7, "w": 9, "c": 3}))


# -- batch matmul ------------------------------------------------------------------

def run_batch_matmul(lhs, rhs, mult, shift, lhs_off=0, rhs_off=0, out_off=0, adj_x=False,
                     adj_y=False):
    from tinyedge.ir import DType, Node, OpKind, Quantization, Tensor
    from tinyedge.ops import batch_matmul

    ffi, c = lib()
    q = Quantization((0.1,), (0,))
    node = Node(OpKind.BATCH_MATMUL,
                [Tensor("a", lhs.shape, DType.INT8, q), Tensor("b", rhs.shape, DType.INT8, q)],
                [Tensor("y", (1,), DType.INT8, q)], {"adj_x": adj_x, "adj_y": adj_y})
    layout = batch_matmul._layout(node)
    out = np.zeros(layout["output_shape"], np.int8)
    params = ffi.new("te_batch_matmul_params *", {
        "batch_shape": layout["batch"], "lhs_batch_strides": layout["lhs_batch_strides"],
        "rhs_batch_strides": layout["rhs_batch_strides"], "rows": layout["rows"],
        "cols": layout["cols"], "depth": layout["lhs_depth"],
        "lhs_row_stride": layout["lhs_row_stride"],
        "lhs_depth_stride": layout["lhs_depth_stride"],
        "rhs_depth_stride": layout["rhs_depth_stride"],
        "rhs_col_stride": layout["rhs_col_stride"], "lhs_size": lhs.size, "rhs_size": rhs.size,
        "lhs_offset": lhs_off, "rhs_offset": rhs_off, "output_offset": out_off,
        "output_multiplier": int(mult), "output_shift": int(shift)})
    assert c.te_batch_matmul_s8(params, p(np.ascontiguousarray(lhs)),
                                p(np.ascontiguousarray(rhs)), p(out)) == TE_OK
    return out


def test_batch_matmul_worked_example():
    a = np.array([[1, 2], [3, 4]], np.int8)
    b = np.array([[5, 6], [7, 8]], np.int8)
    # [[1*5 + 2*7, 1*6 + 2*8], [3*5 + 4*7, 3*6 + 4*8]] at scale 1 (2^30, shift 1)
    np.testing.assert_array_equal(run_batch_matmul(a, b, 2**30, 1), [[19, 22], [43, 50]])
    # adj_y multiplies by b transposed; a zero point of 1 on lhs subtracts 1 first
    np.testing.assert_array_equal(run_batch_matmul(a, b, 2**30, 1, lhs_off=-1, adj_y=True),
                                  [[6, 8], [28, 38]])


def test_batch_matmul_random():
    rng = np.random.default_rng(51)
    for case in range(80):
        rank = int(rng.integers(2, 6))
        batch = [int(rng.integers(1, 4)) for _ in range(rank - 2)]
        lb = [d if rng.random() < 0.7 else 1 for d in batch]
        rb = [d if rng.random() < 0.7 else 1 for d in batch]
        if case % 4 == 0 and lb:
            lb = lb[1:]  # lower rank lhs
        m, k, n = (int(rng.integers(1, 6)) for _ in range(3))
        adj_x, adj_y = bool(case % 2), bool((case // 2) % 2)
        lhs = rng.integers(-128, 128, size=lb + ([k, m] if adj_x else [m, k]), dtype=np.int8)
        rhs = rng.integers(-128, 128, size=rb + ([n, k] if adj_y else [k, n]), dtype=np.int8)
        (mult,), (shift,) = random_multipliers(rng, 1, (-14, -6) if case % 5 else (-1, 3))
        offs = (int(rng.integers(-127, 129)), int(rng.integers(-127, 129)),
                int(rng.integers(-128, 128)))
        got = run_batch_matmul(lhs, rhs, mult, shift, *offs, adj_x=adj_x, adj_y=adj_y)
        want = ref.batch_matmul(lhs, rhs, mult, shift, lhs_offset=offs[0], rhs_offset=offs[1],
                                output_offset=offs[2], adj_x=adj_x, adj_y=adj_y)
        np.testing.assert_array_equal(got, want, err_msg=f"case {case}")


def test_batch_matmul_arguments():
    ffi, c = lib()
    a, b, out = np.zeros(4, np.int8), np.zeros(4, np.int8), np.zeros(4, np.int8)
    good = {"batch_shape": [1, 1, 1], "lhs_batch_strides": [0, 0, 0],
            "rhs_batch_strides": [0, 0, 0], "rows": 2, "cols": 2, "depth": 2,
            "lhs_row_stride": 2, "lhs_depth_stride": 1, "rhs_depth_stride": 2,
            "rhs_col_stride": 1, "lhs_size": 4, "rhs_size": 4, "lhs_offset": 0,
            "rhs_offset": 0, "output_offset": 0, "output_multiplier": 2**30, "output_shift": 1}
    params = ffi.new("te_batch_matmul_params *", good)
    assert c.te_batch_matmul_s8(params, p(a), p(b), p(out)) == TE_OK
    for change in ({"lhs_size": 3}, {"rhs_col_stride": 2},
                   {"batch_shape": [1, 2, 1], "lhs_batch_strides": [0, 4, 0]},
                   {"depth": 0}, {"lhs_offset": 200}, {"rhs_depth_stride": -1}):
        bad = ffi.new("te_batch_matmul_params *", dict(good, **change))
        assert c.te_batch_matmul_s8(bad, p(a), p(b), p(out)) == TE_ARG_ERROR, change
    assert c.te_batch_matmul_s8(params, ffi.NULL, p(b), p(out)) == TE_ARG_ERROR
