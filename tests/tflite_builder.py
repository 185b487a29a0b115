"""Build small full-integer (int8) TFLite models in memory, without TensorFlow.

Two layers:

* ``ModelBuilder``: a thin, explicit wrapper over the flatbuffers object API of
  the schema module that ships inside tflite-micro. You add tensors (constant
  when ``data`` is given) and operators, then ``build(inputs, outputs)`` returns
  the ``.tflite`` bytes.

* Convenience functions (``conv2d_model``, ``depthwise_model``, ...) that build
  one- or few-op models with seeded random weights and *realistic*
  quantization, the way the TFLite converter would produce them:

  - activations are asymmetric int8, scale = (max - min) / 255 over a range
    that contains 0;
  - weights are symmetric int8 in [-127, 127], per tensor or per channel
    (axis 0 for CONV_2D / FULLY_CONNECTED filters, axis 3 for DEPTHWISE_CONV_2D);
  - biases are int32 with scale input_scale * filter_scale[c] and zero point 0;
  - output ranges come from a float simulation of the op on calibration
    samples spread over the input range, so random int8 inputs produce
    outputs that spread over the int8 range instead of saturating.

  Each returns a ``BuiltModel``: the bytes plus the specs of the graph inputs
  and outputs (``random_inputs(rng)`` draws matching input arrays).

``run_tflm(model_bytes, inputs)`` runs a model in TFLite Micro, the oracle.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

# --------------------------------------------------------------------------
# Types and enums
# --------------------------------------------------------------------------

_DTYPES: dict[str, tuple[int, type]] = {
    "float32": (schema.TensorType.FLOAT32, np.float32),
    "int8": (schema.TensorType.INT8, np.int8),
    "uint8": (schema.TensorType.UINT8, np.uint8),
    "int16": (schema.TensorType.INT16, np.int16),
    "int32": (schema.TensorType.INT32, np.int32),
    "int64": (schema.TensorType.INT64, np.int64),
    "bool": (schema.TensorType.BOOL, np.bool_),
}

ACTIVATIONS = {
    "NONE": schema.ActivationFunctionType.NONE,
    "RELU": schema.ActivationFunctionType.RELU,
    "RELU_N1_TO_1": schema.ActivationFunctionType.RELU_N1_TO_1,
    "RELU6": schema.ActivationFunctionType.RELU6,
}

PADDINGS = {"SAME": schema.Padding.SAME, "VALID": schema.Padding.VALID}


def _dtype_name(dtype: Any) -> str:
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if name not in _DTYPES:
        raise ValueError(f"unsupported dtype {dtype!r}")
    return name


def _builtin_code(builtin: int | str) -> int:
    if isinstance(builtin, str):
        return getattr(schema.BuiltinOperator, builtin)
    return int(builtin)


def _options_type(options: Any) -> int:
    """Conv2DOptionsT -> BuiltinOptions.Conv2DOptions, and so on."""
    name = type(options).__name__
    assert name.endswith("T"), name
    return getattr(schema.BuiltinOptions, name[:-1])


# --------------------------------------------------------------------------
# Tensor specs
# --------------------------------------------------------------------------

@dataclass
class TensorInfo:
    """What a test needs to know about a graph input or output."""
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scales: list[float] | None = None
    zero_points: list[int] | None = None
    quantized_dimension: int = 0
    # For float inputs: the float range the model was calibrated for.
    value_range: tuple[float, float] | None = None

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(_DTYPES[self.dtype][1])

    @property
    def scale(self) -> float:
        return self.scales[0]

    @property
    def zero_point(self) -> int:
        return self.zero_points[0]

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        return (q.astype(np.float64) - self.zero_point) * self.scale

    def random(self, rng: np.random.Generator) -> np.ndarray:
        """Random data of this spec: uniform over the full integer range, or,
        for float tensors, over a little more than the calibrated range (so
        QUANTIZE saturates sometimes) with some values exactly on .5 steps."""
        if self.dtype == "float32":
            lo, hi = self.value_range or (-1.0, 1.0)
            margin = 0.1 * (hi - lo)
            x = rng.uniform(lo - margin, hi + margin, size=self.shape)
            return x.astype(np.float32)
        info = np.iinfo(self.np_dtype)
        return rng.integers(info.min, info.max, size=self.shape, endpoint=True,
                            dtype=self.np_dtype)


@dataclass
class BuiltModel:
    """A serialized model and the specs of its graph inputs and outputs."""
    data: bytes
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    params: dict[str, Any] = field(default_factory=dict)
    # Calibration: sample k is ([input arrays], [float outputs of the float
    # simulation]); TFLite Micro's dequantized outputs on those inputs should be
    # within a few output LSBs of the float outputs.
    calibration: list[tuple[list[np.ndarray], list[np.ndarray]]] = field(default_factory=list)

    def __bytes__(self) -> bytes:
        return self.data

    def random_inputs(self, rng: np.random.Generator) -> list[np.ndarray]:
        return [spec.random(rng) for spec in self.inputs]


# --------------------------------------------------------------------------
# ModelBuilder
# --------------------------------------------------------------------------

class ModelBuilder:
    """Assemble a single-subgraph TFLite model with the flatbuffers object API.

    >>> mb = ModelBuilder()
    >>> x = mb.add_tensor("x", [1, 4], "int8", 0.1, -3)
    >>> y = mb.add_tensor("y", [1, 4], "int8", 0.1, -3)
    >>> _ = mb.add_op("RELU", [x], [y])
    >>> tflite_bytes = mb.build([x], [y])
    """

    def __init__(self, description: str = "tinyedge test model"):
        self.description = description
        self.tensors: list[schema.TensorT] = []
        self.infos: list[TensorInfo] = []
        self.operators: list[schema.OperatorT] = []
        self.opcodes: list[schema.OperatorCodeT] = []
        self._opcode_index: dict[tuple[int, int], int] = {}
        # Buffer 0 is the empty sentinel every tensor without data points to.
        self.buffers: list[schema.BufferT] = [schema.BufferT()]
        # Typed calibration samples of graph inputs (leading sample axis).
        self.input_samples: dict[int, np.ndarray] = {}

    def add_tensor(self, name: str, shape: Sequence[int], dtype: Any,
                   scale: float | Sequence[float] | None = None,
                   zero_point: int | Sequence[int] | None = None,
                   data: np.ndarray | None = None,
                   quantized_dimension: int = 0,
                   value_range: tuple[float, float] | None = None) -> int:
        """Add a tensor; returns its index. Constant when ``data`` is given
        (cast to ``dtype``, little-endian). Quantization is optional: scalar
        scale/zero_point means per-tensor, sequences mean per-channel along
        ``quantized_dimension``."""
        dname = _dtype_name(dtype)
        ttype, np_type = _DTYPES[dname]
        shape = [int(d) for d in shape]
        t = schema.TensorT()
        t.name = name
        t.shape = shape
        t.type = ttype
        t.buffer = 0
        scales = zero_points = None
        q = schema.QuantizationParametersT()
        if scale is not None:
            scales = [float(s) for s in np.atleast_1d(scale)]
            if zero_point is None:
                zero_point = 0
            zero_points = [int(z) for z in np.atleast_1d(zero_point)]
            if len(zero_points) == 1 and len(scales) > 1:
                zero_points = zero_points * len(scales)
            if len(zero_points) != len(scales):
                raise ValueError(f"{name}: {len(scales)} scales, {len(zero_points)} zero points")
            if len(scales) > 1 and shape[quantized_dimension] != len(scales):
                raise ValueError(f"{name}: {len(scales)} scales for dimension "
                                 f"{quantized_dimension} of shape {shape}")
            q.scale = scales
            q.zeroPoint = zero_points
            q.quantizedDimension = int(quantized_dimension)
        t.quantization = q  # empty table for unquantized tensors, like the converter
        if data is not None:
            arr = np.asarray(data)
            if arr.size != math.prod(shape):
                raise ValueError(f"{name}: {arr.size} values for shape {shape}")
            buf = schema.BufferT()
            buf.data = np.frombuffer(
                np.ascontiguousarray(arr.astype(np.dtype(np_type).newbyteorder("<"))).tobytes(),
                dtype=np.uint8).copy()
            t.buffer = len(self.buffers)
            self.buffers.append(buf)
        self.tensors.append(t)
        info = TensorInfo(len(self.tensors) - 1, name, tuple(shape), dname, scales,
                          zero_points, int(quantized_dimension), value_range)
        self.infos.append(info)
        return info.index

    def add_op(self, builtin: int | str, inputs: Sequence[int], outputs: Sequence[int],
               options: Any = None, version: int = 1) -> int:
        """Add an operator; ``builtin`` is a BuiltinOperator value or name,
        ``options`` a schema ``*OptionsT`` object (or None). Use -1 for an
        omitted optional input. Returns the operator index."""
        code = _builtin_code(builtin)
        key = (code, version)
        if key not in self._opcode_index:
            oc = schema.OperatorCodeT()
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, schema.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)
            oc.version = version
            self._opcode_index[key] = len(self.opcodes)
            self.opcodes.append(oc)
        op = schema.OperatorT()
        op.opcodeIndex = self._opcode_index[key]
        op.inputs = [int(i) for i in inputs]
        op.outputs = [int(i) for i in outputs]
        if options is not None:
            op.builtinOptionsType = _options_type(options)
            op.builtinOptions = options
        self.operators.append(op)
        return len(self.operators) - 1

    def build(self, inputs: Sequence[int], outputs: Sequence[int]) -> bytes:
        sg = schema.SubGraphT()
        sg.name = "main"
        sg.tensors = self.tensors
        sg.operators = self.operators
        sg.inputs = [int(i) for i in inputs]
        sg.outputs = [int(i) for i in outputs]
        model = schema.ModelT()
        model.version = 3
        model.description = self.description
        model.operatorCodes = self.opcodes
        model.subgraphs = [sg]
        model.buffers = self.buffers
        fbb = flatbuffers.Builder(1024)
        fbb.Finish(model.Pack(fbb), file_identifier=b"TFL3")
        return bytes(fbb.Output())

    def build_model(self, inputs: Sequence[Any], outputs: Sequence[Any],
                    **params: Any) -> BuiltModel:
        """Build and wrap in a BuiltModel. ``inputs``/``outputs`` are tensor
        indices or ``Act``s; with ``Act``s the calibration samples are kept."""
        in_idx = [getattr(t, "index", t) for t in inputs]
        out_idx = [getattr(t, "index", t) for t in outputs]
        calibration = []
        if all(i in self.input_samples for i in in_idx) and all(isinstance(t, Act) for t in outputs):
            n = min(len(self.input_samples[i]) for i in in_idx)
            calibration = [([self.input_samples[i][k] for i in in_idx],
                            [np.asarray(t.samples[k]) for t in outputs]) for k in range(n)]
        return BuiltModel(self.build(in_idx, out_idx),
                          [self.infos[i] for i in in_idx],
                          [self.infos[i] for i in out_idx], dict(params), calibration)


# --------------------------------------------------------------------------
# Quantization helpers
# --------------------------------------------------------------------------

def quant_params(lo: float, hi: float, dtype: str = "int8") -> tuple[float, int]:
    """Asymmetric (scale, zero_point) for the float range [lo, hi] (0 included)."""
    info = np.iinfo(np.dtype(dtype))
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    # A minimum span: TFLite Micro aborts the process (failed TFLITE_CHECK in
    # ADD's Prepare) when an output scale is tiny next to the input scales.
    if hi - lo < 1e-2:
        hi = lo + 1e-2
    scale = float(np.float32((hi - lo) / (info.max - info.min)))
    zp = int(np.clip(round(info.min - lo / scale), info.min, info.max))
    return scale, zp


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype: str = "int8") -> np.ndarray:
    info = np.iinfo(np.dtype(dtype))
    q = np.round(np.asarray(x, np.float64) / scale) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def symmetric_weights(w: np.ndarray, per_channel: bool, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 weights in [-127, 127]; returns (q, scales[channels or 1])."""
    if per_channel:
        other = tuple(a for a in range(w.ndim) if a != axis)
        amax = np.max(np.abs(w), axis=other)
    else:
        amax = np.array([np.max(np.abs(w))])
    amax = np.maximum(amax, 1e-6)
    scales = (amax / 127.0).astype(np.float32).astype(np.float64)
    bshape = [1] * w.ndim
    if per_channel:
        bshape[axis] = -1
    q = np.clip(np.round(w / scales.reshape(bshape)), -127, 127).astype(np.int8)
    return q, scales


