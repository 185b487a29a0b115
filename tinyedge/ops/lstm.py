"""UNIDIRECTIONAL_SEQUENCE_LSTM: int8 activations and weights, int16 cell
state, as TFLite Micro's integer LSTM (lstm_eval.h, lstm_eval_common.cc).

TFLite Micro runs only the plain LSTM: no peephole, projection, layer norm or
CIFG, so neither does tinyedge. The hidden (output) state and cell state are
variable tensors in the model's state block. Everything but the products is
computed here: the gates' rescalings (inputs to Q3.12), the zero points
folded into the biases, the inter-gate multipliers, the quantized cell clip
and the tanh scaling of the cell state."""
from __future__ import annotations

import math

import numpy as np

from tinyedge import quant, weight_layout
from tinyedge.ir import DType, Node, Tensor
from tinyedge.ops import CArray, CName, CStruct, KernelCall, StructArg, TensorArg, \
    TensorListArg, check_int8_activations, require, shape_text

SUPPORT = ("int8 input/output and weights (per tensor, symmetric), int32 biases, int8 hidden "
           "state and int16 cell state (power-of-two scale) kept between calls; TANH or SIGMOID "
           "cell gate, cell clip; peephole, projection, layer norm and CIFG LSTMs are refused, "
           "as TFLite Micro's integer LSTM refuses them")

INPUT, OUTPUT_STATE, CELL_STATE = 0, 18, 19
INPUT_WEIGHTS = (1, 2, 3, 4)        # input, forget, cell, output gates
RECURRENT_WEIGHTS = (5, 6, 7, 8)
BIASES = (12, 13, 14, 15)
# The LSTM variants' inputs, all refused as TFLite Micro's LstmTensors::ValidateTensorStatus does.
VARIANT_INPUTS = {"peephole": (9, 10, 11), "projection": (16, 17),
                  "layer norm": (20, 21, 22, 23)}
INPUT_GATE = (1, 5, 12)  # absent in CIFG (coupled input and forget gates)
# Optional in the format, so check() names the variant instead of "input i is absent".
OPTIONAL_INPUTS = frozenset(INPUT_GATE).union(*VARIANT_INPUTS.values())
STATE_INPUTS = frozenset({OUTPUT_STATE, CELL_STATE})

GATE_INPUT_SCALE = 2.0 ** -12   # Q3.12, the gates' pre-activation
GATE_OUTPUT_SCALE = 2.0 ** -15  # Q0.15, after the activation


def _f32(x) -> np.float32:
    return np.float32(x)


def fc_multiplier(input_scale: float, weight_scale: float) -> tuple[int, int]:
    """TFLite's GetQuantizedConvolutionMultipler into the Q3.12 gate input:
    the scale product in float32, the division in double."""
    product = float(_f32(_f32(input_scale) * _f32(weight_scale)))
    return quant.quantize_multiplier(product / GATE_INPUT_SCALE)


def mul_multiplier(scale_1: float, scale_2: float, output_scale: float) -> tuple[int, int]:
    """CreateInterGateMulParams: all in double."""
    return quant.quantize_multiplier(float(_f32(scale_1)) * float(_f32(scale_2))
                                     / float(_f32(output_scale)))


def cell_scale_power(scale: float) -> int | None:
    exponent = round(math.log2(float(_f32(scale))))
    return exponent if float(_f32(scale)) == 2.0 ** exponent else None


def tanh_scaling(power: int) -> tuple[int, int]:
    """TFLite Micro's Tanh of the cell state: (multiplier, right shift)."""
    left = 15 + power - 3
    return (3, -left) if left < 0 else (3 << left, 0)


def quantized_cell_clip(clip: float, scale: float) -> int:
    if clip <= 0:
        return 0
    return int(min(max(float(_f32(clip)) / float(_f32(scale)), -32768.0), 32767.0))


