"""Seeded randomized sweeps of the data movement and reduction ops, built with
TensorFlow at test time (tests/ops/tf_convert.py): tinyedge vs TFLite Micro,
bit for bit, on random, all-minimum and all-maximum inputs.

PAD, PADV2, MEAN, SUM, CONCATENATION, TRANSPOSE, STRIDED_SLICE, SLICE, SPLIT,
SPLIT_V, PACK, UNPACK, GATHER, DEPTH_TO_SPACE, SPACE_TO_DEPTH, ARG_MAX.
Each case also checks that the converted model really holds the op under test.

Environment: TINYEDGE_SWEEP_CASES=N cases per op (default 20).
"""
from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tf_convert import assert_op_matches_tflm, convert, warm_up  # noqa: E402

N_CASES = int(os.environ.get("TINYEDGE_SWEEP_CASES", "20"))


def _rng(op: str, i: int) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{op}-{i}".encode()))


def _dims(rng, rank: int, lo: int = 1, hi: int = 6) -> tuple[int, ...]:
    return (1,) + tuple(int(rng.integers(lo, hi + 1)) for _ in range(rank - 1))


def _range(rng) -> tuple[float, float]:
    """Calibration ranges that move the zero point and the scale around."""
    lo = float(rng.choice([-4.0, -1.0, -0.3, 0.0, 0.5]))
    return lo, lo + float(rng.choice([0.5, 1.0, 2.0, 6.0]))


# Each generator returns (key, fn, input shapes, value range, op name expected).
# fn takes tf and the input tensors and returns the output(s).

def pad_case(i):
    rng = _rng("pad", i)
    rank = int(rng.integers(1, 5))
    shape = _dims(rng, rank) if rank > 1 else (int(rng.integers(1, 7)),)
    pads = [[int(rng.integers(0, 3)), int(rng.integers(0, 3))] for _ in shape]
    if rank == 4 and i % 3 == 0:
        pads[0] = [0, 0]
        pads[3] = [0, 0]  # image style
    if not any(a or b for a, b in pads):
        pads[-2 if rank > 1 else 0][1] = 1  # not an identity
    value = 0.0 if i % 2 == 0 else float(rng.uniform(-1, 1))
    op = "PAD" if value == 0.0 else "PADV2"
    return (f"pad-{shape}-{pads}-{value:.3f}", lambda tf, x: tf.pad(x, pads, constant_values=value),
            [shape], _range(rng), op)


def _reduce_case(name, i):
    rng = _rng(name, i)
    rank = int(rng.integers(2, 5))
    shape = _dims(rng, rank, 2, 7)
    n_axes = int(rng.integers(1, 3))
    axes = sorted(int(a) for a in rng.choice(np.arange(1, rank), size=min(n_axes, rank - 1),
                                                 replace=False))
    if i % 4 == 3:
        axes = [a - rank for a in axes]  # negative axes
    keep = bool(i % 2)
    op = "MEAN" if name == "mean" else "SUM"

    def fn(tf, x):
        f = tf.reduce_mean if name == "mean" else tf.reduce_sum
        y = f(x, axis=axes, keepdims=keep)
        return y if i % 5 else y * 1.0 + 0.0
    return f"{name}-{shape}-{axes}-{keep}", fn, [shape], _range(rng), op


def mean_case(i):
    return _reduce_case("mean", i)


def sum_case(i):
    return _reduce_case("sum", i)


def concat_case(i):
    rng = _rng("concat", i)
    rank = int(rng.integers(2, 5))
    base = _dims(rng, rank)
    axis = int(rng.integers(1, rank))
    n = int(rng.integers(2, 5))
    shapes = []
    for _ in range(n):
        s = list(base)
        s[axis] = int(rng.integers(1, 5))
        shapes.append(tuple(s))
    neg = i % 3 == 0

    def fn(tf, *xs):
        return tf.concat(list(xs), axis=axis - rank if neg else axis)
    return f"concat-{shapes}-{axis}-{neg}", fn, shapes, _range(rng), "CONCATENATION"


