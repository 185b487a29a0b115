"""The Keras path: post-training quantization of small models built here,
each compiled and run bit-exact against TFLite Micro; the quantization
report; and one clear error for each kind of bad input."""
from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import tinyedge  # noqa: E402
from tinyedge.cli import main  # noqa: E402
from tinyedge.errors import TinyEdgeError, UnsupportedModelError  # noqa: E402
from tinyedge.frontend import keras as keras_frontend  # noqa: E402
from tinyedge.verify import run_tflm, verify  # noqa: E402

CASES = 6  # random inputs per model through the C and TFLite Micro


@pytest.fixture(scope="module")
def keras():
    tf = keras_frontend._tf()
    tf.keras.utils.set_random_seed(7)
    return tf.keras


def _model(keras, body, *shapes):
    """A functional model over inputs of the given shapes (dynamic batch, as
    users build them: quantize() must fix it to 1)."""
    inputs = [keras.Input(shape) for shape in shapes]
    return keras.Model(inputs, body(*inputs))


def _calibration(*shapes, samples=32, seed=0, low=-1.0, high=1.0):
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(low, high, (samples,) + shape).astype(np.float32) for shape in shapes]
    return arrays if len(arrays) > 1 else arrays[0]


def _ops(data: bytes) -> set[str]:
    line = keras_frontend.summary(data)[0]
    return set(re.search(r"\((.*)\)", line).group(1).split(", "))


def _bit_exact(data: bytes, out_dir) -> tinyedge.CompiledModel:
    compiled = tinyedge.compile(data, out_dir, name="q")
    assert verify(compiled, data, CASES, seed=3) == []
    return compiled


def _conv(keras):
    L = keras.layers
    return _model(keras, lambda x: L.Conv2D(6, 3, strides=2, padding="same",
                                            activation="relu")(L.Conv2D(4, 3)(x)), (9, 9, 3))


def _depthwise(keras):
    L = keras.layers
    return _model(keras, lambda x: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same",
                                                     activation="relu6")(x), (8, 8, 3))


def _dense(keras):
    L = keras.layers
    return _model(keras, lambda x: L.Dense(5, activation="softmax")(
        L.Dense(16, activation="relu")(x)), (12,))


def _pooling(keras):
    L = keras.layers
    return _model(keras, lambda x: L.GlobalAveragePooling2D()(L.MaxPooling2D(2)(
        L.AveragePooling2D(2, strides=1)(L.Conv2D(4, 1)(x)))), (9, 9, 2))


def _add(keras):
    L = keras.layers
    return _model(keras, lambda a, b: L.Add()([L.Conv2D(4, 3, padding="same")(a),
                                               L.Conv2D(4, 1)(b)]), (6, 6, 2), (6, 6, 3))


def _concatenation(keras):
    L = keras.layers
    return _model(keras, lambda a, b: L.Dense(3)(L.Flatten()(L.Concatenate()(
        [L.Conv2D(4, 3, padding="same", activation="relu")(a), L.Conv2D(2, 1)(b)]))),
        (6, 6, 2), (6, 6, 3))


MODELS = {"conv": _conv, "depthwise": _depthwise, "dense": _dense, "pooling": _pooling,
          "add": _add, "concatenation": _concatenation}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_quantize_compile_bit_exact(keras, kind, tmp_path):
    model = MODELS[kind](keras)
    shapes = [tuple(inp.shape[1:]) for inp in model.inputs]
    data = tinyedge.quantize(model, _calibration(*shapes), quiet=True)
    assert not _ops(data) & {"SHAPE", "STRIDED_SLICE", "PACK"}, _ops(data)
    compiled = _bit_exact(data, tmp_path / kind)
    # The converter may order several inputs by name, not as the Keras model does.
    assert sorted(tuple(spec["shape"]) for spec in compiled.inputs) == sorted(
        (1, *shape) for shape in shapes)
    assert all(spec["dtype"] == "int8" for spec in compiled.inputs)
    assert all(spec["dtype"] == "int8" for spec in compiled.outputs)


