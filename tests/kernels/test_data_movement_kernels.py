"""The data movement and reduction kernels (te_strided_copy_s8, te_pad_s8,
te_mean_s8, te_concatenation_s8, te_split_s8, te_gather_s8, te_arg_max_s8):
worked examples, then randomized cases against tinyedge.reference."""
from __future__ import annotations

import functools

import numpy as np
import pytest

from kernel_harness import INCLUDE_DIR, KERNEL_SOURCES, TE_ARG_ERROR, TE_OK
from tinyedge import reference as ref
from tinyedge.host import build_library, load_library
from tinyedge.quant import quantize_multiplier

CDEF = """
typedef enum { TE_OK = 0, TE_ARG_ERROR = -1 } te_status;
typedef struct { int32_t shape[6]; int32_t strides[6]; int32_t offset; int32_t input_size; }
    te_strided_copy_params;
typedef struct { int32_t input_shape[6]; int32_t pad_before[6]; int32_t pad_after[6];
                 int32_t pad_value; } te_pad_params;
typedef struct { int32_t shape[6]; int32_t strides[6]; int32_t reduced_rank; int32_t count;
                 int32_t input_zero_point; int32_t output_zero_point; int32_t multiplier;
                 int32_t shift; } te_reduce_params;
typedef struct { int32_t outer; int32_t count; const int32_t *chunks; } te_concat_params;
typedef struct { int32_t batch; int32_t outer; int32_t axis_size; int32_t inner;
                 int32_t coords; } te_gather_params;
typedef struct { int32_t outer; int32_t axis_size; int32_t inner; int32_t is_min; } te_arg_params;
te_status te_strided_copy_s8(const te_strided_copy_params *params, const int8_t *input,
                             int8_t *output);
te_status te_pad_s8(const te_pad_params *params, const int8_t *input, int8_t *output);
te_status te_mean_s8(const te_reduce_params *params, const int8_t *input, int8_t *output);
te_status te_concatenation_s8(const te_concat_params *params, const int8_t *const *inputs,
                              int8_t *output);
te_status te_split_s8(const te_concat_params *params, const int8_t *input,
                      int8_t *const *outputs);
te_status te_gather_s8(const te_gather_params *params, const int32_t *positions,
                       const int8_t *input, int8_t *output);
te_status te_arg_max_s8(const te_arg_params *params, const int8_t *input, int32_t *output);
"""


@functools.lru_cache(maxsize=None)
def lib():
    return load_library(build_library(KERNEL_SOURCES, [INCLUDE_DIR]), CDEF)


def p(a: np.ndarray, ctype: str = "int8_t"):
    ffi, _ = lib()
    return ffi.cast(ctype + " *", ffi.from_buffer(a))


def strides_of(shape):
    return [int(s) for s in np.cumprod((list(shape[1:]) + [1])[::-1])[::-1]]


def pad6(values, fill):
    return [fill] * (6 - len(values)) + [int(v) for v in values]


# -- strided copy ------------------------------------------------------------

def strided_copy(x, shape, strides, offset):
    ffi, c = lib()
    out = np.zeros(int(np.prod(shape)), np.int8)
    params = ffi.new("te_strided_copy_params *", {
        "shape": pad6(shape, 1), "strides": pad6(strides, 0), "offset": offset,
        "input_size": x.size})
    assert c.te_strided_copy_s8(params, p(x), p(out)) == TE_OK
    return out.reshape(shape)


def test_strided_copy_worked_example():
    x = np.array([[1, 2, 3], [4, 5, 6]], np.int8)
    # transpose: output [3, 2] steps 1 along the input rows, 3 along its columns
    np.testing.assert_array_equal(strided_copy(x, [3, 2], [1, 3], 0), [[1, 4], [2, 5], [3, 6]])
    # x[1, ::-2]: start at element 5 (index 5), step -2
    np.testing.assert_array_equal(strided_copy(x, [2], [-2], 5), [6, 4])