def transpose_case(i):
    rng = _rng("transpose", i)
    rank = int(rng.integers(3, 6))
    shape = _dims(rng, rank, 2, 6)
    perm = [0] + [int(p) + 1 for p in rng.permutation(rank - 1)]
    if perm == sorted(perm):
        perm[1], perm[-1] = perm[-1], perm[1]
    return (f"transpose-{shape}-{perm}", lambda tf, x: tf.transpose(x, perm), [shape],
            _range(rng), "TRANSPOSE")


def strided_slice_case(i):
    rng = _rng("strided_slice", i)
    rank = int(rng.integers(2, 5))
    shape = _dims(rng, rank, 2, 8)
    index = [slice(None)]
    for d in shape[1:]:
        kind = int(rng.integers(0, 5))
        if kind == 0:
            index.append(slice(None))
        elif kind == 1:
            b = int(rng.integers(0, d))
            index.append(slice(b, int(rng.integers(b + 1, d + 1)), int(rng.integers(1, 3))))
        elif kind == 2:
            index.append(slice(None, None, -int(rng.integers(1, 3))))
        elif kind == 3:
            index.append(slice(-int(rng.integers(1, d + 1)), None))
        else:
            index.append(int(rng.integers(-d, d)))  # shrink axis
    if all(isinstance(s, int) for s in index[1:]):
        index[-1] = slice(None)
    text = ",".join(f"{s.start}:{s.stop}:{s.step}" if isinstance(s, slice) else str(s)
                    for s in index)
    return (f"sslice-{shape}-{text}", lambda tf, x: x[tuple(index)], [shape], _range(rng),
            "STRIDED_SLICE")


def slice_case(i):
    rng = _rng("slice", i)
    rank = int(rng.integers(2, 5))
    shape = _dims(rng, rank, 2, 8)
    begin = [0] + [int(rng.integers(0, d)) for d in shape[1:]]
    size = [1] + [int(rng.integers(1, d - b + 1)) for d, b in zip(shape[1:], begin[1:])]
    if i % 3 == 0:
        size[-1] = -1
    if all(b == 0 and s in (d, -1) for d, b, s in zip(shape[1:], begin[1:], size[1:])):
        size[1] = shape[1] - 1  # not the whole input
    return (f"slice-{shape}-{begin}-{size}", lambda tf, x: tf.slice(x, begin, size), [shape],
            _range(rng), "SLICE")


def split_case(i):
    rng = _rng("split", i)
    rank = int(rng.integers(2, 5))
    shape = list(_dims(rng, rank))
    axis = int(rng.integers(1, rank))
    n = int(rng.integers(2, 4))
    shape[axis] = n * int(rng.integers(1, 4))
    shape = tuple(shape)
    return (f"split-{shape}-{axis}-{n}", lambda tf, x: tf.split(x, n, axis=axis), [shape],
            _range(rng), "SPLIT")


def split_v_case(i):
    rng = _rng("split_v", i)
    rank = int(rng.integers(2, 5))
    shape = list(_dims(rng, rank))
    axis = int(rng.integers(1, rank))
    sizes = [int(rng.integers(1, 4)) for _ in range(int(rng.integers(2, 4)))]
    if sizes[0] == sizes[1]:
        sizes[0] += 1  # unequal sizes give SPLIT_V
    shape[axis] = sum(sizes)
    shape = tuple(shape)
    return (f"splitv-{shape}-{axis}-{sizes}", lambda tf, x: tf.split(x, sizes, axis=axis),
            [shape], _range(rng), "SPLIT_V")


def pack_case(i):
    rng = _rng("pack", i)
    rank = int(rng.integers(1, 4))
    shape = _dims(rng, rank) if rank > 1 else (int(rng.integers(1, 6)),)
    n = int(rng.integers(2, 4))
    axis = int(rng.integers(0, rank + 1))

    def fn(tf, *xs):
        return tf.stack(list(xs), axis=axis)
    return f"pack-{shape}-{n}-{axis}", fn, [shape] * n, _range(rng), "PACK"


