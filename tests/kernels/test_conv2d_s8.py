"""te_conv2d_s8 against TFLite's ConvPerChannel semantics (tinyedge.reference)."""
import numpy as np
import pytest

from kernel_harness import TE_ARG_ERROR, TE_OK, Requant, dims_of, kernels, new, ptr
from kernel_harness import random_clamp, random_multipliers, shift_range_for
from tinyedge import reference as ref
from tinyedge import weight_layout
from tinyedge.quant import compute_padding


def run_conv(x, filt, bias, mult, shift, out_hw, *, stride=(1, 1), dilation=(1, 1),
             pad=(0, 0), input_offset=0, output_offset=0, act=(-128, 127), pairs=False):
    """pairs: hand the kernel the filters interleaved in pairs (TE_CONV_FILTER_PAIRS)"""
    ffi, lib = kernels()
    out = np.zeros((x.shape[0], out_hw[0], out_hw[1], filt.shape[0]), dtype=np.int8)
    params = new("te_conv_params", stride_h=stride[0], stride_w=stride[1],
                 dilation_h=dilation[0], dilation_w=dilation[1], pad_h=pad[0], pad_w=pad[1],
                 depth_multiplier=1, input_offset=input_offset, output_offset=output_offset,
                 activation_min=act[0], activation_max=act[1], filter_layout=int(pairs))
    quant = Requant(mult, shift)
    bias_arr = None if bias is None else np.ascontiguousarray(bias, dtype=np.int32)
    data = weight_layout.filter_pairs(filt) if pairs else np.ascontiguousarray(filt)
    status = lib.te_conv2d_s8(params, quant.struct, dims_of(x.shape), ptr(x, "int8_t"),
                              dims_of(filt.shape), ptr(data, "int8_t"),
                              ffi.NULL if bias_arr is None else ptr(bias_arr, "int32_t"),
                              dims_of(out.shape), ptr(out, "int8_t"))
    assert status == TE_OK
    return out


def test_worked_example():
    # input 1x3x3x1, zero point -1 (input_offset +1), so the kernel sees 2..10
    x = np.array([[1, 2, 3],
                  [4, 5, 6],
                  [7, 8, 9]], dtype=np.int8).reshape(1, 3, 3, 1)
    # two 2x2 filters: channel 0 = [[1, 2], [3, 4]], channel 1 = [[-1, 0], [0, 0]]
    filt = np.array([[[1, 2], [3, 4]],
                     [[-1, 0], [0, 0]]], dtype=np.int8).reshape(2, 2, 2, 1)
    bias = [3, 0]
    # channel 0 scale 0.5 (2^30, shift 0), channel 1 scale 1.0 (2^30, shift 1)
    out = run_conv(x, filt, bias, [2**30, 2**30], [0, 1], (2, 2), input_offset=1, output_offset=-10)
    # channel 0, top-left: 2*1 + 3*2 + 5*3 + 6*4 = 47, + bias 3 = 50, * 0.5 = 25, - 10 = 15
    #            top-right: 3*1 + 4*2 + 6*3 + 7*4 = 57 -> 60 -> 30 -> 20
    #            bottom-left: 5 + 12 + 24 + 36 = 77 -> 80 -> 40 -> 30
    #            bottom-right: 6 + 14 + 27 + 40 = 87 -> 90 -> 45 -> 35
    np.testing.assert_array_equal(out[0, :, :, 0], [[15, 20], [30, 35]])
    # channel 1 is -(top-left input + 1) - 10
    np.testing.assert_array_equal(out[0, :, :, 1], [[-12, -13], [-15, -16]])


def test_padding_and_clamp_example():
    # 1x2x2x1 input of 10s, 3x3 filter of ones, SAME padding 1, scale 1.0:
    # every output sees all four inputs (the rest is padding) -> 40, clamped to 30
    x = np.full((1, 2, 2, 1), 10, dtype=np.int8)
    filt = np.ones((1, 3, 3, 1), dtype=np.int8)
    out = run_conv(x, filt, None, [2**30], [1], (2, 2), pad=(1, 1), act=(-128, 30))
    np.testing.assert_array_equal(out[0, :, :, 0], [[30, 30], [30, 30]])


