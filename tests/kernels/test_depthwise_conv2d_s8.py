"""te_depthwise_conv2d_s8 against TFLite's DepthwiseConvPerChannel semantics."""
import numpy as np
import pytest

from kernel_harness import TE_ARG_ERROR, TE_OK, Requant, dims_of, kernels, new, ptr
from kernel_harness import random_clamp, random_multipliers, shift_range_for
from tinyedge import reference as ref
from tinyedge.quant import compute_padding


def run_dw(x, filt, bias, mult, shift, out_hw, *, depth_multiplier=1, stride=(1, 1),
           dilation=(1, 1), pad=(0, 0), input_offset=0, output_offset=0, act=(-128, 127)):
    ffi, lib = kernels()
    out = np.zeros((x.shape[0], out_hw[0], out_hw[1], filt.shape[3]), dtype=np.int8)
    params = new("te_conv_params", stride_h=stride[0], stride_w=stride[1],
                 dilation_h=dilation[0], dilation_w=dilation[1], pad_h=pad[0], pad_w=pad[1],
                 depth_multiplier=depth_multiplier, input_offset=input_offset,
                 output_offset=output_offset, activation_min=act[0], activation_max=act[1])
    quant = Requant(mult, shift)
    bias_arr = None if bias is None else np.ascontiguousarray(bias, dtype=np.int32)
    status = lib.te_depthwise_conv2d_s8(
        params, quant.struct, dims_of(x.shape), ptr(x, "int8_t"), dims_of(filt.shape),
        ptr(filt, "int8_t"), ffi.NULL if bias_arr is None else ptr(bias_arr, "int32_t"),
        dims_of(out.shape), ptr(out, "int8_t"))
    assert status == TE_OK
    return out


def test_worked_example():
    # input 1x2x2x2: channel 0 = [[1, 2], [3, 4]], channel 1 = [[10, 20], [30, 40]]
    x = np.array([[[1, 10], [2, 20]],
                  [[3, 30], [4, 40]]], dtype=np.int8).reshape(1, 2, 2, 2)
    # 2x2 filter, depth multiplier 2: output channels 0, 1 read input channel 0,
    # output channels 2, 3 read input channel 1
    filt = np.zeros((1, 2, 2, 4), dtype=np.int8)
    filt[0, :, :, 0] = [[1, 1], [1, 1]]   # sum of channel 0
    filt[0, :, :, 1] = [[1, 0], [0, -1]]  # top-left minus bottom-right of channel 0
    filt[0, :, :, 2] = [[1, 0], [0, 0]]   # top-left of channel 1
    filt[0, :, :, 3] = [[0, 0], [0, 1]]   # bottom-right of channel 1
    # scale 1.0 for all channels (per tensor), bias 100 on channel 3
    out = run_dw(x, filt, [0, 0, 0, 100], [2**30], [1], (1, 1), depth_multiplier=2)
    # 1+2+3+4 = 10; 1-4 = -3; 10; 40+100 = 140 saturates to 127
    np.testing.assert_array_equal(out.reshape(-1), [10, -3, 10, 127])


def test_random_against_reference():
    rng = np.random.default_rng(7)
    checked = 0
    for case in range(150):
        n = int(rng.integers(1, 3))
        c_in = int(rng.integers(1, 6))
        dm = int(rng.choice([1, 1, 2, 3]))
        c_out = c_in * dm
        kh, kw = (int(v) for v in rng.integers(1, 4, 2))
        stride = tuple(int(v) for v in rng.integers(1, 4, 2))
        dilation = tuple(int(v) for v in rng.integers(1, 3, 2))
        h, w = (int(v) for v in rng.integers(1, 10, 2))
        padding = "SAME" if rng.random() < 0.6 else "VALID"
        oh, ph = compute_padding(h, kh, stride[0], dilation[0], padding)
        ow, pw = compute_padding(w, kw, stride[1], dilation[1], padding)
        if oh < 1 or ow < 1:
            continue
        x = rng.integers(-128, 128, (n, h, w, c_in), dtype=np.int8)
        filt = rng.integers(-127, 128, (1, kh, kw, c_out), dtype=np.int8)
        bias = None if case % 5 == 0 else rng.integers(-2**15, 2**15, c_out).astype(np.int32)
        if case % 13 == 0 and bias is not None:
            bias[-1] = -2**31  # wraps like TFLite's int32 accumulator
        count = 1 if case % 3 == 0 else c_out
        mult, shift = random_multipliers(rng, count, shift_range_for(case, kh * kw))
        kw_args = dict(depth_multiplier=dm, stride=stride, dilation=dilation, pad=(ph, pw),
                       input_offset=int(rng.integers(-127, 129)),
                       output_offset=int(rng.integers(-128, 128)))
        act = random_clamp(rng)
        got = run_dw(x, filt, bias, mult, shift, (oh, ow), act=act, **kw_args)
        want = ref.depthwise_conv2d(x, filt, bias, mult, shift, out_hw=(oh, ow),
                                    act_min=act[0], act_max=act[1], **kw_args)
        np.testing.assert_array_equal(got, want, err_msg=f"case {case}: {kw_args}")
        checked += 1
    assert checked > 100


def arg_error_call(**change):
    """te_depthwise_conv2d_s8 on a valid 1x5x5x3 input, depth multiplier 2,
    with one thing changed."""
    ffi, lib = kernels()
    x = np.zeros((1, 5, 5, 3), dtype=np.int8)
    filt = np.zeros((1, 3, 3, 6), dtype=np.int8)
    out = np.zeros((1, 5, 5, 6), dtype=np.int8)
    p = dict(stride_h=1, stride_w=1, dilation_h=1, dilation_w=1, pad_h=1, pad_w=1,
             depth_multiplier=2, input_offset=0, output_offset=0,
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
    return lib.te_depthwise_conv2d_s8(*args.values())


def test_valid_setup_is_ok():
    assert arg_error_call() == TE_OK


@pytest.mark.parametrize("name", ["params", "quant", "input_dims", "input", "filter_dims",
                                  "filter", "output_dims", "output"])
def test_null_pointer(name):
    ffi, _ = kernels()
    assert arg_error_call(**{name: ffi.NULL}) == TE_ARG_ERROR


@pytest.mark.parametrize("change", [
    {"set_params": {"depth_multiplier": 3}},      # C_out != C_in * depth_multiplier
    {"set_params": {"depth_multiplier": 0}},
    {"filter_shape": (1, 3, 3, 5)},               # filter channels != C_out
    {"filter_shape": (2, 3, 3, 6)},               # filter must be [1, KH, KW, C_out]
    {"output_shape": (1, 5, 5, 5)},
    {"output_shape": (2, 5, 5, 6)},
    {"requant": ([2**30] * 3, [0] * 3)},          # quant count is C_in, not C_out
    {"set_params": {"stride_w": 0}},
    {"set_params": {"dilation_h": -1}},
    {"set_params": {"activation_min": 1, "activation_max": 0}},
    {"set_params": {"input_offset": -128}},
])
def test_inconsistent_arguments(change):
    assert arg_error_call(**change) == TE_ARG_ERROR
