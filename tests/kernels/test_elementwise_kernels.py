"""The int8 elementwise kernels (MUL, SUB, SQUARED_DIFFERENCE, MAXIMUM,
MINIMUM, PRELU, LOGISTIC, TANH, HARD_SWISH, RELU, RELU6, LEAKY_RELU, the table
kernel, RSQRT, L2_NORMALIZATION) against the numpy references in
tinyedge/reference.py: a worked example each, randomized cases, argument checks."""
import functools

import numpy as np
import pytest

from kernel_harness import ARITH_SHIM, CDEF, INCLUDE_DIR, KERNEL_SOURCES, TE_ARG_ERROR, TE_OK
from tinyedge import quant
from tinyedge import reference as ref
from tinyedge.host import build_library, load_library
from tinyedge.ops import hard_swish as hard_swish_op
from tinyedge.ops import logistic as logistic_op

EXTRA_CDEF = """
typedef struct { int32_t input1_offset; int32_t input2_offset; int32_t output_offset;
    int32_t output_multiplier; int32_t output_shift;
    int32_t activation_min; int32_t activation_max; } te_mul_params;
typedef struct { int32_t input_zero_point; int32_t input_range_radius;
    int32_t input_multiplier; int32_t input_left_shift; } te_sigmoid_params;
typedef struct { int32_t input_zero_point; int32_t output_zero_point;
    int32_t reluish_multiplier; int32_t reluish_exponent;
    int32_t output_multiplier; int32_t output_exponent; } te_hard_swish_params;
typedef struct { int32_t input_zero_point; int32_t output_zero_point;
    int32_t output_multiplier; int32_t output_shift;
    int32_t activation_min; int32_t activation_max; } te_relu_params;
typedef struct { int32_t input_zero_point; int32_t output_zero_point;
    int32_t identity_multiplier; int32_t identity_shift;
    int32_t alpha_multiplier; int32_t alpha_shift; } te_leaky_relu_params;
typedef struct { int32_t input_offset; int32_t alpha_offset; int32_t output_offset;
    int32_t output_multiplier_1; int32_t output_shift_1;
    int32_t output_multiplier_2; int32_t output_shift_2; } te_prelu_params;
typedef struct { int32_t input_zero_point; int32_t output_zero_point;
    int32_t output_multiplier; int32_t output_shift; } te_rsqrt_params;

te_status te_mul_s8(const te_mul_params *, const te_elementwise_shape *, const int8_t *,
                    const int8_t *, int8_t *);
te_status te_sub_s8(const te_add_params *, const te_elementwise_shape *, const int8_t *,
                    const int8_t *, int8_t *);
te_status te_squared_difference_s8(const te_add_params *, const te_elementwise_shape *,
                                   const int8_t *, const int8_t *, int8_t *);
te_status te_maximum_s8(const te_elementwise_shape *, const int8_t *, const int8_t *, int8_t *);
te_status te_minimum_s8(const te_elementwise_shape *, const int8_t *, const int8_t *, int8_t *);
te_status te_prelu_s8(const te_prelu_params *, const te_elementwise_shape *, const int8_t *,
                      const int8_t *, int8_t *);
te_status te_logistic_s8(const te_sigmoid_params *, int32_t, const int8_t *, int8_t *);
te_status te_tanh_s8(const te_sigmoid_params *, int32_t, const int8_t *, int8_t *);
te_status te_hard_swish_s8(const te_hard_swish_params *, int32_t, const int8_t *, int8_t *);
te_status te_relu_s8(const te_relu_params *, int32_t, const int8_t *, int8_t *);
te_status te_relu6_s8(int32_t, int32_t, int32_t, const int8_t *, int8_t *);
te_status te_leaky_relu_s8(const te_leaky_relu_params *, int32_t, const int8_t *, int8_t *);
te_status te_lut_s8(const int8_t *, int32_t, const int8_t *, int8_t *);
te_status te_rsqrt_s8(const te_rsqrt_params *, int32_t, const int8_t *, int8_t *);
te_status te_l2_normalization_s8(int32_t, int32_t, int32_t, const int8_t *, int8_t *);
"""

EVERY = np.arange(-128, 128, dtype=np.int8)


@functools.lru_cache(maxsize=None)
def lib():
    path = build_library(KERNEL_SOURCES + [ARITH_SHIM], [INCLUDE_DIR])
    return load_library(path, CDEF + EXTRA_CDEF)


