"""The intermediate representation: tensors, nodes and one graph.

One small set of dataclasses and one op enum; passes rewrite a Graph into a
new Graph, and the planner and code generator read it.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np


class DType(enum.Enum):
    INT8 = ("int8", "int8_t", 1)
    UINT8 = ("uint8", "uint8_t", 1)
    INT16 = ("int16", "int16_t", 2)
    INT32 = ("int32", "int32_t", 4)
    INT64 = ("int64", "int64_t", 8)
    FLOAT32 = ("float32", "float", 4)
    BOOL = ("bool", "uint8_t", 1)

    def __init__(self, numpy_name: str, ctype: str, itemsize: int):
        self.numpy_name = numpy_name
        self.ctype = ctype
        self.itemsize = itemsize

    @property
    def numpy(self) -> np.dtype:
        return np.dtype(self.numpy_name)


class OpKind(enum.Enum):
    CONV_2D = "CONV_2D"
    DEPTHWISE_CONV_2D = "DEPTHWISE_CONV_2D"
    FULLY_CONNECTED = "FULLY_CONNECTED"
    AVERAGE_POOL_2D = "AVERAGE_POOL_2D"
    MAX_POOL_2D = "MAX_POOL_2D"
    ADD = "ADD"
    SOFTMAX = "SOFTMAX"
    RESHAPE = "RESHAPE"
    SQUEEZE = "SQUEEZE"
    QUANTIZE = "QUANTIZE"
    DEQUANTIZE = "DEQUANTIZE"
    # data movement and reductions
    PAD = "PAD"
    PADV2 = "PADV2"
    MEAN = "MEAN"
    SUM = "SUM"
    CONCATENATION = "CONCATENATION"
    TRANSPOSE = "TRANSPOSE"
    STRIDED_SLICE = "STRIDED_SLICE"
    SLICE = "SLICE"
    SPLIT = "SPLIT"
    SPLIT_V = "SPLIT_V"
    PACK = "PACK"
    UNPACK = "UNPACK"
    GATHER = "GATHER"
    DEPTH_TO_SPACE = "DEPTH_TO_SPACE"
    SPACE_TO_DEPTH = "SPACE_TO_DEPTH"
    ARG_MAX = "ARG_MAX"
    ARG_MIN = "ARG_MIN"
    # elementwise arithmetic and activations
    MUL = "MUL"
    SUB = "SUB"
    SQUARED_DIFFERENCE = "SQUARED_DIFFERENCE"
    MAXIMUM = "MAXIMUM"
    MINIMUM = "MINIMUM"
    LOGISTIC = "LOGISTIC"
    TANH = "TANH"
    HARD_SWISH = "HARD_SWISH"
    RELU = "RELU"
    RELU6 = "RELU6"
    LEAKY_RELU = "LEAKY_RELU"
    PRELU = "PRELU"
    ELU = "ELU"
    RSQRT = "RSQRT"
    L2_NORMALIZATION = "L2_NORMALIZATION"
    # resizing, transposed convolution, matrix products
    RESIZE_NEAREST_NEIGHBOR = "RESIZE_NEAREST_NEIGHBOR"
    RESIZE_BILINEAR = "RESIZE_BILINEAR"
    TRANSPOSE_CONV = "TRANSPOSE_CONV"
    BATCH_MATMUL = "BATCH_MATMUL"
    # stateful (variable tensors kept between invocations)
    SVDF = "SVDF"
    UNIDIRECTIONAL_SEQUENCE_LSTM = "UNIDIRECTIONAL_SEQUENCE_LSTM"
    # evaluated at compile time only, on constants (passes/fold_constants.py)
    SHAPE = "SHAPE"
    FILL = "FILL"
    ZEROS_LIKE = "ZEROS_LIKE"
    EXPAND_DIMS = "EXPAND_DIMS"
    BROADCAST_TO = "BROADCAST_TO"
    CAST = "CAST"
    RANGE = "RANGE"
    FLOOR_DIV = "FLOOR_DIV"
    REDUCE_PROD = "REDUCE_PROD"


# Ops that only reinterpret the shape of their first input: no kernel, no copy.
ALIAS_OPS = frozenset({OpKind.RESHAPE, OpKind.SQUEEZE})


@dataclass(frozen=True)
class Quantization:
    """Affine quantization: real = scale * (q - zero_point), per tensor when
    there is one scale, else per slice along `axis`."""

    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1

    @property
    def scale(self) -> float:
        return self.scales[0]

    @property
    def zero_point(self) -> int:
        return self.zero_points[0]


@dataclass(eq=False)
class Tensor:
    """A tensor of the graph; `data` is set for constants (weights, biases)."""

    name: str
    shape: tuple[int, ...]
    dtype: DType
    quant: Quantization | None = None
    data: np.ndarray | None = None
    # A variable tensor (TFLite's is_variable: SVDF and LSTM state) keeps its
    # value between invocations; it lives in the model's state block, not in
    # the arena, and starts as (and is reset to) its zero point.
    variable: bool = False

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __repr__(self) -> str:
        return f"Tensor({self.name!r}, {self.shape}, {self.dtype.name})"


@dataclass(eq=False)
class Node:
    """One operation. `inputs` may hold None where TFLite marks an optional
    input as absent (index -1). `options` holds the parsed op options (a dict
    of plain values, keyed as in the TFLite schema) and `index` is the
    operator's index in the source model, for error messages."""

    kind: OpKind
    inputs: list[Tensor | None]
    outputs: list[Tensor]
    options: dict = field(default_factory=dict)
    index: int = -1

    def __repr__(self) -> str:
        return f"Node#{self.index}({self.kind.name})"


@dataclass(eq=False)
class Graph:
    name: str
    inputs: list[Tensor]
    outputs: list[Tensor]
    nodes: list[Node]
    # Nodes of the source model evaluated at compile time (constant folding).
    folded: tuple[Node, ...] = ()

    def tensors(self) -> list[Tensor]:
        """Every tensor the graph refers to, in first-use order, without repeats."""
        seen: dict[int, Tensor] = {}
        for t in self.inputs:
            seen.setdefault(id(t), t)
        for node in self.nodes:
            for t in list(node.inputs) + node.outputs:
                if t is not None:
                    seen.setdefault(id(t), t)
        for t in self.outputs:
            seen.setdefault(id(t), t)
        return list(seen.values())


def schedule_problems(graph: Graph) -> list[str]:
    """Structural problems of a graph in its given order: a tensor read before
    it is produced (this also rules out cycles), a tensor produced twice, a
    graph output nobody produces."""
    problems = []
    available = {id(t) for t in graph.inputs}
    produced: set[int] = set()
    for node in graph.nodes:
        for t in node.inputs:
            if (t is not None and not t.is_constant and not t.variable
                    and id(t) not in available):
                problems.append(f"operator {node.index} ({node.kind.name}) reads tensor "
                                f"'{t.name}' before any operator produces it")
        for t in node.outputs:
            if id(t) in produced or id(t) in {id(i) for i in graph.inputs}:
                problems.append(f"tensor '{t.name}' is written by more than one operator")
            if t.is_constant:
                problems.append(f"operator {node.index} ({node.kind.name}) writes the constant "
                                f"tensor '{t.name}'")
            produced.add(id(t))
            available.add(id(t))
    for t in graph.outputs:
        if not t.is_constant and id(t) not in available:
            problems.append(f"graph output '{t.name}' is never produced")
    return problems