@pytest.mark.parametrize("io_type", ["uint8", "float32"])
def test_io_types(keras, io_type, tmp_path):
    model = _dense(keras)
    data = tinyedge.quantize(model, _calibration((12,)), io_type=io_type, quiet=True)
    compiled = _bit_exact(data, tmp_path / io_type)
    assert compiled.inputs[0]["dtype"] == io_type
    assert compiled.outputs[0]["dtype"] == io_type


# ---------------------------------------------------------------------------- 16x8

def _conv_16x8(keras):
    L = keras.layers
    return _model(keras, lambda x: L.Dense(5, activation="softmax")(L.Flatten()(
        L.DepthwiseConv2D(3, strides=2, activation="relu6")(
            L.Conv2D(4, 3, padding="same", activation="relu")(x)))), (8, 8, 2))


def _exact_int8_weights(keras, model) -> None:
    """Make every kernel an int8 multiple of one scale, with 127 in each
    output channel, so that per-tensor and per-channel quantization both
    represent it exactly: weight quantization adds no noise and the SQNR
    measures the activations' quantization alone."""
    for layer in model.layers:
        if getattr(layer, "kernel", None) is None:
            continue
        kernel, *rest = layer.get_weights()
        scale = np.max(np.abs(kernel)) / 127
        steps = np.round(kernel / scale)
        # The first tap of each output channel (the last axis; for depthwise,
        # each input channel and multiplier: the last two) is the largest.
        channels = 2 if isinstance(layer, keras.layers.DepthwiseConv2D) else 1
        steps.reshape(-1, *kernel.shape[-channels:])[0] = 127
        layer.set_weights([(steps * scale).astype(np.float32), *rest])


def _held_out_bit_exact(compiled, data: bytes, held: np.ndarray) -> None:
    """The generated C and TFLite Micro agree on every held-out sample."""
    spec = compiled.inputs[0]
    for sample in held:
        x = keras_frontend.quantize_array(sample[None], spec["scale"], spec["zero_point"],
                                          np.dtype(spec["dtype"]))
        (ours,), (theirs,) = compiled.run(x), run_tflm(data, [x], 1)
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_int16_activations_bit_exact_and_more_accurate(keras, kind, tmp_path):
    keras.utils.set_random_seed(11)
    model = {"dense": _dense, "conv": _conv_16x8}[kind](keras)
    _exact_int8_weights(keras, model)
    shape = tuple(model.inputs[0].shape[1:])
    # Many calibration samples, so that few held-out values fall outside the
    # calibrated ranges (clipping would swamp the rounding noise compared here).
    calibration = _calibration(shape, samples=300)
    held = _calibration(shape, samples=20, seed=9)
    data = tinyedge.quantize(model, calibration, activations="int16", quiet=True)
    compiled = _bit_exact(data, tmp_path / kind)
    assert compiled.inputs[0]["dtype"] == compiled.outputs[0]["dtype"] == "int16"
    assert compiled.inputs[0]["zero_point"] == 0  # 16x8 activations are symmetric
    _held_out_bit_exact(compiled, data, held)

    int8_data = tinyedge.quantize(model, calibration, quiet=True)
    reports = {"int8": keras_frontend.quantization_report(model, int8_data, held),
               "int16": keras_frontend.quantization_report(model, data, held)}
    assert reports["int16"]["activations"] == "int16"
    assert reports["int8"]["activations"] == "int8"
    # The same exact weights in both schemes: the error is the activations',
    # 256 times finer in int16.
    layers8 = {e["layer"]: e["sqnr_db"] for e in reports["int8"]["layers"]}
    measured = [e for e in reports["int16"]["layers"] if e["sqnr_db"] is not None]
    assert len(measured) >= 2
    for entry in measured:
        assert entry["sqnr_db"] > layers8[entry["layer"]] + 20, (entry, layers8)
    (out8,), (out16,) = reports["int8"]["outputs"], reports["int16"]["outputs"]
    assert out16["sqnr_db"] > out8["sqnr_db"] + 20, (out8, out16)
    assert reports["int16"]["top1_agreement"] >= 0.9
    assert "int16 run in TFLite Micro" in keras_frontend.format_report(reports["int16"])