def p8(a):
    ffi, _ = lib()
    assert a.flags["C_CONTIGUOUS"]
    return ffi.cast("int8_t *", ffi.from_buffer(a))


def new(ctype, **fields):
    ffi, _ = lib()
    return ffi.new(ctype + " *", fields)


def shape_struct(shape1, shape2):
    out = np.broadcast_shapes(shape1, shape2)
    fields = {"broadcast": int(shape1 != shape2 or tuple(out) != tuple(shape1)),
              "output_shape": [1] * (6 - len(out)) + list(out)}
    for name, shape in (("input1_strides", shape1), ("input2_strides", shape2)):
        full = [1] * (6 - len(shape)) + list(shape)
        padded_out = [1] * (6 - len(out)) + list(out)
        strides, step = [0] * 6, 1
        for d in range(5, -1, -1):
            strides[d] = step if full[d] == padded_out[d] else 0
            step *= full[d]
        fields[name] = strides
    return new("te_elementwise_shape", **fields), out


def run_binary(name, params_type, params, x1, x2):
    _, l = lib()
    shape, out_shape = shape_struct(x1.shape, x2.shape)
    out = np.zeros(out_shape, dtype=np.int8)
    args = ([new(params_type, **params)] if params_type else []) + [shape, p8(x1), p8(x2), p8(out)]
    assert getattr(l, name)(*args) == TE_OK
    return out


def run_unary(name, params_type, params, x):
    _, l = lib()
    x = np.ascontiguousarray(x, dtype=np.int8)
    out = np.zeros_like(x)
    assert getattr(l, name)(new(params_type, **params), x.size, p8(x), p8(out)) == TE_OK
    return out


def random_shapes(rng):
    rank = int(rng.integers(1, 7))
    out = [int(v) for v in rng.integers(1, 5, rank)]
    s1 = [d if rng.random() < 0.6 else 1 for d in out]
    s2 = [d if rng.random() < 0.6 else 1 for d in out]
    return tuple(s1[int(rng.integers(0, rank)):]) or (1,), tuple(s2)


def scales(rng, n):
    return [float(np.float32(10.0 ** rng.uniform(-3, 0))) for _ in range(n)]


# ------------------------------------------------------------------ binary

def mul_params(s1, s2, so, z1, z2, zo, act=(-128, 127)):
    m, s = quant.quantize_multiplier(s1 * s2 / so)
    return dict(input1_offset=-z1, input2_offset=-z2, output_offset=zo, output_multiplier=m,
                output_shift=s, activation_min=act[0], activation_max=act[1])


def test_mul_worked_example():
    # scales 0.5 * 0.5 / 0.25 = 1: q_out = (q1 - 1) * (q2 + 2) - 3
    p = mul_params(0.5, 0.5, 0.25, 1, -2, -3)
    x1 = np.array([1, 3, 11, -5], dtype=np.int8)
    x2 = np.array([5, -4, 20, 100], dtype=np.int8)
    # 0*7-3 = -3; 2*-2-3 = -7; 10*22-3 = 217 -> 127; -6*102-3 -> -128
    np.testing.assert_array_equal(run_binary("te_mul_s8", "te_mul_params", p, x1, x2),
                                  [-3, -7, 127, -128])


def test_sub_worked_example():
    # equal scales 0.5, zero points 0: q_out = q1 - q2
    p = dict(ref_sub_params(0.5, 0.5, 0.5, 0, 0, 0))
    x1 = np.array([[10], [0]], dtype=np.int8)     # [2, 1]
    x2 = np.array([[1, 2, -100]], dtype=np.int8)  # [1, 3]
    np.testing.assert_array_equal(run_binary("te_sub_s8", "te_add_params", p, x1, x2),
                                  [[9, 8, 110], [-1, -2, 100]])


def ref_sub_params(s1, s2, so, z1, z2, zo, act=(-128, 127)):
    from tinyedge.ops.sub import LEFT_SHIFT
    f = np.float32
    twice = f(2) * max(f(s1), f(s2))
    m1, sh1 = quant.quantize_multiplier(float(f(s1) / twice))
    m2, sh2 = quant.quantize_multiplier(float(f(s2) / twice))
    mo, sho = quant.quantize_multiplier(float(twice / (f(1 << LEFT_SHIFT) * f(so))))
    return dict(input1_offset=-z1, input2_offset=-z2, output_offset=zo, left_shift=LEFT_SHIFT,
                input1_multiplier=m1, input1_shift=sh1, input2_multiplier=m2, input2_shift=sh2,
                output_multiplier=mo, output_shift=sho, activation_min=act[0],
                activation_max=act[1])


