"""Read a .tflite flatbuffer into an ir.Graph.

Uses the `flatbuffers` package and the schema module that ships inside
tflite-micro; TensorFlow is never imported here. Every problem found in a
model (unsupported ops, non-integer tensors, bad references) is collected and
reported in one error.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from tinyedge.errors import ModelFormatError, UnsupportedModelError
from tinyedge.ir import DType, Graph, Node, OpKind, Quantization, Tensor

TENSOR_TYPES = {
    schema.TensorType.INT8: DType.INT8,
    schema.TensorType.UINT8: DType.UINT8,
    schema.TensorType.INT16: DType.INT16,
    schema.TensorType.INT32: DType.INT32,
    schema.TensorType.INT64: DType.INT64,
    schema.TensorType.FLOAT32: DType.FLOAT32,
    schema.TensorType.BOOL: DType.BOOL,
}
TENSOR_TYPE_NAMES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
BUILTIN_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}

# No microcontroller tensor comes near this; it keeps every size an int32 in C.
MAX_TENSOR_BYTES = 2**31 - 1

PADDINGS = {schema.Padding.SAME: "SAME", schema.Padding.VALID: "VALID"}
ACTIVATIONS = {v: k for k, v in vars(schema.ActivationFunctionType).items()
               if not k.startswith("_")}


def _activation(options) -> str:
    return ACTIVATIONS.get(options.fusedActivationFunction, "UNKNOWN")


def _conv_options(o) -> dict:
    return {"padding": PADDINGS.get(o.padding, "UNKNOWN"),
            "stride_h": o.strideH, "stride_w": o.strideW,
            "dilation_h": o.dilationHFactor, "dilation_w": o.dilationWFactor,
            "activation": _activation(o)}


def _depthwise_options(o) -> dict:
    return dict(_conv_options(o), depth_multiplier=o.depthMultiplier)


def _pool_options(o) -> dict:
    return {"padding": PADDINGS.get(o.padding, "UNKNOWN"),
            "stride_h": o.strideH, "stride_w": o.strideW,
            "filter_h": o.filterHeight, "filter_w": o.filterWidth,
            "activation": _activation(o)}


def _fully_connected_options(o) -> dict:
    return {"activation": _activation(o), "keep_num_dims": bool(o.keepNumDims),
            "weights_format": o.weightsFormat}


def _add_options(o) -> dict:
    return {"activation": _activation(o)}


def _softmax_options(o) -> dict:
    return {"beta": float(o.beta)}


def _no_options(o) -> dict:
    return {}


def _activation_options(o) -> dict:
    """Options holding only a fused activation (MUL, SUB, L2_NORMALIZATION)."""
    return {"activation": _activation(o)}


def _leaky_relu_options(o) -> dict:
    return {"alpha": float(o.alpha)}


def _reducer_options(o) -> dict:
    return {"keep_dims": bool(o.keepDims)}


def _concatenation_options(o) -> dict:
    return {"axis": int(o.axis), "activation": _activation(o)}


def _strided_slice_options(o) -> dict:
    return {"begin_mask": int(o.beginMask), "end_mask": int(o.endMask),
            "ellipsis_mask": int(o.ellipsisMask), "new_axis_mask": int(o.newAxisMask),
            "shrink_axis_mask": int(o.shrinkAxisMask), "offset": bool(o.offset)}


def _split_options(o) -> dict:
    return {"num_splits": int(o.numSplits)}


def _pack_options(o) -> dict:
    return {"count": int(o.valuesCount), "axis": int(o.axis)}


def _unpack_options(o) -> dict:
    return {"count": int(o.num), "axis": int(o.axis)}


def _gather_options(o) -> dict:
    return {"axis": int(o.axis), "batch_dims": int(o.batchDims)}


def _block_options(o) -> dict:
    return {"block_size": int(o.blockSize)}


def _arg_options(o) -> dict:
    return {"output_type": TENSOR_TYPES.get(o.outputType)}


def _resize_options(o) -> dict:
    return {"align_corners": bool(o.alignCorners),
            "half_pixel_centers": bool(o.halfPixelCenters)}


def _transpose_conv_options(o) -> dict:
    return {"padding": PADDINGS.get(o.padding, "UNKNOWN"),
            "stride_h": o.strideH, "stride_w": o.strideW,
            "activation": _activation(o)}


def _batch_matmul_options(o) -> dict:
    return {"adj_x": bool(o.adjX), "adj_y": bool(o.adjY),
            "asymmetric_quantize_inputs": bool(o.asymmetricQuantizeInputs)}


def _svdf_options(o) -> dict:
    return {"rank": int(o.rank), "activation": _activation(o),
            "asymmetric_quantize_inputs": bool(o.asymmetricQuantizeInputs)}


def _lstm_options(o) -> dict:
    return {"activation": _activation(o), "cell_clip": float(o.cellClip),
            "proj_clip": float(o.projClip), "time_major": bool(o.timeMajor),
            "asymmetric_quantize_inputs": bool(o.asymmetricQuantizeInputs),
            "diagonal_recurrent_tensors": bool(o.diagonalRecurrentTensors)}


# Builtin operator -> (our op, options parser). Options default when absent.
PARSERS = {
    schema.BuiltinOperator.CONV_2D: (OpKind.CONV_2D, _conv_options, schema.Conv2DOptionsT),
    schema.BuiltinOperator.DEPTHWISE_CONV_2D: (OpKind.DEPTHWISE_CONV_2D, _depthwise_options,
                                               schema.DepthwiseConv2DOptionsT),
    schema.BuiltinOperator.FULLY_CONNECTED: (OpKind.FULLY_CONNECTED, _fully_connected_options,
                                             schema.FullyConnectedOptionsT),
    schema.BuiltinOperator.AVERAGE_POOL_2D: (OpKind.AVERAGE_POOL_2D, _pool_options,
                                             schema.Pool2DOptionsT),
    schema.BuiltinOperator.MAX_POOL_2D: (OpKind.MAX_POOL_2D, _pool_options, schema.Pool2DOptionsT),
    schema.BuiltinOperator.ADD: (OpKind.ADD, _add_options, schema.AddOptionsT),
    schema.BuiltinOperator.SOFTMAX: (OpKind.SOFTMAX, _softmax_options, schema.SoftmaxOptionsT),
    schema.BuiltinOperator.RESHAPE: (OpKind.RESHAPE, _no_options, None),
    schema.BuiltinOperator.SQUEEZE: (OpKind.SQUEEZE, _no_options, None),
    schema.BuiltinOperator.QUANTIZE: (OpKind.QUANTIZE, _no_options, None),
    schema.BuiltinOperator.DEQUANTIZE: (OpKind.DEQUANTIZE, _no_options, None),
    schema.BuiltinOperator.PAD: (OpKind.PAD, _no_options, None),
    schema.BuiltinOperator.PADV2: (OpKind.PADV2, _no_options, None),
    schema.BuiltinOperator.MEAN: (OpKind.MEAN, _reducer_options, schema.ReducerOptionsT),
    schema.BuiltinOperator.SUM: (OpKind.SUM, _reducer_options, schema.ReducerOptionsT),
    schema.BuiltinOperator.CONCATENATION: (OpKind.CONCATENATION, _concatenation_options,
                                           schema.ConcatenationOptionsT),
    schema.BuiltinOperator.TRANSPOSE: (OpKind.TRANSPOSE, _no_options, None),
    schema.BuiltinOperator.STRIDED_SLICE: (OpKind.STRIDED_SLICE, _strided_slice_options,
                                           schema.StridedSliceOptionsT),
    schema.BuiltinOperator.SLICE: (OpKind.SLICE, _no_options, None),
    schema.BuiltinOperator.SPLIT: (OpKind.SPLIT, _split_options, schema.SplitOptionsT),
    schema.BuiltinOperator.SPLIT_V: (OpKind.SPLIT_V, _split_options, schema.SplitVOptionsT),
    schema.BuiltinOperator.PACK: (OpKind.PACK, _pack_options, schema.PackOptionsT),
    schema.BuiltinOperator.UNPACK: (OpKind.UNPACK, _unpack_options, schema.UnpackOptionsT),
    schema.BuiltinOperator.GATHER: (OpKind.GATHER, _gather_options, schema.GatherOptionsT),
    schema.BuiltinOperator.DEPTH_TO_SPACE: (OpKind.DEPTH_TO_SPACE, _block_options,
                                            schema.DepthToSpaceOptionsT),
    schema.BuiltinOperator.SPACE_TO_DEPTH: (OpKind.SPACE_TO_DEPTH, _block_options,
                                            schema.SpaceToDepthOptionsT),
    schema.BuiltinOperator.ARG_MAX: (OpKind.ARG_MAX, _arg_options, schema.ArgMaxOptionsT),
    schema.BuiltinOperator.ARG_MIN: (OpKind.ARG_MIN, _arg_options, schema.ArgMinOptionsT),
    schema.BuiltinOperator.MUL: (OpKind.MUL, _activation_options, schema.MulOptionsT),
    schema.BuiltinOperator.SUB: (OpKind.SUB, _activation_options, schema.SubOptionsT),
    schema.BuiltinOperator.SQUARED_DIFFERENCE: (OpKind.SQUARED_DIFFERENCE, _no_options, None),
    schema.BuiltinOperator.MAXIMUM: (OpKind.MAXIMUM, _no_options, None),
    schema.BuiltinOperator.MINIMUM: (OpKind.MINIMUM, _no_options, None),
    schema.BuiltinOperator.LOGISTIC: (OpKind.LOGISTIC, _no_options, None),
    schema.BuiltinOperator.TANH: (OpKind.TANH, _no_options, None),
    schema.BuiltinOperator.HARD_SWISH: (OpKind.HARD_SWISH, _no_options, None),
    schema.BuiltinOperator.RELU: (OpKind.RELU, _no_options, None),
    schema.BuiltinOperator.RELU6: (OpKind.RELU6, _no_options, None),
    schema.BuiltinOperator.LEAKY_RELU: (OpKind.LEAKY_RELU, _leaky_relu_options,
                                        schema.LeakyReluOptionsT),
    schema.BuiltinOperator.PRELU: (OpKind.PRELU, _no_options, None),
    schema.BuiltinOperator.ELU: (OpKind.ELU, _no_options, None),
    schema.BuiltinOperator.RSQRT: (OpKind.RSQRT, _no_options, None),
    schema.BuiltinOperator.L2_NORMALIZATION: (OpKind.L2_NORMALIZATION, _activation_options,
                                              schema.L2NormOptionsT),
    schema.BuiltinOperator.RESIZE_NEAREST_NEIGHBOR: (OpKind.RESIZE_NEAREST_NEIGHBOR,
                                                     _resize_options,
                                                     schema.ResizeNearestNeighborOptionsT),
    schema.BuiltinOperator.RESIZE_BILINEAR: (OpKind.RESIZE_BILINEAR, _resize_options,
                                             schema.ResizeBilinearOptionsT),
    schema.BuiltinOperator.TRANSPOSE_CONV: (OpKind.TRANSPOSE_CONV, _transpose_conv_options,
                                            schema.TransposeConvOptionsT),
    schema.BuiltinOperator.BATCH_MATMUL: (OpKind.BATCH_MATMUL, _batch_matmul_options,
                                          schema.BatchMatMulOptionsT),
    schema.BuiltinOperator.SVDF: (OpKind.SVDF, _svdf_options, schema.SVDFOptionsT),
    schema.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM: (
        OpKind.UNIDIRECTIONAL_SEQUENCE_LSTM, _lstm_options,
        schema.UnidirectionalSequenceLSTMOptionsT),
    # evaluated at compile time only (passes/fold_constants.py)
    schema.BuiltinOperator.SHAPE: (OpKind.SHAPE, _no_options, None),
    schema.BuiltinOperator.FILL: (OpKind.FILL, _no_options, None),
    schema.BuiltinOperator.ZEROS_LIKE: (OpKind.ZEROS_LIKE, _no_options, None),
    schema.BuiltinOperator.EXPAND_DIMS: (OpKind.EXPAND_DIMS, _no_options, None),
    schema.BuiltinOperator.BROADCAST_TO: (OpKind.BROADCAST_TO, _no_options, None),
    schema.BuiltinOperator.CAST: (OpKind.CAST, _no_options, None),
    schema.BuiltinOperator.RANGE: (OpKind.RANGE, _no_options, None),
    schema.BuiltinOperator.FLOOR_DIV: (OpKind.FLOOR_DIV, _no_options, None),
    schema.BuiltinOperator.REDUCE_PROD: (OpKind.REDUCE_PROD, _reducer_options,
                                         schema.ReducerOptionsT),
}


def model_name(path_or_name: str) -> str:
    """A C identifier from a file name: 'kws_ref_model.tflite' -> 'kws_ref_model'."""
    stem = Path(path_or_name).stem.lower()
    name = re.sub(r"[^a-z0-9_]", "_", stem).strip("_") or "model"
    return name if not name[0].isdigit() else "m_" + name


def _parse_flatbuffer(data: bytes):
    if len(data) < 8:
        raise ModelFormatError(f"not a TFLite model: the file has only {len(data)} bytes")
    if data[4:8] != b"TFL3":
        raise ModelFormatError(
            "not a TFLite model: the flatbuffer identifier is "
            f"{data[4:8]!r}, expected b'TFL3' (is this a .tflite file?)")
    try:
        model = schema.ModelT.InitFromPackedBuf(data, 0)
    except Exception as exc:  # the flatbuffers reader raises anything on bad offsets
        raise ModelFormatError(
            f"corrupt TFLite model: the flatbuffer cannot be read ({type(exc).__name__}: {exc})"
        ) from None
    if not model.subgraphs:
        raise ModelFormatError("corrupt TFLite model: it has no subgraph")
    # Absent vectors read as None; the checks below index them as empty lists.
    model.buffers = model.buffers or []
    model.operatorCodes = model.operatorCodes or []
    return model


def _clean_name(raw) -> str:
    """A tensor name safe to print on one line and inside a C comment:
    printable ASCII only, no comment delimiters, at most 200 characters."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
    text = "".join(c if " " <= c <= "~" else "?" for c in text).replace("*/", "*?").replace("/*", "/?")
    return text[:200]


