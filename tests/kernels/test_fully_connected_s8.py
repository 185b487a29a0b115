"""te_fully_connected_s8 against TFLite's FullyConnected (per tensor) and
FullyConnectedPerChannel semantics."""
import numpy as np
import pytest

from kernel_harness import TE_ARG_ERROR, TE_OK, Requant, dims, kernels, new, ptr
from kernel_harness import random_clamp, random_multipliers, shift_range_for
from tinyedge import reference as ref
from tinyedge import weight_layout


def run_fc(x, filt, bias, mult, shift, *, input_offset=0, filter_offset=0, output_offset=0,
           act=(-128, 127), quad_rows=False):
    """The kernel on the [units, depth] weights filt, handed over in rows or, with
    quad_rows, in the TE_FC_QUAD_ROWS order the compiler emits for DSP targets."""
    ffi, lib = kernels()
    batches, depth = x.shape
    units = filt.shape[0]
    out = np.zeros((batches, units), dtype=np.int8)
    params = new("te_fc_params", input_offset=input_offset, filter_offset=filter_offset,
                 output_offset=output_offset, activation_min=act[0], activation_max=act[1],
                 filter_layout=weight_layout.QUAD_ROWS if quad_rows else weight_layout.ROWS)
    if quad_rows:
        filt = np.ascontiguousarray(weight_layout.quad_rows(filt))
    quant = Requant(mult, shift)
    bias_arr = None if bias is None else np.ascontiguousarray(bias, dtype=np.int32)
    status = lib.te_fully_connected_s8(
        params, quant.struct, dims(batches, 1, 1, depth), ptr(x, "int8_t"),
        dims(units, 1, 1, depth), ptr(filt, "int8_t"),
        ffi.NULL if bias_arr is None else ptr(bias_arr, "int32_t"),
        dims(batches, 1, 1, units), ptr(out, "int8_t"))
    assert status == TE_OK
    return out


def test_worked_example_per_tensor():
    x = np.array([[1, 2, 3]], dtype=np.int8)        # input zero point 1 -> offset -1: 0, 1, 2
    filt = np.array([[1, 1, 1],                     # filter zero point -1 -> offset +1: 2, 2, 2
                     [0, -2, 4]], dtype=np.int8)    #                                  1, -1, 5
    out = run_fc(x, filt, [10, -4], [2**30], [0], input_offset=-1, filter_offset=1,
                 output_offset=5)
    # unit 0: 0*2 + 1*2 + 2*2 = 6, + 10 = 16, * 0.5 = 8, + 5 = 13
    # unit 1: 0*1 + 1*-1 + 2*5 = 9, - 4 = 5, * 0.5 = 2.5 -> 3, + 5 = 8
    np.testing.assert_array_equal(out, [[13, 8]])


def test_worked_example_per_channel():
    x = np.array([[10, 20], [-10, 0]], dtype=np.int8)  # two batches
    filt = np.array([[1, 1], [1, -1]], dtype=np.int8)
    # unit 0 scale 1.0, unit 1 scale 0.25
    out = run_fc(x, filt, None, [2**30, 2**30], [1, -1])
    # batch 0: 10 + 20 = 30; (10 - 20) * 0.25 = -2.5 -> -3 (away from zero)
    # batch 1: -10; -10 * 0.25 = -2.5 -> -3
    np.testing.assert_array_equal(out, [[30, -3], [-10, -3]])


def test_random_against_reference():
    rng = np.random.default_rng(11)
    for case in range(120):
        batches = int(rng.integers(1, 4))
        depth = int(rng.integers(1, 300))
        units = int(rng.integers(1, 20))
        x = rng.integers(-128, 128, (batches, depth), dtype=np.int8)
        filt = rng.integers(-127 if case % 2 else -128, 128, (units, depth), dtype=np.int8)
        bias = None if case % 4 == 0 else rng.integers(-2**20, 2**20, units).astype(np.int32)
        per_channel = case % 2 == 1
        count = units if per_channel else 1
        mult, shift = random_multipliers(rng, count, shift_range_for(case, depth, 90.0 * 90.0))
        filter_offset = 0 if per_channel else int(rng.integers(-127, 129))
        kw_args = dict(input_offset=int(rng.integers(-127, 129)), filter_offset=filter_offset,
                       output_offset=int(rng.integers(-128, 128)))
        act = random_clamp(rng)
        got = run_fc(x, filt, bias, mult, shift, act=act, **kw_args)
        want = ref.fully_connected(x, filt, bias, mult, shift, act_min=act[0], act_max=act[1],
                                   **kw_args)
        np.testing.assert_array_equal(got, want, err_msg=f"case {case}: {kw_args}")


