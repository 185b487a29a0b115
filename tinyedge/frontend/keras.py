"""Keras model + calibration data -> full-integer TFLite (post-training
quantization), and a report of what quantization cost.

    data = quantize(model, calibration)                  # bytes of an int8 .tflite
    report = quantization_report(model, data, holdout)   # SQNR per layer, top-1 agreement

`model` is a Keras model object, a `.keras`/`.h5` file or a SavedModel folder.
Calibration data is a numpy array whose first axis is the samples (for a model
with several inputs: a list/tuple of arrays in the order of the model's inputs,
a dict keyed by input name, or an .npz file), or the path of an .npy/.npz file.

The conversion goes through `tf.lite.TFLiteConverter` with int8 builtins only
(or, with activations="int16", TFLite's 16x8 scheme: int16 activations, int8
weights, int64 biases), per-channel weights (the converter's default) and the
batch size fixed to 1: a Keras model whose input batch is dynamic is first
rebuilt with batch-1 inputs (same layers, names and weights), so no
SHAPE/STRIDED_SLICE/PACK ops appear.
TensorFlow is imported here only, and only when one of these functions runs.
"""
from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyedge.errors import TinyEdgeError, UnsupportedModelError

# The model's edge types allowed for each activation type; the first is the default.
IO_TYPES = {"int8": ("int8", "uint8", "float32"), "int16": ("int16", "float32")}
ACTIVATIONS = tuple(IO_TYPES)
KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
# Ops that may stay in float at the edges of a model whose io_type is float32.
_EDGE_OPS = ("QUANTIZE", "DEQUANTIZE")
_TRY_INT8 = "quantize with --activations int8 (activations='int8'), or replace the layer(s)"


# --------------------------------------------------------------------------- TensorFlow

def _tf():
    """TensorFlow, imported with its logging turned down."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        if "tensorflow" in sys.modules:
            import tensorflow as tf
        else:
            with _quiet_fds():  # the import itself prints oneDNN and absl notices
                import tensorflow as tf
    except ImportError:
        raise TinyEdgeError("quantizing a Keras model needs TensorFlow: "
                            "pip install 'tinyedge[keras]' (tensorflow-cpu)") from None
    tf.get_logger().setLevel("ERROR")
    try:
        import absl.logging
        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:  # pragma: no cover - absl ships with TensorFlow
        pass
    return tf


@contextlib.contextmanager
def _quiet_fds():
    """Send everything written to file descriptors 1 and 2 (TensorFlow's C++
    logs, the converter's prints, Keras' export messages) to a temporary file.
    Yields (a writable stream on the original stderr, a function returning the
    captured text)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    sink = tempfile.TemporaryFile(mode="w+b")
    original_stderr = os.fdopen(os.dup(saved[1]), "w", buffering=1)

    def captured() -> str:
        sink.flush()
        sink.seek(0)
        return sink.read().decode(errors="replace")

    try:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield original_stderr, captured
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        original_stderr.close()
        sink.close()


class _Progress:
    """A one-line text progress bar over the calibration samples, on the
    original stderr; silent when that is not a terminal or when quiet."""

    WIDTH = 30

    def __init__(self, total: int, stream, quiet: bool, label: str = "calibrating"):
        self.total, self.stream, self.label = total, stream, label
        try:
            tty = stream is not None and os.isatty(stream.fileno())
        except (OSError, ValueError, AttributeError):
            tty = False
        self.enabled = tty and not quiet and total > 0
        self.done = 0

    def step(self) -> None:
        self.done += 1
        if not self.enabled:
            return
        if self.done == self.total or self.done % max(1, self.total // 100) == 0:
            filled = self.WIDTH * self.done // self.total
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
                              f"{self.done}/{self.total}")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\n")
            self.stream.flush()


# --------------------------------------------------------------------------- the model

@dataclass
class InputSpec:
    name: str
    shape: tuple  # with the batch dimension, fixed to 1
    dtype: str


@dataclass
class _Source:
    """A loaded float model, ready to convert and to run."""

    name: str
    inputs: list[InputSpec]
    keras_model: object = None      # batch-1 Keras model (converted)
    float_model: object = None      # Keras model run for the float side (dynamic batch if any)
    saved_model: object = None      # a tf.saved_model.load() object
    signature: object = None        # its serving function
    output_keys: list = field(default_factory=list)