def check(node: Node) -> list[str]:
    problems: list[str] = []
    require(problems, len(node.inputs) == 24 and len(node.outputs) == 1,
            "UNIDIRECTIONAL_SEQUENCE_LSTM takes 24 inputs and 1 output")
    if problems:
        return problems
    o = node.options
    x, output = node.inputs[INPUT], node.outputs[0]
    hidden, cell = node.inputs[OUTPUT_STATE], node.inputs[CELL_STATE]
    for variant, inputs in VARIANT_INPUTS.items():
        require(problems, all(node.inputs[i] is None for i in inputs),
                f"{variant} LSTM (inputs {', '.join(map(str, inputs))}) is not supported: "
                "TFLite Micro's integer LSTM runs the plain LSTM only")
    require(problems, all(node.inputs[i] is not None for i in INPUT_GATE),
            "CIFG LSTM (no input gate: inputs 1, 5 or 12 absent) is not supported: TFLite "
            "Micro's integer LSTM runs the plain LSTM only")
    if problems:
        return problems
    check_int8_activations(node, [x, output], problems)
    require(problems, not o.get("asymmetric_quantize_inputs", False),
            "hybrid LSTM (asymmetric_quantize_inputs) is not supported")
    require(problems, o.get("activation") in ("TANH", "SIGMOID"),
            f"cell gate activation {o.get('activation')} is not supported (TANH or SIGMOID)")
    require(problems, o.get("cell_clip", 0.0) >= 0, "negative cell clip")
    for i in INPUT_WEIGHTS + RECURRENT_WEIGHTS + BIASES:
        t = node.inputs[i]
        if t is None or not t.is_constant:
            problems.append(f"input {i} must be a constant (weights and biases)")
    if hidden is None or cell is None or not hidden.variable or not cell.variable:
        problems.append("the hidden and cell states (inputs 18, 19) must be variable tensors")
    if problems:
        return problems
    require(problems, hidden.dtype == DType.INT8 and cell.dtype == DType.INT16,
            "LSTM is compiled for an int8 hidden state and an int16 cell state")
    for i in INPUT_WEIGHTS + RECURRENT_WEIGHTS:
        t = node.inputs[i]
        require(problems, t.dtype == DType.INT8 and t.quant is not None
                and not t.quant.per_channel and t.quant.zero_point == 0,
                f"weights '{t.name}' must be int8, one scale, zero point 0")
    for i in BIASES:
        require(problems, node.inputs[i].dtype == DType.INT32, f"bias {i} must be int32")
    for t in (hidden, cell):
        require(problems, t.quant is not None and not t.quant.per_channel,
                f"state '{t.name}' needs one scale")
    if problems:
        return problems
    require(problems, cell.quant.zero_point == 0, "the cell state zero point must be 0")
    require(problems, cell_scale_power(cell.quant.scale) is not None,
            f"cell state scale {cell.quant.scale:g} is not a power of two")
    require(problems, len(x.shape) == 3 and len(output.shape) == 3, "input and output must be 3-D")
    if problems:
        return problems
    time_major = o.get("time_major", False)
    steps, batches = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
    units, input_size = node.inputs[2].shape
    require(problems, x.shape[2] == input_size, "input depth does not match the weights")
    for i in INPUT_WEIGHTS:
        require(problems, node.inputs[i].shape == (units, input_size),
                f"input weights {i} must be [{units}, {input_size}]")
    for i in RECURRENT_WEIGHTS:
        require(problems, node.inputs[i].shape == (units, units),
                f"recurrent weights {i} must be [{units}, {units}]")
    for i in BIASES:
        require(problems, node.inputs[i].shape == (units,), f"bias {i} must be [{units}]")
    require(problems, hidden.size == batches * units and cell.size == batches * units,
            f"states must hold {batches * units} values")
    require(problems, output.shape[:2] == x.shape[:2] and output.shape[2] == units,
            "output shape does not match the input and units")
    require(problems, input_size <= 65536 and units <= 65536, "LSTM rows above 65536 values")
    require(problems, steps >= 1 and batches >= 1, "empty LSTM input")
    if problems:
        return problems
    power = cell_scale_power(cell.quant.scale)
    require(problems, 15 + power - 3 <= 12 and 15 + power - 3 >= -15,
            f"cell state scale 2^{power} is out of the supported range")
    require(problems, np.all(np.abs(folded_biases(node)) < 2**31),
            "a gate bias plus zero point times its weight row sum leaves int32 (TFLite Micro "
            "precomputes it in int32)")
    return problems


