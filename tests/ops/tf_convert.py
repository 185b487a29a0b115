"""Build small models with TensorFlow at test time and convert them to
full-integer TFLite (int8 inside, int8 at the edges by default), as users do.

    model_bytes = convert(lambda x: tf.nn.relu6(x), [(1, 8, 8, 3)], seed=3)

`body` takes Keras tensors (one per input shape, batch size fixed, or dynamic
when the shape's batch is None) and returns
the output tensor(s); calibration samples are seeded uniform values in
`value_range` (or one range per input) so the quantization parameters vary
from case to case. scheme="16x8" converts to TFLite's 16x8 scheme instead
(int16 activations, int8 weights, int16 at the edges).
With a `key` that names everything `body` builds (op, sizes, options),
converted models are cached on disk, so a rerun skips TensorFlow.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("TINYEDGE_CACHE", Path.home() / ".cache" / "tinyedge")) / "tf_models"


def convert(body, input_shapes, seed: int = 0, value_range=(-1.0, 1.0), samples: int = 24,
            io_type: str | None = None, key: str = "", scheme: str = "int8") -> bytes:
    """Convert `body` into an int8 TFLite flatbuffer. `key` must describe
    everything `body` builds (the shapes, seed and ranges are added to it);
    without a key nothing is cached. io_type defaults to the scheme's
    activation type (int8, or int16 for 16x8)."""
    import tensorflow as tf  # imported here only: the rest of the suite does not need it

    io_type = io_type or ("int16" if scheme == "16x8" else "int8")

    ident = repr((key, input_shapes, seed, value_range, samples, io_type, tf.__version__)
                 + ((scheme,) if scheme != "int8" else ()))
    path = CACHE / f"{hashlib.sha256(ident.encode()).hexdigest()[:32]}.tflite"
    if key and path.exists():
        return path.read_bytes()

    # The converted model may order its inputs differently: calibration samples
    # are matched to the inputs by these names.
    inputs = [tf.keras.Input(shape=s[1:], batch_size=s[0], name=f"input_{k:02d}")
              for k, s in enumerate(input_shapes)]
    outputs = body(*inputs)
    model = tf.keras.Model(inputs, outputs)
    rng = np.random.default_rng(seed)
    ranges = value_range if isinstance(value_range[0], (tuple, list)) \
        else [value_range] * len(input_shapes)
    # A batch of None keeps the batch dynamic (SHAPE ops in the model); calibrate with 1.
    calibration = [{f"input_{k:02d}": rng.uniform(low, high, size=(s[0] or 1,) + tuple(s[1:]))
                    .astype(np.float32)
                    for k, (s, (low, high)) in enumerate(zip(input_shapes, ranges))}
                   for _ in range(samples)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: iter(calibration)
    if scheme == "16x8":
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    else:
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    dtype = {"int8": tf.int8, "uint8": tf.uint8, "float32": tf.float32, "int16": tf.int16}[io_type]
    converter.inference_input_type = dtype
    converter.inference_output_type = dtype
    data = converter.convert()
    if not key:
        return data
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return data


_WARMED: set[str] = set()


def edge_and_random_inputs(compiled, seed: int) -> list[tuple[str, list[np.ndarray]]]:
    """Two seeded random input sets, then every input at its type's minimum and maximum."""
    from tinyedge.verify import random_inputs

    rng = np.random.default_rng(seed)
    sets = [("random0", random_inputs(compiled.inputs, rng)),
            ("random1", random_inputs(compiled.inputs, rng))]
    for label, pick in (("allmin", "min"), ("allmax", "max")):
        sets.append((label, [np.full(s["shape"], getattr(np.iinfo(s["dtype"]), pick), s["dtype"])
                             for s in compiled.inputs]))
    return sets


def assert_op_matches_tflm(data: bytes, op: str, seed: int, out_dir, input_sets=None) -> None:
    """Compile `data` with tinyedge, check it holds `op`, and compare every output
    byte with TFLite Micro on edge_and_random_inputs (or on input_sets(compiled),
    labelled input lists, where a test needs its own)."""
    import tinyedge
    from tinyedge.verify import run_tflm

    compiled = tinyedge.compile(data, out_dir)
    ops = {layer["op"] for layer in compiled.report["layers"]}
    assert op in ops, f"the converted model holds {sorted(ops)}, not {op}"
    sets = input_sets(compiled) if input_sets else edge_and_random_inputs(compiled, seed)
    for label, xs in sets:
        ours = compiled.run(*xs)
        theirs = run_tflm(data, xs, len(compiled.outputs))
        for j, (a, b) in enumerate(zip(ours, theirs)):
            b = np.asarray(b).reshape(a.shape)
            assert a.dtype == b.dtype, f"output {j}: dtype {a.dtype}, TFLM {b.dtype}"
            diff = np.flatnonzero(a.reshape(-1) != b.reshape(-1))
            assert diff.size == 0, (f"inputs {label} output {j}: {diff.size}/{a.size} differ, "
                                    f"first at {diff[0]}: ours {a.reshape(-1)[diff[0]]}, "
                                    f"TFLM {b.reshape(-1)[diff[0]]}; input "
                                    f"{xs[0].reshape(-1)[diff[0] % xs[0].size]}")


def warm_up(test_file: str) -> None:
    """TensorFlow's converter aborts in a process with the ASan runtime
    preloaded, as the test suite runs (tests/conftest.py). A test module that
    converts models calls warm_up(__file__) first: its own `__main__`, which
    converts every case it will need, runs once in a clean child process and
    fills the cache that convert() then reads."""
    if test_file in _WARMED or "libasan" not in os.environ.get("LD_PRELOAD", ""):
        return
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    result = subprocess.run([sys.executable, test_file], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"converting the models of {test_file} failed:\n{result.stderr[-3000:]}")
    _WARMED.add(test_file)