def _quantization(q, name: str) -> Quantization | None:
    if q is None or q.scale is None or len(q.scale) == 0:
        return None
    scales = tuple(float(s) for s in np.asarray(q.scale, dtype=np.float32))
    zero_points = tuple(int(z) for z in (q.zeroPoint if q.zeroPoint is not None else []))
    if len(zero_points) not in (1, len(scales)):
        # TFLite Micro would read a zero point past the end of the vector.
        raise ModelFormatError(f"corrupt TFLite model: tensor '{name}' has {len(scales)} "
                               f"quantization scales but {len(zero_points)} zero points")
    if len(zero_points) == 1 and len(scales) > 1:
        zero_points = zero_points * len(scales)
    axis = int(q.quantizedDimension) if len(scales) > 1 else 0
    return Quantization(scales, zero_points, axis)


def _tensor(model, index: int, t, problems: list[str]) -> Tensor:
    name = _clean_name(t.name) or f"tensor_{index}"
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
    dtype = TENSOR_TYPES.get(t.type)
    if dtype is None:
        problems.append(f"tensor {index} '{name}' has type "
                        f"{TENSOR_TYPE_NAMES.get(t.type, t.type)}, which tinyedge does not support")
        dtype = DType.INT8
    if any(d < 0 for d in shape):
        problems.append(f"tensor {index} '{name}' has a dynamic or negative shape {list(shape)}; "
                        "convert the model with a fixed batch size of 1")
    elif int(np.prod(shape, dtype=np.float64)) * dtype.itemsize > MAX_TENSOR_BYTES:
        problems.append(f"tensor {index} '{name}' of shape {list(shape)} is larger than "
                        f"{MAX_TENSOR_BYTES:,} bytes")
    quant = _quantization(t.quantization, name)
    if quant is not None:
        if any(not (s > 0 and np.isfinite(s)) for s in quant.scales):
            problems.append(f"tensor {index} '{name}' has a non-positive or non-finite scale")
        if dtype.numpy.kind in "iu" and dtype.itemsize <= 2:
            info = np.iinfo(dtype.numpy)
            if any(not info.min <= z <= info.max for z in quant.zero_points):
                problems.append(f"tensor {index} '{name}' has a zero point outside the "
                                f"{dtype.numpy_name} range")
        # The axis of per-channel scales is checked by the ops that use them:
        # real models carry bias scales on an axis their 1-D shape lacks.
    data = None
    if not 0 <= t.buffer < len(model.buffers):
        raise ModelFormatError(f"corrupt TFLite model: tensor {index} '{name}' refers to buffer "
                               f"{t.buffer}, but the model has {len(model.buffers)} buffers")
    buffer = model.buffers[t.buffer]
    # TFLite Micro gives variable tensors (state kept between invocations) a
    # place of their own, filled with the zero point (int8) or 0, whatever
    # their buffer holds: they become the model's state block. The ops that
    # take state accept them; the others refuse (check_no_variables).
    if t.sparsity is not None:
        problems.append(f"tensor {index} '{name}' is stored sparse, which tinyedge does not "
                        "support yet; convert the model with dense weights")
    if t.quantization is not None and t.quantization.detailsType:
        problems.append(f"tensor {index} '{name}' uses custom quantization, which tinyedge "
                        "does not support")
    if buffer.offset:
        problems.append(f"tensor {index} '{name}' keeps its data outside the flatbuffer "
                        "(models over 2 GB are not supported)")
    raw = buffer.data
    if raw is not None and len(raw) > 0 and all(d >= 0 for d in shape):
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if len(raw) != expected:
            raise ModelFormatError(
                f"corrupt TFLite model: tensor {index} '{name}' of shape {list(shape)} "
                f"({dtype.name}) needs {expected} bytes, its buffer has {len(raw)}")
        data = np.frombuffer(bytes(np.asarray(raw, dtype=np.uint8)),
                             dtype=dtype.numpy.newbyteorder("<")).astype(dtype.numpy).reshape(shape)
    if t.isVariable:
        return Tensor(name=name, shape=shape, dtype=dtype, quant=quant, variable=True)
    return Tensor(name=name, shape=shape, dtype=dtype, quant=quant, data=data)