def sqdiff_params(s1, s2, so, z1, z2, zo):
    twice = 2.0 * max(s1, s2)
    m1, sh1 = quant.quantize_multiplier(s1 / twice)
    m2, sh2 = quant.quantize_multiplier(s2 / twice)
    mo, sho = quant.quantize_multiplier(twice * twice / float(np.float32(1 << 14) * np.float32(so)))
    return dict(input1_offset=-z1, input2_offset=-z2, output_offset=zo, left_shift=7,
                input1_multiplier=m1, input1_shift=sh1, input2_multiplier=m2, input2_shift=sh2,
                output_multiplier=mo, output_shift=sho, activation_min=-128, activation_max=127)


def test_squared_difference_worked_example():
    # input scales 1, output scale 1, zero points 0: q_out = (q1 - q2)^2
    p = sqdiff_params(1.0, 1.0, 1.0, 0, 0, 0)
    x1 = np.array([3, -2, 10, 0], dtype=np.int8)
    x2 = np.array([1, 2, -2, 0], dtype=np.int8)
    np.testing.assert_array_equal(
        run_binary("te_squared_difference_s8", "te_add_params", p, x1, x2), [4, 16, 127, 0])


def test_maximum_minimum_worked_example():
    x1 = np.array([[1, -5, 7]], dtype=np.int8)
    x2 = np.array([[0], [6]], dtype=np.int8)
    np.testing.assert_array_equal(run_binary("te_maximum_s8", None, None, x1, x2),
                                  [[1, 0, 7], [6, 6, 7]])
    np.testing.assert_array_equal(run_binary("te_minimum_s8", None, None, x1, x2),
                                  [[0, -5, 0], [1, -5, 6]])


def prelu_params(si, sa, so, zi, za, zo):
    m1, s1 = quant.quantize_multiplier(si / so)
    m2, s2 = quant.quantize_multiplier(si * sa / so)
    return dict(input_offset=-zi, alpha_offset=-za, output_offset=zo, output_multiplier_1=m1,
                output_shift_1=s1, output_multiplier_2=m2, output_shift_2=s2)


def test_prelu_worked_example():
    # input and output scale 1, alpha scale 1/4 per channel: alphas 0.25 and 1.0
    p = prelu_params(1.0, 0.25, 1.0, 0, 0, 0)
    x = np.array([[4, 4], [-8, -8]], dtype=np.int8)
    alpha = np.array([1, 4], dtype=np.int8)
    np.testing.assert_array_equal(run_binary("te_prelu_s8", "te_prelu_params", p, x, alpha),
                                  [[4, 4], [-2, -8]])


@pytest.mark.parametrize("op", ["mul", "sub", "sqdiff", "max", "min", "prelu"])
def test_binary_random_against_reference(op):
    rng = np.random.default_rng(31)
    for case in range(60):
        s1, s2 = random_shapes(rng)
        if op == "prelu":
            s1 = tuple(np.broadcast_shapes(s1, s2))
        x1 = rng.integers(-128, 128, s1, dtype=np.int8)
        x2 = rng.integers(-128, 128, s2, dtype=np.int8)
        sc = scales(rng, 3)
        zp = [int(v) for v in rng.integers(-128, 128, 3)]
        act = (-128, 127) if case % 3 else tuple(sorted(int(v) for v in rng.integers(-128, 128, 2)))
        if op == "mul":
            p = mul_params(*sc, *zp, act=act)
            got = run_binary("te_mul_s8", "te_mul_params", p, x1, x2)
            kw = dict(p); a = (kw.pop("activation_min"), kw.pop("activation_max"))
            want = ref.mul(x1, x2, act_min=a[0], act_max=a[1], **kw)
        elif op in ("sub", "sqdiff"):
            p = ref_sub_params(*sc, *zp, act=act) if op == "sub" else sqdiff_params(*sc, *zp)
            name = "te_sub_s8" if op == "sub" else "te_squared_difference_s8"
            got = run_binary(name, "te_add_params", p, x1, x2)
            kw = dict(p); a = (kw.pop("activation_min"), kw.pop("activation_max"))
            fn = ref.sub if op == "sub" else ref.squared_difference
            want = fn(x1, x2, act_min=a[0], act_max=a[1], **kw)
        elif op == "prelu":
            p = prelu_params(*sc, *zp)
            got = run_binary("te_prelu_s8", "te_prelu_params", p, x1, x2)
            want = ref.prelu(x1, x2, **p)
        else:
            got = run_binary(f"te_{op}imum_s8", None, None, x1, x2)
            want = (np.maximum if op == "max" else np.minimum)(x1, x2)
        np.testing.assert_array_equal(got, want, err_msg=f"{op} case {case}: {s1}, {s2}")


