"""Shared setup of the two pooling kernel tests."""
import numpy as np

from kernel_harness import TE_OK, dims_of, kernels, new, ptr
from kernel_harness import random_clamp
from tinyedge.quant import compute_padding


def run_pool(kernel_name, x, out_hw, filter_hw, *, stride=(1, 1), pad=(0, 0), act=(-128, 127)):
    _, lib = kernels()
    out = np.zeros((x.shape[0], out_hw[0], out_hw[1], x.shape[3]), dtype=np.int8)
    params = new("te_pool_params", stride_h=stride[0], stride_w=stride[1],
                 filter_h=filter_hw[0], filter_w=filter_hw[1], pad_h=pad[0], pad_w=pad[1],
                 activation_min=act[0], activation_max=act[1])
    status = getattr(lib, kernel_name)(params, dims_of(x.shape), ptr(x, "int8_t"),
                                       dims_of(out.shape), ptr(out, "int8_t"))
    assert status == TE_OK
    return out


def random_cases(seed, count):
    """Pooling setups with SAME or VALID padding (as TFLite computes them)."""
    rng = np.random.default_rng(seed)
    for case in range(count):
        n = int(rng.integers(1, 3))
        c = int(rng.integers(1, 6))
        fh, fw = (int(v) for v in rng.integers(1, 5, 2))
        stride = tuple(int(v) for v in rng.integers(1, 4, 2))
        h, w = (int(v) for v in rng.integers(1, 12, 2))
        padding = "SAME" if rng.random() < 0.6 else "VALID"
        oh, ph = compute_padding(h, fh, stride[0], 1, padding)
        ow, pw = compute_padding(w, fw, stride[1], 1, padding)
        if oh < 1 or ow < 1:
            continue
        x = rng.integers(-128, 128, (n, h, w, c), dtype=np.int8)
        if case % 6 == 0:
            x[...] = rng.choice([-128, 127], x.shape)  # extremes
        yield case, dict(x=x, out_hw=(oh, ow), filter_hw=(fh, fw), stride=stride,
                         pad=(ph, pw), act=random_clamp(rng))


def arg_error_call(kernel_name, **change):
    """The pooling kernel on a valid 1x6x6x2 -> 1x3x3x2 (2x2, stride 2) setup
    with one thing changed."""
    _, lib = kernels()
    x = np.zeros((1, 6, 6, 2), dtype=np.int8)
    out = np.zeros((1, 3, 3, 2), dtype=np.int8)
    p = dict(stride_h=2, stride_w=2, filter_h=2, filter_w=2, pad_h=0, pad_w=0,
             activation_min=-128, activation_max=127)
    p.update(change.pop("set_params", {}))
    args = dict(params=new("te_pool_params", **p),
                input_dims=dims_of(change.pop("input_shape", x.shape)), input=ptr(x, "int8_t"),
                output_dims=dims_of(change.pop("output_shape", out.shape)),
                output=ptr(out, "int8_t"))
    args.update(change)
    return getattr(lib, kernel_name)(*args.values())


COMMON_BAD_ARGUMENTS = [
    {"output_shape": (1, 3, 3, 3)},            # channels differ
    {"output_shape": (2, 3, 3, 2)},            # batches differ
    {"input_shape": (1, 6, 0, 2)},
    {"set_params": {"stride_h": 0}},
    {"set_params": {"filter_w": 0}},
    {"set_params": {"pad_w": -1}},
    {"set_params": {"activation_min": 3, "activation_max": 2}},
    {"set_params": {"activation_min": -129}},
]