def _safe_name(text: str) -> str:
    text = re.sub(r"[^0-9A-Za-z_]", "_", text).strip("_") or "model"
    return "m_" + text if text[0].isdigit() else text


def is_keras_model(model) -> bool:
    """True for a Keras model object (checked without importing TensorFlow)."""
    return any(cls.__name__ in ("Model", "Functional", "Sequential")
               and cls.__module__.startswith(("keras", "tf_keras", "tensorflow"))
               for cls in type(model).__mro__)


def is_keras_path(model) -> bool:
    """True for a path that looks like a Keras file or a SavedModel folder."""
    if not isinstance(model, (str, os.PathLike)):
        return False
    path = Path(model)
    return path.suffix.lower() in KERAS_SUFFIXES or (path / "saved_model.pb").is_file()


def _rebuild_batch1(keras, model):
    """The same model with batch-1 inputs: same layers, names and weights."""
    if all(inp.shape[0] == 1 for inp in model.inputs):
        return model
    inputs = [keras.Input(shape=tuple(inp.shape[1:]), batch_size=1, dtype=inp.dtype,
                          name=getattr(inp, "name", None)) for inp in model.inputs]
    try:
        clone = keras.models.clone_model(model, input_tensors=inputs if len(inputs) > 1
                                         else inputs[0])
        clone.set_weights(model.get_weights())
        return clone
    except Exception:  # subclassed models cannot be cloned: wrap the model instead
        outputs = model(inputs if len(inputs) > 1 else inputs[0])
        return keras.Model(inputs, outputs, name=model.name)


def _load_source(model) -> _Source:
    tf = _tf()
    keras = tf.keras
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if path.is_dir():
            if not (path / "saved_model.pb").is_file():
                raise TinyEdgeError(f"{path} is a folder but not a SavedModel (no saved_model.pb)")
            return _load_saved_model(tf, path)
        if not path.is_file():
            raise TinyEdgeError(f"cannot read model {path}: no such file or folder")
        if path.suffix.lower() not in KERAS_SUFFIXES:
            raise TinyEdgeError(f"{path} is not a Keras model: expected a .keras or .h5 file "
                                "or a SavedModel folder")
        _check_keras_file(path)
        try:
            with _quiet_fds():
                loaded = keras.models.load_model(path, compile=False)
        except Exception as exc:
            raise TinyEdgeError(f"{path} is not a Keras model that can be loaded: "
                                f"{_first_line(exc)}") from None
        name = _safe_name(path.stem)
    elif is_keras_model(model):
        loaded, name = model, _safe_name(getattr(model, "name", "model"))
    else:
        raise TinyEdgeError(f"cannot quantize a {type(model).__name__}: pass a Keras model, a "
                            ".keras/.h5 file or a SavedModel folder")
    if not getattr(loaded, "inputs", None):
        raise TinyEdgeError(f"Keras model '{loaded.name}' has no defined inputs: build it with "
                            "keras.Input(...) (or call build()) before quantizing")
    batch1 = _rebuild_batch1(keras, loaded)
    specs = [InputSpec(getattr(inp, "name", f"input_{i}"), (1,) + tuple(inp.shape[1:]),
                       str(np.dtype(getattr(inp.dtype, "name", inp.dtype))))
             for i, inp in enumerate(batch1.inputs)]
    for spec in specs:
        if any(d is None for d in spec.shape):
            raise TinyEdgeError(f"input '{spec.name}' of the model has a dynamic shape "
                                f"{list(spec.shape)}; only the batch dimension may be dynamic")
    return _Source(name, specs, keras_model=batch1, float_model=loaded)


def _check_keras_file(path: Path) -> None:
    """Refuse a file whose first bytes are not those of its Keras format."""
    import zipfile

    if path.suffix.lower() == ".keras":
        if not zipfile.is_zipfile(path):
            raise TinyEdgeError(f"{path} is not a Keras model (a .keras file is a zip archive "
                                "written by model.save())")
    else:
        with open(path, "rb") as f:
            if f.read(8) != b"\x89HDF\r\n\x1a\n":
                raise TinyEdgeError(f"{path} is not a Keras model (an .h5 file is an HDF5 "
                                    "file written by model.save())")