def test_binary_in_place():
    rng = np.random.default_rng(5)
    p = mul_params(0.02, 0.05, 0.04, 3, -7, 1)
    x1 = rng.integers(-128, 128, (3, 5), dtype=np.int8)
    x2 = rng.integers(-128, 128, (1, 5), dtype=np.int8)
    want = run_binary("te_mul_s8", "te_mul_params", p, x1, x2)
    _, l = lib()
    shape, _ = shape_struct(x1.shape, x2.shape)
    assert l.te_mul_s8(new("te_mul_params", **p), shape, p8(x1), p8(x2), p8(x1)) == TE_OK
    np.testing.assert_array_equal(x1, want)


# ------------------------------------------------------------------ unary

def test_logistic_worked_example():
    # input scale 1/16, zero point 0: x = 0 -> 1/2 -> q 0; x = 16 (1.0) -> 0.731 -> 187 - 128
    p = logistic_op.params(1.0 / 16, 0)
    x = np.array([0, 16, -16, 127, -128], dtype=np.int8)
    np.testing.assert_array_equal(run_unary("te_logistic_s8", "te_sigmoid_params", p, x),
                                  [0, 59, -59, 127, -128])  # 1/(1+e^-8) * 256 saturates


def test_tanh_worked_example():
    # input scale 1/16: tanh(0) = 0, tanh(1) = 0.7616 -> 97.5 -> 97 or 98
    p = logistic_op.params(1.0 / 16, 0)
    x = np.array([0, 16, -16, 127], dtype=np.int8)
    got = run_unary("te_tanh_s8", "te_sigmoid_params", p, x)
    np.testing.assert_array_equal(got[[0, 3]], [0, 127])
    assert abs(int(got[1]) - 97.5) <= 1 and got[2] == -got[1]


@pytest.mark.parametrize("fn", ["logistic", "tanh"])
def test_sigmoid_family_every_input(fn):
    rng = np.random.default_rng(7)
    for case in range(40):
        p = logistic_op.params(float(np.float32(10.0 ** rng.uniform(-3, 0.5))),
                               int(rng.integers(-128, 128)))
        got = run_unary(f"te_{fn}_s8", "te_sigmoid_params", p, EVERY)
        np.testing.assert_array_equal(got, getattr(ref, fn)(EVERY, **p), err_msg=f"{p}")


def test_hard_swish_worked_example():
    # input and output scale 1/16, zero point 0: x = 1.0 -> 1 * 4 / 6 = 0.667 -> 10.7
    p = hard_swish_op.params(1.0 / 16, 0, 1.0 / 16, 0)
    x = np.array([0, 16, -64, 64, -32], dtype=np.int8)  # 0, 1, -4, 4, -2
    got = run_unary("te_hard_swish_s8", "te_hard_swish_params", p, x)
    # 0; 0.667*16 = 10.7; -4 -> 0; 4 -> 4*16 = 64; -2 * 1/6 = -0.333 -> -5.3
    assert got[0] == 0 and abs(int(got[1]) - 10.7) <= 1 and got[2] == 0
    assert got[3] == 64 and abs(int(got[4]) + 5.3) <= 1
    np.testing.assert_array_equal(got, ref.hard_swish(x, **p))


