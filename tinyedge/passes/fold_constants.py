"""Constant folding: shape-only subgraphs and constant data ops become constants.

Models converted with a dynamic batch compute shapes at run time (Keras
Flatten: SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE on int32), PyTorch
conversions chain SHAPE/GATHER/CONCATENATION, and tf.fill or tf.zeros_like
give FILL, BROADCAST_TO and ZEROS_LIKE. tinyedge compiles one static shape
per tensor, so all of these are known at compile time: each node in the table
below whose inputs are constant (SHAPE and ZEROS_LIKE need only their input's
shape) is evaluated here in numpy with TFLite's semantics, and its outputs
become constant tensors. A constant still read by a remaining op (RESHAPE's
shape, ADD's FILLed operand) is kept; one read only by folded ops disappears.

Integer arithmetic is folded only on plain int32/int64 tensors (no
quantization), and only when the result fits the type (TFLite's C would
overflow). Quantized activation math is never folded, except QUANTIZE of a
float constant, which is evaluated with TFLite's AffineQuantize rounding.
An evaluator returns None when it cannot reproduce TFLite exactly; the node
then stays and is reported like any other op tinyedge cannot compile.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from tinyedge import reference
from tinyedge.ir import DType, Graph, Node, OpKind, Tensor
from tinyedge.ops.gather import gather_axes
from tinyedge.ops.movement import normalize_axis
from tinyedge.ops.slice import strided_copy_plan
from tinyedge.passes.simplify import replace_tensors

INTEGER_TYPES = (DType.INT32, DType.INT64)
# Ops that only depend on their input's shape and type, not on its values.
SHAPE_ONLY = frozenset({OpKind.SHAPE, OpKind.ZEROS_LIKE})
# Ops that fold when their data input is constant (the shape input is optional).
DATA_INPUT_ONLY = frozenset({OpKind.RESHAPE, OpKind.SQUEEZE})
# Raw copies: the output has the type of the (first) input, bytes unchanged.
MOVES = frozenset({OpKind.BROADCAST_TO, OpKind.RESHAPE, OpKind.SQUEEZE, OpKind.EXPAND_DIMS,
                   OpKind.STRIDED_SLICE, OpKind.SLICE, OpKind.PACK, OpKind.UNPACK,
                   OpKind.CONCATENATION, OpKind.GATHER})
# Ops tinyedge has no kernel for: they compile only when folded away.
COMPILE_TIME_ONLY = frozenset({OpKind.SHAPE, OpKind.FILL, OpKind.ZEROS_LIKE, OpKind.EXPAND_DIMS,
                               OpKind.BROADCAST_TO, OpKind.CAST, OpKind.RANGE, OpKind.FLOOR_DIV,
                               OpKind.REDUCE_PROD})

# One line of `tinyedge ops` for each op that only compiles when folded.
SUPPORT = {
    OpKind.SHAPE: "int32 or int64 out, of any tensor (shapes are static)",
    OpKind.FILL: "constant dims and value, any type (a raw copy of the value)",
    OpKind.ZEROS_LIKE: "of any tensor (a raw 0 of its type, not the zero point)",
    OpKind.EXPAND_DIMS: "constant input and axis, any type",
    OpKind.BROADCAST_TO: "constant input and shape, any type",
    OpKind.CAST: "constant input; integers wrap, floats truncate (only inside the target range)",
    OpKind.RANGE: "constant int32/int64 scalars",
    OpKind.FLOOR_DIV: "constant int32/int64 without quantization, no zero divisor",
    OpKind.REDUCE_PROD: "constant int32/int64 without quantization, no overflow",
}
assert set(SUPPORT) == COMPILE_TIME_ONLY, "every compile-time-only op has its line in SUPPORT"

Evaluator = Callable[[Node], "list[np.ndarray] | None"]


def _ints(t: Tensor) -> list[int] | None:
    if t is None or t.dtype not in INTEGER_TYPES:
        return None
    return [int(v) for v in t.data.reshape(-1)]


def _plain_integers(tensors) -> bool:
    """int32/int64 tensors without quantization: plain integer arithmetic."""
    return all(t is not None and t.dtype in INTEGER_TYPES and t.quant is None for t in tensors)


def _fits(value: np.ndarray, dtype: DType) -> np.ndarray | None:
    """value (computed in int64) as dtype, or None where TFLite's C would overflow."""
    info = np.iinfo(dtype.numpy)
    if value.size and (value.min() < info.min or value.max() > info.max):
        return None
    return value.astype(dtype.numpy)