def _operator_name(model, opcode_index: int) -> tuple[int | None, str]:
    if not 0 <= opcode_index < len(model.operatorCodes):
        raise ModelFormatError(f"corrupt TFLite model: operator code index {opcode_index} "
                               f"out of range (the model has {len(model.operatorCodes)})")
    code = model.operatorCodes[opcode_index]
    builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
    if builtin == schema.BuiltinOperator.CUSTOM:
        custom = code.customCode.decode("utf-8", "replace") if code.customCode else "?"
        return None, f"CUSTOM '{custom}'"
    return builtin, BUILTIN_NAMES.get(builtin, f"builtin {builtin}")


def read_tflite(data: bytes, name: str = "model") -> Graph:
    """Parse a TFLite flatbuffer into a Graph, or raise one error naming every problem."""
    model = _parse_flatbuffer(data)
    subgraph = model.subgraphs[0]
    raw_tensors = subgraph.tensors or []
    problems: list[str] = []
    tensors = [_tensor(model, i, t, problems) for i, t in enumerate(raw_tensors)]

    def tensor_at(i: int, where: str) -> Tensor | None:
        if i == -1:
            return None
        if not 0 <= i < len(tensors):
            raise ModelFormatError(f"corrupt TFLite model: {where} refers to tensor {i}, "
                                   f"but the subgraph has {len(tensors)} tensors")
        return tensors[i]

    unsupported: list[str] = []
    nodes: list[Node] = []
    for index, op in enumerate(subgraph.operators or []):
        builtin, op_name = _operator_name(model, op.opcodeIndex)
        where = f"operator {index} ({op_name})"
        inputs = [tensor_at(int(i), where) for i in (op.inputs if op.inputs is not None else [])]
        outputs = [tensor_at(int(i), where) for i in (op.outputs if op.outputs is not None else [])]
        if builtin not in PARSERS:
            unsupported.append(f"{op_name} (operator {index})")
            continue
        kind, parse_options, options_class = PARSERS[builtin]
        options = op.builtinOptions
        if options is None and options_class is not None:
            options = options_class()
        if options_class is not None and not isinstance(options, options_class):
            raise ModelFormatError(f"corrupt TFLite model: {where} carries "
                                   f"{type(options).__name__[:-1]}, not {options_class.__name__[:-1]}")
        if any(t is None for t in outputs):
            raise ModelFormatError(f"corrupt TFLite model: {where} has an absent output")
        nodes.append(Node(kind=kind, inputs=inputs, outputs=outputs,
                          options=parse_options(options), index=index))
    if unsupported:
        problems.insert(0, "unsupported ops: " + ", ".join(unsupported)
                        + " (`tinyedge ops` lists what tinyedge compiles)")
    if problems:
        raise UnsupportedModelError("; ".join(problems))

    inputs = [tensor_at(int(i), "the subgraph inputs")
              for i in (subgraph.inputs if subgraph.inputs is not None else [])]
    outputs = [tensor_at(int(i), "the subgraph outputs")
               for i in (subgraph.outputs if subgraph.outputs is not None else [])]
    if not inputs or not outputs or any(t is None for t in inputs + outputs):
        raise ModelFormatError("corrupt TFLite model: the subgraph lists no inputs or no outputs")
    return Graph(name=name, inputs=inputs, outputs=outputs, nodes=nodes)


def read_tflite_file(path: str | Path) -> Graph:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFormatError(f"cannot read {path}: {exc.strerror}") from None
    return read_tflite(data, model_name(path.name))