def activation_float(x: np.ndarray, activation: str) -> np.ndarray:
    if activation == "NONE":
        return x
    if activation == "RELU":
        return np.maximum(x, 0.0)
    if activation == "RELU6":
        return np.clip(x, 0.0, 6.0)
    if activation == "RELU_N1_TO_1":
        return np.clip(x, -1.0, 1.0)
    raise ValueError(activation)


# --------------------------------------------------------------------------
# Shapes (TFLite's formulas)
# --------------------------------------------------------------------------

def conv_out_size(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    eff = (kernel - 1) * dilation + 1
    if padding == "SAME":
        return (size + stride - 1) // stride
    if padding == "VALID":
        return (size + stride - eff) // stride
    raise ValueError(padding)


def conv_padding(size: int, kernel: int, stride: int, dilation: int, out: int) -> tuple[int, int]:
    """(before, after) padding as TFLite's ComputePaddingWithOffset."""
    eff = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + eff - size, 0)
    return total // 2, total - total // 2


def _pair(v: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    a, b = v
    return int(a), int(b)


def _out_hw(in_hw, kernel, stride, dilation, padding):
    oh = conv_out_size(in_hw[0], kernel[0], stride[0], dilation[0], padding)
    ow = conv_out_size(in_hw[1], kernel[1], stride[1], dilation[1], padding)
    if oh <= 0 or ow <= 0:
        raise ValueError(f"empty output: input {in_hw}, kernel {kernel}, stride {stride}, "
                         f"dilation {dilation}, {padding}")
    return oh, ow


# --------------------------------------------------------------------------
# Float references used for calibration (samples carry a leading sample axis)
# --------------------------------------------------------------------------

def _windows(x, kernel, stride, dilation, padding, fill=0.0):
    """Yield (ky, kx, patch[N, OH, OW, C]) over the kernel taps of x[N, H, W, C]."""
    n, h, w, c = x.shape
    oh, ow = _out_hw((h, w), kernel, stride, dilation, padding)
    pt, pb = conv_padding(h, kernel[0], stride[0], dilation[0], oh)
    pl, pr = conv_padding(w, kernel[1], stride[1], dilation[1], ow)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=fill)
    for ky in range(kernel[0]):
        for kx in range(kernel[1]):
            y0, x0 = ky * dilation[0], kx * dilation[1]
            yield ky, kx, xp[:, y0:y0 + (oh - 1) * stride[0] + 1:stride[0],
                             x0:x0 + (ow - 1) * stride[1] + 1:stride[1], :]