def unpack_case(i):
    rng = _rng("unpack", i)
    rank = int(rng.integers(2, 5))
    shape = _dims(rng, rank)
    axis = int(rng.integers(1, rank))
    return (f"unpack-{shape}-{axis}", lambda tf, x: tf.unstack(x, axis=axis), [shape],
            _range(rng), "UNPACK")


def gather_case(i):
    rng = _rng("gather", i)
    rank = int(rng.integers(2, 5))
    shape = _dims(rng, rank, 1, 7)
    axis = int(rng.integers(1, rank))
    idx_shape = [int(rng.integers(1, 4)) for _ in range(int(rng.integers(1, 3)))]
    idx = rng.integers(0, shape[axis], size=idx_shape).astype(np.int32).tolist()

    def fn(tf, x):
        return tf.gather(x, tf.constant(idx, dtype=tf.int32), axis=axis)
    return f"gather-{shape}-{axis}-{idx}", fn, [shape], _range(rng), "GATHER"


def depth_to_space_case(i):
    rng = _rng("d2s", i)
    b = int(rng.integers(2, 4))
    shape = (1, int(rng.integers(1, 5)), int(rng.integers(1, 5)), b * b * int(rng.integers(1, 4)))
    return (f"d2s-{shape}-{b}", lambda tf, x: tf.nn.depth_to_space(x, b), [shape], _range(rng),
            "DEPTH_TO_SPACE")


def space_to_depth_case(i):
    rng = _rng("s2d", i)
    b = int(rng.integers(2, 4))
    shape = (1, b * int(rng.integers(1, 4)), b * int(rng.integers(1, 4)), int(rng.integers(1, 5)))
    return (f"s2d-{shape}-{b}", lambda tf, x: tf.nn.space_to_depth(x, b), [shape], _range(rng),
            "SPACE_TO_DEPTH")


def arg_max_case(i):
    rng = _rng("argmax", i)
    rank = int(rng.integers(2, 5))
    shape = _dims(rng, rank, 1, 9)
    axis = int(rng.integers(1, rank)) if i % 4 else -1
    return (f"argmax-{shape}-{axis}",
            lambda tf, x: tf.math.argmax(x, axis=axis, output_type=tf.int32), [shape],
            _range(rng), "ARG_MAX")


FAMILIES = {
    "pad": pad_case, "mean": mean_case, "sum": sum_case, "concatenation": concat_case,
    "transpose": transpose_case, "strided_slice": strided_slice_case, "slice": slice_case,
    "split": split_case, "split_v": split_v_case, "pack": pack_case, "unpack": unpack_case,
    "gather": gather_case, "depth_to_space": depth_to_space_case,
    "space_to_depth": space_to_depth_case, "arg_max": arg_max_case,
}

CASES = [pytest.param(family, i, id=f"{family}-{i:02d}")
         for family in FAMILIES for i in range(N_CASES)]


def _model(family: str, i: int) -> tuple[bytes, str]:
    warm_up(__file__)
    import tensorflow as tf

    key, fn, shapes, value_range, op = FAMILIES[family](i)

    def body(*xs):
        layer = tf.keras.layers.Lambda(lambda t: fn(tf, *t) if isinstance(t, list) else fn(tf, t))
        out = layer(list(xs) if len(xs) > 1 else xs[0])
        return list(out) if isinstance(out, (list, tuple)) else out

    data = convert(body, shapes, seed=zlib.crc32(key.encode()) % 1000,
                   value_range=value_range, key="data-movement-" + key)
    return data, op


@pytest.mark.parametrize("family,i", CASES)
def test_data_movement_op(family, i, tmp_path):
    data, op = _model(family, i)
    assert_op_matches_tflm(data, op, i, tmp_path / "out")


if __name__ == "__main__":  # convert (and cache) every case: see tf_convert.warm_up
    for _family in FAMILIES:
        for _i in range(N_CASES):
            _model(_family, _i)
