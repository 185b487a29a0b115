"""Per-op preparation: validate a node, then lower it to one kernel call.

Each module `ops/<op>.py` provides `check(node) -> list[str]` (problems a user
can fix, empty when the node is supported) and `lower(node, name) -> KernelCall`
(everything the C kernel needs, computed here at compile time). The registry
at the bottom maps each OpKind to its module.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tinyedge.ir import DType, Node, OpKind, Tensor


@dataclass
class CStruct:
    """A named `static const` struct of the generated code.
    Field values are ints, floats, CName or lists of ints."""

    ctype: str
    name: str
    fields: list[tuple[str, object]]


@dataclass
class CArray:
    """A named `static const` array of integers (per-channel multipliers, shifts)."""

    ctype: str
    name: str
    values: list[int]


@dataclass(frozen=True)
class CName:
    """A reference by name to another generated object (array or struct)."""

    name: str


@dataclass(frozen=True)
class StructArg:
    """Pass a generated struct by address."""

    struct: CStruct


@dataclass(frozen=True)
class TensorArg:
    """Pass a tensor's data pointer (a weight array or a place in the arena)."""

    tensor: Tensor


@dataclass(frozen=True)
class TensorListArg:
    """Pass an array of tensor data pointers (CONCATENATION inputs, SPLIT
    outputs); `writable` for output pointers."""

    tensors: tuple
    writable: bool = False


@dataclass(frozen=True)
class IntArg:
    value: int


@dataclass(frozen=True)
class NullArg:
    pass


@dataclass
class KernelCall:
    """One call of a C kernel, with the constants it needs."""

    function: str
    args: list
    constants: list = field(default_factory=list)  # CStruct / CArray, in definition order
    macs: int = 0
    summary: str = ""  # one line for the comment above the call


def dims_struct(name: str, shape: tuple[int, ...]) -> CStruct:
    """A te_dims for a shape of rank <= 4, leading dimensions padded with 1."""
    padded = (1,) * (4 - len(shape)) + tuple(shape)
    return CStruct("te_dims", name, list(zip(("n", "h", "w", "c"), padded)))


def requant_constants(prefix: str, multipliers: list[int], shifts: list[int]) -> list:
    """The te_requant struct and its two arrays; one pair when all channels agree."""
    if len(set(zip(multipliers, shifts))) == 1:
        multipliers, shifts = multipliers[:1], shifts[:1]
    m = CArray("int32_t", f"{prefix}_multipliers", list(multipliers))
    s = CArray("int8_t", f"{prefix}_shifts", list(shifts))  # in [-31, 30] (quant.py)
    quant = CStruct("te_requant", f"{prefix}_quant",
                    [("multipliers", CName(m.name)), ("shifts", CName(s.name)),
                     ("count", len(multipliers))])
    return [m, s, quant]


def shape_text(t: Tensor) -> str:
    return "x".join(str(d) for d in t.shape) or "scalar"


def require(problems: list[str], condition: bool, message: str) -> None:
    if not condition:
        problems.append(message)


def check_int8_activations(node: Node, tensors: list[Tensor | None], problems: list[str]) -> None:
    for t in tensors:
        if t is None:
            continue
        if t.dtype != DType.INT8:
            problems.append(f"tensor '{t.name}' is {t.dtype.name}; {node.kind.name} is compiled for "
                            "int8 only (quantize the model to full integer)")
        elif t.quant is None:
            problems.append(f"tensor '{t.name}' has no quantization parameters")
        elif t.quant.per_channel:
            problems.append(f"activation tensor '{t.name}' is quantized per channel")
        elif not -128 <= t.quant.zero_point <= 127:
            problems.append(f"tensor '{t.name}' has zero point {t.quant.zero_point} out of int8 range")


def is_16x8(node: Node) -> bool:
    """Whether a node runs in TFLite's 16x8 scheme (int16 activations, int8 weights)."""
    first = node.inputs[0] if node.inputs else None
    return first is not None and first.dtype == DType.INT16


def activation_bounds(node: Node) -> tuple[int, int]:
    """The integer range of the node's activations (int8, or int16 in the 16x8 scheme)."""
    return (-32768, 32767) if is_16x8(node) else (-128, 127)