def conv2d_float(x, w, b, stride, dilation, padding, groups=1):
    """x[N,H,W,C], w[O,KH,KW,C/groups], b[O] -> [N,OH,OW,O]."""
    o, kh, kw, cg = w.shape
    og = o // groups
    out = None
    for ky, kx, patch in _windows(x, (kh, kw), stride, dilation, padding):
        if out is None:
            out = np.zeros(patch.shape[:3] + (o,))
        for g in range(groups):
            out[..., g * og:(g + 1) * og] += (
                patch[..., g * cg:(g + 1) * cg] @ w[g * og:(g + 1) * og, ky, kx, :].T)
    return out + (b if b is not None else 0.0)


def depthwise_float(x, w, b, stride, dilation, padding, depth_multiplier):
    """x[N,H,W,C], w[1,KH,KW,C*M], b[C*M] -> [N,OH,OW,C*M]."""
    _, kh, kw, _ = w.shape
    chan = np.repeat(np.arange(x.shape[-1]), depth_multiplier)
    out = None
    for ky, kx, patch in _windows(x, (kh, kw), stride, dilation, padding):
        term = patch[..., chan] * w[0, ky, kx, :]
        out = term if out is None else out + term
    return out + (b if b is not None else 0.0)


def pool_float(x, kind, filt, stride, padding):
    taps = np.stack([p for _, _, p in _windows(x, filt, stride, (1, 1), padding, fill=np.nan)])
    return np.nanmax(taps, axis=0) if kind == "MAX" else np.nanmean(taps, axis=0)