def _load_saved_model(tf, path: Path) -> _Source:
    try:
        with _quiet_fds():
            loaded = tf.saved_model.load(str(path))
    except Exception as exc:
        raise TinyEdgeError(f"cannot load the SavedModel {path}: {_first_line(exc)}") from None
    signature = loaded.signatures.get("serving_default") if hasattr(loaded, "signatures") else None
    if signature is None:
        raise TinyEdgeError(f"the SavedModel {path} has no 'serving_default' signature")
    _, kwargs = signature.structured_input_signature
    specs = []
    for key in sorted(kwargs):
        shape = tuple(kwargs[key].shape)
        if any(d is None for d in shape[1:]):
            raise TinyEdgeError(f"input '{key}' of {path} has a dynamic shape {list(shape)}; "
                                "only the batch dimension may be dynamic")
        specs.append(InputSpec(key, (1,) + shape[1:], kwargs[key].dtype.name))
    keys = sorted(signature.structured_outputs)
    return _Source(_safe_name(path.name), specs, saved_model=loaded, signature=signature,
                   output_keys=keys)


# --------------------------------------------------------------------------- calibration data

def load_samples(data, specs: list[InputSpec], what: str = "calibration") -> list[np.ndarray]:
    """One float32 array per model input, each (N, *input shape without batch).
    Raises TinyEdgeError naming what is wrong (shape, dtype, count, empty)."""
    if isinstance(data, (str, os.PathLike)):
        data = _read_array_file(Path(data), what)
    if isinstance(data, dict):
        missing = [s.name for s in specs if s.name not in data]
        if missing and len(data) == len(specs):
            arrays = list(data.values())      # keys are not the input names: use file order
        elif missing:
            raise TinyEdgeError(f"{what} data has no array for input(s) {missing} "
                                f"(it has {sorted(data)})")
        else:
            arrays = [data[s.name] for s in specs]
    elif isinstance(data, (list, tuple)):
        arrays = list(data)
    else:
        arrays = [data]
    if len(arrays) != len(specs):
        raise TinyEdgeError(f"{what} data has {len(arrays)} array(s) but the model has "
                            f"{len(specs)} input(s) ({', '.join(s.name for s in specs)}); pass "
                            "one array per input, first axis = samples")
    result = []
    for array, spec in zip(arrays, specs):
        array = np.asarray(array)
        if array.dtype.kind not in "iuf":
            raise TinyEdgeError(f"{what} data for input '{spec.name}' has dtype {array.dtype}; "
                                "expected real numbers (float32, or integers converted to float)")
        want = tuple(spec.shape[1:])
        if array.ndim == len(want):          # a single sample without its sample axis
            array = array[None]
        if tuple(array.shape[1:]) != want:
            raise TinyEdgeError(f"{what} data for input '{spec.name}' has shape "
                                f"{list(array.shape)}; expected [samples, "
                                f"{', '.join(map(str, want))}]")
        if array.shape[0] == 0:
            raise TinyEdgeError(f"{what} data for input '{spec.name}' is empty (0 samples); "
                                "pass at least one sample (a few hundred is typical)")
        array = array.astype(np.float32)
        if not np.all(np.isfinite(array)):
            raise TinyEdgeError(f"{what} data for input '{spec.name}' contains NaN or infinity")
        result.append(array)
    counts = {a.shape[0] for a in result}
    if len(counts) > 1:
        raise TinyEdgeError(f"{what} arrays have different sample counts "
                            f"{[a.shape[0] for a in result]}; the first axis must agree")
    return result


def _read_array_file(path: Path, what: str):
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise TinyEdgeError(f"cannot read {what} data {path} as .npy/.npz: "
                            f"{_first_line(exc)}") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            return {key: loaded[key] for key in loaded.files}
    return loaded


# --------------------------------------------------------------------------- conversion

