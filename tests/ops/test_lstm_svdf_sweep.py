"""Seeded randomized sweeps of the stateful ops against TFLite Micro, byte for byte, over a
stream of invocations (the state carried in both):

* UNIDIRECTIONAL_SEQUENCE_LSTM from Keras LSTM layers (1 or 2 stacked, varied units, features,
  time steps, batch, return_sequences; three independent cases side by side per model)
  converted to full int8 at test time. Keras 3 lowers its
  LSTM to a WHILE loop that the converter does not fuse (and whose calibration crashes in
  TF 2.21), so the layers come from tf_keras, the Keras 2 the converter fuses.
* LSTM variants TFLite Micro refuses (peephole, projection, layer norm, CIFG: its
  LstmTensors::ValidateTensorStatus wants exactly the plain LSTM's tensors): tinyedge refuses
  them too, in one line, and so does TFLite Micro.
* SVDF (Keras has no SVDF layer) built with tests/tflite_builder.py: random rank, features,
  memory, units and batch, int16 or int8 state (with a zero point), NONE or RELU (which
  TFLite Micro's integer SVDF ignores), weights and scales drawn at random but valid.

Environment: TINYEDGE_SWEEP_CASES=N cases per op (default 20).
"""
from __future__ import annotations

import hashlib
import os
import sys
import zlib
from pathlib import Path

import flatbuffers
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tf_convert import CACHE, warm_up  # noqa: E402
from tflite_builder import ACTIVATIONS, ModelBuilder, quant_params, quantize  # noqa: E402
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema  # noqa: E402

