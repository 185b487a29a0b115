"""From a trained Keras model to C: train a small CNN on scikit-learn's
handwritten digits (8x8 images, shipped with scikit-learn, no download),
quantize it with tinyedge, compile it, run the generated C on the held-out
split on the host, and compare it with the float model and TFLite Micro.

    python3 examples/digits/digits.py [--fast] [--out out/digits]

Prints float, int8 (TFLite Micro) and tinyedge C accuracy; fails if the C
predictions differ from TFLite Micro's on any held-out sample, or if int8
accuracy is more than 1 point below float. Seeds are fixed: reruns print the
same numbers.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import tinyedge
from tinyedge.errors import TinyEdgeError
from tinyedge.frontend import keras as keras_frontend
from tinyedge.verify import run_tflm

SEED = 0
HELD_OUT = 0.2


def load_data():
    """(x_train, y_train, x_test, y_test): 8x8x1 float32 images in [0, 1],
    a seeded stratified split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=HELD_OUT, random_state=SEED, stratify=y)
    return x_train, y_train, x_test, y_test


def build_and_train(x_train, y_train, epochs: int):
    tf = keras_frontend._tf()
    keras = tf.keras
    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.DepthwiseConv2D(3, padding="same", activation="relu", name="dwconv"),
        keras.layers.MaxPooling2D(2, name="pool1"),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
        keras.layers.AveragePooling2D(2, name="pool2"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(10, activation="softmax", name="classes"),
    ], name="digits")
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, shuffle=True, verbose=0)
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="few epochs (for CI)")
    parser.add_argument("--epochs", type=int, help="training epochs (default 40, 8 with --fast)")
    parser.add_argument("--out", default="out/digits", help="output folder of the C sources")
    args = parser.parse_args(argv)
    epochs = args.epochs or (8 if args.fast else 40)

    start = time.time()
    x_train, y_train, x_test, y_test = load_data()
    model = build_and_train(x_train, y_train, epochs)
    float_pred = np.argmax(model.predict(x_test, verbose=0), axis=-1)
    print(f"trained {model.name}: {epochs} epochs on {len(x_train)} images "
          f"({time.time() - start:.1f} s)")

    # Quantize with the training images as calibration data, then compile.
    tflite = tinyedge.quantize(model, x_train, quiet=True)
    compiled = tinyedge.compile(tflite, args.out, name="digits")
    report = compiled.report
    print(f"compiled -> {compiled.out_dir}/: {len(report['layers'])} layers, "
          f"{report['macs']:,} MACs, arena {report['arena_bytes']:,} B, "
          f"weights {report['weight_bytes']:,} B")

    # The held-out split through the generated C and through TFLite Micro.
    spec = compiled.inputs[0]
    inputs = keras_frontend.quantize_array(x_test, spec["scale"], spec["zero_point"],
                                           np.dtype(spec["dtype"]))
    c_out, tflm_out = [], []
    for x in inputs:
        x = x.reshape(spec["shape"])
        c_out.append(compiled.run(x)[0].reshape(-1))
        tflm_out.append(run_tflm(tflite, [x], 1)[0].reshape(-1))
    c_out, tflm_out = np.array(c_out), np.array(tflm_out)
    c_pred, tflm_pred = np.argmax(c_out, -1), np.argmax(tflm_out, -1)

    quant = keras_frontend.quantization_report(model, tflite, x_test)
    float_acc = 100 * np.mean(float_pred == y_test)
    tflm_acc = 100 * np.mean(tflm_pred == y_test)
    c_acc = 100 * np.mean(c_pred == y_test)
    print(f"held-out images       {len(y_test)}")
    print(f"float accuracy        {float_acc:.2f}%")
    print(f"TFLite int8 accuracy  {tflm_acc:.2f}%  (TFLite Micro)")
    print(f"tinyedge C accuracy   {c_acc:.2f}%  (generated C on the host)")
    print(f"float/int8 top-1 agreement {100 * quant['top1_agreement']:.2f}%, output SQNR "
          f"{quant['outputs'][0]['sqnr_db']:.1f} dB")

    differing = int(np.sum(np.any(c_out != tflm_out, axis=-1)))
    if differing:
        raise TinyEdgeError(f"the generated C differs from TFLite Micro on {differing} of "
                            f"{len(y_test)} held-out images")
    print(f"C outputs equal TFLite Micro's on all {len(y_test)} held-out images")
    if tflm_acc < float_acc - 1.0:
        raise TinyEdgeError(f"int8 accuracy {tflm_acc:.2f}% is more than 1 point below float "
                            f"{float_acc:.2f}%")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TinyEdgeError as exc:
        print(f"digits: error: {exc}", file=sys.stderr)
        sys.exit(1)
