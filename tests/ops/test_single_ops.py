"""Seeded randomized sweeps of single-op models: tinyedge vs TFLite Micro, bit for bit.

Every case builds a model with tests/tflite_builder.py from a fixed seed (its
parameters are in the test id), compiles it with ``tinyedge.compile`` and
compares ``CompiledModel.run`` with TFLite Micro on several inputs (random,
all-minimum, all-maximum): every output byte must be equal.

Environment:
  TINYEDGE_SWEEP_CASES=N          cases per op family (default 20)
  TINYEDGE_SWEEP_REFERENCE_ONLY=1 only build the models and run TFLite Micro
                                  (checks the sweep itself, without tinyedge)
"""
from __future__ import annotations

import math
import os
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import tflite_builder as tb  # noqa: E402

N_CASES = int(os.environ.get("TINYEDGE_SWEEP_CASES", "20"))
REFERENCE_ONLY = os.environ.get("TINYEDGE_SWEEP_REFERENCE_ONLY") == "1"
ACTS = ["NONE", "RELU", "RELU6", "NONE", "RELU_N1_TO_1"]


def _seed(family: str, i: int) -> int:
    return zlib.crc32(f"{family}-{i}".encode())


def _x(v) -> str:
    return "x".join(str(d) for d in (v if isinstance(v, (tuple, list)) else (v, v)))


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def _spatial(rng, kernel, dilation, padding, extra=9):
    """An input size valid for the kernel (VALID needs size >= effective kernel)."""
    eff = (kernel - 1) * dilation + 1
    lo = eff if padding == "VALID" else 1
    return int(rng.integers(lo, max(lo, eff) + extra))


# --------------------------------------------------------------------------
# Case generators: (id, builder function, kwargs)
# --------------------------------------------------------------------------

def conv2d_case(i):
    rng = np.random.default_rng(_seed("conv2d-params", i))
    kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    if i % 5 == 0:
        kw = kh  # plenty of square kernels
    sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    dh, dw = (1, 1) if i % 3 else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    padding = ("SAME", "VALID")[i % 2]
    groups = (1, 1, 1, 2, 3)[i % 5]
    cin = groups * int(rng.integers(1, 5))
    cout = groups * int(rng.integers(1, 6))
    h, w = _spatial(rng, kh, dh, padding), _spatial(rng, kw, dw, padding)
    kw_ = dict(input_shape=(1, h, w, cin), out_channels=cout, kernel=(kh, kw), stride=(sh, sw),
               dilation=(dh, dw), padding=padding, activation=ACTS[i % len(ACTS)],
               per_channel=bool(i % 4 != 1), groups=groups, bias=bool(i % 7 != 3),
               pre_activation_range=bool(i % 3 == 2))
    cid = (f"conv2d-{i:02d}-in{_x(kw_['input_shape'])}-oc{cout}-k{_x((kh, kw))}-s{_x((sh, sw))}"
           f"-d{_x((dh, dw))}-{padding}-{kw_['activation']}-{'pc' if kw_['per_channel'] else 'pt'}"
           f"-g{groups}{'' if kw_['bias'] else '-nobias'}{'-prerange' if kw_['pre_activation_range'] else ''}")
    return cid, tb.conv2d_model, kw_


def depthwise_case(i):
    rng = np.random.default_rng(_seed("depthwise-params", i))
    kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    if i % 4 == 0:
        kw = kh
    sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    dh, dw = (1, 1) if i % 3 else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    padding = ("SAME", "VALID")[i % 2]
    mult = (1, 2, 3)[i % 3]
    c = int(rng.integers(1, 9))
    h, w = _spatial(rng, kh, dh, padding), _spatial(rng, kw, dw, padding)
    kw_ = dict(input_shape=(1, h, w, c), kernel=(kh, kw), stride=(sh, sw), dilation=(dh, dw),
               padding=padding, depth_multiplier=mult, activation=ACTS[i % len(ACTS)],
               per_channel=bool(i % 4 != 1), bias=bool(i % 7 != 3),
               pre_activation_range=bool(i % 3 == 2))
    cid = (f"depthwise-{i:02d}-in{_x(kw_['input_shape'])}-k{_x((kh, kw))}-s{_x((sh, sw))}"
           f"-d{_x((dh, dw))}-{padding}-m{mult}-{kw_['activation']}"
           f"-{'pc' if kw_['per_channel'] else 'pt'}{'' if kw_['bias'] else '-nobias'}"
           f"{'-prerange' if kw_['pre_activation_range'] else ''}")
    return cid, tb.depthwise_model, kw_