# --------------------------------------------------------------------------
# Layer helpers: add one op to a ModelBuilder, calibrating its output
# --------------------------------------------------------------------------

@dataclass
class Act:
    """A non-constant tensor of the graph being built, with float calibration
    samples (leading axis = sample) used to choose downstream quantization."""
    index: int
    samples: np.ndarray


N_CALIB = 8


def _input(mb: ModelBuilder, rng, name, shape, lo=None, hi=None, dtype="int8") -> Act:
    """A graph input with a random realistic range."""
    if lo is None:
        lo = -float(rng.uniform(0.25, 4.0)) if rng.random() < 0.85 else 0.0
    if hi is None:
        hi = float(rng.uniform(0.25, 4.0))
    scale, zp = quant_params(lo, hi, dtype)
    idx = mb.add_tensor(name, shape, dtype, scale, zp)
    info = np.iinfo(np.dtype(dtype))
    q = rng.integers(info.min, info.max, size=(N_CALIB,) + tuple(shape), endpoint=True)
    mb.input_samples[idx] = q.astype(dtype)
    return Act(idx, (q - zp) * scale)


def _output_tensor(mb, rng, name, shape, values, activation, pre_activation_range):
    """Quantize an op's output from float samples. ``values`` are before the
    activation. Normally the range is taken after the activation (as the
    converter does); with ``pre_activation_range`` it is taken before, so the
    fused activation clamp does real work inside the int8 range."""
    post = activation_float(values, activation)
    ref = values if pre_activation_range else post
    lo, hi = min(float(np.min(ref)), 0.0), max(float(np.max(ref)), 0.0)
    if hi - lo < 1e-2 * (np.max(values) - np.min(values)):
        # The activation clamps (almost) everything, e.g. RELU of all-negative
        # values: a converter's range would be degenerate. Use the range
        # before the activation instead, so the output still spreads.
        lo, hi = min(float(np.min(values)), 0.0), max(float(np.max(values)), 0.0)
    scale, zp = quant_params(lo, hi)
    idx = mb.add_tensor(name, shape, "int8", scale, zp)
    return Act(idx, post)


def _bias(mb, rng, name, n, in_scale, w_scales, out_std):
    """int32 bias, scale input_scale * filter_scale (one scale per filter scale),
    zero point 0. Returns (tensor index, dequantized float bias)."""
    scales = (np.float32(in_scale) * w_scales.astype(np.float32)).astype(np.float64)
    b = rng.normal(0.0, 0.3 * out_std, size=n)
    bq = np.clip(np.round(b / scales), -(2**31), 2**31 - 1).astype(np.int32)
    idx = mb.add_tensor(name, [n], "int32", scales if len(scales) > 1 else scales[0], 0,
                        data=bq)
    return idx, bq * scales


def _info(mb, act: Act) -> TensorInfo:
    return mb.infos[act.index]