def quantize(model, calibration, io_type: str | None = None, quiet: bool = False,
             activations: str = "int8") -> bytes:
    """Full-integer post-training quantization; returns the .tflite bytes.
    io_type defaults to the activation type."""
    return _quantize(_load_source(model), calibration, io_type, quiet, activations)


def _quantize(source: _Source, calibration, io_type: str | None, quiet: bool,
              activations: str = "int8") -> bytes:
    if activations not in IO_TYPES:
        raise TinyEdgeError(f"activations must be one of {', '.join(ACTIVATIONS)}, "
                            f"got '{activations}'")
    io_type = io_type or IO_TYPES[activations][0]
    if io_type not in IO_TYPES[activations]:
        raise TinyEdgeError(f"with {activations} activations the io type must be one of "
                            f"{', '.join(IO_TYPES[activations])}, got '{io_type}'")
    if calibration is None:
        raise TinyEdgeError("quantizing a float model needs calibration data "
                            "(representative inputs, first axis = samples)")
    arrays = load_samples(calibration, source.inputs)
    tf = _tf()
    count = arrays[0].shape[0]

    with _quiet_fds() as (stderr, captured):
        progress = _Progress(count, stderr, quiet)

        def representative():
            for i in range(count):
                sample = [a[i:i + 1] for a in arrays]
                progress.step()
                yield sample if len(sample) == 1 else dict(
                    zip((s.name for s in source.inputs), sample))

        try:
            converter = _converter(tf, source)
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = representative
            converter.target_spec.supported_ops = [
                tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
                if activations == "int16" else tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            dtype = {"int8": tf.int8, "uint8": tf.uint8, "int16": tf.int16,
                     "float32": tf.float32}[io_type]
            converter.inference_input_type = dtype
            converter.inference_output_type = dtype
            data = converter.convert()
        except TinyEdgeError:
            raise
        except Exception as exc:
            progress.close()
            message = _converter_error(exc, captured())
            if activations == "int16" and "16x8" in message:
                message += " " + _TRY_INT8
            raise UnsupportedModelError(message) from None
        progress.close()
    _check_full_integer(bytes(data), io_type)
    if activations == "int16":
        _check_16x8_support(bytes(data), source)
    return bytes(data)


def _converter(tf, source: _Source):
    if source.keras_model is not None:
        return tf.lite.TFLiteConverter.from_keras_model(source.keras_model)
    specs = {s.name: tf.TensorSpec(s.shape, s.dtype, name=s.name) for s in source.inputs}
    signature = source.signature
    function = tf.function(lambda **kw: signature(**kw)).get_concrete_function(**specs)
    return tf.lite.TFLiteConverter.from_concrete_functions([function], source.saved_model)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _converter_error(exc: BaseException, log: str) -> str:
    """The converter's failure in one line."""
    text = f"{exc}\n{log}"
    ops = sorted(set(re.findall(r"'tf\.(\w+)' op is neither a custom op nor a flex op", text)))
    if ops:
        return (f"the converter cannot make the model full-integer: TensorFlow op(s) "
                f"{', '.join(ops)} have no TFLite builtin kernel; replace the layer(s) that use "
                "them")
    for line in str(exc).splitlines() + log.splitlines():
        if "error:" in line:
            message = re.sub(r"loc\(.*?\)\)*:\s*", "", line.split("error:", 1)[1]).strip()
            if message:
                return f"the converter cannot make the model full-integer: {message[:300]}"
    return f"the converter cannot make the model full-integer: {_first_line(exc)}"


def _check_full_integer(data: bytes, io_type: str) -> None:
    """Refuse a model in which the converter left layers in float (it wraps an
    op it cannot quantize in DEQUANTIZE/QUANTIZE instead of failing)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(data, 0))
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    graph = model.subgraphs[0]
    floats = []
    for index, op in enumerate(graph.operators):
        code = model.operatorCodes[op.opcodeIndex]
        op_name = names.get(max(code.builtinCode, code.deprecatedBuiltinCode), "CUSTOM")
        if op_name in _EDGE_OPS:
            continue
        tensors = [graph.tensors[i] for i in list(op.inputs) + list(op.outputs) if i >= 0]
        if any(t.type == schema.TensorType.FLOAT32 for t in tensors):
            out = graph.tensors[op.outputs[0]].name.decode(errors="replace")
            floats.append(f"{op_name} (operator {index}, '{out.split(';')[0]}')")
    if floats:
        raise UnsupportedModelError(
            "the converter cannot make the model full-integer: it left "
            f"{', '.join(floats)} in float; replace the layer(s) with ones that have int8 kernels")


def _check_16x8_support(data: bytes, source: _Source) -> None:
    """Refuse, now rather than at compile time, a 16x8 model with ops that
    tinyedge compiles in int8 only (pooling, MEAN, CONCATENATION, ...): run
    the compiler's importer on it and name the Keras layers behind each op."""
    from tinyedge.api import import_model

    try:
        import_model(data, source.name)
    except UnsupportedModelError as exc:
        info = _TfliteInfo(data)
        indices = sorted({int(i) for i in re.findall(r"operator (\d+)", str(exc))})
        if not indices:
            raise
        culprits = [f"{info.op_name(i)} (layer '{_layer_of(source, info, i)}')"
                    for i in indices]
        raise UnsupportedModelError(
            f"tinyedge cannot compile {', '.join(culprits)} with int16 activations; "
            f"{_TRY_INT8}") from None


def _layer_of(source: _Source, info: "_TfliteInfo", op_index: int) -> str:
    """The Keras layer an operator comes from: the model output's layer, or
    the last layer its output's name scopes mention (as in _match_layers);
    else the output tensor's name."""
    tensor = info.graph.operators[op_index].outputs[0]
    tensor_name = info.tensor_name(tensor)
    if source.float_model is None:
        return tensor_name.split(";")[0]
    output_layer = _output_layers(source.float_model, info.signature_outputs(source)).get(tensor)
    if output_layer is not None:
        return output_layer
    names = [layer.name for layer in source.float_model.layers]
    parts = [c for piece in tensor_name.split(";") for c in piece.split("/")]
    suffix = _scope_suffix(names, set(parts))
    mentioned = [name for name in names if name + suffix in parts]
    return mentioned[-1] if mentioned else tensor_name.split(";")[0]


# --------------------------------------------------------------------------- the report

def quantization_report(model, tflite_bytes: bytes, samples, max_samples: int | None = 500,
                        holdout: bool = True) -> dict:
    """What quantization cost, on samples the converter did not see.

    The float model runs in TensorFlow; the quantized model (int8, or int16
    activations for 16x8) runs in TFLite Micro's reference interpreter
    (bit-exact with the generated C) with every tensor preserved, so
    intermediate activations can be read after each invoke.

    Matching layers to tensors: the converter names each op's output tensor
    after the TensorFlow name scopes of the ops fused into it, e.g.
    `functional_1/r1_1/Relu;functional_1/c1_1/convolution` (scopes carry a
    suffix such as `_1`, found here as the one that matches most layers). An
    output tensor is attributed to the Keras layer, among those it names, that
    comes last in the model's layer order (a Conv2D followed by a ReLU layer
    becomes one CONV_2D whose output is the ReLU's); a layer is matched to the
    last tensor attributed to it, if that tensor has the layer output's shape.
    Model outputs are always matched, through the model's signature
    (`output_0`, ... in the order of the Keras outputs). Layers fused into a
    later layer, or whose scope the converter dropped, are listed without a
    number. A SavedModel has no layers to match: only its outputs are covered.

    For each matched layer: SQNR = 10 log10(sum f^2 / sum (f - q)^2) over all
    samples, f the float activations and q the integer activations dequantized with
    their tensor's scale and zero point. For each output whose last axis holds
    two or more classes, the fraction of samples whose argmax agrees.
    """
    source = model if isinstance(model, _Source) else _load_source(model)
    arrays = load_samples(samples, source.inputs, what="held-out" if holdout else "report")
    if max_samples is not None:
        arrays = [a[:max_samples] for a in arrays]
    count = arrays[0].shape[0]
    tflite = _TfliteInfo(tflite_bytes)

    # Float side: the probes are the matched layers' outputs, then the model outputs.
    output_tensors = tflite.signature_outputs(source)
    layers, probes = [], []
    if source.keras_model is not None:
        layers = _match_layers(source.float_model, tflite, output_tensors)
        probes = [entry for entry in layers if entry.get("_tensor") is not None]
    float_layer_values, float_outputs = _run_float(source, arrays,
                                                   [p["_layer_obj"] for p in probes])

    # Integer side: TFLite Micro, all tensors kept.
    wanted = [p["_tensor"] for p in probes] + output_tensors
    int_values = _run_tflm(tflite, source.inputs, arrays, wanted)

    for k, entry in enumerate(probes):
        entry["sqnr_db"] = _sqnr(float_layer_values[k], int_values[k])
    outputs = []
    for k, tensor in enumerate(output_tensors):
        f, q = float_outputs[k], int_values[len(probes) + k]
        item = {"output": k, "tensor": tflite.tensor_name(tensor), "shape": list(q.shape[1:]),
                "sqnr_db": _sqnr(f, q)}
        if q.ndim >= 2 and q.shape[-1] >= 2:
            item["top1_agreement"] = float(np.mean(
                np.argmax(f.reshape(count, -1, f.shape[-1]), -1)
                == np.argmax(q.reshape(count, -1, q.shape[-1]), -1)))
        outputs.append(item)
    agreements = [o["top1_agreement"] for o in outputs if "top1_agreement" in o]
    for entry in layers:
        entry.pop("_tensor", None)
        entry.pop("_layer_obj", None)
    return {
        "model": source.name,
        "samples": count,
        "held_out": holdout,
        "activations": tflite.activation_type(),
        "runtime": "TFLite Micro (reference kernels, bit-exact with the generated C)",
        "layers": layers,
        "outputs": outputs,
        "top1_agreement": (float(np.mean(agreements)) if agreements else None),
    }


def _sqnr(f: np.ndarray, q: np.ndarray) -> float | None:
    """SQNR in dB; None when the float signal is all zero; inf when exact."""
    signal = float(np.sum(np.square(f.astype(np.float64))))
    noise = float(np.sum(np.square(f.astype(np.float64) - q.reshape(f.shape))))
    if signal == 0.0:
        return None
    if noise == 0.0:
        return math.inf
    return 10.0 * math.log10(signal / noise)


class _TfliteInfo:
    def __init__(self, data: bytes):
        from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

        self.data = data
        self.model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(data, 0))
        self.graph = self.model.subgraphs[0]
        self.signature = (self.model.signatureDefs or [None])[0]

    def tensor_name(self, index: int) -> str:
        return self.graph.tensors[index].name.decode(errors="replace")

    def op_name(self, op_index: int) -> str:
        from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

        names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
        code = self.model.operatorCodes[self.graph.operators[op_index].opcodeIndex]
        return names.get(max(code.builtinCode, code.deprecatedBuiltinCode), "CUSTOM")

    def activation_type(self) -> str:
        """'int16' for a 16x8 model (most op outputs int16), else 'int8'."""
        from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

        types = [self.graph.tensors[i].type for i in self.op_outputs()]
        int16 = types.count(schema.TensorType.INT16)
        return "int16" if int16 > len(types) - int16 else "int8"

    def op_outputs(self) -> list[int]:
        return [i for op in self.graph.operators for i in op.outputs if i >= 0]

    def input_positions(self, specs: list[InputSpec]) -> list[int]:
        """For each spec, the position of its tensor among the model's inputs."""
        inputs = list(self.graph.inputs)
        if self.signature is None or len(specs) == 1:
            return list(range(len(specs)))
        by_name = {t.name.decode(): t.tensorIndex for t in self.signature.inputs}
        return [inputs.index(by_name[s.name]) if s.name in by_name else k
                for k, s in enumerate(specs)]

    def signature_outputs(self, source: _Source) -> list[int]:
        """Tensor indices of the outputs, in the float model's output order."""
        outputs = list(self.graph.outputs)
        if self.signature is None:
            return outputs
        by_name = {t.name.decode(): t.tensorIndex for t in self.signature.outputs}
        keys = source.output_keys or [f"output_{k}" for k in range(len(outputs))]
        if all(k in by_name for k in keys):
            return [by_name[k] for k in keys]
        return outputs

    def dequantize(self, index: int, raw: np.ndarray) -> np.ndarray:
        tensor = self.graph.tensors[index]
        q = tensor.quantization
        if raw.dtype.kind == "f" or q is None or q.scale is None or len(q.scale) == 0:
            return raw.astype(np.float32)
        return ((raw.astype(np.float32) - float(q.zeroPoint[0])) * float(q.scale[0]))

    def quantize_input(self, position: int, x: np.ndarray) -> np.ndarray:
        tensor = self.graph.tensors[self.graph.inputs[position]]
        from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema
        if tensor.type == schema.TensorType.FLOAT32:
            return x.astype(np.float32)
        dtype = {schema.TensorType.INT8: np.int8, schema.TensorType.UINT8: np.uint8,
                 schema.TensorType.INT16: np.int16}[tensor.type]
        return quantize_array(x, float(tensor.quantization.scale[0]),
                              int(tensor.quantization.zeroPoint[0]), dtype)