def _output(node: Node, value) -> list[np.ndarray]:
    # np.array copies into a fresh C-ordered array and keeps 0-d scalars 0-d.
    return [np.array(value, dtype=node.outputs[0].dtype.numpy)]


def _shape(node: Node):
    return _output(node, np.array(node.inputs[0].shape, dtype=np.int64))


def _zeros_like(node: Node):
    # TFLite writes a raw 0 whatever the quantization (not the zero point).
    return _output(node, np.zeros(node.inputs[0].shape))


def _fill(node: Node):
    dims, value = _ints(node.inputs[0]), node.inputs[1]
    if dims is None or value.size != 1 or value.dtype != node.outputs[0].dtype:
        return None
    # A raw copy of the value's bytes, as TFLite: no requantization.
    return _output(node, np.full(dims, value.data.reshape(())))


def _broadcast_to(node: Node):
    shape = _ints(node.inputs[1])
    if shape is None or len(shape) < node.inputs[0].data.ndim:
        return None
    try:
        return _output(node, np.broadcast_to(node.inputs[0].data, shape))
    except ValueError:  # not broadcastable: TFLite refuses the model
        return None


def _reshape(node: Node):
    data = node.inputs[0].data
    given = node.inputs[1] if len(node.inputs) > 1 else None
    shape = _ints(given) if given is not None and given.is_constant else None
    shape = resolve_reshape(shape, data.size) if shape is not None else node.outputs[0].shape
    if shape is None or int(np.prod(shape, dtype=np.int64)) != data.size:
        return None  # a computed shape input and a placeholder output shape
    return _output(node, data.reshape(shape))