def add_conv2d(mb: ModelBuilder, rng, x: Act, out_channels: int, kernel=3, stride=1,
               dilation=1, padding="SAME", activation="NONE", per_channel=True, groups=1,
               bias=True, pre_activation_range=False, name="conv") -> Act:
    xi = _info(mb, x)
    n, h, w, c = xi.shape
    kh, kw = _pair(kernel)
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    if c % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in={c} and out={out_channels}")
    oh, ow = _out_hw((h, w), (kh, kw), (sh, sw), (dh, dw), padding)
    fan_in = kh * kw * c // groups
    wf = rng.normal(0.0, 1.0, size=(out_channels, kh, kw, c // groups))
    wf *= rng.uniform(0.3, 1.5, size=(out_channels, 1, 1, 1)) / math.sqrt(fan_in)
    wq, ws = symmetric_weights(wf, per_channel, axis=0)
    w_idx = mb.add_tensor(f"{name}/filter", wq.shape, "int8", ws if per_channel else ws[0], 0,
                          data=wq, quantized_dimension=0)
    wd = wq * (ws.reshape(-1, 1, 1, 1) if per_channel else ws[0])
    x4 = x.samples.reshape((-1, h, w, c))
    acc = conv2d_float(x4, wd, None, (sh, sw), (dh, dw), padding, groups)
    inputs = [x.index, w_idx]
    if bias:
        b_idx, bd = _bias(mb, rng, f"{name}/bias", out_channels, xi.scale, ws,
                          float(np.std(acc)) + 1e-3)
        acc = acc + bd
        inputs.append(b_idx)
    else:
        inputs.append(-1)
    y = _output_tensor(mb, rng, f"{name}/out", (n, oh, ow, out_channels),
                       acc.reshape((N_CALIB, n, oh, ow, out_channels)), activation,
                       pre_activation_range)
    opts = schema.Conv2DOptionsT()
    opts.padding = PADDINGS[padding]
    opts.strideH, opts.strideW = sh, sw
    opts.dilationHFactor, opts.dilationWFactor = dh, dw
    opts.fusedActivationFunction = ACTIVATIONS[activation]
    mb.add_op("CONV_2D", inputs, [y.index], opts, version=3)
    return y


def add_depthwise(mb: ModelBuilder, rng, x: Act, kernel=3, stride=1, dilation=1,
                  padding="SAME", depth_multiplier=1, activation="NONE", per_channel=True,
                  bias=True, pre_activation_range=False, name="dwconv") -> Act:
    xi = _info(mb, x)
    n, h, w, c = xi.shape
    kh, kw = _pair(kernel)
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    oc = c * depth_multiplier
    oh, ow = _out_hw((h, w), (kh, kw), (sh, sw), (dh, dw), padding)
    wf = rng.normal(0.0, 1.0, size=(1, kh, kw, oc))
    wf *= rng.uniform(0.3, 1.5, size=(1, 1, 1, oc)) / math.sqrt(kh * kw)
    wq, ws = symmetric_weights(wf, per_channel, axis=3)
    w_idx = mb.add_tensor(f"{name}/filter", wq.shape, "int8", ws if per_channel else ws[0], 0,
                          data=wq, quantized_dimension=3)
    wd = wq * (ws.reshape(1, 1, 1, -1) if per_channel else ws[0])
    x4 = x.samples.reshape((-1, h, w, c))
    acc = depthwise_float(x4, wd, None, (sh, sw), (dh, dw), padding, depth_multiplier)
    inputs = [x.index, w_idx]
    if bias:
        b_idx, bd = _bias(mb, rng, f"{name}/bias", oc, xi.scale, ws, float(np.std(acc)) + 1e-3)
        acc = acc + bd
        inputs.append(b_idx)
    # Without bias: two inputs. TFLite Micro (PyPI build) segfaults in
    # DEPTHWISE_CONV_2D when the bias is given as the optional index -1.
    y = _output_tensor(mb, rng, f"{name}/out", (n, oh, ow, oc),
                       acc.reshape((N_CALIB, n, oh, ow, oc)), activation, pre_activation_range)
    opts = schema.DepthwiseConv2DOptionsT()
    opts.padding = PADDINGS[padding]
    opts.strideH, opts.strideW = sh, sw
    opts.dilationHFactor, opts.dilationWFactor = dh, dw
    opts.depthMultiplier = depth_multiplier
    opts.fusedActivationFunction = ACTIVATIONS[activation]
    mb.add_op("DEPTHWISE_CONV_2D", inputs, [y.index], opts, version=3)
    return y


def add_fully_connected(mb: ModelBuilder, rng, x: Act, units: int, activation="NONE",
                        per_channel=False, keep_num_dims=False, bias=True,
                        pre_activation_range=False, name="fc") -> Act:
    xi = _info(mb, x)
    in_features = xi.shape[-1]
    batch = math.prod(xi.shape) // in_features
    wf = rng.normal(0.0, 1.0, size=(units, in_features))
    wf *= rng.uniform(0.3, 1.5, size=(units, 1)) / math.sqrt(in_features)
    wq, ws = symmetric_weights(wf, per_channel, axis=0)
    w_idx = mb.add_tensor(f"{name}/weights", wq.shape, "int8", ws if per_channel else ws[0], 0,
                          data=wq, quantized_dimension=0)
    wd = wq * (ws.reshape(-1, 1) if per_channel else ws[0])
    acc = x.samples.reshape((N_CALIB, batch, in_features)) @ wd.T
    inputs = [x.index, w_idx]
    if bias:
        b_idx, bd = _bias(mb, rng, f"{name}/bias", units, xi.scale, ws,
                          float(np.std(acc)) + 1e-3)
        acc = acc + bd
        inputs.append(b_idx)
    else:
        inputs.append(-1)
    out_shape = tuple(xi.shape[:-1]) + (units,) if keep_num_dims else (batch, units)
    y = _output_tensor(mb, rng, f"{name}/out", out_shape,
                       acc.reshape((N_CALIB,) + out_shape), activation, pre_activation_range)
    opts = schema.FullyConnectedOptionsT()
    opts.fusedActivationFunction = ACTIVATIONS[activation]
    opts.keepNumDims = keep_num_dims
    mb.add_op("FULLY_CONNECTED", inputs, [y.index], opts, version=5 if per_channel else 4)
    return y


def add_pool(mb: ModelBuilder, rng, x: Act, kind="AVG", filter=2, stride=2, padding="VALID",
             activation="NONE", name="pool") -> Act:
    """Pooling keeps the input quantization (TFLite's int8 pools do not rescale)."""
    xi = _info(mb, x)
    n, h, w, c = xi.shape
    fh, fw = _pair(filter)
    sh, sw = _pair(stride)
    oh, ow = _out_hw((h, w), (fh, fw), (sh, sw), (1, 1), padding)
    vals = pool_float(x.samples.reshape((-1, h, w, c)), kind, (fh, fw), (sh, sw), padding)
    vals = activation_float(vals, activation).reshape((N_CALIB, n, oh, ow, c))
    y_idx = mb.add_tensor(f"{name}/out", (n, oh, ow, c), "int8", xi.scale, xi.zero_point)
    opts = schema.Pool2DOptionsT()
    opts.padding = PADDINGS[padding]
    opts.strideH, opts.strideW = sh, sw
    opts.filterHeight, opts.filterWidth = fh, fw
    opts.fusedActivationFunction = ACTIVATIONS[activation]
    op = {"AVG": "AVERAGE_POOL_2D", "MAX": "MAX_POOL_2D"}[kind]
    mb.add_op(op, [x.index], [y_idx], opts, version=2)
    return Act(y_idx, vals)


def broadcast_shape(s1: Sequence[int], s2: Sequence[int]) -> tuple[int, ...]:
    return tuple(np.broadcast_shapes(tuple(s1), tuple(s2)))


def _align(samples: np.ndarray, rank: int) -> np.ndarray:
    """Insert unit axes after the sample axis so that ranks line up."""
    missing = rank - (samples.ndim - 1)
    return samples.reshape((samples.shape[0],) + (1,) * missing + samples.shape[1:])


def add_add(mb: ModelBuilder, rng, a: Act, b: Act, activation="NONE",
            pre_activation_range=False, name="add") -> Act:
    sa, sb = _info(mb, a).shape, _info(mb, b).shape
    out_shape = broadcast_shape(sa, sb)
    r = len(out_shape)
    vals = _align(a.samples, r) + _align(b.samples, r)
    vals = np.broadcast_to(vals, (N_CALIB,) + out_shape)
    y = _output_tensor(mb, rng, f"{name}/out", out_shape, vals, activation, pre_activation_range)
    opts = schema.AddOptionsT()
    opts.fusedActivationFunction = ACTIVATIONS[activation]
    mb.add_op("ADD", [a.index, b.index], [y.index], opts, version=2)
    return y


def add_const(mb: ModelBuilder, rng, name, shape, lo=None, hi=None) -> Act:
    """A constant int8 tensor with random realistic quantization."""
    if lo is None:
        lo = -float(rng.uniform(0.25, 4.0))
    if hi is None:
        hi = float(rng.uniform(0.25, 4.0))
    scale, zp = quant_params(lo, hi)
    q = rng.integers(-128, 127, size=tuple(shape), endpoint=True).astype(np.int8)
    idx = mb.add_tensor(name, shape, "int8", scale, zp, data=q)
    samples = np.broadcast_to((q.astype(np.float64) - zp) * scale, (N_CALIB,) + tuple(shape))
    return Act(idx, samples)


def add_softmax(mb: ModelBuilder, rng, x: Act, beta=1.0, name="softmax") -> Act:
    xi = _info(mb, x)
    v = x.samples * beta
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    y_idx = mb.add_tensor(f"{name}/out", xi.shape, "int8", 1.0 / 256.0, -128)
    opts = schema.SoftmaxOptionsT()
    opts.beta = float(beta)
    mb.add_op("SOFTMAX", [x.index], [y_idx], opts, version=2)
    return Act(y_idx, e / e.sum(axis=-1, keepdims=True))


def add_reshape(mb: ModelBuilder, rng, x: Act, new_shape: Sequence[int], shape_tensor=True,
                name="reshape") -> Act:
    """RESHAPE keeps the quantization; ``new_shape`` may hold one -1."""
    xi = _info(mb, x)
    new_shape = list(new_shape)
    if -1 in new_shape:
        known = math.prod(d for d in new_shape if d != -1)
        new_shape[new_shape.index(-1)] = math.prod(xi.shape) // known
    resolved = [int(d) for d in new_shape]
    if math.prod(resolved) != math.prod(xi.shape):
        raise ValueError(f"cannot reshape {xi.shape} to {new_shape}")
    inputs = [x.index]
    if shape_tensor:
        inputs.append(mb.add_tensor(f"{name}/shape", [len(resolved)], "int32",
                                    data=np.array(resolved, np.int32)))
    y_idx = mb.add_tensor(f"{name}/out", resolved, "int8", xi.scale, xi.zero_point)
    opts = schema.ReshapeOptionsT()
    opts.newShape = resolved
    mb.add_op("RESHAPE", inputs, [y_idx], opts)
    return Act(y_idx, x.samples.reshape((N_CALIB,) + tuple(resolved)))


def add_quantize(mb: ModelBuilder, rng, x: Act, dtype="int8", scale=None, zero_point=None,
                 name="quantize") -> Act:
    """QUANTIZE to ``dtype``; by default over the calibrated range of x."""
    xi = _info(mb, x)
    if scale is None:
        scale, zero_point = quant_params(float(np.min(x.samples)), float(np.max(x.samples)), dtype)
    y_idx = mb.add_tensor(f"{name}/out", xi.shape, dtype, scale, zero_point)
    mb.add_op("QUANTIZE", [x.index], [y_idx], schema.QuantizeOptionsT())
    q = quantize(x.samples, scale, zero_point, dtype)
    return Act(y_idx, (q.astype(np.float64) - zero_point) * scale)


def add_dequantize(mb: ModelBuilder, rng, x: Act, name="dequantize") -> Act:
    xi = _info(mb, x)
    y_idx = mb.add_tensor(f"{name}/out", xi.shape, "float32")
    mb.add_op("DEQUANTIZE", [x.index], [y_idx], schema.DequantizeOptionsT())
    return Act(y_idx, x.samples)


# --------------------------------------------------------------------------
# Convenience single-op models
# --------------------------------------------------------------------------

def conv2d_model(rng, input_shape=(1, 8, 8, 3), out_channels=4, kernel=3, stride=1,
                 dilation=1, padding="SAME", activation="NONE", per_channel=True, groups=1,
                 bias=True, pre_activation_range=False) -> BuiltModel:
    mb = ModelBuilder("conv2d")
    x = _input(mb, rng, "input", input_shape)
    y = add_conv2d(mb, rng, x, out_channels, kernel, stride, dilation, padding, activation,
                   per_channel, groups, bias, pre_activation_range)
    return mb.build_model([x], [y], op="CONV_2D", input_shape=tuple(input_shape),
                          out_channels=out_channels, kernel=_pair(kernel), stride=_pair(stride),
                          dilation=_pair(dilation), padding=padding, activation=activation,
                          per_channel=per_channel, groups=groups, bias=bias)


def depthwise_model(rng, input_shape=(1, 8, 8, 3), kernel=3, stride=1, dilation=1,
                    padding="SAME", depth_multiplier=1, activation="NONE", per_channel=True,
                    bias=True, pre_activation_range=False) -> BuiltModel:
    mb = ModelBuilder("depthwise_conv2d")
    x = _input(mb, rng, "input", input_shape)
    y = add_depthwise(mb, rng, x, kernel, stride, dilation, padding, depth_multiplier,
                      activation, per_channel, bias, pre_activation_range)
    return mb.build_model([x], [y], op="DEPTHWISE_CONV_2D",
                          input_shape=tuple(input_shape), kernel=_pair(kernel),
                          stride=_pair(stride), dilation=_pair(dilation), padding=padding,
                          depth_multiplier=depth_multiplier, activation=activation,
                          per_channel=per_channel, bias=bias)


def fully_connected_model(rng, input_shape=(1, 16), units=8, activation="NONE",
                          per_channel=False, keep_num_dims=False, bias=True,
                          pre_activation_range=False) -> BuiltModel:
    mb = ModelBuilder("fully_connected")
    x = _input(mb, rng, "input", input_shape)
    y = add_fully_connected(mb, rng, x, units, activation, per_channel, keep_num_dims, bias,
                            pre_activation_range)
    return mb.build_model([x], [y], op="FULLY_CONNECTED",
                          input_shape=tuple(input_shape), units=units, activation=activation,
                          per_channel=per_channel, keep_num_dims=keep_num_dims, bias=bias)


def pool_model(rng, kind="AVG", input_shape=(1, 8, 8, 3), filter=2, stride=2,
               padding="VALID", activation="NONE") -> BuiltModel:
    mb = ModelBuilder(f"{kind.lower()}_pool")
    # Pools keep the input quantization, so a mostly negative input range with
    # a fused RELU would clamp nearly everything: keep the range mostly positive.
    hi = float(rng.uniform(0.5, 1.5 if activation == "RELU_N1_TO_1" else 4.0))
    x = _input(mb, rng, "input", input_shape, lo=-hi * float(rng.uniform(0.1, 1.0)), hi=hi)
    y = add_pool(mb, rng, x, kind, filter, stride, padding, activation)
    return mb.build_model([x], [y], op=f"{kind}_POOL_2D",
                          input_shape=tuple(input_shape), filter=_pair(filter),
                          stride=_pair(stride), padding=padding, activation=activation)


def add_model(rng, shape1=(1, 4, 4, 8), shape2=(1, 4, 4, 8), activation="NONE",
              const_second=False, pre_activation_range=False) -> BuiltModel:
    """ADD of two inputs (broadcasting allowed); with ``const_second`` the
    second operand is a constant tensor and the model has one input."""
    mb = ModelBuilder("add")
    a = _input(mb, rng, "input1", shape1)
    b = add_const(mb, rng, "const2", shape2) if const_second else _input(mb, rng, "input2", shape2)
    y = add_add(mb, rng, a, b, activation, pre_activation_range)
    inputs = [a] if const_second else [a, b]
    return mb.build_model(inputs, [y], op="ADD", shape1=tuple(shape1),
                          shape2=tuple(shape2), activation=activation, const_second=const_second)


def softmax_model(rng, shape=(1, 10), beta=1.0) -> BuiltModel:
    mb = ModelBuilder("softmax")
    x = _input(mb, rng, "input", shape)
    y = add_softmax(mb, rng, x, beta)
    return mb.build_model([x], [y], op="SOFTMAX", shape=tuple(shape), beta=beta)


def reshape_model(rng, input_shape=(1, 4, 4, 2), new_shape=(1, 32), shape_tensor=True) -> BuiltModel:
    mb = ModelBuilder("reshape")
    x = _input(mb, rng, "input", input_shape)
    y = add_reshape(mb, rng, x, new_shape, shape_tensor)
    return mb.build_model([x], [y], op="RESHAPE", input_shape=tuple(input_shape),
                          new_shape=tuple(new_shape), shape_tensor=shape_tensor)


INNER_OPS = ("conv", "depthwise", "fc", "avgpool", "maxpool", "add_const", "softmax")


def _inner(mb, rng, x: Act, inner: str) -> Act:
    shape = _info(mb, x).shape
    if inner == "conv":
        return add_conv2d(mb, rng, x, 4, kernel=3, stride=1, padding="SAME", activation="RELU")
    if inner == "depthwise":
        return add_depthwise(mb, rng, x, kernel=3, padding="SAME", depth_multiplier=2)
    if inner == "fc":
        return add_fully_connected(mb, rng, x, 6, per_channel=True, keep_num_dims=True)
    if inner in ("avgpool", "maxpool"):
        return add_pool(mb, rng, x, inner[:3].upper(), 2, 2, "SAME")
    if inner == "add_const":
        return add_add(mb, rng, x, add_const(mb, rng, "const", (shape[-1],)))
    if inner == "softmax":
        return add_softmax(mb, rng, x, 1.0)
    raise ValueError(f"inner op {inner!r} not in {INNER_OPS}")


def quantize_edges_model(rng, input_shape=(1, 6, 6, 3), edge="float32", inner="conv") -> BuiltModel:
    """Models with non-int8 edges, as some converted models have:

    * ``edge="float32"``: float32 -> QUANTIZE -> int8 op -> DEQUANTIZE -> float32
    * ``edge="uint8"``:   uint8 -> QUANTIZE -> int8 op -> QUANTIZE -> uint8
      (the uint8 tensors use the int8 scales with zero points shifted by 128,
      like the converter's ``inference_input_type=tf.uint8``).
    """
    mb = ModelBuilder(f"quantize_edges_{edge}")
    if edge == "float32":
        lo, hi = -float(rng.uniform(0.5, 3.0)), float(rng.uniform(0.5, 3.0))
        idx = mb.add_tensor("input", input_shape, "float32", value_range=(lo, hi))
        xs = rng.uniform(lo, hi, size=(N_CALIB,) + tuple(input_shape)).astype(np.float32)
        mb.input_samples[idx] = xs
        x = Act(idx, xs.astype(np.float64))
        q = add_quantize(mb, rng, x, "int8", name="quantize_in")
        y = _inner(mb, rng, q, inner)
        out = add_dequantize(mb, rng, y)
        output_lsb = _info(mb, y).scale
    elif edge == "uint8":
        x = _input(mb, rng, "input", input_shape, dtype="uint8")
        xi = _info(mb, x)
        q = add_quantize(mb, rng, x, "int8", xi.scale, xi.zero_point - 128, name="quantize_in")
        y = _inner(mb, rng, q, inner)
        yi = _info(mb, y)
        out = add_quantize(mb, rng, y, "uint8", yi.scale, yi.zero_point + 128, name="quantize_out")
        output_lsb = yi.scale
    else:
        raise ValueError(edge)
    return mb.build_model([x], [out], op="QUANTIZE_EDGES",
                          input_shape=tuple(input_shape), edge=edge, inner=inner,
                          output_lsb=output_lsb)


# --------------------------------------------------------------------------
# The oracle
# --------------------------------------------------------------------------

def default_arena_size(model_bytes: bytes, tensor_bytes: int = 0) -> int:
    return 64 * 1024 + 4 * len(model_bytes) + 4 * tensor_bytes


def extreme_and_random_inputs(compiled, rng) -> list[list[np.ndarray]]:
    """Input sets for a compiled model: all minimum, all maximum, then two random."""
    sets = []
    for fill in ("min", "max", "random", "random"):
        xs = []
        for spec in compiled.inputs:
            info = np.iinfo(spec["dtype"])
            if fill == "random":
                xs.append(rng.integers(info.min, info.max + 1, spec["shape"], spec["dtype"]))
            else:
                xs.append(np.full(spec["shape"], getattr(info, fill), spec["dtype"]))
        sets.append(xs)
    return sets


def assert_matches_tflm(compiled, built: BuiltModel, rng) -> None:
    """The compiled model's outputs equal TFLite Micro's, byte for byte, on
    extreme_and_random_inputs."""
    for xs in extreme_and_random_inputs(compiled, rng):
        ours = compiled.run(*xs)
        theirs = run_tflm(built, xs)
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a, np.asarray(b).reshape(a.shape))


def run_tflm(model: bytes | BuiltModel, inputs: Sequence[np.ndarray],
             arena_size: int | None = None) -> list[np.ndarray]:
    """Run ``model`` once in TFLite Micro; returns the outputs (copies)."""
    from tflite_micro import runtime

    data = bytes(model)
    if arena_size is None:
        act = 0
        if isinstance(model, BuiltModel):
            # generous: every graph tensor could be alive at once
            act = sum(x.nbytes for x in inputs) * 64
        arena_size = default_arena_size(data, act)
    interp = runtime.Interpreter.from_bytes(data, arena_size=arena_size)
    for i, x in enumerate(inputs):
        interp.set_input(np.ascontiguousarray(x), i)
    interp.invoke()
    n_out = len(model.outputs) if isinstance(model, BuiltModel) else _num_outputs(data)
    return [np.array(interp.get_output(i), copy=True) for i in range(n_out)]


def _num_outputs(data: bytes) -> int:
    m = schema.Model.GetRootAs(data, 0)
    return m.Subgraphs(0).OutputsLength()