def test_strided_copy_random_transposes_and_slices():
    rng = np.random.default_rng(7)
    for case in range(60):
        rank = int(rng.integers(1, 7))
        shape = [int(rng.integers(1, 5)) for _ in range(rank)]
        x = rng.integers(-128, 128, size=shape, dtype=np.int8)
        st = strides_of(shape)
        if case % 2:
            perm = [int(v) for v in rng.permutation(rank)]
            got = strided_copy(x, [shape[a] for a in perm], [st[a] for a in perm], 0)
            np.testing.assert_array_equal(got, ref.transpose(x, perm))
        else:
            steps = [int(rng.choice([-2, -1, 1, 2, 3])) for _ in range(rank)]
            starts = [int(rng.integers(0, d)) for d in shape]
            stops = [int(rng.integers(a, d + 1)) if s > 0 else int(rng.integers(-1, a))
                     for a, d, s in zip(starts, shape, steps)]
            want = ref.strided_slice(x, starts, stops, steps)
            if want.size == 0:
                continue
            offset = sum(a * s for a, s in zip(starts, st))
            got = strided_copy(x, list(want.shape), [s * k for s, k in zip(st, steps)], offset)
            np.testing.assert_array_equal(got, want)


def test_strided_copy_arguments():
    ffi, c = lib()
    x, out = np.zeros(6, np.int8), np.zeros(6, np.int8)
    good = {"shape": pad6([2, 3], 1), "strides": pad6([3, 1], 0), "offset": 0, "input_size": 6}
    assert c.te_strided_copy_s8(ffi.new("te_strided_copy_params *", good), p(x), p(out)) == TE_OK
    for change in ({"offset": 1}, {"offset": -1}, {"input_size": 5},
                   {"strides": pad6([3, -1], 0)}):
        bad = ffi.new("te_strided_copy_params *", dict(good, **change))
        assert c.te_strided_copy_s8(bad, p(x), p(out)) == TE_ARG_ERROR, change
    params = ffi.new("te_strided_copy_params *", good)
    assert c.te_strided_copy_s8(ffi.NULL, p(x), p(out)) == TE_ARG_ERROR
    assert c.te_strided_copy_s8(params, ffi.NULL, p(out)) == TE_ARG_ERROR
    assert c.te_strided_copy_s8(params, p(x), ffi.NULL) == TE_ARG_ERROR


# -- pad -----------------------------------------------------------------------

def run_pad(x, paddings, value, out=None):
    ffi, c = lib()
    shape = [d + a + b for d, (a, b) in zip(x.shape, paddings)]
    if out is None:
        out = np.zeros(shape, np.int8)
    params = ffi.new("te_pad_params *", {
        "input_shape": pad6(x.shape, 1), "pad_before": pad6([a for a, _ in paddings], 0),
        "pad_after": pad6([b for _, b in paddings], 0), "pad_value": value})
    assert c.te_pad_s8(params, p(x), p(out)) == TE_OK
    return out


def test_pad_worked_example():
    x = np.array([[1, 2], [3, 4]], np.int8)
    # one row above, one column left and two right, filled with the zero point -5
    np.testing.assert_array_equal(run_pad(x, [(1, 0), (1, 2)], -5), [
        [-5, -5, -5, -5, -5],
        [-5, 1, 2, -5, -5],
        [-5, 3, 4, -5, -5]])


