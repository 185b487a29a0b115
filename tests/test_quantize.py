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
from tinyedge.verify import verify  # noqa: E402

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