def test_quad_rows_order():
    # w[u][d] = 10 u + d, 5 units of depth 6: the first four units interleaved by
    # words (bytes 0-3), then their last two bytes each; unit 4 as a row
    weights = (10 * np.arange(5)[:, None] + np.arange(6)[None, :]).astype(np.int8)
    np.testing.assert_array_equal(weight_layout.quad_rows(weights), [
        0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33,
        4, 5, 14, 15, 24, 25, 34, 35,
        40, 41, 42, 43, 44, 45])


@pytest.mark.parametrize("units,depth", [(4, 4), (4, 1), (5, 3), (8, 9), (13, 64), (3, 10),
                                         (17, 130)])
def test_quad_rows_layout_gives_the_same_outputs(units, depth):
    rng = np.random.default_rng(units * 1000 + depth)
    for case in range(6):
        x = rng.integers(-128, 128, (int(rng.integers(1, 3)), depth), dtype=np.int8)
        filt = rng.integers(-127, 128, (units, depth), dtype=np.int8)
        bias = None if case == 0 else rng.integers(-2**20, 2**20, units).astype(np.int32)
        count = units if case % 2 else 1
        mult, shift = random_multipliers(rng, count, shift_range_for(case, depth, 90.0 * 90.0))
        kw_args = dict(input_offset=int(rng.integers(-127, 129)) if case > 2 else 0,
                       filter_offset=0 if count > 1 else int(rng.integers(-127, 129)),
                       output_offset=int(rng.integers(-128, 128)))
        got = run_fc(x, filt, bias, mult, shift, quad_rows=True, **kw_args)
        want = ref.fully_connected(x, filt, bias, mult, shift, **kw_args)
        np.testing.assert_array_equal(got, want, err_msg=f"case {case}: {kw_args}")


def test_long_accumulation_wraps_like_int32():
    # 40000 products of 255 * 255 overflow int32; TFLite's accumulator wraps.
    x = np.full((1, 40000), 127, dtype=np.int8)
    filt = np.full((1, 40000), 127, dtype=np.int8)
    kw_args = dict(input_offset=128, filter_offset=128)
    got = run_fc(x, filt, None, [2**30], [-20], **kw_args)
    want = ref.fully_connected(x, filt, None, [2**30], [-20], **kw_args)
    np.testing.assert_array_equal(got, want)


def arg_error_call(**change):
    """te_fully_connected_s8 on a valid 2x8 input and 3 units, one thing changed."""
    ffi, lib = kernels()
    x = np.zeros((2, 8), dtype=np.int8)
    filt = np.zeros((3, 8), dtype=np.int8)
    out = np.zeros((2, 3), dtype=np.int8)
    p = dict(input_offset=0, filter_offset=0, output_offset=0,
             activation_min=-128, activation_max=127)
    p.update(change.pop("set_params", {}))
    quant = Requant(*change.pop("requant", ([2**30] * 3, [0] * 3)))
    args = dict(params=new("te_fc_params", **p), quant=quant.struct,
                input_dims=dims(*change.pop("input_shape", (2, 1, 1, 8))), input=ptr(x, "int8_t"),
                filter_dims=dims(*change.pop("filter_shape", (3, 1, 1, 8))),
                filter=ptr(filt, "int8_t"), bias=ffi.NULL,
                output_dims=dims(*change.pop("output_shape", (2, 1, 1, 3))),
                output=ptr(out, "int8_t"))
    args.update(change)
    return lib.te_fully_connected_s8(*args.values())


def test_valid_setup_is_ok():
    assert arg_error_call() == TE_OK
    assert arg_error_call(requant=([2**30], [0]), set_params={"filter_offset": 3}) == TE_OK


@pytest.mark.parametrize("name", ["params", "quant", "input_dims", "input", "filter_dims",
                                  "filter", "output_dims", "output"])
def test_null_pointer(name):
    ffi, _ = kernels()
    assert arg_error_call(**{name: ffi.NULL}) == TE_ARG_ERROR


@pytest.mark.parametrize("change", [
    {"filter_shape": (3, 1, 1, 7)},             # depth mismatch
    {"output_shape": (2, 1, 1, 4)},             # units mismatch
    {"output_shape": (1, 1, 1, 3)},             # batches mismatch
    {"input_shape": (2, 2, 1, 4)},              # input must be {batches, 1, 1, depth}
    {"requant": ([2**30] * 2, [0] * 2)},        # count neither 1 nor units
    {"set_params": {"filter_offset": 1}},       # per-channel weights must be symmetric
    {"set_params": {"activation_min": 5, "activation_max": 4}},
    {"set_params": {"input_offset": 200}},
    {"set_params": {"output_offset": 128}},
    {"set_params": {"filter_layout": 2}},       # neither TE_FC_ROWS nor TE_FC_QUAD_ROWS
])
def test_inconsistent_arguments(change):
    assert arg_error_call(**change) == TE_ARG_ERROR