def folded_biases(node: Node) -> np.ndarray:
    """The 8 gate biases with the zero points folded in: input gates
    bias - x_zp * row sums of the input weights, then recurrent gates
    -h_zp * row sums of the recurrent weights, each `units` long."""
    x, hidden = node.inputs[INPUT], node.inputs[OUTPUT_STATE]
    biases = [node.inputs[BIASES[g]].data.astype(np.int64)
              - x.quant.zero_point * node.inputs[INPUT_WEIGHTS[g]].data.astype(np.int64).sum(axis=1)
              for g in range(4)]
    biases += [-hidden.quant.zero_point
               * node.inputs[RECURRENT_WEIGHTS[g]].data.astype(np.int64).sum(axis=1)
               for g in range(4)]
    return np.concatenate(biases)


def scratch_tensors(node: Node) -> list[Tensor]:
    """Three int16 gate vectors of one step (TFLite Micro asks for four of the
    batch's size)."""
    units = node.inputs[2].shape[0]
    return [Tensor(name=f"{node.outputs[0].name} (LSTM scratch)", shape=(3 * units,),
                   dtype=DType.INT16)]


def lower(node: Node, prefix: str) -> KernelCall:
    o = node.options
    x, output = node.inputs[INPUT], node.outputs[0]
    assert len(node.outputs) == 2, f"{node}: the scratch tensor was not attached"
    scratch = node.outputs[1]
    hidden, cell = node.inputs[OUTPUT_STATE], node.inputs[CELL_STATE]
    time_major = o.get("time_major", False)
    steps, batches = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
    units, input_size = node.inputs[2].shape
    in_m, in_s, rec_m, rec_s = [], [], [], []
    for g in range(4):
        w, r = node.inputs[INPUT_WEIGHTS[g]], node.inputs[RECURRENT_WEIGHTS[g]]
        m, s = fc_multiplier(x.quant.scale, w.quant.scale)
        in_m.append(m), in_s.append(s)
        m, s = fc_multiplier(hidden.quant.scale, r.quant.scale)
        rec_m.append(m), rec_s.append(s)
    folded = folded_biases(node)
    power = cell_scale_power(cell.quant.scale)
    tanh_m, tanh_s = tanh_scaling(power)
    fc_m, fc_s = mul_multiplier(GATE_OUTPUT_SCALE, cell.quant.scale, cell.quant.scale)
    ic_m, ic_s = mul_multiplier(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, cell.quant.scale)
    h_m, h_s = mul_multiplier(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, hidden.quant.scale)
    bias = CArray("int32_t", f"{prefix}_bias", [int(v) for v in folded])
    params = CStruct("te_lstm_params", f"{prefix}_params", [
        ("batches", batches), ("time_steps", steps), ("input_size", input_size),
        ("units", units), ("time_major", int(time_major)),
        ("hidden_zero_point", hidden.quant.zero_point),
        ("input_multiplier", in_m), ("input_shift", in_s),
        ("recurrent_multiplier", rec_m), ("recurrent_shift", rec_s),
        ("forget_cell_multiplier", fc_m), ("forget_cell_shift", fc_s),
        ("input_cell_multiplier", ic_m), ("input_cell_shift", ic_s),
        ("hidden_multiplier", h_m), ("hidden_shift", h_s),
        ("cell_clip", quantized_cell_clip(o.get("cell_clip", 0.0), cell.quant.scale)),
        ("cell_tanh_multiplier", tanh_m), ("cell_tanh_shift", tanh_s),
        ("cell_gate_sigmoid", int(o.get("activation") == "SIGMOID")),
        ("bias", CName(bias.name)), ("weight_layout", weight_layout.layout(node))])
    weights = tuple(weight_layout.kernel_input(node, i) for i in INPUT_WEIGHTS + RECURRENT_WEIGHTS)
    return KernelCall(
        function="te_lstm_s8_s16",
        args=[StructArg(params), TensorArg(scratch), TensorArg(x), TensorListArg(weights),
              TensorArg(hidden), TensorArg(cell), TensorArg(output)],
        constants=[bias, params],
        macs=batches * steps * 4 * units * (input_size + units),
        summary=(f"UNIDIRECTIONAL_SEQUENCE_LSTM {shape_text(x)} -> {shape_text(output)} "
                 f"({units} units, int16 cell state)"))