def quantize_array(x: np.ndarray, scale: float, zero_point: int, dtype) -> np.ndarray:
    """Float values to the integer type of a model input: round(x / scale) + zero point."""
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero_point, info.min, info.max).astype(dtype)


def _scope_suffix(layer_names: list[str], components: set[str]) -> str:
    """The suffix the converter's name scopes add to layer names ('', '_1', ...)."""
    best, best_hits = "", -1
    for suffix in ("", "_1", "_2", "_3"):
        hits = sum(name + suffix in components for name in layer_names)
        if hits > best_hits:
            best, best_hits = suffix, hits
    return best


def _match_layers(model, tflite: _TfliteInfo, output_tensors: list[int]) -> list[dict]:
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    names = [layer.name for layer in layers]
    order = {name: k for k, name in enumerate(names)}
    tensors = tflite.op_outputs()
    parts = {t: [c for piece in tflite.tensor_name(t).split(";") for c in piece.split("/")]
             for t in tensors}
    suffix = _scope_suffix(names, {c for cs in parts.values() for c in cs})
    scoped = {name + suffix: name for name in names}

    owner, named_in = {}, {}
    for t in tensors:
        mentioned = [scoped[c] for c in parts[t] if c in scoped]
        if mentioned:
            last = max(mentioned, key=order.get)
            owner[last] = t                      # the last tensor attributed to the layer
            for name in mentioned:
                named_in.setdefault(name, last)
    model_outputs = {layer: t for t, layer in _output_layers(model, output_tensors).items()}

    entries = []
    for layer in layers:
        entry = {"layer": layer.name, "type": type(layer).__name__, "tensor": None,
                 "sqnr_db": None}
        tensor = model_outputs.get(layer.name, owner.get(layer.name))
        shape = _layer_shape(layer)
        if tensor is not None and shape is not None and list(
                tflite.graph.tensors[tensor].shape[1:]) == list(shape[1:]):
            entry["tensor"] = tflite.tensor_name(tensor)
            entry["_tensor"] = tensor
            entry["_layer_obj"] = layer
        elif named_in.get(layer.name, layer.name) != layer.name:
            entry["note"] = f"fused into {named_in[layer.name]}"
        else:
            entry["note"] = "not kept by the converter"
        entries.append(entry)
    return entries


