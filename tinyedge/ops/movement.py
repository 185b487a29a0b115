"""Shared pieces of the data movement ops (TRANSPOSE, SLICE, STRIDED_SLICE,
DEPTH_TO_SPACE, SPACE_TO_DEPTH, PAD, CONCATENATION, SPLIT, ...).

TFLite Micro moves int8 (or int16) elements in these ops without looking at
the quantization, so neither does tinyedge: the copy is raw."""
from __future__ import annotations

import numpy as np

from tinyedge.ir import DType, Node, Tensor
from tinyedge.ops import CStruct, KernelCall, StructArg, TensorArg, shape_text
from tinyedge.planner.overlap import elementwise_limit

MAX_RANK = 6  # TE_MAX_RANK

# An input index no output element reads (see overlap_limit).
_NO_READ = 1 << 50


def check_int8(node: Node, tensors, problems: list[str]) -> None:
    for t in tensors:
        if t is not None and t.dtype != DType.INT8:
            problems.append(f"tensor '{t.name}' is {t.dtype.name}; {node.kind.name} is compiled "
                            "for int8 only")


def check_int8_or_int16(node: Node, tensors, problems: list[str]) -> None:
    """int8 tensors, or int16 ones throughout (the 16x8 scheme)."""
    dtypes = {t.dtype for t in tensors if t is not None}
    if dtypes not in ({DType.INT8}, {DType.INT16}):
        problems.append(f"{node.kind.name} is compiled for int8 or int16 tensors of one type, "
                        f"found {', '.join(sorted(d.name for d in dtypes))}")


def constant_ints(node: Node, index: int, what: str, problems: list[str],
                  dtypes=(DType.INT32,)) -> list[int] | None:
    """The integer values of a constant input, or None with a problem added."""
    t = node.inputs[index] if index < len(node.inputs) else None
    if t is None or not t.is_constant:
        problems.append(f"{node.kind.name} needs a constant {what} tensor")
        return None
    if t.dtype not in dtypes:
        problems.append(f"{node.kind.name} {what} must be "
                        f"{' or '.join(d.name for d in dtypes)}, found {t.dtype.name}")
        return None
    return [int(v) for v in np.asarray(t.data).reshape(-1)]


def contiguous_strides(shape) -> list[int]:
    strides, step = [], 1
    for dim in reversed(list(shape)):
        strides.append(step)
        step *= int(dim)
    return list(reversed(strides))


def normalize_axis(axis: int, rank: int) -> int | None:
    axis = axis + rank if axis < 0 else axis
    return axis if 0 <= axis < max(rank, 1) else None


def _pad6(shape, strides):
    pad = MAX_RANK - len(shape)
    assert pad >= 0, f"rank {len(shape)} above {MAX_RANK}"
    return [1] * pad + [int(d) for d in shape], [0] * pad + [int(s) for s in strides]


def read_index(shape, strides, offset: int) -> np.ndarray:
    """The input element read by each output element of a strided copy, in output order."""
    index = np.full([int(d) for d in shape] or [1], offset, dtype=np.int64)
    for d, (extent, stride) in enumerate(zip(shape, strides)):
        view = [1] * len(shape)
        view[d] = int(extent)
        index = index + (np.arange(int(extent), dtype=np.int64) * int(stride)).reshape(view)
    return index.reshape(-1)


def strided_copy(node: Node, prefix: str, shape, strides, offset: int,
                 summary: str) -> KernelCall:
    """One te_strided_copy_s8 (or _s16) call: output element (i0..) =
    input[offset + sum ik*stride_k]."""
    input_, output = node.inputs[0], node.outputs[0]
    assert int(np.prod(shape, dtype=np.int64)) == output.size, \
        f"{node}: copy shape {list(shape)} does not fill output {list(output.shape)}"
    shape6, strides6 = _pad6(shape, strides)
    params = CStruct("te_strided_copy_params", f"{prefix}_params", [
        ("shape", shape6), ("strides", strides6), ("offset", int(offset)),
        ("input_size", input_.size)])
    function = "te_strided_copy_s16" if input_.dtype == DType.INT16 else "te_strided_copy_s8"
    return KernelCall(function=function,
                      args=[StructArg(params), TensorArg(input_), TensorArg(output)],
                      constants=[params], summary=summary)


def strided_copy_overlap(shape, strides, offset: int, itemsize: int = 1) -> dict[int, int]:
    """Element k is read just before it is written, in output order."""
    return {0: elementwise_limit(read_index(shape, strides, offset), itemsize, itemsize)}


def sparse_read_limit(reads: np.ndarray, itemsize: int = 1) -> int:
    """elementwise_limit for kernels where some output elements read nothing
    from this input (reads[k] < 0): those only count as writes."""
    reads = np.where(reads < 0, _NO_READ, reads)
    return elementwise_limit(reads, itemsize, itemsize)


def describe(node: Node) -> str:
    ins = [shape_text(t) for t in node.inputs[:1] if t is not None]
    return f"{node.kind.name} {' '.join(ins)} -> {shape_text(node.outputs[0])}"


def single_io(node: Node, n_inputs: tuple[int, ...], problems: list[str]) -> bool:
    if len(node.inputs) not in n_inputs or len(node.outputs) != 1 or node.inputs[0] is None:
        problems.append(f"{node.kind.name} takes {' or '.join(map(str, n_inputs))} inputs "
                        "and 1 output")
        return False
    return True


def tensor_ok(t: Tensor | None) -> bool:
    return t is not None
