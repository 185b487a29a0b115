"""te_max_pool2d_s8 against TFLite's MaxPool (int8) semantics."""
import numpy as np
import pytest

from kernel_harness import TE_ARG_ERROR, TE_OK, kernels
from pool_cases import COMMON_BAD_ARGUMENTS, arg_error_call, random_cases, run_pool
from tinyedge import reference as ref


def test_worked_example():
    x = np.array([[1, 2, -3],
                  [4, 6, -8],
                  [-1, -2, -5]], dtype=np.int8).reshape(1, 3, 3, 1)
    # 2x2 windows, stride 2; the windows at the right and bottom edges are clipped
    out = run_pool("te_max_pool2d_s8", x, (2, 2), (2, 2), stride=(2, 2), act=(-4, 5))
    # top-left: max(1, 2, 4, 6) = 6, clamped to 5
    # top-right: max(-3, -8) = -3
    # bottom-left: max(-1, -2) = -1
    # bottom-right: -5, clamped to -4
    np.testing.assert_array_equal(out[0, :, :, 0], [[5, -3], [-1, -4]])


def test_random_against_reference():
    checked = 0
    for case, c in random_cases(seed=6, count=120):
        got = run_pool("te_max_pool2d_s8", c["x"], c["out_hw"], c["filter_hw"],
                       stride=c["stride"], pad=c["pad"], act=c["act"])
        want = ref.max_pool2d(c["x"], out_hw=c["out_hw"], filter_hw=c["filter_hw"],
                              stride=c["stride"], pad=c["pad"], act_min=c["act"][0],
                              act_max=c["act"][1])
        np.testing.assert_array_equal(got, want, err_msg=f"case {case}")
        checked += 1
    assert checked > 80


def test_valid_setup_is_ok():
    assert arg_error_call("te_max_pool2d_s8") == TE_OK


@pytest.mark.parametrize("name", ["params", "input_dims", "input", "output_dims", "output"])
def test_null_pointer(name):
    ffi, _ = kernels()
    assert arg_error_call("te_max_pool2d_s8", **{name: ffi.NULL}) == TE_ARG_ERROR


@pytest.mark.parametrize("change", COMMON_BAD_ARGUMENTS)
def test_inconsistent_arguments(change):
    assert arg_error_call("te_max_pool2d_s8", **change) == TE_ARG_ERROR
