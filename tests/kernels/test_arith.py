"""The shared integer helpers of te_arith.h (through a test-only shim) against
tinyedge.reference, on hand-checked values, extremes and random values."""
import numpy as np
import pytest

from kernel_harness import kernels
from tinyedge import reference as ref

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
EXTREMES = [INT32_MIN, INT32_MIN + 1, -(2**30), -3, -2, -1, 0, 1, 2, 3, 2**30, INT32_MAX]


def test_srdhm_worked_examples():
    _, lib = kernels()
    assert lib.te_test_srdhm(100, 2**30) == 50           # 100 * 0.5
    assert lib.te_test_srdhm(3, 2**30) == 2              # 1.5 rounds up
    assert lib.te_test_srdhm(-3, 2**30) == -1            # -1.5: ties go toward +inf
    assert lib.te_test_srdhm(INT32_MIN, INT32_MIN) == INT32_MAX  # the one saturating case
    assert lib.te_test_srdhm(INT32_MIN, INT32_MAX) == INT32_MIN + 1


def test_rdbpot_worked_examples():
    _, lib = kernels()
    assert lib.te_test_rdbpot(5, 1) == 3      # 2.5 -> 3 (away from zero)
    assert lib.te_test_rdbpot(-5, 1) == -3    # -2.5 -> -3
    assert lib.te_test_rdbpot(-6, 2) == -2    # -1.5 -> -2
    assert lib.te_test_rdbpot(-5, 2) == -1    # -1.25 -> -1
    assert lib.te_test_rdbpot(7, 0) == 7      # exponent 0 is the identity
    assert lib.te_test_rdbpot(INT32_MIN, 31) == -1   # -1 exactly
    assert lib.te_test_rdbpot(INT32_MAX, 31) == 1    # 0.99999... -> 1


def test_mbqm_worked_examples():
    _, lib = kernels()
    assert lib.te_test_mbqm(100, 2**30, 0) == 50      # 0.5 * 100
    assert lib.te_test_mbqm(100, 2**30, 2) == 200     # 2.0 * 100
    assert lib.te_test_mbqm(-3, 2**30, -1) == -1      # srdhm -> -1, then -0.5 -> -1
    assert lib.te_test_mbqm(-6, 2**30, -1) == -2      # srdhm -> -3, then -1.5 -> -2
    # x << 1 wraps like TFLite's int32: 2^30 * 2 = -2^31, times 0.5 = -2^30.
    assert lib.te_test_mbqm(2**30, 2**30, 1) == -(2**30)


def test_srdhm_rdbpot_mbqm_random():
    _, lib = kernels()
    rng = np.random.default_rng(1)
    a = np.concatenate([EXTREMES, rng.integers(INT32_MIN, INT32_MAX, 400, endpoint=True)])
    b = np.concatenate([EXTREMES[::-1], rng.integers(INT32_MIN, INT32_MAX, 400, endpoint=True)])
    want = ref.srdhm(a, b)
    got = [lib.te_test_srdhm(int(x), int(y)) for x, y in zip(a, b)]
    np.testing.assert_array_equal(got, want)

    e = rng.integers(0, 32, a.size)
    want = ref.rdbpot(a, e)
    got = [lib.te_test_rdbpot(int(x), int(k)) for x, k in zip(a, e)]
    np.testing.assert_array_equal(got, want)

    m = rng.integers(2**30, 2**31, a.size)
    s = rng.integers(-31, 31, a.size)
    want = ref.mbqm(a, m, s)
    got = [lib.te_test_mbqm(int(x), int(y), int(k)) for x, y, k in zip(a, m, s)]
    np.testing.assert_array_equal(got, want)


def test_exp_on_negative_values():
    _, lib = kernels()
    # Q5.26: 0 -> 1.0 (saturated), -1.0 -> exp(-1), -32 or less -> ~0.
    assert lib.te_test_exp_on_negative_values(0) == INT32_MAX
    assert abs(lib.te_test_exp_on_negative_values(-(2**26)) / 2**31 - np.exp(-1)) < 1e-6
    rng = np.random.default_rng(2)
    a = np.concatenate([[0, -1, -(2**24), -(2**26), INT32_MIN, INT32_MIN + 1],
                        rng.integers(INT32_MIN, 0, 2000, endpoint=True),
                        rng.integers(-(2**27), 0, 2000, endpoint=True)])
    got = np.array([lib.te_test_exp_on_negative_values(int(v)) for v in a])
    np.testing.assert_array_equal(got, ref.exp_on_negative_values(a))
    # And it is close to the real exponential.
    assert np.max(np.abs(got / 2**31 - np.exp(a / 2**26))) < 1e-6


def test_one_over_one_plus_x_and_reciprocal():
    ffi, lib = kernels()
    rng = np.random.default_rng(3)
    a = np.concatenate([[0, 1, 2**30, INT32_MAX], rng.integers(0, INT32_MAX, 1000)])
    got = np.array([lib.te_test_one_over_one_plus_x(int(v)) for v in a])
    np.testing.assert_array_equal(got, ref.one_over_one_plus_x_for_x_in_0_1(a))
    assert np.max(np.abs(got / 2**31 - 1 / (1 + a / 2**31))) < 1e-8

    bits = ffi.new("int32_t *")
    for x in [1, 2**19, 3 * 2**19, 2**28 - 1, INT32_MAX, *rng.integers(1, INT32_MAX, 300)]:
        r = lib.te_test_get_reciprocal(int(x), bits)
        assert (r, bits[0]) == ref.get_reciprocal(int(x), 12), x


@pytest.mark.parametrize("x", [1.0, 1.25, 7.0, 100.5])
def test_get_reciprocal_value(x):
    """GetReciprocal(x in Q12.19) is 1/x = r * 2^-num_bits_over_unit in Q0.31."""
    ffi, lib = kernels()
    bits = ffi.new("int32_t *")
    r = lib.te_test_get_reciprocal(int(x * 2**19), bits)
    assert abs(r / 2**31 / 2**bits[0] - 1 / x) < 1e-6