def fully_connected_case(i):
    rng = np.random.default_rng(_seed("fc-params", i))
    n = int(rng.integers(1, 48))
    rank = (2, 2, 3, 4)[i % 4]
    if rank == 2:
        shape = (1, n)
    elif rank == 3:
        shape = (1, int(rng.integers(1, 5)), n)
    else:
        shape = (1, int(rng.integers(1, 4)), int(rng.integers(1, 4)), n)
    keep = bool(rank > 2 and rng.random() < 0.5)
    kw_ = dict(input_shape=shape, units=int(rng.integers(1, 24)), activation=ACTS[i % len(ACTS)],
               per_channel=bool(i % 2), keep_num_dims=keep, bias=bool(i % 7 != 3),
               pre_activation_range=bool(i % 3 == 2))
    cid = (f"fc-{i:02d}-in{_x(shape)}-u{kw_['units']}-{kw_['activation']}"
           f"-{'pc' if kw_['per_channel'] else 'pt'}{'-keepdims' if keep else ''}"
           f"{'' if kw_['bias'] else '-nobias'}{'-prerange' if kw_['pre_activation_range'] else ''}")
    return cid, tb.fully_connected_model, kw_


def _pool_case(kind, i):
    rng = np.random.default_rng(_seed(f"{kind}-pool-params", i))
    fh, fw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    if i % 4 == 0:
        fw = fh
    sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    padding = ("SAME", "VALID")[i % 2]
    h, w = _spatial(rng, fh, 1, padding), _spatial(rng, fw, 1, padding)
    kw_ = dict(kind=kind, input_shape=(1, h, w, int(rng.integers(1, 9))), filter=(fh, fw),
               stride=(sh, sw), padding=padding, activation=ACTS[i % len(ACTS)])
    cid = (f"{kind.lower()}pool-{i:02d}-in{_x(kw_['input_shape'])}-f{_x((fh, fw))}"
           f"-s{_x((sh, sw))}-{padding}-{kw_['activation']}")
    return cid, tb.pool_model, kw_


def avg_pool_case(i):
    return _pool_case("AVG", i)


def max_pool_case(i):
    return _pool_case("MAX", i)


def _broadcast_pair(rng, i):
    """Shape pairs covering ADD's broadcast patterns, ranks 1 to 5."""
    h, w, c = (int(rng.integers(1, 7)) for _ in range(3))
    a, b = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    patterns = [
        ((1, h, w, c), (1, h, w, c)),      # same shape
        ((1, h, w, c), (1, 1, 1, c)),      # per channel
        ((1, h, 1, c), (1, 1, w, 1)),      # both sides broadcast
        ((1, h, w, c), (c,)),              # lower rank
        ((1, h, w, c), (1,)),              # scalar-like
        ((a, c), (1, c)),                  # rank 2
        ((1, c), (a, 1)),                  # rank 2, both broadcast
        ((h, w, c), (h, 1, c)),            # rank 3
        ((1, a, h, w, c), (1, a, 1, w, 1)),  # rank 5
        ((1, 1, w, c), (1, h, w, c)),      # smaller first
        ((1, a, h, 1, c), (1, 1, 1, w, c)),  # rank 5, both broadcast
    ]
    return patterns[i % len(patterns)]


def add_case(i):
    rng = np.random.default_rng(_seed("add-params", i))
    s1, s2 = _broadcast_pair(rng, i)
    kw_ = dict(shape1=s1, shape2=s2, activation=ACTS[i % len(ACTS)], const_second=False,
               pre_activation_range=bool(i % 3 == 2))
    cid = (f"add-{i:02d}-{_x(s1)}+{_x(s2)}-{kw_['activation']}"
           f"{'-prerange' if kw_['pre_activation_range'] else ''}")
    return cid, tb.add_model, kw_


def add_const_case(i):
    rng = np.random.default_rng(_seed("add-const-params", i))
    s1, s2 = _broadcast_pair(rng, i + 3)
    if i % 2:
        s1, s2 = tuple(np.broadcast_shapes(s1, s2)), s2  # constant broadcasts into input
    kw_ = dict(shape1=s1, shape2=s2, activation=ACTS[i % len(ACTS)], const_second=True,
               pre_activation_range=bool(i % 3 == 2))
    cid = (f"addconst-{i:02d}-{_x(s1)}+const{_x(s2)}-{kw_['activation']}"
           f"{'-prerange' if kw_['pre_activation_range'] else ''}")
    return cid, tb.add_model, kw_