def _output_layers(model, output_tensors: list[int]) -> dict[int, str]:
    """The Keras layer behind each model output tensor (named after the
    signature, not after the layer)."""
    layers = {}
    for k, out in enumerate(model.outputs):
        history = getattr(out, "_keras_history", None)
        if history is not None and k < len(output_tensors):
            layers[output_tensors[k]] = history[0].name
    return layers


def _layer_shape(layer):
    try:
        output = layer.output
    except (AttributeError, ValueError):
        return None
    if isinstance(output, (list, tuple)):
        return None
    return tuple(output.shape)


def _run_float(source: _Source, arrays: list[np.ndarray], probe_layers: list):
    """(values of each probed layer, values of each model output), batched."""
    tf = _tf()
    count = arrays[0].shape[0]
    batch = 64
    if source.keras_model is not None:
        model = source.float_model
        keras = tf.keras
        fixed_batch = any(inp.shape[0] is not None for inp in model.inputs)
        outputs = list(model.outputs)
        probe = keras.Model(model.inputs, [layer.output for layer in probe_layers] + outputs)
        step = 1 if fixed_batch else batch
        chunks = []
        for start in range(0, count, step):
            xs = [a[start:start + step] for a in arrays]
            with warnings.catch_warnings():  # "structure of inputs doesn't match" notices
                warnings.simplefilter("ignore")
                result = probe(xs if len(xs) > 1 else xs[0], training=False)
            result = result if isinstance(result, (list, tuple)) else [result]
            chunks.append([np.asarray(r) for r in result])
        values = [np.concatenate(parts) for parts in zip(*chunks)]
        return values[:len(probe_layers)], values[len(probe_layers):]
    chunks = []
    for start in range(0, count, batch):
        kwargs = {s.name: tf.constant(a[start:start + batch])
                  for s, a in zip(source.inputs, arrays)}
        result = source.signature(**kwargs)
        chunks.append([np.asarray(result[key]) for key in source.output_keys])
    return [], [np.concatenate(parts) for parts in zip(*chunks)]