def check_int16_activations(node: Node, tensors: list[Tensor | None], problems: list[str]) -> None:
    for t in tensors:
        if t is None:
            continue
        if t.dtype != DType.INT16:
            problems.append(f"tensor '{t.name}' is {t.dtype.name}; {node.kind.name} with int16 "
                            "input needs int16 activations throughout (the 16x8 scheme)")
        elif t.quant is None:
            problems.append(f"tensor '{t.name}' has no quantization parameters")
        elif t.quant.per_channel:
            problems.append(f"activation tensor '{t.name}' is quantized per channel")
        elif t.quant.zero_point != 0:
            problems.append(f"int16 tensor '{t.name}' has zero point {t.quant.zero_point}; "
                            "TFLite Micro's 16x8 kernels need 0")


def check_activations(node: Node, tensors: list[Tensor | None], problems: list[str]) -> None:
    """int8 activations, or int16 ones (16x8 scheme) when the first input is int16."""
    if is_16x8(node):
        check_int16_activations(node, tensors, problems)
    else:
        check_int8_activations(node, tensors, problems)


def check_activation(node: Node, problems: list[str], allowed=("NONE", "RELU", "RELU6",
                                                            "RELU_N1_TO_1")) -> None:
    activation = node.options.get("activation", "NONE")
    require(problems, activation in allowed,
            f"fused activation {activation} is not supported (supported: {', '.join(allowed)})")


# Builtin ops that appear in int8 models but that TFLite Micro itself cannot
# run in int8: tinyedge does not invent semantics for them.
NOT_IN_TFLITE_MICRO: dict[str, str] = {
    "EXP": "TFLite Micro's EXP kernel accepts float32 only (no int8 path)",
    "SQUARE": "TFLite Micro's SQUARE kernel accepts float32 only (no int8 path)",
}


def registry() -> dict:
    from tinyedge.ops import add, conv2d, depthwise_conv2d, fully_connected, pool2d, quantize, \
        reshape, softmax
    from tinyedge.ops import arg_max, concatenation, depth_space, gather, pad, reduce, slice, \
        split, transpose
    from tinyedge.ops import elu, hard_swish, l2_normalization, leaky_relu, logistic, \
        maximum_minimum, mul, prelu, relu, rsqrt, squared_difference, sub
    from tinyedge.ops import batch_matmul, resize, transpose_conv
    from tinyedge.ops import lstm, svdf
    return {
        OpKind.CONV_2D: conv2d,
        OpKind.DEPTHWISE_CONV_2D: depthwise_conv2d,
        OpKind.FULLY_CONNECTED: fully_connected,
        OpKind.AVERAGE_POOL_2D: pool2d,
        OpKind.MAX_POOL_2D: pool2d,
        OpKind.ADD: add,
        OpKind.SOFTMAX: softmax,
        OpKind.RESHAPE: reshape,
        OpKind.SQUEEZE: reshape,
        OpKind.QUANTIZE: quantize,
        OpKind.DEQUANTIZE: quantize,
        OpKind.PAD: pad,
        OpKind.PADV2: pad,
        OpKind.MEAN: reduce,
        OpKind.SUM: reduce,
        OpKind.CONCATENATION: concatenation,
        OpKind.PACK: concatenation,
        OpKind.TRANSPOSE: transpose,
        OpKind.STRIDED_SLICE: slice,
        OpKind.SLICE: slice,
        OpKind.SPLIT: split,
        OpKind.SPLIT_V: split,
        OpKind.UNPACK: split,
        OpKind.GATHER: gather,
        OpKind.DEPTH_TO_SPACE: depth_space,
        OpKind.SPACE_TO_DEPTH: depth_space,
        OpKind.ARG_MAX: arg_max,
        OpKind.ARG_MIN: arg_max,
        OpKind.MUL: mul,
        OpKind.SUB: sub,
        OpKind.SQUARED_DIFFERENCE: squared_difference,
        OpKind.MAXIMUM: maximum_minimum,
        OpKind.MINIMUM: maximum_minimum,
        OpKind.LOGISTIC: logistic,
        OpKind.TANH: logistic,
        OpKind.HARD_SWISH: hard_swish,
        OpKind.RELU: relu,
        OpKind.RELU6: relu,
        OpKind.LEAKY_RELU: leaky_relu,
        OpKind.PRELU: prelu,
        OpKind.ELU: elu,
        OpKind.RSQRT: rsqrt,
        OpKind.L2_NORMALIZATION: l2_normalization,
        OpKind.RESIZE_NEAREST_NEIGHBOR: resize,
        OpKind.RESIZE_BILINEAR: resize,
        OpKind.TRANSPOSE_CONV: transpose_conv,
        OpKind.BATCH_MATMUL: batch_matmul,
        OpKind.SVDF: svdf,
        OpKind.UNIDIRECTIONAL_SEQUENCE_LSTM: lstm,
    }