def random_case(rng, case):
    n = int(rng.integers(1, 3))
    groups = int(rng.choice([1, 1, 2, 3]))
    c_per_group = int(rng.integers(1, 5))
    c_in = groups * c_per_group
    c_out = groups * int(rng.integers(1, 4))
    kh, kw = (int(v) for v in rng.integers(1, 4, 2))
    stride = tuple(int(v) for v in rng.integers(1, 4, 2))
    dilation = tuple(int(v) for v in rng.integers(1, 3, 2))
    h, w = (int(v) for v in rng.integers(1, 10, 2))
    padding = "SAME" if rng.random() < 0.6 else "VALID"
    oh, ph = compute_padding(h, kh, stride[0], dilation[0], padding)
    ow, pw = compute_padding(w, kw, stride[1], dilation[1], padding)
    if oh < 1 or ow < 1:
        return None
    x = rng.integers(-128, 128, (n, h, w, c_in), dtype=np.int8)
    filt = rng.integers(-127, 128, (c_out, kh, kw, c_per_group), dtype=np.int8)
    if case % 7 == 0:
        filt[...] = rng.choice([-127, 127], filt.shape)  # extreme weights
    bias = None if case % 5 == 0 else rng.integers(-2**16, 2**16, c_out).astype(np.int32)
    if case % 11 == 0 and bias is not None:
        bias[0] = 2**31 - 1  # accumulator wraps like TFLite's int32
    count = 1 if case % 3 == 0 else c_out
    mult, shift = random_multipliers(rng, count, shift_range_for(case, kh * kw * c_per_group))
    return dict(x=x, filt=filt, bias=bias, mult=mult, shift=shift, out_hw=(oh, ow),
                stride=stride, dilation=dilation, pad=(ph, pw),
                input_offset=int(rng.integers(-127, 129)),
                output_offset=int(rng.integers(-128, 128)), act=random_clamp(rng))


def random_cases(seed):
    """(case, arguments) for the valid ones of 150 random cases"""
    rng = np.random.default_rng(seed)
    for case in range(150):
        c = random_case(rng, case)
        if c is not None:
            yield case, c


def test_random_against_reference():
    checked = 0
    for case, c in random_cases(20261101):
        got = run_conv(c["x"], c["filt"], c["bias"], c["mult"], c["shift"], c["out_hw"],
                       stride=c["stride"], dilation=c["dilation"], pad=c["pad"],
                       input_offset=c["input_offset"], output_offset=c["output_offset"],
                       act=c["act"])
        want = ref.conv2d(c["x"], c["filt"], c["bias"], c["mult"], c["shift"],
                          out_hw=c["out_hw"], stride=c["stride"], dilation=c["dilation"],
                          pad=c["pad"], input_offset=c["input_offset"],
                          output_offset=c["output_offset"], act_min=c["act"][0],
                          act_max=c["act"][1])
        np.testing.assert_array_equal(got, want, err_msg=f"case {case}: {c['x'].shape} "
                                      f"{c['filt'].shape} stride {c['stride']} "
                                      f"dilation {c['dilation']} pad {c['pad']}")
        checked += 1
    assert checked > 100


