"""Constant folding (tinyedge/passes/fold_constants.py): shape-only subgraphs
and ops on constants are evaluated at compile time.

Models with such subgraphs (Keras Flatten and tf.reshape with a dynamic batch,
tf.fill, tf.zeros_like, tf.ones_like, a PyTorch-style SHAPE/STRIDED_SLICE/MUL/
CONCATENATION chain) are compiled and compared with TFLite Micro
byte for byte; the folded ops must be in the .tflite and gone from the
compiled layers. Each evaluator is also checked on tricky inputs against
TFLite's semantics, with expected values worked out by hand.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "ops"))
import tflite_builder as tb  # noqa: E402
from tf_convert import convert, warm_up  # noqa: E402

from tinyedge.errors import UnsupportedModelError  # noqa: E402
from tinyedge.ir import DType, Node, OpKind, Quantization, Tensor  # noqa: E402
from tinyedge.passes.fold_constants import evaluate  # noqa: E402

OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
SHAPE = (1, 4, 4, 3)


def _ops(data: bytes) -> list[str]:
    model = schema.ModelT.InitFromPackedBuf(data, 0)
    codes = model.operatorCodes
    return [OP_NAMES[max(codes[op.opcodeIndex].builtinCode,
                         codes[op.opcodeIndex].deprecatedBuiltinCode)]
            for op in model.subgraphs[0].operators]


# --------------------------------------------------------------------------
# Models converted by TensorFlow with a dynamic batch
# --------------------------------------------------------------------------

def _flatten(tf, x):
    y = tf.keras.layers.Conv2D(4, 3, activation="relu")(x)
    return tf.keras.layers.Dense(5)(tf.keras.layers.Flatten()(y))


def _reshape_batch(tf, x):
    y = tf.keras.layers.Conv2D(4, 3)(x)
    return tf.keras.layers.Lambda(lambda t: tf.reshape(t, [tf.shape(t)[0], -1]))(y)


def _fill(tf, x):
    return tf.keras.layers.Lambda(lambda t: t + tf.fill(tf.shape(t), 0.5))(x)


def _zeros_like(tf, x):
    return tf.keras.layers.Lambda(lambda t: t + tf.zeros_like(t))(x)


def _ones_like(tf, x):
    return tf.keras.layers.Lambda(lambda t: t * tf.ones_like(t) * 0.5)(x)


# name -> (body, ops the converted model must hold, the ones tinyedge folds)
TF_CASES = {
    "flatten": (_flatten, {"SHAPE", "STRIDED_SLICE", "PACK"}),
    "reshape_batch": (_reshape_batch, {"SHAPE", "STRIDED_SLICE", "PACK"}),
    "fill": (_fill, {"SHAPE", "FILL"}),
    "zeros_like": (_zeros_like, {"ZEROS_LIKE", "QUANTIZE"}),
    "ones_like": (_ones_like, {"SHAPE", "BROADCAST_TO"}),
}


def _tf_model(name: str) -> bytes:
    warm_up(__file__)
    import tensorflow as tf

    body = TF_CASES[name][0]
    return convert(lambda x: body(tf, x), [(None,) + SHAPE[1:]], seed=7,
                   key=f"fold-constants-{name}")


def _static_for_tflm(data: bytes) -> bytes:
    """The same model as TFLite Micro can run it at batch 1. TFLite resizes
    tensors at run time; TFLite Micro needs FILL dims and BROADCAST_TO shapes
    constant and a RESHAPE's output dims in the flatbuffer. So each such
    input that a SHAPE op computes becomes a constant holding the shape
    SHAPE reads, and a RESHAPE output recorded with a placeholder shape gets
    the input's batch and the remaining elements (what tf.reshape(x,
    [tf.shape(x)[0], -1]) resizes it to). The other ops are untouched."""
    model = schema.ModelT.InitFromPackedBuf(data, 0)
    graph = model.subgraphs[0]
    ops = _ops(data)
    made_by_shape = {int(op.outputs[0]): int(op.inputs[0])
                     for op, name in zip(graph.operators, ops) if name == "SHAPE"}
    for op, name in zip(graph.operators, ops):
        if name in ("FILL", "BROADCAST_TO"):
            k = 0 if name == "FILL" else 1
            source = made_by_shape[int(op.inputs[k])]
            buffer = schema.BufferT()
            dims = np.array(graph.tensors[source].shape, dtype="<i4")
            buffer.data = np.frombuffer(dims.tobytes(), dtype=np.uint8).copy()
            model.buffers.append(buffer)
            tensor = schema.TensorT()
            tensor.name, tensor.type, tensor.shape = b"dims", schema.TensorType.INT32, [len(dims)]
            tensor.buffer = len(model.buffers) - 1
            graph.tensors.append(tensor)
            inputs = list(op.inputs)
            inputs[k] = len(graph.tensors) - 1
            op.inputs = inputs
        if name == "RESHAPE":
            source, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
            if np.prod(out.shape) != np.prod(source.shape):
                out.shape = [source.shape[0], int(np.prod(source.shape[1:]))]
    # A SHAPE nobody reads any more goes (TFLite Micro has no int64 SHAPE).
    read = {int(i) for op in graph.operators for i in op.inputs}
    graph.operators = [op for op, name in zip(graph.operators, ops)
                       if name != "SHAPE" or int(op.outputs[0]) in read]
    builder = tb.flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _input_sets(compiled, seed: int) -> list[list[np.ndarray]]:
    from tinyedge.verify import random_inputs

    rng = np.random.default_rng(seed)
    sets = [random_inputs(compiled.inputs, rng) for _ in range(3)]
    for pick in ("min", "max"):
        sets.append([np.full(s["shape"], getattr(np.iinfo(s["dtype"]), pick), s["dtype"])
                     for s in compiled.inputs])
    return sets


def _compare_with_tflm(compiled, tflm_model: bytes, seed: int) -> None:
    for xs in _input_sets(compiled, seed):
        ours = compiled.run(*xs)
        theirs = tb.run_tflm(tflm_model, xs)
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert a.dtype == b.dtype and a.size == b.size, (a.dtype, a.shape, b.dtype, b.shape)
            assert np.array_equal(a.reshape(-1), b.reshape(-1)), \
                f"{np.count_nonzero(a.reshape(-1) != b.reshape(-1))}/{a.size} values differ"


@pytest.mark.parametrize("name", sorted(TF_CASES))
def test_tf_model_with_shape_subgraph_matches_tflm(name, tmp_path):
    import tinyedge

    data = _tf_model(name)
    folded = TF_CASES[name][1]
    assert folded <= set(_ops(data)), f"the converter left {_ops(data)}, not {sorted(folded)}"
    compiled = tinyedge.compile(data, tmp_path / "out")
    layers = {layer["op"] for layer in compiled.report["layers"]}
    assert not folded & layers, f"still compiled: {sorted(folded & layers)}"
    assert folded <= {entry["op"] for entry in compiled.report["folded"]}
    if name == "reshape_batch":
        # The output was recorded as [1, 1] (signature [-1, -1]): it is the
        # conv output's 2x2x4 values behind the batch.
        assert compiled.outputs[0]["shape"] == [1, 16]
    _compare_with_tflm(compiled, _static_for_tflm(data), seed=len(name))


def test_inspect_shows_folding(tmp_path):
    path = tmp_path / "flatten.tflite"
    path.write_bytes(_tf_model("flatten"))
    result = subprocess.run([sys.executable, "-m", "tinyedge", "inspect", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "folded 3 ops at compile time (PACK, SHAPE, STRIDED_SLICE)" in result.stdout
    table = result.stdout.split("quantization\n", 1)[1].split("memory plan")[0]
    assert [line.split()[1] for line in table.splitlines() if line.strip()] == \
        ["CONV_2D", "RESHAPE", "FULLY_CONNECTED"]


# --------------------------------------------------------------------------
# Models built with tests/tflite_builder.py (the converter would fold these)
# --------------------------------------------------------------------------

def _int32(mb, name, values) -> int:
    values = np.asarray(values, dtype=np.int32)
    return mb.add_tensor(name, values.shape, "int32", data=values)


def _computed(mb, name, shape) -> int:
    """An int32 tensor an op computes."""
    return mb.add_tensor(name, shape, "int32")


def pytorch_chain_model(rng) -> tb.BuiltModel:
    """x.view(x.size(0), x.size(1) * x.size(2), -1) + c, as a PyTorch export
    writes it: SHAPE, STRIDED_SLICE, MUL, CONCATENATION on int32. (TFLite
    Micro has no int32 GATHER or FLOOR_DIV: the unit tests below cover those.)"""
    mb = tb.ModelBuilder()
    x = tb._input(mb, rng, "x", (1, 4, 6, 2))
    shape = _computed(mb, "shape", [4])
    mb.add_op("SHAPE", [x.index], [shape], schema.ShapeOptionsT())
    picked = {}
    for axis in range(3):
        picked[axis] = _computed(mb, f"size{axis}", [1])
        mb.add_op("STRIDED_SLICE", [shape, _int32(mb, f"begin{axis}", [axis]),
                                    _int32(mb, f"end{axis}", [axis + 1]),
                                    _int32(mb, f"step{axis}", [1])], [picked[axis]],
                  schema.StridedSliceOptionsT())
    area = _computed(mb, "area", [1])
    mb.add_op("MUL", [picked[1], picked[2]], [area], schema.MulOptionsT())
    target = _computed(mb, "target", [3])
    options = schema.ConcatenationOptionsT()
    mb.add_op("CONCATENATION", [picked[0], area, _int32(mb, "rest", [-1])], [target], options)
    xi = mb.infos[x.index]
    viewed = mb.add_tensor("viewed", (1, 24, 2), "int8", xi.scale, xi.zero_point)
    mb.add_op("RESHAPE", [x.index, target], [viewed], schema.ReshapeOptionsT())
    y = tb.add_add(mb, rng, tb.Act(viewed, x.samples.reshape((tb.N_CALIB, 1, 24, 2))),
                   tb.add_const(mb, rng, "c", (1, 1, 2)))
    return mb.build_model([x], [y])


def constant_operands_model(rng) -> tb.BuiltModel:
    """(x + FILL(dims, v)) + BROADCAST_TO(row, shape): int8 constants made
    by ops, read by real ops."""
    mb = tb.ModelBuilder()
    x = tb._input(mb, rng, "x", (1, 3, 5, 4))
    value = tb.add_const(mb, rng, "value", ())
    vi = mb.infos[value.index]
    filled = mb.add_tensor("filled", (1, 3, 5, 4), "int8", vi.scale, vi.zero_point)
    mb.add_op("FILL", [_int32(mb, "dims", [1, 3, 5, 4]), value.index], [filled],
              schema.FillOptionsT())
    summed = tb.add_add(mb, rng, x, tb.Act(filled, np.broadcast_to(
        value.samples.reshape((tb.N_CALIB, 1, 1, 1, 1)), (tb.N_CALIB, 1, 3, 5, 4))))
    row = tb.add_const(mb, rng, "row", (4,))
    ri = mb.infos[row.index]
    wide = mb.add_tensor("wide", (1, 3, 5, 4), "int8", ri.scale, ri.zero_point)
    mb.add_op("BROADCAST_TO", [row.index, _int32(mb, "to", [1, 3, 5, 4])], [wide],
              schema.BroadcastToOptionsT())
    y = tb.add_add(mb, rng, summed, tb.Act(wide, np.broadcast_to(
        row.samples.reshape((tb.N_CALIB, 1, 1, 1, 4)), (tb.N_CALIB, 1, 3, 5, 4))), name="add2")
    return mb.build_model([x], [y])


@pytest.mark.parametrize("build,folded", [
    (pytorch_chain_model, {"SHAPE", "STRIDED_SLICE", "MUL", "CONCATENATION"}),
    (constant_operands_model, {"FILL", "BROADCAST_TO"}),
])
@pytest.mark.parametrize("seed", [0, 1])
def test_built_model_matches_tflm(build, folded, seed, tmp_path):
    import tinyedge

    model = build(np.random.default_rng(seed))
    compiled = tinyedge.compile(model.data, tmp_path / "out")
    layers = [layer["op"] for layer in compiled.report["layers"]]
    assert not folded & set(layers), layers
    assert folded == {entry["op"] for entry in compiled.report["folded"]}
    _compare_with_tflm(compiled, model.data, seed)


def test_run_time_fill_is_one_error_naming_it():
    import tinyedge

    mb = tb.ModelBuilder()
    x = tb._input(mb, np.random.default_rng(0), "x", (1, 4))
    xi = mb.infos[x.index]
    scalar = mb.add_tensor("first", (), "int8", xi.scale, xi.zero_point)
    options = schema.StridedSliceOptionsT()
    options.shrinkAxisMask = 3
    mb.add_op("STRIDED_SLICE", [x.index, _int32(mb, "b", [0, 0]), _int32(mb, "e", [1, 1]),
                                _int32(mb, "s", [1, 1])], [scalar], options)
    y = mb.add_tensor("y", (1, 4), "int8", xi.scale, xi.zero_point)
    mb.add_op("FILL", [_int32(mb, "dims", [1, 4]), scalar], [y], schema.FillOptionsT())
    with pytest.raises(UnsupportedModelError) as info:
        tinyedge.api.import_model(mb.build([x.index], [y]), "m")
    message = str(info.value)
    assert "\n" not in message
    assert "operator 1 (FILL)" in message and "'first', computed at run time" in message


# --------------------------------------------------------------------------
# Evaluators against TFLite's semantics, expected values worked out by hand
# --------------------------------------------------------------------------

def const(values, dtype=DType.INT32, quant=None) -> Tensor:
    data = np.asarray(values, dtype=dtype.numpy)
    return Tensor("c", data.shape, dtype, quant, data)


def out(shape, dtype=DType.INT32, quant=None) -> Tensor:
    return Tensor("y", tuple(shape), dtype, quant)


def run(kind, inputs, outputs, **options):
    values = evaluate(Node(kind, inputs, outputs if isinstance(outputs, list) else [outputs],
                           options))
    return values if values is None or isinstance(outputs, list) else values[0]


def strided(x, begin, end, strides, out_shape, **masks):
    options = {"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0,
               "shrink_axis_mask": 0, "offset": False}
    options.update(masks)
    return run(OpKind.STRIDED_SLICE, [const(x), const(begin), const(end), const(strides)],
               out(out_shape), **options)


def test_strided_slice_negative_strides_and_masks():
    x = [10, 11, 12, 13, 14, 15]
    # x[4:1:-1] -> 14 13 12
    assert strided(x, [4], [1], [-1], [3]).tolist() == [14, 13, 12]
    # x[::-2] (begin and end masks) -> 15 13 11
    assert strided(x, [0], [0], [-2], [3], begin_mask=1, end_mask=1).tolist() == [15, 13, 11]
    # x[-1] with shrink: the scalar 15
    value = strided(x, [-1], [0], [1], [], shrink_axis_mask=1)
    assert value.shape == () and int(value) == 15
    # x[-100:100] clamps to the whole tensor; x[5:-100:-1] runs through index 0
    assert strided(x, [-100], [100], [1], [6]).tolist() == x
    assert strided(x, [5], [-100], [-1], [6]).tolist() == x[::-1]
    grid = np.arange(12).reshape(3, 4)
    # grid[1:, ::-3] -> rows 1, 2; columns 3, 0
    assert strided(grid, [1, 0], [0, 0], [1, -3], [2, 2], end_mask=3,
                   begin_mask=2).tolist() == [[7, 4], [11, 8]]
    # the ellipsis mask is not reproduced: not folded
    assert strided(x, [0], [1], [1], [1], ellipsis_mask=1) is None


def test_slice_with_minus_one_size():
    grid = np.arange(12).reshape(3, 4)
    value = run(OpKind.SLICE, [const(grid), const([1, 1]), const([-1, 2])], out((2, 2)))
    assert value.tolist() == [[5, 6], [9, 10]]


def test_floor_div_rounds_toward_minus_infinity():
    a, b = [7, -7, 7, -7, 0, -1], [2, 2, -2, -2, 3, 5]
    # floor(3.5) = 3, floor(-3.5) = -4, floor(-3.5) = -4, floor(3.5) = 3, 0, floor(-0.2) = -1
    value = run(OpKind.FLOOR_DIV, [const(a), const(b)], out((6,)))
    assert value.tolist() == [3, -4, -4, 3, 0, -1]
    # division by zero fails in TFLite: not folded
    assert run(OpKind.FLOOR_DIV, [const([1]), const([0])], out((1,))) is None


def test_integer_arithmetic_broadcasts_clamps_and_refuses_overflow():
    value = run(OpKind.MUL, [const([[2], [3]]), const([4, -5])], out((2, 2)))
    assert value.tolist() == [[8, -10], [12, -15]]
    value = run(OpKind.ADD, [const([3, -9, 5]), const([4, 4, 4])], out((3,)), activation="RELU6")
    assert value.tolist() == [6, 0, 6]
    assert run(OpKind.MUL, [const([65536]), const([32768])], out((1,))) is None
    assert run(OpKind.ADD, [const([2**31 - 1]), const([1])], out((1,))) is None
    # quantized (int8) arithmetic is never folded
    q = Quantization((0.5,), (0,))
    assert run(OpKind.ADD, [const([1], DType.INT8, q), const([1], DType.INT8, q)],
               out((1,), DType.INT8, q)) is None


def test_shape_and_zeros_like_need_only_the_shape():
    x = Tensor("x", (1, 7, 3), DType.INT8, Quantization((0.1,), (5,)))  # not constant
    assert run(OpKind.SHAPE, [x], out((3,))).tolist() == [1, 7, 3]
    shape64 = run(OpKind.SHAPE, [x], out((3,), DType.INT64))
    assert shape64.dtype == np.int64 and shape64.tolist() == [1, 7, 3]
    zeros = run(OpKind.ZEROS_LIKE, [x], out((1, 7, 3), DType.INT8, x.quant))
    assert zeros.dtype == np.int8 and not zeros.any()  # a raw 0, not the zero point 5


def test_fill_copies_the_raw_value():
    q = Quantization((0.25,), (-3,))
    value = run(OpKind.FILL, [const([2, 3]), const(-7, DType.INT8, q)], out((2, 3), DType.INT8, q))
    assert value.dtype == np.int8 and value.tolist() == [[-7] * 3] * 2


def test_pack_unpack_concatenation_gather():
    a, b = const([1, 2]), const([3, 4])
    assert run(OpKind.PACK, [a, b], out((2, 2)), axis=-1).tolist() == [[1, 3], [2, 4]]
    rows = run(OpKind.UNPACK, [const([[1, 2], [3, 4], [5, 6]])], [out((3,)), out((3,))], axis=1)
    assert [r.tolist() for r in rows] == [[1, 3, 5], [2, 4, 6]]
    value = run(OpKind.CONCATENATION, [const([[1]]), const([[2, 3]])], out((1, 3)), axis=-1,
                activation="NONE")
    assert value.tolist() == [[1, 2, 3]]
    table = const([[10, 11, 12], [20, 21, 22]])
    value = run(OpKind.GATHER, [table, const([[2, 0], [1, 1]])], out((2, 2)), axis=1,
                batch_dims=1)
    assert value.tolist() == [[12, 10], [21, 21]]
    assert run(OpKind.GATHER, [table, const([-1])], out((1, 3)), axis=0, batch_dims=0) is None


def test_range_reduce_prod_cast_broadcast_expand_dims():
    scalars = [const(v) for v in (10, 1, -3)]
    assert run(OpKind.RANGE, scalars, out((3,))).tolist() == [10, 7, 4]
    assert run(OpKind.RANGE, [const(0), const(5), const(2)], out((3,))).tolist() == [0, 2, 4]
    assert run(OpKind.RANGE, [const(0), const(5), const(-1)], out((0,))) is None
    prod = run(OpKind.REDUCE_PROD, [const([[1, 2, 3], [4, 5, 6]]), const([-1])], out((2, 1)),
               keep_dims=True)
    assert prod.tolist() == [[6], [120]]
    prod = run(OpKind.REDUCE_PROD, [const([[1, 2, 3], [4, 5, 6]]), const([0])], out((3,)),
               keep_dims=False)
    assert prod.tolist() == [4, 10, 18]
    # static_cast: integers wrap, floats truncate toward zero
    assert run(OpKind.CAST, [const([300, -129])], out((2,), DType.INT8)).tolist() == [44, 127]
    floats = const([-1.7, 2.9], DType.FLOAT32)
    assert run(OpKind.CAST, [floats], out((2,))).tolist() == [-1, 2]
    assert run(OpKind.CAST, [const([3e9], DType.FLOAT32)], out((1,))) is None
    assert run(OpKind.CAST, [const([0, 5])], out((2,), DType.BOOL)).tolist() == [False, True]
    wide = run(OpKind.BROADCAST_TO, [const([[1], [2]]), const([3, 2, 2])], out((3, 2, 2)))
    assert wide.tolist() == [[[1, 1], [2, 2]]] * 3
    assert run(OpKind.BROADCAST_TO, [const([1, 2]), const([3])], out((3,))) is None
    value = run(OpKind.EXPAND_DIMS, [const([1, 2]), const([-1])], out((2, 1)))
    assert value.tolist() == [[1], [2]]


def test_quantize_of_a_float_constant_rounds_half_away_from_zero():
    q = Quantization((0.5,), (3,))
    # 1.25 / 0.5 = 2.5 -> 3, -1.25 / 0.5 = -2.5 -> -3; plus the zero point 3
    value = run(OpKind.QUANTIZE, [const([1.25, -1.25, 100.0], DType.FLOAT32)],
                out((3,), DType.INT8, q))
    assert value.tolist() == [6, 0, 127]


if __name__ == "__main__":  # convert (and cache) every TF case: see tf_convert.warm_up
    for _name in TF_CASES:
        _tf_model(_name)