def test_pad_random():
    rng = np.random.default_rng(8)
    for _ in range(60):
        rank = int(rng.integers(1, 7))
        x = rng.integers(-128, 128, size=[int(rng.integers(1, 5)) for _ in range(rank)],
                         dtype=np.int8)
        paddings = [(int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(rank)]
        value = int(rng.integers(-128, 128))
        np.testing.assert_array_equal(run_pad(x, paddings, value), ref.pad(x, paddings, value))


def _pad_overlap_limit(x_shape, paddings) -> int:
    from tinyedge.ir import DType, Node, OpKind, Quantization, Tensor
    from tinyedge.ops import pad

    q = Quantization((0.1,), (0,))
    out_shape = tuple(d + a + b for d, (a, b) in zip(x_shape, paddings))
    node = Node(OpKind.PAD, [Tensor("x", tuple(x_shape), DType.INT8, q),
                             Tensor("p", (len(x_shape), 2), DType.INT32,
                                    data=np.array(paddings, np.int32))],
                [Tensor("y", out_shape, DType.INT8, q)])
    return pad.overlap(node)[0]


@pytest.mark.parametrize("shape,paddings", [((3, 4), [(1, 1), (1, 1)]),
                                            ((2, 3, 5), [(0, 1), (2, 0), (1, 3)])])
def test_pad_in_place_at_the_planner_limit(shape, paddings):
    # The output starts exactly as far below the input as the planner's rule
    # allows, in one buffer: every input byte is still read before it is
    # overwritten.
    limit = _pad_overlap_limit(shape, paddings)
    assert limit < 0
    x = np.arange(1, int(np.prod(shape)) + 1, dtype=np.int8).reshape(shape)
    want = ref.pad(x, paddings, 0)
    buf = np.zeros(max(want.size, -limit + x.size), np.int8)
    buf[-limit:-limit + x.size] = x.reshape(-1)
    out = buf[:want.size]
    run_pad(buf[-limit:-limit + x.size].reshape(shape), paddings, 0, out=out)
    np.testing.assert_array_equal(out.reshape(want.shape), want)
    # one byte closer and the kernel overwrites input it has not read yet
    buf[:] = 0
    buf[-limit - 1:-limit - 1 + x.size] = x.reshape(-1)
    run_pad(buf[-limit - 1:-limit - 1 + x.size].reshape(shape), paddings, 0, out=buf[:want.size])
    assert not np.array_equal(buf[:want.size].reshape(want.shape), want)


def test_pad_arguments():
    ffi, c = lib()
    x, out = np.zeros(4, np.int8), np.zeros(16, np.int8)
    good = {"input_shape": pad6([4], 1), "pad_before": pad6([1], 0),
            "pad_after": pad6([1], 0), "pad_value": 0}
    assert c.te_pad_s8(ffi.new("te_pad_params *", good), p(x), p(out)) == TE_OK
    for change in ({"pad_value": 128}, {"pad_before": pad6([-1], 0)},
                   {"input_shape": pad6([-4], 1)}):
        bad = ffi.new("te_pad_params *", dict(good, **change))
        assert c.te_pad_s8(bad, p(x), p(out)) == TE_ARG_ERROR, change
    assert c.te_pad_s8(ffi.NULL, p(x), p(out)) == TE_ARG_ERROR


# -- mean / sum ------------------------------------------------------------------

def run_mean(x, axes, zp_in, zp_out, ratio, mean=True):
    ffi, c = lib()
    axes = sorted(a % x.ndim for a in axes)
    kept = [a for a in range(x.ndim) if a not in axes]
    st = strides_of(x.shape)
    count = int(np.prod([x.shape[a] for a in axes]))
    m, s = quantize_multiplier(ratio)
    if mean:
        k = min(count.bit_length() - 1, 32, 31 + s)
        m, s = (m << k) // count, s - k
    order = kept + axes
    params = ffi.new("te_reduce_params *", {
        "shape": pad6([x.shape[a] for a in order], 1), "strides": pad6([st[a] for a in order], 0),
        "reduced_rank": len(axes), "count": count, "input_zero_point": zp_in,
        "output_zero_point": zp_out, "multiplier": m, "shift": s})
    out = np.zeros([x.shape[a] for a in kept] or [1], np.int8)
    assert c.te_mean_s8(params, p(x), p(out)) == TE_OK
    return out


def test_mean_worked_example():
    x = np.array([[1, 2, 3, 4], [-1, -2, -2, -2]], np.int8)
    # scale ratio 1 (2^30, shift 1); 1/4 folded in: 2^30 * 4 / 4, shift 1 - 2
    # row 0: sum 10 -> 10 * 2^30 / 2^31 = 5, then / 2 = 2.5 -> 3 (half away from zero)
    # row 1: sum -7 -> -3.5 -> -3.5 rounds to -4 after the high multiply (-3.5 -> -3),
    #        then -3 / 2 = -1.5 -> -2
    np.testing.assert_array_equal(run_mean(x, [1], 0, 0, 1.0), [3, -2])
    # SUM at the same scale with zero point 1 -> 2: (10 - 4) + 2, (-7 - 4) + 2
    np.testing.assert_array_equal(run_mean(x, [1], 1, 2, 1.0, mean=False), [8, -9])


@pytest.mark.parametrize("mean", [True, False])
def test_mean_random(mean):
    rng = np.random.default_rng(9 + mean)
    for _ in range(60):
        rank = int(rng.integers(1, 6))
        x = rng.integers(-128, 128, size=[int(rng.integers(1, 6)) for _ in range(rank)],
                         dtype=np.int8)
        n_axes = int(rng.integers(1, min(rank, 2) + 1))
        axes = [int(a) for a in rng.choice(rank, size=n_axes, replace=False)]
        zp_in, zp_out = (int(v) for v in rng.integers(-128, 128, size=2))
        ratio = float(np.float32(10.0 ** rng.uniform(-2, 1)))
        m, s = quantize_multiplier(ratio)
        got = run_mean(x, axes, zp_in, zp_out, ratio, mean)
        want = ref.mean_or_sum(x, axes, input_zero_point=zp_in, output_zero_point=zp_out,
                               multiplier=m, shift=s, mean=mean)
        np.testing.assert_array_equal(got.reshape(-1), want.reshape(-1))


def test_mean_arguments():
    ffi, c = lib()
    x, out = np.zeros(4, np.int8), np.zeros(1, np.int8)
    good = {"shape": pad6([4], 1), "strides": pad6([1], 0), "reduced_rank": 1, "count": 4,
            "input_zero_point": 0, "output_zero_point": 0, "multiplier": 2**30, "shift": -1}
    assert c.te_mean_s8(ffi.new("te_reduce_params *", good), p(x), p(out)) == TE_OK
    for change in ({"count": 3}, {"reduced_rank": 0}, {"reduced_rank": 7},
                   {"multiplier": -1}):
        bad = ffi.new("te_reduce_params *", dict(good, **change))
        assert c.te_mean_s8(bad, p(x), p(out)) == TE_ARG_ERROR, change


# -- concatenation / split ---------------------------------------------------------

def test_concatenation_and_split_worked_example():
    ffi, c = lib()
    a = np.array([[1, 2], [3, 4]], np.int8)       # [2, 2]
    b = np.array([[5], [6]], np.int8)             # [2, 1]
    chunks = np.array([2, 1], np.int32)
    params = ffi.new("te_concat_params *", {"outer": 2, "count": 2,
                                            "chunks": p(chunks, "int32_t")})
    out = np.zeros((2, 3), np.int8)
    inputs = ffi.new("const int8_t *[2]", [p(a), p(b)])
    assert c.te_concatenation_s8(params, inputs, p(out)) == TE_OK
    np.testing.assert_array_equal(out, [[1, 2, 5], [3, 4, 6]])
    a2, b2 = np.zeros_like(a), np.zeros_like(b)
    outputs = ffi.new("int8_t *[2]", [p(a2), p(b2)])
    assert c.te_split_s8(params, p(out), outputs) == TE_OK
    np.testing.assert_array_equal(a2, a)
    np.testing.assert_array_equal(b2, b)


def test_concatenation_and_split_random():
    ffi, c = lib()
    rng = np.random.default_rng(10)
    for _ in range(40):
        rank = int(rng.integers(1, 5))
        base = [int(rng.integers(1, 4)) for _ in range(rank)]
        axis = int(rng.integers(0, rank))
        xs = []
        for _ in range(int(rng.integers(1, 5))):
            shape = list(base)
            shape[axis] = int(rng.integers(1, 4))
            xs.append(rng.integers(-128, 128, size=shape, dtype=np.int8))
        want = ref.concatenation(xs, axis)
        outer = int(np.prod(base[:axis]))
        chunks = np.array([x.size // outer for x in xs], np.int32)
        params = ffi.new("te_concat_params *", {"outer": outer, "count": len(xs),
                                                "chunks": p(chunks, "int32_t")})
        out = np.zeros(want.shape, np.int8)
        inputs = ffi.new("const int8_t *[]", [p(x) for x in xs])
        assert c.te_concatenation_s8(params, inputs, p(out)) == TE_OK
        np.testing.assert_array_equal(out, want)
        parts = [np.zeros_like(x) for x in xs]
        outputs = ffi.new("int8_t *[]", [p(x) for x in parts])
        assert c.te_split_s8(params, p(want), outputs) == TE_OK
        for part, x in zip(parts, ref.split(want, [x.shape[axis] for x in xs], axis)):
            np.testing.assert_array_equal(part, x)


def test_concatenation_arguments():
    ffi, c = lib()
    a, out = np.zeros(2, np.int8), np.zeros(2, np.int8)
    chunks = np.array([-1], np.int32)
    params = ffi.new("te_concat_params *", {"outer": 1, "count": 1,
                                            "chunks": p(chunks, "int32_t")})
    assert c.te_concatenation_s8(params, ffi.new("const int8_t *[1]", [p(a)]),
                                 p(out)) == TE_ARG_ERROR
    chunks[0] = 2
    assert c.te_concatenation_s8(params, ffi.new("const int8_t *[1]", [ffi.NULL]),
                                 p(out)) == TE_ARG_ERROR
    assert c.te_split_s8(params, p(a), ffi.new("int8_t *[1]", [ffi.NULL])) == TE_ARG_ERROR


# -- gather ---------------------------------------------------------------------------

def run_gather(x, positions, axis, batch_dims=0):
    ffi, c = lib()
    params = ffi.new("te_gather_params *", {
        "batch": int(np.prod(x.shape[:batch_dims])),
        "outer": int(np.prod(x.shape[batch_dims:axis])), "axis_size": x.shape[axis],
        "inner": int(np.prod(x.shape[axis + 1:])),
        "coords": int(np.prod(positions.shape[batch_dims:]))})
    shape = x.shape[:axis] + positions.shape[batch_dims:] + x.shape[axis + 1:]
    out = np.zeros(shape, np.int8)
    status = c.te_gather_s8(params, p(positions, "int32_t"), p(x), p(out))
    return status, out


def test_gather_worked_example():
    x = np.array([[10, 11], [20, 21], [30, 31]], np.int8)
    status, out = run_gather(x, np.array([2, 0, 2], np.int32), 0)
    assert status == TE_OK
    np.testing.assert_array_equal(out, [[30, 31], [10, 11], [30, 31]])
    status, _ = run_gather(x, np.array([3], np.int32), 0)   # out of range
    assert status == TE_ARG_ERROR
    status, _ = run_gather(x, np.array([-1], np.int32), 0)
    assert status == TE_ARG_ERROR


def test_gather_random():
    rng = np.random.default_rng(11)
    for _ in range(40):
        rank = int(rng.integers(1, 5))
        x = rng.integers(-128, 128, size=[int(rng.integers(1, 5)) for _ in range(rank)],
                         dtype=np.int8)
        batch_dims = int(rng.integers(0, min(rank - 1, 1) + 1)) if rank > 1 else 0
        axis = int(rng.integers(batch_dims, rank))
        pos_shape = list(x.shape[:batch_dims]) + [int(rng.integers(1, 4))
                                                   for _ in range(int(rng.integers(0, 3)))]
        positions = rng.integers(0, x.shape[axis], size=pos_shape).astype(np.int32)
        status, out = run_gather(x, positions, axis, batch_dims)
        assert status == TE_OK
        np.testing.assert_array_equal(out, ref.gather(x, positions, axis, batch_dims))


# -- arg max / min ----------------------------------------------------------------------

def run_arg(x, axis, is_min=False):
    ffi, c = lib()
    params = ffi.new("te_arg_params *", {
        "outer": int(np.prod(x.shape[:axis])), "axis_size": x.shape[axis],
        "inner": int(np.prod(x.shape[axis + 1:])), "is_min": int(is_min)})
    out = np.zeros(x.shape[:axis] + x.shape[axis + 1:], np.int32)
    assert c.te_arg_max_s8(params, p(x), p(out, "int32_t")) == TE_OK
    return out


def test_arg_max_worked_example():
    x = np.array([[3, 7, 7, -2], [-128, -128, -5, -5]], np.int8)
    np.testing.assert_array_equal(run_arg(x, 1), [1, 2])          # ties: first index
    np.testing.assert_array_equal(run_arg(x, 1, is_min=True), [3, 0])
    np.testing.assert_array_equal(run_arg(x, 0), [0, 0, 0, 0])


def test_arg_max_random():
    rng = np.random.default_rng(12)
    for case in range(40):
        rank = int(rng.integers(1, 5))
        x = rng.integers(-3, 3, size=[int(rng.integers(1, 6)) for _ in range(rank)],
                         dtype=np.int8)  # a small range makes ties common
        axis = int(rng.integers(0, rank))
        np.testing.assert_array_equal(run_arg(x, axis, case % 2 == 1),
                                      ref.arg_max(x, axis, case % 2 == 1))