def test_filters_in_pairs_give_the_same_outputs():
    """TE_CONV_FILTER_PAIRS (te_types.h): groups 1, C_out even, k a multiple of 4."""
    checked = 0
    for case, c in random_cases(20261128):
        c_out, kh, kw, c_in = c["filt"].shape
        if c["x"].shape[3] != c_in or c_out % 2 or (kh * kw * c_in) % 4:
            continue
        kwargs = dict(stride=c["stride"], dilation=c["dilation"], pad=c["pad"],
                      input_offset=c["input_offset"], output_offset=c["output_offset"],
                      act=c["act"])
        args = (c["x"], c["filt"], c["bias"], c["mult"], c["shift"], c["out_hw"])
        np.testing.assert_array_equal(run_conv(*args, pairs=True, **kwargs),
                                      run_conv(*args, **kwargs), err_msg=f"case {case}")
        checked += 1
    assert checked >= 10


def arg_error_call(**change):
    """Call te_conv2d_s8 on a valid 1x4x4x4 -> 1x4x4x6 (2 groups) setup with
    one thing changed; returns the status."""
    ffi, lib = kernels()
    x = np.zeros((1, 4, 4, 4), dtype=np.int8)
    filt = np.zeros((6, 3, 3, 2), dtype=np.int8)
    out = np.zeros((1, 4, 4, 6), dtype=np.int8)
    p = dict(stride_h=1, stride_w=1, dilation_h=1, dilation_w=1, pad_h=1, pad_w=1,
             depth_multiplier=1, input_offset=0, output_offset=0,
             activation_min=-128, activation_max=127)
    p.update(change.pop("set_params", {}))
    quant = Requant(*change.pop("requant", ([2**30] * 6, [0] * 6)))
    args = dict(params=new("te_conv_params", **p), quant=quant.struct,
                input_dims=dims_of(change.pop("input_shape", x.shape)), input=ptr(x, "int8_t"),
                filter_dims=dims_of(change.pop("filter_shape", filt.shape)),
                filter=ptr(filt, "int8_t"), bias=ffi.NULL,
                output_dims=dims_of(change.pop("output_shape", out.shape)),
                output=ptr(out, "int8_t"))
    args.update(change)
    return lib.te_conv2d_s8(*args.values())


def test_valid_setup_is_ok():
    assert arg_error_call() == TE_OK


@pytest.mark.parametrize("name", ["params", "quant", "input_dims", "input", "filter_dims",
                                  "filter", "output_dims", "output"])
def test_null_pointer(name):
    ffi, _ = kernels()
    assert arg_error_call(**{name: ffi.NULL}) == TE_ARG_ERROR


@pytest.mark.parametrize("change", [
    {"output_shape": (1, 4, 4, 5)},             # C_out differs from the filter count
    {"output_shape": (2, 4, 4, 6)},             # batch mismatch
    {"filter_shape": (6, 3, 3, 3)},             # C_in (4) not a multiple of filter depth
    {"filter_shape": (6, 3, 3, 1), "output_shape": (1, 4, 4, 6),
     "input_shape": (1, 4, 4, 4)},              # 4 groups do not divide C_out = 6
    {"requant": ([2**30] * 2, [0] * 2)},          # quant count neither 1 nor C_out
    {"set_params": {"stride_h": 0}},
    {"set_params": {"dilation_w": 0}},
    {"set_params": {"pad_h": -1}},
    {"set_params": {"activation_min": 10, "activation_max": 9}},
    {"set_params": {"activation_max": 128}},
    {"set_params": {"input_offset": 129}},
    {"set_params": {"output_offset": -129}},
    {"input_shape": (1, 0, 4, 4)},
    {"set_params": {"filter_layout": 2}},       # no such layout
    {"set_params": {"filter_layout": 1}},       # filters in pairs with 2 groups
    {"set_params": {"filter_layout": 1}, "filter_shape": (6, 3, 3, 3),
     "input_shape": (1, 4, 4, 3)},              # pairs, k = 27: not whole words
    {"set_params": {"filter_layout": 1}, "filter_shape": (5, 1, 1, 4),
     "output_shape": (1, 4, 4, 5), "requant": ([2**30] * 5, [0] * 5)},  # pairs, C_out odd
])
def test_inconsistent_arguments(change):
    assert arg_error_call(**change) == TE_ARG_ERROR