def test_hard_swish_every_input():
    rng = np.random.default_rng(8)
    for case in range(60):
        s_in = float(np.float32(10.0 ** rng.uniform(-3, 0)))
        s_out = float(np.float32(s_in * 10.0 ** rng.uniform(-2, 2)))  # as the op accepts
        p = hard_swish_op.params(s_in, int(rng.integers(-128, 128)), s_out,
                                 int(rng.integers(-128, 128)))
        got = run_unary("te_hard_swish_s8", "te_hard_swish_params", p, EVERY)
        np.testing.assert_array_equal(got, ref.hard_swish(EVERY, **p), err_msg=f"{p}")


def test_relu_relu6_leaky_worked_examples():
    _, l = lib()
    # RELU: input scale 0.5 zp 2, output scale 0.25 zp -10: q_out = -10 + 2 * (q - 2), >= -10
    m, s = quant.quantize_multiplier(2.0)
    p = dict(input_zero_point=2, output_zero_point=-10, output_multiplier=m, output_shift=s,
             activation_min=-10, activation_max=127)
    x = np.array([2, 0, 12, 100], dtype=np.int8)
    np.testing.assert_array_equal(run_unary("te_relu_s8", "te_relu_params", p, x),
                                  [-10, -10, 10, 127])
    # RELU6: clamp to [zero, six] of the input
    out = np.zeros(4, dtype=np.int8)
    assert l.te_relu6_s8(-3, 20, 4, p8(np.array([-100, -3, 5, 50], dtype=np.int8)),
                         p8(out)) == TE_OK
    np.testing.assert_array_equal(out, [-3, -3, 5, 20])
    # LEAKY_RELU alpha -0.5, equal scales: -8 -> 4, 8 -> 8
    mi, si = quant.quantize_multiplier(1.0)
    ma, sa = quant.quantize_multiplier(-0.5)
    p = dict(input_zero_point=0, output_zero_point=0, identity_multiplier=mi,
             identity_shift=si, alpha_multiplier=ma, alpha_shift=sa)
    np.testing.assert_array_equal(
        run_unary("te_leaky_relu_s8", "te_leaky_relu_params", p,
                  np.array([-8, 8, -128], dtype=np.int8)), [4, 8, 64])


def test_relu_leaky_every_input():
    rng = np.random.default_rng(9)
    for case in range(60):
        s_in, s_out = scales(rng, 2)
        zi, zo = (int(v) for v in rng.integers(-128, 128, 2))
        m, s = quant.quantize_multiplier(s_in / s_out)
        p = dict(input_zero_point=zi, output_zero_point=zo, output_multiplier=m, output_shift=s,
                 activation_min=max(-128, zo), activation_max=127)
        np.testing.assert_array_equal(run_unary("te_relu_s8", "te_relu_params", p, EVERY),
                                      ref.relu(EVERY, **p))
        alpha = float(rng.uniform(-2, 2))
        ma, sa = quant.quantize_multiplier(s_in * alpha / s_out)
        p = dict(input_zero_point=zi, output_zero_point=zo, identity_multiplier=m,
                 identity_shift=s, alpha_multiplier=ma, alpha_shift=sa)
        np.testing.assert_array_equal(
            run_unary("te_leaky_relu_s8", "te_leaky_relu_params", p, EVERY),
            ref.leaky_relu(EVERY, **p), err_msg=f"alpha {alpha}")


def test_lut_worked_example():
    _, l = lib()
    table = (-EVERY.astype(np.int16)).clip(-128, 127).astype(np.int8)  # negation, saturated
    x = np.array([-128, -1, 0, 5, 127], dtype=np.int8)
    out = np.zeros_like(x)
    assert l.te_lut_s8(p8(table), 5, p8(x), p8(out)) == TE_OK
    np.testing.assert_array_equal(out, [127, 1, 0, -5, -127])


def test_elu_table_matches_float():
    from tinyedge.ops.elu import table
    t = table(0.05, -20, 0.04, 30)
    real = 0.05 * (EVERY.astype(np.float64) + 20)
    want = np.clip(np.round(np.where(real < 0, np.expm1(real), real) / 0.04) + 30, -128, 127)
    assert np.max(np.abs(t - want)) <= 1


