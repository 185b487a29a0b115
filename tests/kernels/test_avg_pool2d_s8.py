"""te_avg_pool2d_s8 against TFLite's AveragePool (int8) semantics."""
import numpy as np
import pytest

from kernel_harness import TE_ARG_ERROR, TE_OK, kernels
from pool_cases import COMMON_BAD_ARGUMENTS, arg_error_call, random_cases, run_pool
from tinyedge import reference as ref


def test_worked_example():
    x = np.array([[1, 2, -3],
                  [4, 6, -8],
                  [-1, -2, -5]], dtype=np.int8).reshape(1, 3, 3, 1)
    # 2x2 windows, stride 2, SAME padding (0 top/left): windows are clipped
    out = run_pool("te_avg_pool2d_s8", x, (2, 2), (2, 2), stride=(2, 2))
    # top-left: (1 + 2 + 4 + 6) / 4 = 3.25 -> 3
    # top-right: (-3 - 8) / 2 = -5.5 -> -6 (half away from zero; padding not counted)
    # bottom-left: (-1 - 2) / 2 = -1.5 -> -2
    # bottom-right: -5 / 1 = -5
    np.testing.assert_array_equal(out[0, :, :, 0], [[3, -6], [-2, -5]])


def test_rounding_ties_example():
    # one 1x2 window per output: (1 + 2) / 2 = 1.5 -> 2, (-1 - 2) / 2 -> -2, (0 + 1) / 2 -> 1
    x = np.array([1, 2, -1, -2, 0, 1], dtype=np.int8).reshape(1, 1, 6, 1)
    out = run_pool("te_avg_pool2d_s8", x, (1, 3), (1, 2), stride=(1, 2))
    np.testing.assert_array_equal(out.reshape(-1), [2, -2, 1])


def test_random_against_reference():
    checked = 0
    for case, c in random_cases(seed=5, count=120):
        got = run_pool("te_avg_pool2d_s8", c["x"], c["out_hw"], c["filter_hw"],
                       stride=c["stride"], pad=c["pad"], act=c["act"])
        want = ref.avg_pool2d(c["x"], out_hw=c["out_hw"], filter_hw=c["filter_hw"],
                              stride=c["stride"], pad=c["pad"], act_min=c["act"][0],
                              act_max=c["act"][1])
        np.testing.assert_array_equal(got, want, err_msg=f"case {case}")
        checked += 1
    assert checked > 80


def test_valid_setup_is_ok():
    assert arg_error_call("te_avg_pool2d_s8") == TE_OK


@pytest.mark.parametrize("name", ["params", "input_dims", "input", "output_dims", "output"])
def test_null_pointer(name):
    ffi, _ = kernels()
    assert arg_error_call("te_avg_pool2d_s8", **{name: ffi.NULL}) == TE_ARG_ERROR


@pytest.mark.parametrize("change", COMMON_BAD_ARGUMENTS + [
    {"set_params": {"pad_h": 2}},                          # first window is all padding
    {"output_shape": (1, 4, 3, 2)},                        # last window starts past the input
])
def test_inconsistent_arguments(change):
    assert arg_error_call("te_avg_pool2d_s8", **change) == TE_ARG_ERROR
