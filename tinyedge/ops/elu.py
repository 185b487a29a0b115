"""ELU: int8 by a 256-entry table, built here exactly as TFLite Micro builds it (in float32)."""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math

import numpy as np

from tinyedge.ir import DType, Node, Tensor
from tinyedge.ops import IntArg, KernelCall, TensorArg, shape_text
from tinyedge.ops.elementwise import check_unary, unary_overlap

SUPPORT = "int8 (a 256-byte table per layer, computed at compile time as TFLite Micro does)"


@functools.lru_cache(maxsize=None)
def _expf():
    """The C library's expf (what std::exp(float) calls), else exp rounded to float32."""
    name = ctypes.util.find_library("m")
    if name:
        try:
            libm = ctypes.CDLL(name)
            libm.expf.restype = ctypes.c_float
            libm.expf.argtypes = [ctypes.c_float]
            return lambda x: np.float32(libm.expf(float(x)))
        except (OSError, AttributeError):
            pass
    return lambda x: np.float32(math.exp(float(x)))


def _round_half_away(x: np.float32) -> np.float32:
    return np.float32(np.sign(x) * np.floor(np.abs(x) + np.float32(0.5)))


def table(input_scale: float, input_zero_point: int, output_scale: float,
          output_zero_point: int) -> np.ndarray:
    """TFLite Micro's PopulateLookupTable for ELU, in float32 arithmetic:
    q = round(elu(scale_in * (v - zp_in)) * (1 / scale_out)) + zp_out."""
    expf = _expf()
    s_in, s_out = np.float32(input_scale), np.float32(output_scale)
    inverse_scale = np.float32(1.0) / s_out
    values = []
    for v in range(-128, 128):
        x = s_in * np.float32(v - input_zero_point)
        y = expf(x) - np.float32(1.0) if x < 0 else x
        rescaled = _round_half_away(np.float32(y * inverse_scale))
        q = int(np.float32(rescaled + np.float32(output_zero_point)))
        values.append(min(127, max(-128, q)))
    return np.array(values, dtype=np.int8)


def check(node: Node) -> list[str]:
    problems: list[str] = []
    check_unary(node, problems)
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    input_, output = node.inputs[0], node.outputs[0]
    lut = Tensor(name=f"{prefix}_elu_table", shape=(256,), dtype=DType.INT8,
                 data=table(input_.quant.scale, input_.quant.zero_point, output.quant.scale,
                            output.quant.zero_point))
    return KernelCall(
        function="te_lut_s8",
        args=[TensorArg(lut), IntArg(input_.size), TensorArg(input_), TensorArg(output)],
        summary=f"ELU {shape_text(input_)} (table)")


overlap = unary_overlap