def test_rsqrt_worked_example():
    # input scale 1/16 zp 0, output scale 1/32 zp 0: x = 1.0 -> 1 -> 32; x = 4.0 -> 0.5 -> 16
    m, s = quant.quantize_multiplier(1.0 / (np.sqrt(1.0 / 16) * (1.0 / 32)))
    p = dict(input_zero_point=0, output_zero_point=0, output_multiplier=m, output_shift=s)
    x = np.array([16, 64, 0, 1], dtype=np.int8)
    got = run_unary("te_rsqrt_s8", "te_rsqrt_params", p, x)
    # x = 0 reads as the largest value; x = 1/16 -> 4 -> 128 saturates
    np.testing.assert_array_equal(got, [32, 16, 127, 127])
    np.testing.assert_array_equal(got, ref.rsqrt(x, **p))


def test_rsqrt_every_input_and_negative_input_fails():
    rng = np.random.default_rng(10)
    _, l = lib()
    for case in range(30):
        s_in, s_out = scales(rng, 2)
        zi, zo = (int(v) for v in rng.integers(-128, 128, 2))
        m, s = quant.quantize_multiplier(1.0 / (np.sqrt(s_in) * s_out))
        if s - 20 < -31:
            continue
        p = dict(input_zero_point=zi, output_zero_point=zo, output_multiplier=m, output_shift=s)
        x = EVERY[EVERY >= zi].copy()
        np.testing.assert_array_equal(run_unary("te_rsqrt_s8", "te_rsqrt_params", p, x),
                                      ref.rsqrt(x, **p))
        if zi > -128:
            bad = np.array([zi, zi - 1], dtype=np.int8)
            out = np.full(2, 7, dtype=np.int8)
            assert l.te_rsqrt_s8(new("te_rsqrt_params", **p), 2, p8(bad), p8(out)) == TE_ARG_ERROR
            np.testing.assert_array_equal(out, [7, 7])  # nothing written


def test_l2_normalization_worked_example_and_random():
    _, l = lib()
    # row (3, 4): norm 5 -> (0.6, 0.8) -> 76.8, 102.4 at scale 1/128
    x = np.array([[3, 4], [0, 0]], dtype=np.int8)
    out = np.zeros_like(x)
    assert l.te_l2_normalization_s8(0, 2, 2, p8(x), p8(out)) == TE_OK
    np.testing.assert_array_equal(out, ref.l2_normalization(x, input_zero_point=0))
    assert abs(int(out[0, 0]) - 76.8) <= 1 and abs(int(out[0, 1]) - 102.4) <= 1
    assert list(out[1]) == [0, 0]
    rng = np.random.default_rng(11)
    for case in range(40):
        rows, depth = int(rng.integers(1, 5)), int(rng.integers(1, 300))
        zp = int(rng.integers(-128, 128))
        x = rng.integers(-128, 128, (rows, depth), dtype=np.int8)
        if case % 4 == 0:
            x = np.clip(x // 32 + zp, -128, 127).astype(np.int8)  # small sums
        out = np.zeros_like(x)
        assert l.te_l2_normalization_s8(zp, rows, depth, p8(x), p8(out)) == TE_OK
        np.testing.assert_array_equal(out, ref.l2_normalization(x, input_zero_point=zp))


@pytest.mark.parametrize("call", [
    lambda l, ffi, x, o: l.te_mul_s8(ffi.NULL, shape_struct((2,), (2,))[0], p8(x), p8(x), p8(o)),
    lambda l, ffi, x, o: l.te_maximum_s8(shape_struct((2,), (2,))[0], ffi.NULL, p8(x), p8(o)),
    lambda l, ffi, x, o: l.te_logistic_s8(new("te_sigmoid_params", input_multiplier=-1), 2,
                                          p8(x), p8(o)),
    lambda l, ffi, x, o: l.te_hard_swish_s8(new("te_hard_swish_params", output_exponent=1), 2,
                                            p8(x), p8(o)),
    lambda l, ffi, x, o: l.te_relu6_s8(5, 4, 2, p8(x), p8(o)),
    lambda l, ffi, x, o: l.te_lut_s8(ffi.NULL, 2, p8(x), p8(o)),
    lambda l, ffi, x, o: l.te_l2_normalization_s8(0, 1, 0, p8(x), p8(o)),
    lambda l, ffi, x, o: l.te_sub_s8(new("te_add_params", left_shift=21),
                                     shape_struct((2,), (2,))[0], p8(x), p8(x), p8(o)),
])
def test_argument_errors(call):
    ffi, l = lib()
    x = np.zeros(2, dtype=np.int8)
    o = np.zeros(2, dtype=np.int8)
    assert call(l, ffi, x, o) == TE_ARG_ERROR