def test_int16_float_io(keras, tmp_path):
    model = _dense(keras)
    compiled = tinyedge.compile(model, tmp_path / "f", calibration=_calibration((12,)),
                                activations="int16", io_type="float32")
    assert compiled.inputs[0]["dtype"] == compiled.outputs[0]["dtype"] == "float32"
    data = tinyedge.quantize(model, _calibration((12,)), io_type="float32",
                             activations="int16", quiet=True)
    assert _ops(data) >= {"QUANTIZE", "DEQUANTIZE", "FULLY_CONNECTED"}
    assert verify(compiled, data, CASES, seed=2) == []


def test_int16_unsupported_layer_named_at_quantize_time(keras):
    L = keras.layers
    model = _model(keras, lambda x: L.Dense(3)(L.GlobalAveragePooling2D(name="gap")(
        L.MaxPooling2D(2, name="pool")(L.Conv2D(4, 1, name="conv")(x)))), (8, 8, 2))
    with pytest.raises(UnsupportedModelError) as caught:
        tinyedge.quantize(model, _calibration((8, 8, 2), samples=8), activations="int16",
                          quiet=True)
    message = str(caught.value)
    assert "\n" not in message
    assert "MAX_POOL_2D (layer 'pool')" in message and "MEAN (layer 'gap')" in message
    assert "layer 'conv'" not in message and "--activations int8" in message

    # An op the converter itself cannot quantize in 16x8 gets the same advice.
    swish = _model(keras, lambda x: keras.layers.Activation("hard_swish")(x), (6,))
    with pytest.raises(UnsupportedModelError, match=r"16x8.*HARD_SWISH.*--activations int8"):
        tinyedge.quantize(swish, _calibration((6,), samples=4), activations="int16", quiet=True)


@pytest.mark.parametrize("activations, io_type, message", [
    ("int16", "uint8", "with int16 activations the io type must be one of int16, float32"),
    ("int8", "int16", "with int8 activations the io type must be one of int8, uint8, float32"),
    ("int4", None, "activations must be one of int8, int16, got 'int4'"),
])
def test_bad_activations_or_io_type(keras, activations, io_type, message):
    with pytest.raises(TinyEdgeError, match=re.escape(message)):
        tinyedge.quantize(_dense(keras), _calibration((12,)), io_type=io_type,
                          activations=activations, quiet=True)