def _run_tflm(tflite: _TfliteInfo, specs: list[InputSpec], arrays: list[np.ndarray],
              tensors: list[int]):
    from tflite_micro import runtime

    positions = tflite.input_positions(specs)
    interpreter = runtime.Interpreter.from_bytes(
        tflite.data, arena_size=max(1 << 20, 20 * len(tflite.data)),
        intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    count = arrays[0].shape[0]
    values = [[] for _ in tensors]
    for i in range(count):
        for array, position in zip(arrays, positions):
            interpreter.set_input(tflite.quantize_input(position, array[i:i + 1]), position)
        interpreter.invoke()
        for k, index in enumerate(tensors):
            raw = np.array(interpreter.GetTensor(int(index), 0)["tensor_data"])
            values[k].append(tflite.dequantize(index, raw).reshape(1, *raw.shape[1:]))
    return [np.concatenate(v) for v in values]


# --------------------------------------------------------------------------- printing

def summary(data: bytes) -> list[str]:
    """A few lines about a converted model: its ops, inputs and outputs."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    info = _TfliteInfo(data)
    types = {v: k.lower() for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    ops = [info.op_name(i) for i in range(len(info.graph.operators))]
    lines = [f"layers     {len(ops)} ({', '.join(sorted(set(ops)))})"]
    for kind, indices in (("input", info.graph.inputs), ("output", info.graph.outputs)):
        for index in indices:
            t = info.graph.tensors[index]
            text = f"{kind:<10} {t.name.decode(errors='replace')}: {types.get(t.type, t.type)} "
            text += str([int(d) for d in t.shape])
            q = t.quantization
            if q is not None and q.scale is not None and len(q.scale):
                text += f" scale {float(q.scale[0]):.6g} zero point {int(q.zeroPoint[0])}"
            lines.append(text)
    return lines



def format_report(report: dict) -> str:
    """The report as a text table."""
    def db(value) -> str:
        if value is None:
            return "-"
        return "inf" if value == math.inf else f"{value:.1f}"

    where = "held-out" if report.get("held_out", True) else "calibration"
    lines = [f"quantization report: {report['model']}, {report['samples']} {where} samples, "
             f"{report['activations']} run in TFLite Micro",
             f"{'layer':<28} {'type':<22} {'SQNR dB':>8}  note"]
    for entry in report["layers"]:
        lines.append(f"{entry['layer'][:28]:<28} {entry['type'][:22]:<22} "
                     f"{db(entry['sqnr_db']):>8}  {entry.get('note', '')}".rstrip())
    for out in report["outputs"]:
        text = f"output {out['output']} {out['shape']}: SQNR {db(out['sqnr_db'])} dB"
        if "top1_agreement" in out:
            text += f", top-1 agreement {100 * out['top1_agreement']:.1f}%"
        lines.append(text)
    return "\n".join(lines)


def report_json(report: dict) -> dict:
    """The report with inf turned into a string, so that it is strict JSON."""
    def fix(value):
        if isinstance(value, float) and math.isinf(value):
            return "inf"
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value
    return fix(report)
