"""te_add_s8 against TFLite's integer ADD (AddFunc, 6-D broadcast)."""
import numpy as np
import pytest

from kernel_harness import TE_ARG_ERROR, TE_OK, kernels, new, ptr, random_clamp
from tinyedge import reference as ref
from tinyedge.quant import add_params


def elementwise_shape(shape1, shape2, broadcast=True):
    """te_elementwise_shape for numpy-broadcasting two shapes (rank <= 6)."""
    out_shape = np.broadcast_shapes(shape1, shape2)
    fields = {"broadcast": int(broadcast), "output_shape": [1] * (6 - len(out_shape)) + list(out_shape)}
    for name, shape in (("input1_strides", shape1), ("input2_strides", shape2)):
        full = [1] * (6 - len(shape)) + list(shape)
        strides, step = [0] * 6, 1
        for d in range(5, -1, -1):
            strides[d] = 0 if full[d] == 1 else step
            step *= full[d]
        fields[name] = strides
    return new("te_elementwise_shape", **fields), out_shape


def params_for(scales, zero_points, act=(-128, 127)):
    p = add_params(*scales)
    return dict(input1_offset=-zero_points[0], input2_offset=-zero_points[1],
                output_offset=zero_points[2], activation_min=act[0], activation_max=act[1], **p)


def run_add(x1, x2, params, out=None):
    _, lib = kernels()
    shape, out_shape = elementwise_shape(x1.shape, x2.shape, x1.shape != x2.shape)
    if out is None:
        out = np.zeros(out_shape, dtype=np.int8)
    status = lib.te_add_s8(new("te_add_params", **params), shape, ptr(x1, "int8_t"),
                           ptr(x2, "int8_t"), ptr(out, "int8_t"))
    assert status == TE_OK
    return out


def test_worked_example():
    # both inputs and the output have scale 0.5 and zero point 0: q_out = q1 + q2
    params = params_for((0.5, 0.5, 0.5), (0, 0, 0))
    x1 = np.array([1, -2, 100, -100], dtype=np.int8)
    x2 = np.array([2, -3, 100, -100], dtype=np.int8)
    # 1 + 2 = 3; -2 - 3 = -5; 200 saturates to 127; -200 saturates to -128
    np.testing.assert_array_equal(run_add(x1, x2, params), [3, -5, 127, -128])


def test_broadcast_example():
    # input 1 scale 1.0, input 2 scale 0.5 (so it counts half), output scale 1.0,
    # input 2 zero point 2: real values of x2 = (x2 - 2) * 0.5
    params = params_for((1.0, 0.5, 1.0), (0, 2, 0))
    x1 = np.array([[10], [20]], dtype=np.int8)          # shape [2, 1]
    x2 = np.array([[2, 4, 8]], dtype=np.int8)           # shape [1, 3]: 0, 1, 3 as reals
    # row 0: 10 + 0, 10 + 1, 10 + 3; row 1: 20 + 0, 20 + 1, 20 + 3
    np.testing.assert_array_equal(run_add(x1, x2, params), [[10, 11, 13], [20, 21, 23]])


def random_shapes(rng):
    rank = int(rng.integers(1, 7))
    out = [int(v) for v in rng.integers(1, 5, rank)]
    s1 = [d if rng.random() < 0.6 else 1 for d in out]
    s2 = [d if rng.random() < 0.6 else 1 for d in out]
    # drop some leading dims of one input (numpy-style rank broadcast)
    return tuple(s1[int(rng.integers(0, rank)):]) or (1,), tuple(s2)


def test_random_against_reference():
    rng = np.random.default_rng(3)
    for case in range(150):
        if case % 3 == 0:
            shape1 = shape2 = tuple(int(v) for v in rng.integers(1, 6, int(rng.integers(1, 5))))
        else:
            shape1, shape2 = random_shapes(rng)
        x1 = rng.integers(-128, 128, shape1, dtype=np.int8)
        x2 = rng.integers(-128, 128, shape2, dtype=np.int8)
        scales = tuple(float(np.float32(10.0 ** rng.uniform(-3, 0))) for _ in range(3))
        if case % 10 == 0:
            scales = (scales[0], scales[0] * 1e-4, scales[2])  # very different scales
        zero_points = tuple(int(v) for v in rng.integers(-128, 128, 3))
        params = params_for(scales, zero_points, random_clamp(rng))
        got = run_add(x1, x2, params)
        want = ref.add(x1, x2, act_min=params.pop("activation_min"),
                       act_max=params.pop("activation_max"), **params)
        np.testing.assert_array_equal(got, want, err_msg=f"case {case}: {shape1} + {shape2}")


def test_output_may_alias_input_of_output_size():
    rng = np.random.default_rng(4)
    params = params_for((0.02, 0.05, 0.04), (3, -7, 1))
    kw = dict(params)
    want_args = dict(act_min=kw.pop("activation_min"), act_max=kw.pop("activation_max"), **kw)
    # same shapes, in place on input 1
    x1 = rng.integers(-128, 128, (4, 5), dtype=np.int8)
    x2 = rng.integers(-128, 128, (4, 5), dtype=np.int8)
    want = ref.add(x1, x2, **want_args)
    run_add(x1, x2, params, out=x1)
    np.testing.assert_array_equal(x1, want)
    # broadcast, in place on input 2 (the full-size one)
    x1 = rng.integers(-128, 128, (1, 5), dtype=np.int8)
    x2 = rng.integers(-128, 128, (4, 5), dtype=np.int8)
    want = ref.add(x1, x2, **want_args)
    run_add(x1, x2, params, out=x2)
    np.testing.assert_array_equal(x2, want)


def arg_error_call(**change):
    """te_add_s8 on valid [2, 3] + [2, 3] inputs with one thing changed."""
    _, lib = kernels()
    x = np.zeros((2, 3), dtype=np.int8)
    out = np.zeros((2, 3), dtype=np.int8)
    p = params_for((0.1, 0.2, 0.3), (0, 0, 0))
    p.update(change.pop("set_params", {}))
    shape, _ = elementwise_shape((2, 3), (2, 3), broadcast=False)
    for field, values in change.pop("set_shape", {}).items():
        setattr(shape, field, values)
    args = dict(params=new("te_add_params", **p), shape=shape, input1=ptr(x, "int8_t"),
                input2=ptr(x, "int8_t"), output=ptr(out, "int8_t"))
    args.update(change)
    return lib.te_add_s8(*args.values())


def test_valid_setup_is_ok():
    assert arg_error_call() == TE_OK


@pytest.mark.parametrize("name", ["params", "shape", "input1", "input2", "output"])
def test_null_pointer(name):
    ffi, _ = kernels()
    assert arg_error_call(**{name: ffi.NULL}) == TE_ARG_ERROR


@pytest.mark.parametrize("change", [
    {"set_shape": {"output_shape": [1, 1, 1, 1, 0, 3]}},
    {"set_shape": {"input1_strides": [0, 0, 0, 0, -3, 1]}},
    {"set_shape": {"output_shape": [2**16, 2**16, 1, 1, 1, 1]}},  # more than 2^31 elements
    {"set_params": {"left_shift": 21}},
    {"set_params": {"left_shift": -1}},
    {"set_params": {"input1_shift": 1}},
    {"set_params": {"output_multiplier": -1}},
    {"set_params": {"input2_offset": -128}},
    {"set_params": {"output_offset": 200}},
    {"set_params": {"activation_min": 0, "activation_max": -1}},
])
def test_inconsistent_arguments(change):
    assert arg_error_call(**change) == TE_ARG_ERROR