N_CASES = int(os.environ.get("TINYEDGE_SWEEP_CASES", "20"))
INVOCATIONS = 5
# Independent LSTM cases per converted model (one input and output each), so that the
# generated C is built once for three cases.
LSTM_CASES_PER_MODEL = 3
N_LSTM_MODELS = -(-N_CASES // LSTM_CASES_PER_MODEL)


def _rng(op: str, i: int) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{op}-{i}".encode()))


# --------------------------------------------------------------------------- LSTM via tf_keras

def lstm_case(i: int) -> dict:
    rng = _rng("lstm", i)
    layers = 1 + int(i % 3 == 2)
    return {
        "batch": 2 if i % 5 == 4 else 1,
        "steps": int(rng.integers(1, 9)),
        "features": int(rng.integers(1, 13)),
        "units": [int(rng.integers(1, 17)) for _ in range(layers)],
        "return_sequences": bool(i % 2),
        "weight_range": float(rng.choice([0.3, 0.8, 1.5])),
        "value_range": float(rng.choice([0.5, 1.0, 3.0])),
        "seed": int(rng.integers(0, 2**31)),
    }


def lstm_model_cases(m: int) -> list[dict]:
    first = m * LSTM_CASES_PER_MODEL
    return [lstm_case(i) for i in range(first, min(first + LSTM_CASES_PER_MODEL, N_CASES))]


def _convert_lstm(cases: list[dict]) -> bytes:
    """The cases side by side as one int8 .tflite, cached on disk like tf_convert.convert."""
    import tensorflow as tf

    ident = repr(("lstm-sweep", [sorted(case.items()) for case in cases], tf.__version__))
    path = CACHE / f"{hashlib.sha256(ident.encode()).hexdigest()[:32]}.tflite"
    if path.exists():
        return path.read_bytes()
    import tf_keras

    init = tf_keras.initializers.RandomUniform
    inputs, outputs = [], []
    for n, case in enumerate(cases):
        w, seed = case["weight_range"], case["seed"]
        x = tf_keras.Input(shape=(case["steps"], case["features"]), batch_size=case["batch"],
                           name=f"input_{n:02d}")
        y = x
        for k, units in enumerate(case["units"]):
            last = k == len(case["units"]) - 1
            y = tf_keras.layers.LSTM(
                units, return_sequences=case["return_sequences"] or not last,
                kernel_initializer=init(-w, w, seed=seed + 3 * k),
                recurrent_initializer=init(-w, w, seed=seed + 3 * k + 1),
                bias_initializer=init(-w, w, seed=seed + 3 * k + 2))(y)
        inputs.append(x)
        outputs.append(y)
    model = tf_keras.Model(inputs, outputs)
    rng = np.random.default_rng(cases[0]["seed"])
    # By input name: the converted model's input order need not be the Keras one.
    calibration = [{f"input_{n:02d}": rng.uniform(-c["value_range"], c["value_range"],
                                                  size=(c["batch"], c["steps"], c["features"]))
                    .astype(np.float32) for n, c in enumerate(cases)} for _ in range(16)]
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: iter(calibration)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    data = converter.convert()
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return data


def _lstm_model(m: int) -> bytes:
    warm_up(__file__)
    return _convert_lstm(lstm_model_cases(m))


def _stream(compiled, data: bytes, seed: int) -> None:
    """INVOCATIONS random inputs, then all-maximum and all-minimum ones, through the generated
    C and one TFLite Micro interpreter, from the reset state; every output must be equal."""
    from tinyedge.verify import TflmStream, random_inputs

    rng = np.random.default_rng(seed)
    sequence = [random_inputs(compiled.inputs, rng) for _ in range(INVOCATIONS)]
    for pick in ("max", "min"):
        sequence.append([np.full(s["shape"], getattr(np.iinfo(s["dtype"]), pick), s["dtype"])
                         for s in compiled.inputs])
    stream = TflmStream(data, len(compiled.outputs))
    compiled.reset()
    for step, inputs in enumerate(sequence):
        ours, theirs = compiled.run(*inputs), stream.run(inputs)
        for j, (a, b) in enumerate(zip(ours, theirs)):
            b = np.asarray(b).reshape(a.shape)
            assert a.dtype == b.dtype, f"output {j}: dtype {a.dtype}, TFLM {b.dtype}"
            diff = np.flatnonzero(a.reshape(-1) != b.reshape(-1))
            assert diff.size == 0, (f"invocation {step} output {j}: {diff.size}/{a.size} differ, "
                                    f"first at {diff[0]}: ours {a.reshape(-1)[diff[0]]}, "
                                    f"TFLM {b.reshape(-1)[diff[0]]}")


@pytest.mark.parametrize("m", range(N_LSTM_MODELS), ids=lambda m: f"lstm-model-{m}")
def test_lstm_matches_tflm(m, tmp_path):
    import tinyedge

    data = _lstm_model(m)
    cases = lstm_model_cases(m)
    compiled = tinyedge.compile(data, tmp_path / "out")
    assert len(compiled.inputs) == len(compiled.outputs) == len(cases)
    ops = [layer["op"] for layer in compiled.report["layers"]]
    assert ops.count("UNIDIRECTIONAL_SEQUENCE_LSTM") == sum(len(c["units"]) for c in cases), ops
    assert compiled.report["state_bytes"] > 0
    _stream(compiled, data, seed=m)


# LSTM inputs TFLite Micro's integer LSTM does not take: (index, dtype, shape in units)
_VARIANTS = {
    "peephole": [(9, "int16", "u"), (10, "int16", "u"), (11, "int16", "u")],
    "projection": [(16, "int8", "uu")],
    "layer norm": [(20, "int16", "u"), (21, "int16", "u"), (22, "int16", "u"),
                   (23, "int16", "u")],
    "CIFG": [],  # the input gate's weights and bias left out instead
}


def _lstm_variant(data: bytes, variant: str) -> bytes:
    model = schema.ModelT.InitFromPackedBuf(data, 0)
    sg = model.subgraphs[0]
    op = next(o for o in sg.operators if model.operatorCodes[o.opcodeIndex].builtinCode
              == schema.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM)
    inputs = list(op.inputs)
    units = int(sg.tensors[inputs[2]].shape[0])
    for index, dtype, dims in _VARIANTS[variant]:
        shape = [units] * len(dims)
        values = np.arange(int(np.prod(shape))) % 7 - 3
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(values.astype(dtype).tobytes(), np.uint8).copy()
        model.buffers.append(buffer)
        tensor = schema.TensorT()
        tensor.name, tensor.shape, tensor.buffer = f"{variant} {index}", shape, len(model.buffers) - 1
        tensor.type = schema.TensorType.INT16 if dtype == "int16" else schema.TensorType.INT8
        tensor.quantization = schema.QuantizationParametersT()
        tensor.quantization.scale, tensor.quantization.zeroPoint = [0.01], [0]
        sg.tensors.append(tensor)
        inputs[index] = len(sg.tensors) - 1
    if variant == "CIFG":
        inputs[1] = inputs[5] = inputs[12] = -1
    op.inputs = np.array(inputs, dtype=np.int32)
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@pytest.mark.parametrize("variant", sorted(_VARIANTS))
def test_lstm_variants_are_refused_like_tflm(variant, tmp_path):
    import tinyedge
    from tinyedge.verify import run_tflm

    data = _lstm_variant(_lstm_model(0), variant)
    with pytest.raises(tinyedge.errors.UnsupportedModelError) as error:
        tinyedge.compile(data, tmp_path / "out")
    message = str(error.value)
    assert "\n" not in message and variant in message and "TFLite Micro" in message
    shape = schema.ModelT.InitFromPackedBuf(data, 0).subgraphs[0].tensors[0].shape
    with pytest.raises(RuntimeError):
        run_tflm(data, [np.zeros(shape, np.int8)], 1)


# --------------------------------------------------------------------------- SVDF via the builder

def svdf_model(i: int, bias_scale_error: float = 0.0):
    """A one-op SVDF model; returns (bytes, case description). bias_scale_error moves the
    bias scale away from the state scale times the time weights' scale."""
    rng = _rng("svdf", i)
    batch = 2 if i % 6 == 5 else 1
    input_size, memory = int(rng.integers(1, 41)), int(rng.integers(1, 11))
    rank, units = int(rng.integers(1, 4)), int(rng.integers(1, 13))
    filters = rank * units
    state_type = "int8" if i % 3 == 2 else "int16"
    activation = "RELU" if i % 2 else "NONE"

    x_scale, x_zp = quant_params(*sorted(rng.uniform(-2, 2, 2)))
    feature = rng.uniform(-1, 1, (filters, input_size)) * rng.uniform(0.05, 1)
    time = rng.uniform(-1, 1, (filters, memory)) * rng.uniform(0.05, 1)
    bias = rng.uniform(-1, 1, units) * rng.uniform(0, 2)
    feature_scale = float(np.float32(np.abs(feature).max() / 127))
    time_max = np.iinfo(state_type).max
    time_scale = float(np.float32(np.abs(time).max() / time_max))

    # Float run on calibration inputs sets the state and output ranges, as a converter would.
    xs = [(quantize(rng.uniform(-3, 3, (batch, input_size)), x_scale, x_zp).astype(np.float64)
           - x_zp) * x_scale for _ in range(8)]
    state = np.zeros((batch, filters, memory))
    activations, outputs = [], []
    for x in xs:
        state = np.roll(state, -1, axis=2)
        state[:, :, -1] = x @ feature.T
        activations.append(state[:, :, -1])
        outputs.append((state * time).sum(axis=2).reshape(batch, units, rank).sum(axis=2) + bias)
    state_span = max(np.abs(np.concatenate(activations)).max(), 1e-3) * rng.uniform(0.7, 1.3)
    state_scale = float(np.float32(state_span / time_max))
    state_zp = int(rng.integers(-20, 21)) if state_type == "int8" or i % 4 == 1 else 0
    out = np.concatenate(outputs)
    out_scale, out_zp = quant_params(out.min() * 1.1, out.max() * 1.1)
    bias_scale = float(np.float32(state_scale * time_scale)) + bias_scale_error

    mb = ModelBuilder()
    x_t = mb.add_tensor("x", [batch, input_size], "int8", x_scale, x_zp)
    f_t = mb.add_tensor("feature", [filters, input_size], "int8", feature_scale, 0,
                        data=np.clip(np.round(feature / feature_scale), -127, 127))
    t_t = mb.add_tensor("time", [filters, memory], state_type, time_scale, 0,
                        data=np.clip(np.round(time / time_scale), -time_max, time_max))
    b_t = mb.add_tensor("bias", [units], "int32", bias_scale, 0,
                        data=np.round(bias / bias_scale).astype(np.int64).clip(-2**31, 2**31 - 1))
    s_t = mb.add_tensor("state", [batch, memory * filters], state_type, state_scale, state_zp)
    mb.tensors[s_t].isVariable = True
    y_t = mb.add_tensor("y", [batch, units], "int8", out_scale, out_zp)
    options = schema.SVDFOptionsT()
    options.rank, options.fusedActivationFunction = rank, ACTIVATIONS[activation]
    mb.add_op("SVDF", [x_t, f_t, t_t, b_t, s_t], [y_t], options)
    case = (f"batch {batch} input {input_size} memory {memory} rank {rank} units {units} "
            f"{state_type} state zp {state_zp} {activation}")
    return mb.build([x_t], [y_t]), case


@pytest.mark.parametrize("i", range(N_CASES), ids=lambda i: f"svdf-{i:02d}")
def test_svdf_matches_tflm(i, tmp_path):
    import tinyedge

    data, case = svdf_model(i)
    compiled = tinyedge.compile(data, tmp_path / "out")
    assert [layer["op"] for layer in compiled.report["layers"]] == ["SVDF"], case
    _stream(compiled, data, seed=100 + i)


def test_svdf_bias_scale_is_checked_like_tflm(tmp_path):
    """TFLite Micro refuses a bias scale off state scale x time-weight scale; so does tinyedge."""
    import tinyedge
    from tinyedge.verify import run_tflm

    data, _ = svdf_model(0, bias_scale_error=1e-3)
    with pytest.raises(tinyedge.errors.UnsupportedModelError, match="SVDF bias scale"):
        tinyedge.compile(data, tmp_path / "out")
    shape = schema.ModelT.InitFromPackedBuf(data, 0).subgraphs[0].tensors[0].shape
    with pytest.raises(RuntimeError):
        run_tflm(data, [np.zeros(shape, np.int8)], 1)


if __name__ == "__main__":  # convert (and cache) every LSTM case: see tf_convert.warm_up
    for _m in range(N_LSTM_MODELS):
        _convert_lstm(lstm_model_cases(_m))