def softmax_case(i):
    rng = np.random.default_rng(_seed("softmax-params", i))
    n = int(rng.integers(2, 41))
    shape = [(1, n), (int(rng.integers(1, 4)), n), (1, int(rng.integers(1, 5)), n),
             (1, int(rng.integers(1, 4)), int(rng.integers(1, 4)), n)][i % 4]
    beta = [1.0, 0.5, 2.0, float(np.float32(rng.uniform(0.1, 3.0)))][(i // 4) % 4]
    cid = f"softmax-{i:02d}-{_x(shape)}-beta{beta:.4g}"
    return cid, tb.softmax_model, dict(shape=shape, beta=beta)


def reshape_case(i):
    rng = np.random.default_rng(_seed("reshape-params", i))
    dims = [int(rng.integers(1, 7)) for _ in range(int(rng.integers(1, 4)))]
    src = (1,) + tuple(dims)
    perm = list(rng.permutation(dims)) + [1] * int(rng.integers(0, 2))
    dst = [1, int(math.prod(perm))] if i % 3 == 0 else [1] + [int(d) for d in perm]
    if i % 4 == 1 and len(dst) > 1:
        dst[int(rng.integers(1, len(dst)))] = -1
    kw_ = dict(input_shape=src, new_shape=tuple(dst), shape_tensor=bool(i % 2 == 0))
    cid = f"reshape-{i:02d}-{_x(src)}-to-{_x(dst).replace('-1', 'auto')}" + \
        ("" if kw_["shape_tensor"] else "-noshapetensor")
    return cid, tb.reshape_model, kw_


def quantize_edges_case(i):
    rng = np.random.default_rng(_seed("edges-params", i))
    edge = ("float32", "uint8")[i % 2]
    inner = tb.INNER_OPS[(i // 2) % len(tb.INNER_OPS)]
    shape = (1, int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 6)))
    cid = f"edges-{i:02d}-{edge}-{inner}-in{_x(shape)}"
    return cid, tb.quantize_edges_model, dict(input_shape=shape, edge=edge, inner=inner)


FAMILIES = {
    "conv2d": conv2d_case,
    "depthwise": depthwise_case,
    "fully_connected": fully_connected_case,
    "avg_pool": avg_pool_case,
    "max_pool": max_pool_case,
    "add": add_case,
    "add_const": add_const_case,
    "softmax": softmax_case,
    "reshape": reshape_case,
    "quantize_edges": quantize_edges_case,
}

CASES = []
for _family, _gen in FAMILIES.items():
    for _i in range(N_CASES):
        _cid, _fn, _kwargs = _gen(_i)
        CASES.append(pytest.param(_family, _i, _fn, _kwargs, id=_cid))


# --------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------

def input_sets(model: tb.BuiltModel, seed: int) -> list[tuple[str, list[np.ndarray]]]:
    rng = np.random.default_rng(seed)
    sets = [("random0", model.random_inputs(rng)), ("random1", model.random_inputs(rng))]
    for label, pick in (("allmin", "min"), ("allmax", "max")):
        arrays = []
        for spec in model.inputs:
            if spec.dtype == "float32":
                lo, hi = spec.value_range
                v = (lo - 1.0) if pick == "min" else (hi + 1.0)
            else:
                v = getattr(np.iinfo(spec.np_dtype), pick)
            arrays.append(np.full(spec.shape, v, spec.np_dtype))
        sets.append((label, arrays))
    return sets


def assert_bit_exact(ours: np.ndarray, ref: np.ndarray, what: str) -> None:
    ours = np.asarray(ours)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape}, TFLM {ref.shape}"
    assert ours.dtype == ref.dtype, f"{what}: dtype {ours.dtype}, TFLM {ref.dtype}"
    if ours.dtype.kind == "f":
        diff = ours.view(np.uint32) != ref.view(np.uint32)  # bit patterns
    else:
        diff = ours != ref
    if diff.any():
        first = np.unravel_index(int(np.flatnonzero(diff)[0]), ref.shape)
        delta = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
        msg = (f"{what}: {int(diff.sum())}/{diff.size} values differ; first at index "
               f"{tuple(int(k) for k in first)}: ours {ours[first]}, TFLM {ref[first]}; "
               f"max |diff| {delta.max():g}")
        np.testing.assert_array_equal(ours, ref, err_msg=msg)


@pytest.mark.parametrize("family,i,build,kwargs", CASES)
def test_single_op(family, i, build, kwargs, tmp_path, request):
    model = build(np.random.default_rng(_seed(family, i)), **kwargs)
    sets = input_sets(model, _seed(family, i) + 1)
    refs = [tb.run_tflm(model, xs) for _, xs in sets]
    for ref, spec in zip(refs[0], model.outputs):
        assert ref.shape == spec.shape and ref.dtype == spec.np_dtype
    if REFERENCE_ONLY:
        return

    import tinyedge

    compiled = tinyedge.compile(model.data, tmp_path / "out")
    for (label, xs), ref in zip(sets, refs):
        ours = compiled.run(*xs)
        assert len(ours) == len(ref), f"{len(ours)} outputs, TFLM {len(ref)}"
        for j, (o, r) in enumerate(zip(ours, ref)):
            assert_bit_exact(o, r, f"{request.node.callspec.id} inputs={label} output {j}")