def test_cli_quantize_int16(keras, tmp_path, capsys, monkeypatch):
    model = _conv_16x8(keras)
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "cal.npy", _calibration((8, 8, 2)))
    np.save(tmp_path / "held.npy", _calibration((8, 8, 2), samples=10, seed=5))
    monkeypatch.chdir(tmp_path)
    assert main(["quantize", "m.keras", "--calibration", "cal.npy", "--activations", "int16",
                 "--report", "--holdout", "held.npy", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "int16 [1, 8, 8, 2]" in printed and "int16 run in TFLite Micro" in printed
    report = json.loads((tmp_path / "m_int16_report.json").read_text())
    assert report["activations"] == "int16" and report["samples"] == 10
    _bit_exact((tmp_path / "m_int16.tflite").read_bytes(), tmp_path / "c")

    pooled = _model(keras, lambda x: keras.layers.AveragePooling2D(2, name="avg")(x), (4, 4, 1))
    pooled.save(tmp_path / "p.keras")
    np.save(tmp_path / "pcal.npy", _calibration((4, 4, 1), samples=4))
    code = main(["quantize", "p.keras", "--calibration", "pcal.npy", "--activations", "int16"])
    err = capsys.readouterr().err
    assert code == 4 and err.count("\n") == 1 and "AVERAGE_POOL_2D (layer 'avg')" in err
    assert "--activations int8" in err and not (tmp_path / "p_int16.tflite").exists()


def test_compile_keras_model_object(keras, tmp_path):
    model = _conv(keras)
    calibration = _calibration((9, 9, 3))
    compiled = tinyedge.compile(model, tmp_path / "c", calibration=calibration)
    assert (compiled.out_dir / f"{compiled.name}.c").is_file()
    data = tinyedge.quantize(model, calibration, out_path=tmp_path / "m.tflite", quiet=True)
    assert (tmp_path / "m.tflite").read_bytes() == data
    assert verify(compiled, data, CASES, seed=1) == []


def test_compile_keras_file_and_saved_model(keras, tmp_path):
    model = _pooling(keras)
    calibration = _calibration((9, 9, 2))
    model.save(tmp_path / "m.keras")
    from_file = tinyedge.quantize(tmp_path / "m.keras", calibration, quiet=True)
    assert _ops(from_file) == _ops(tinyedge.quantize(model, calibration, quiet=True))
    model.export(str(tmp_path / "saved"), verbose=False)
    saved = tinyedge.quantize(tmp_path / "saved", calibration, quiet=True)
    assert not _ops(saved) & {"SHAPE", "STRIDED_SLICE", "PACK"}
    _bit_exact(saved, tmp_path / "saved_c")
    compiled = tinyedge.compile(tmp_path / "m.keras", tmp_path / "file_c", calibration=calibration)
    assert compiled.name == "m"


def test_multi_input_calibration_forms(keras, tmp_path):
    model = _add(keras)
    a, b = _calibration((6, 6, 2), (6, 6, 3))
    as_list = tinyedge.quantize(model, [a, b], quiet=True)
    names = [inp.name for inp in model.inputs]
    assert tinyedge.quantize(model, {names[1]: b, names[0]: a}, quiet=True) == as_list
    np.savez(tmp_path / "cal.npz", a, b)
    assert tinyedge.quantize(model, tmp_path / "cal.npz", quiet=True) == as_list


def test_report_layers_and_outputs(keras):
    L = keras.layers
    inp = keras.Input((8, 8, 1))
    x = L.ReLU(name="act")(L.Conv2D(4, 3, name="conv")(inp))
    x = L.MaxPooling2D(2, name="pool")(x)
    x = L.Flatten(name="flat")(x)
    out = L.Dense(4, activation="softmax", name="probs")(x)
    model = keras.Model(inp, out)
    calibration = _calibration((8, 8, 1), samples=40, low=0.0)
    data = tinyedge.quantize(model, calibration, quiet=True)
    report = keras_frontend.quantization_report(model, data, _calibration(
        (8, 8, 1), samples=25, seed=1, low=0.0))
    layers = {entry["layer"]: entry for entry in report["layers"]}
    assert layers["conv"]["sqnr_db"] is None and layers["conv"]["note"] == "fused into act"
    for name in ("act", "pool", "flat", "probs"):
        assert layers[name]["sqnr_db"] > 20, layers[name]
    (output,) = report["outputs"]
    assert output["sqnr_db"] > 20 and 0.8 <= report["top1_agreement"] <= 1.0
    assert report["samples"] == 25
    text = keras_frontend.format_report(report)
    assert "fused into act" in text and "top-1 agreement" in text
    json.dumps(keras_frontend.report_json(report), allow_nan=False)


def test_progress_bar_only_on_a_terminal():
    main_fd, other_fd = os.openpty()
    with os.fdopen(other_fd, "w") as tty:
        bar = keras_frontend._Progress(4, tty, quiet=False)
        for _ in range(4):
            bar.step()
        bar.close()
        assert keras_frontend._Progress(4, tty, quiet=True).enabled is False
    text = os.read(main_fd, 4096).decode()
    os.close(main_fd)
    assert "4/4" in text and "#" * keras_frontend._Progress.WIDTH in text


# ---------------------------------------------------------------------------- bad input

def test_op_without_int8_kernel(keras):
    class Erf(keras.layers.Layer):
        def call(self, x):
            return keras_frontend._tf().math.erf(x)

    model = _model(keras, lambda x: keras.layers.Dense(3)(Erf()(x)), (6,))
    with pytest.raises(UnsupportedModelError, match=r"full-integer: TensorFlow op\(s\) Erf"):
        tinyedge.quantize(model, _calibration((6,)), quiet=True)


def test_op_left_in_float(keras):
    class Sin(keras.layers.Layer):
        def call(self, x):
            return keras_frontend._tf().math.sin(x)

    model = _model(keras, lambda x: keras.layers.Dense(3)(Sin()(keras.layers.Dense(4)(x))), (6,))
    with pytest.raises(UnsupportedModelError, match=r"left SIN \(operator \d+"):
        tinyedge.quantize(model, _calibration((6,)), quiet=True)


@pytest.mark.parametrize("calibration, message", [
    (np.zeros((10, 5), np.float32), r"has shape \[10, 5\]; expected \[samples, 12\]"),
    (np.array([["a"] * 12] * 3), r"has dtype <U1; expected real numbers"),
    (np.zeros((3, 12), np.complex64), r"has dtype complex64"),
    (np.zeros((0, 12), np.float32), r"is empty \(0 samples\)"),
    (np.full((2, 12), np.nan, np.float32), r"NaN or infinity"),
    ([np.zeros((2, 12))] * 2, r"2 array\(s\) but the model has 1 input"),
    (None, r"needs calibration data"),
])
def test_bad_calibration(keras, calibration, message):
    with pytest.raises(TinyEdgeError, match=message):
        tinyedge.quantize(_dense(keras), calibration, quiet=True)


def test_cli_quantize_report(keras, tmp_path, capsys):
    model = _conv(keras)
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "cal.npy", _calibration((9, 9, 3)))
    np.save(tmp_path / "held.npy", _calibration((9, 9, 3), samples=10, seed=5))
    out = tmp_path / "out" / "m_int8.tflite"
    assert main(["quantize", str(tmp_path / "m.keras"), "--calibration", str(tmp_path / "cal.npy"),
                 "-o", str(out), "--report", str(tmp_path / "r.json"),
                 "--holdout", str(tmp_path / "held.npy")]) == 0
    printed = capsys.readouterr().out
    assert "written" in printed and "SQNR" in printed and "output 0" in printed
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["samples"] == 10 and report["held_out"] is True
    assert [p.name for p in out.parent.iterdir()] == ["m_int8.tflite"]  # no temporary left
    _bit_exact(out.read_bytes(), tmp_path / "c")


@pytest.mark.parametrize("name, content, message", [
    ("junk.keras", "no", "is not a Keras model"),
    ("junk.h5", "no", "is not a Keras model"),
    ("junk.tflite", "no", "is not a Keras model"),
    ("empty_dir", None, "is a folder but not a SavedModel"),
    ("none.h5", "", "no such file or folder"),
])
def test_cli_not_a_keras_model(tmp_path, capsys, name, content, message):
    if content is None:
        (tmp_path / name).mkdir()
    elif content:
        (tmp_path / name).write_text(content)
    np.save(tmp_path / "cal.npy", np.zeros((2, 4), np.float32))
    code = main(["quantize", str(tmp_path / name), "--calibration", str(tmp_path / "cal.npy"),
                 "-o", str(tmp_path / "o.tflite")])
    err = capsys.readouterr().err
    assert code == 1 and not (tmp_path / "o.tflite").exists()
    assert err.count("\n") == 1 and err.startswith("tinyedge: error: ") and message in err


def test_cli_bad_calibration(keras, tmp_path, capsys):
    model = _dense(keras)
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "wrong.npy", np.zeros((4, 13), np.float32))
    code = main(["quantize", str(tmp_path / "m.keras"), "--calibration",
                 str(tmp_path / "wrong.npy")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "expected [samples, 12]" in err


def test_cli_output_that_cannot_be_written(keras, tmp_path, capsys):
    model = _dense(keras)
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "cal.npy", np.zeros((4, 12), np.float32))
    (tmp_path / "folder").mkdir()
    (tmp_path / "a_file").write_text("keep")
    for output, message in [(tmp_path / "folder", "is a folder; give a file name"),
                            (tmp_path / "a_file" / "q.tflite", "cannot write")]:
        code = main(["quantize", str(tmp_path / "m.keras"), "--calibration",
                     str(tmp_path / "cal.npy"), "-o", str(output), "-q"])
        err = capsys.readouterr().err
        assert code == 1 and err.count("\n") == 1 and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "cal.npy", "folder", "m.keras"]
    assert not any((tmp_path / "folder").iterdir())