def resolve_reshape(shape: list[int], size: int) -> tuple[int, ...] | None:
    """RESHAPE's new shape with its one -1 resolved, or None if it cannot hold size elements."""
    known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
    unknown = shape.count(-1)
    if unknown > 1 or any(d < -1 for d in shape):
        return None
    if unknown:
        if known == 0 or size % known:
            return None
        shape = [size // known if d == -1 else d for d in shape]
    return tuple(shape) if int(np.prod(shape, dtype=np.int64)) == size else None


def _same_values_new_shape(node: Node):
    """SQUEEZE: the values under the output's static shape."""
    data, out = node.inputs[0].data, node.outputs[0]
    return _output(node, data.reshape(out.shape)) if out.size == data.size else None


def _expand_dims(node: Node):
    axis = _ints(node.inputs[1])
    data = node.inputs[0].data
    if axis is None or len(axis) != 1 or not -data.ndim - 1 <= axis[0] <= data.ndim:
        return None
    return _output(node, np.expand_dims(data, axis[0]))


def _slice(node: Node):
    problems: list[str] = []
    plan = strided_copy_plan(node, problems)
    if plan is None or problems:
        return None
    counts, starts, steps, out_shape = plan
    index = np.ix_(*[start + step * np.arange(count)
                     for count, start, step in zip(counts, starts, steps)])
    return _output(node, node.inputs[0].data[index].reshape(out_shape))


def _pack(node: Node):
    rank = len(node.inputs[0].shape) + 1
    axis = normalize_axis(node.options.get("axis", 0), rank)
    if axis is None or len({t.shape for t in node.inputs}) != 1:
        return None
    return _output(node, np.stack([t.data for t in node.inputs], axis=axis))


def _unpack(node: Node):
    data = node.inputs[0].data
    axis = normalize_axis(node.options.get("axis", 0), data.ndim)
    if axis is None or data.shape[axis] != len(node.outputs):
        return None
    return [np.array(np.take(data, i, axis=axis), dtype=out.dtype.numpy)
            for i, out in enumerate(node.outputs)]


def _concatenation(node: Node):
    axis = normalize_axis(node.options.get("axis", 0), len(node.outputs[0].shape))
    if axis is None or node.options.get("activation", "NONE") != "NONE":
        return None
    try:
        return _output(node, np.concatenate([t.data for t in node.inputs], axis=axis))
    except ValueError:  # the inputs do not line up: TFLite refuses the model
        return None


def _gather(node: Node):
    values, positions = node.inputs[0].data, node.inputs[1]
    if positions.dtype not in INTEGER_TYPES:
        return None
    axis, batch_dims = gather_axes(node)
    if axis is None or not 0 <= batch_dims <= axis or batch_dims > positions.data.ndim:
        return None
    if values.shape[:batch_dims] != positions.data.shape[:batch_dims]:
        return None
    if not ((positions.data >= 0) & (positions.data < values.shape[axis])).all():
        return None  # TFLite fails the invocation

    def take(v, p, axis, batch_dims):
        if batch_dims == 0:
            return np.take(v, p, axis=axis)
        return np.stack([take(v[b], p[b], axis - 1, batch_dims - 1) for b in range(v.shape[0])])

    return _output(node, take(values, positions.data, axis, batch_dims))


ACTIVATION_RANGES = {"NONE": (None, None), "RELU": (0, None), "RELU6": (0, 6),
                     "RELU_N1_TO_1": (-1, 1)}


def _arithmetic(node: Node):
    if len(node.inputs) != 2 or not _plain_integers(node.inputs + node.outputs):
        return None
    a, b = (t.data.astype(np.int64) for t in node.inputs)
    # Within the int32 range products are exact in int64, and TFLite's
    # FLOOR_DIV (divide in double, then floor) is integer floor division.
    if max(np.abs(a).max(initial=0), np.abs(b).max(initial=0)) >= 2**31:
        return None
    if node.kind == OpKind.FLOOR_DIV:
        if (b == 0).any():
            return None  # TFLite fails the invocation
        value = np.floor_divide(a, b)
    else:
        value = {OpKind.ADD: np.add, OpKind.SUB: np.subtract, OpKind.MUL: np.multiply}[
            node.kind](a, b)
    activation = node.options.get("activation", "NONE")
    if activation not in ACTIVATION_RANGES:
        return None
    low, high = ACTIVATION_RANGES[activation]
    value = np.clip(value, low, high) if low is not None else value
    value = _fits(value, node.outputs[0].dtype)
    return None if value is None else [value]


def _reduce_prod(node: Node):
    if not _plain_integers([node.inputs[0], node.outputs[0]]):
        return None
    data, axes = node.inputs[0].data, _ints(node.inputs[1])
    if axes is None:
        return None
    axes = [normalize_axis(a, data.ndim) for a in axes]
    if None in axes:
        return None
    value = data.astype(np.int64)
    for axis in sorted(set(axes), reverse=True):
        value = np.multiply.reduce(value, axis=axis, keepdims=True)
        if value.size and np.abs(value).max() >= 2**31:
            return None  # int32 products overflow in TFLite's C (and int64 cannot tell)
    if not node.options.get("keep_dims", False):
        value = np.squeeze(value, axis=tuple(set(axes)))
    value = _fits(value, node.outputs[0].dtype)
    return None if value is None else [value]


def _range(node: Node):
    if not _plain_integers(node.inputs + node.outputs) or any(t.size != 1 for t in node.inputs):
        return None
    start, limit, delta = (int(t.data.reshape(())) for t in node.inputs)
    if delta == 0 or (limit > start and delta < 0) or (limit < start and delta > 0):
        return None  # TFLite refuses these
    size = (abs(limit - start) + abs(delta) - 1) // abs(delta)
    value = _fits(start + delta * np.arange(size, dtype=np.int64), node.outputs[0].dtype)
    return None if value is None else [value]


def _cast(node: Node):
    data, out = node.inputs[0].data, node.outputs[0]
    if out.dtype == DType.BOOL:
        return _output(node, data != 0)
    if data.dtype.kind == "f" and out.dtype != DType.FLOAT32:
        # static_cast from float: truncation, undefined outside the type's range.
        info = np.iinfo(out.dtype.numpy)
        if not np.isfinite(data).all() or (data.size and (
                np.trunc(data).min() < info.min or np.trunc(data).max() > info.max)):
            return None
    # Integer narrowing wraps (two's complement), as static_cast does with GCC.
    return _output(node, data.astype(out.dtype.numpy))


def _quantize(node: Node):
    """QUANTIZE of a float constant (tf.zeros_like on a dequantized tensor)."""
    source, out = node.inputs[0], node.outputs[0]
    if (source.dtype != DType.FLOAT32 or out.dtype not in (DType.INT8, DType.UINT8)
            or out.quant is None or out.quant.per_channel):
        return None
    info = np.iinfo(out.dtype.numpy)
    return [reference.quantize(source.data, out.quant.scale, out.quant.zero_point,
                               int(info.min), int(info.max))]


EVALUATORS: dict[OpKind, Evaluator] = {
    OpKind.SHAPE: _shape,
    OpKind.ZEROS_LIKE: _zeros_like,
    OpKind.FILL: _fill,
    OpKind.BROADCAST_TO: _broadcast_to,
    OpKind.RESHAPE: _reshape,
    OpKind.SQUEEZE: _same_values_new_shape,
    OpKind.EXPAND_DIMS: _expand_dims,
    OpKind.STRIDED_SLICE: _slice,
    OpKind.SLICE: _slice,
    OpKind.PACK: _pack,
    OpKind.UNPACK: _unpack,
    OpKind.CONCATENATION: _concatenation,
    OpKind.GATHER: _gather,
    OpKind.ADD: _arithmetic,
    OpKind.SUB: _arithmetic,
    OpKind.MUL: _arithmetic,
    OpKind.FLOOR_DIV: _arithmetic,
    OpKind.REDUCE_PROD: _reduce_prod,
    OpKind.RANGE: _range,
    OpKind.CAST: _cast,
    OpKind.QUANTIZE: _quantize,
}


def _needed_inputs(node: Node) -> list[Tensor | None]:
    """The inputs that must be constant for the node to fold."""
    if node.kind in SHAPE_ONLY:
        # Only the input's shape matters; an absent input cannot fold.
        return [] if node.inputs and node.inputs[0] is not None else [None]
    return node.inputs[:1] if node.kind in DATA_INPUT_ONLY else node.inputs


def evaluate(node: Node) -> list[np.ndarray] | None:
    """The output values of a node whose inputs are constant (SHAPE_ONLY ops:
    whose inputs have a static shape), or None when it is not folded."""
    evaluator = EVALUATORS.get(node.kind)
    if evaluator is None or any(out.variable for out in node.outputs):
        return None
    if any(t is None or not t.is_constant for t in _needed_inputs(node)):
        return None
    if node.kind in MOVES:
        copied = node.inputs if node.kind in (OpKind.PACK, OpKind.CONCATENATION) \
            else node.inputs[:1]
        if any(t.dtype != node.outputs[0].dtype for t in copied + node.outputs):
            return None
    values = evaluator(node)
    if values is not None:
        for out, value in zip(node.outputs, values):
            assert value.dtype == out.dtype.numpy, \
                f"{node}: folded {value.dtype} into {out.dtype.name} tensor '{out.name}'"
    return values


def fold_constants(graph: Graph) -> Graph:
    """Evaluate every foldable node in schedule order (its constant outputs
    feed the next ones), then give RESHAPE the shape its folded shape input
    says. Nodes that write a graph output stay: the output must be written."""
    mapping: dict[int, Tensor] = {}

    def current(t):
        return mapping.get(id(t), t) if t is not None else None

    graph_outputs = {id(t) for t in graph.outputs}
    kept, folded = [], []
    for node in graph.nodes:
        view = dataclasses.replace(node, inputs=[current(t) for t in node.inputs])
        values = None if any(id(t) in graph_outputs for t in node.outputs) else evaluate(view)
        if values is None:
            kept.append(node)
            continue
        folded.append(node)
        for out, value in zip(node.outputs, values):
            # The folded value's shape wins: a dynamic-batch model records
            # placeholder shapes for tensors TFLite resizes at run time.
            mapping[id(out)] = dataclasses.replace(out, shape=tuple(value.shape), data=value)
    for node in kept:
        _resize_reshape_output(node, current, mapping)
    if not mapping:
        return graph
    graph = replace_tensors(graph, mapping, kept)
    return dataclasses.replace(graph, folded=graph.folded + tuple(folded))


def _resize_reshape_output(node: Node, current, mapping: dict[int, Tensor]) -> None:
    """tf.reshape(x, [tf.shape(x)[0], -1]) records its output as [1, 1]
    (shape signature [-1, -1]); TFLite resizes it at run time to what the
    shape input says. With that input folded, tinyedge does the same."""
    if node.kind != OpKind.RESHAPE or len(node.inputs) < 2 or len(node.outputs) != 1:
        return
    source, shape, out = current(node.inputs[0]), current(node.inputs[1]), node.outputs[0]
    if source is None or shape is None or out is None or not shape.is_constant \
            or source.size == out.size:
        return
    wanted = _ints(shape)
    resolved = resolve_reshape(wanted, source.size) if wanted is not None else None
    if resolved is not None:
        mapping[id(out)] = dataclasses.replace(out, shape=resolved)


def not_folded_problem(node: Node) -> str:
    """Why a compile-time-only node (COMPILE_TIME_ONLY) is still in the graph."""
    computed = [t.name for t in _needed_inputs(node) if t is not None and not t.is_constant]
    if computed:
        return (f"{node.kind.name} is only evaluated at compile time, on constant inputs; "
                f"here it reads '{computed[0]}', computed at run time")
    return (f"{node.kind.name} is only evaluated at compile time, and TFLite's result for these "
            "inputs cannot be reproduced exactly (overflow, out-of-range or unsupported types)")
