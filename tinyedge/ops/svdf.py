"""SVDF: int8 input and output with int16 (or int8) state, as TFLite Micro's
integer SVDF (svdf_common.cc, EvalIntegerSvdfReference).

The activation state (input 4) is a variable tensor: it lives in the model's
state block and carries from one invocation to the next. The feature
weights' zero-point product is folded into a per-filter bias here."""
from __future__ import annotations

import numpy as np

from tinyedge import quant
from tinyedge.ir import DType, Node
from tinyedge.ops import CArray, CName, CStruct, KernelCall, NullArg, StructArg, TensorArg, \
    check_int8_activations, require, shape_text

SUPPORT = ("int8 input/output, int8 feature weights, int16 time weights and state (or int8 "
           "time weights and state), int32 bias of scale state x time weights; state kept between "
           "calls; the fused activation is ignored, as TFLite Micro's integer SVDF does")

OPTIONAL_INPUTS = frozenset({3})
STATE_INPUTS = frozenset({4})
FUNCTIONS = {DType.INT16: "te_svdf_s8_s16", DType.INT8: "te_svdf_s8_s8"}


def _scale(t) -> np.float32:
    return np.float32(t.quant.scale)


def effective_scales(input_, weights_feature, weights_time, state, output) -> tuple[float, float]:
    """TFLite Micro's two rescalings, computed in float32 as its Prepare does."""
    scale_1 = np.float32(_scale(input_) * _scale(weights_feature)) / _scale(state)
    scale_2 = np.float32(_scale(state) * _scale(weights_time)) / _scale(output)
    return float(np.float32(scale_1)), float(np.float32(scale_2))


def check(node: Node) -> list[str]:
    problems: list[str] = []
    require(problems, len(node.inputs) == 5 and len(node.outputs) == 1,
            "SVDF takes 5 inputs (input, feature weights, time weights, bias, state) and 1 output")
    if problems:
        return problems
    input_, feature, time, bias, state = node.inputs
    output = node.outputs[0]
    check_int8_activations(node, [input_, output], problems)
    if problems:
        return problems
    rank = node.options.get("rank", 0)
    require(problems, not node.options.get("asymmetric_quantize_inputs", False),
            "SVDF with asymmetric_quantize_inputs (hybrid) is not supported")
    if feature is None or not feature.is_constant or feature.dtype != DType.INT8:
        return problems + ["SVDF feature weights must be constant int8"]
    if time is None or not time.is_constant or time.dtype not in FUNCTIONS:
        return problems + ["SVDF time weights must be constant int16 or int8"]
    require(problems, state.variable, f"SVDF state '{state.name}' must be a variable tensor")
    require(problems, state.dtype == time.dtype,
            f"SVDF state is {state.dtype.name} but its time weights {time.dtype.name}")
    for t in (feature, time, state):
        if t.quant is None or t.quant.per_channel:
            problems.append(f"tensor '{t.name}' needs one scale")
    if problems:
        return problems
    require(problems, len(input_.shape) == 2 and len(output.shape) == 2
            and len(feature.shape) == 2 and len(time.shape) == 2,
            "SVDF input, output and weights must be 2-D")
    if problems:
        return problems
    batches, input_size = input_.shape
    filters, memory = feature.shape[0], time.shape[1]
    require(problems, rank >= 1 and filters % rank == 0,
            f"SVDF rank {rank} does not divide the {filters} filters")
    if problems:
        return problems
    units = filters // rank
    require(problems, feature.shape[1] == input_size, "SVDF feature weights do not match the input")
    require(problems, time.shape[0] == filters, "SVDF time weights do not match the filters")
    require(problems, output.shape == (batches, units),
            f"SVDF output must be [{batches}, {units}]")
    require(problems, state.shape == (batches, memory * filters),
            f"SVDF state must be [{batches}, {memory * filters}]")
    require(problems, input_size <= 65536, "SVDF input rows above 65536 values")
    if bias is not None:
        require(problems, bias.is_constant and bias.dtype == DType.INT32
                and bias.shape == (units,), f"SVDF bias must be constant int32 [{units}]")
        # TFLite Micro's Prepare refuses any other bias scale (an absolute 1e-5 tolerance).
        expected = float(np.float32(_scale(state) * _scale(time)))
        found = float(_scale(bias)) if bias.quant is not None else 0.0
        require(problems, abs(found - expected) < 1e-5,
                f"SVDF bias scale {found:g} is not the state scale times the time weights' "
                f"scale ({expected:g})")
    if problems:
        return problems
    info = np.iinfo(state.dtype.numpy)
    require(problems, info.min <= state.quant.zero_point <= info.max,
            f"SVDF state zero point {state.quant.zero_point} out of range")
    for real in effective_scales(input_, feature, time, state, output):
        _, shift = quant.quantize_multiplier(real)
        require(problems, -31 <= shift <= 30, "SVDF rescaling out of the supported range")
    return problems


def lower(node: Node, prefix: str) -> KernelCall:
    input_, feature, time, bias, state = node.inputs
    output = node.outputs[0]
    batches, input_size = input_.shape
    filters, memory = feature.shape[0], time.shape[1]
    rank = node.options["rank"]
    scale_1, scale_2 = effective_scales(input_, feature, time, state, output)
    m1, s1 = quant.quantize_multiplier(scale_1)
    m2, s2 = quant.quantize_multiplier(scale_2)
    folded = -input_.quant.zero_point * feature.data.astype(np.int64).sum(axis=1)
    feature_bias = CArray("int32_t", f"{prefix}_feature_bias", [int(v) for v in folded])
    params = CStruct("te_svdf_params", f"{prefix}_params", [
        ("batches", batches), ("input_size", input_size), ("filters", filters),
        ("rank", rank), ("memory", memory),
        ("state_zero_point", state.quant.zero_point),
        ("output_zero_point", output.quant.zero_point),
        ("feature_multiplier", m1), ("feature_shift", s1),
        ("output_multiplier", m2), ("output_shift", s2),
        ("feature_bias", CName(feature_bias.name))])
    return KernelCall(
        function=FUNCTIONS[state.dtype],
        args=[StructArg(params), TensorArg(input_), TensorArg(feature), TensorArg(time),
              TensorArg(bias) if bias is not None else NullArg(), TensorArg(state),
              TensorArg(output)],
        constants=[feature_bias, params],
        macs=batches * filters * (input_size + memory),
        summary=(f"SVDF {shape_text(input_)} -> {shape_text(output)} (rank {rank}, memory "
                 f"{memory}, {state.dtype.name.lower()} state)"))
