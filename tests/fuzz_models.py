"""Mutations of real models, for the fuzz test and scripts/fuzz.py.

Each case is one seeded mutation of a shared model: bit flips, truncations,
random bytes, or field edits through the flatbuffer object API (shapes, buffer
and tensor indices, scales, zero points, types, op codes, options, the order
of operators). `mutate(seed)` returns (description, model bytes).
"""
from __future__ import annotations

import os
import pickle
import random
import signal
from pathlib import Path

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

import tinyedge
from tinyedge.errors import TinyEdgeError
from tinyedge.verify import random_inputs, run_tflm

SECONDS_PER_CASE = 10

SEEDS = [
    "tflm/hello_world_int8", "tflm/micro_speech_quantized", "tflm/test_conv_model",
    "tflm/simple_add_model", "mlperf_tiny/kws_ref_model", "mlperf_tiny/ad01_int8_floatio",
]
# Models with state (LSTM, SVDF): one invocation from the reset state is compared.
STATEFUL_SEEDS = ["tflm/mnist_lstm_int8", "tflm/keyword_scrambled", "tflm/micro_speech_lstm"]


def _field_edit(model, rng: random.Random) -> str:
    sg = model.subgraphs[0]
    tensors, ops = sg.tensors, sg.operators
    tensor = rng.choice(tensors)
    q = tensor.quantization
    kind = rng.choice(["shape", "buffer", "scale", "zero_point", "type", "opcode", "op_input",
                       "op_output", "graph_io", "axis", "options", "builtin", "data", "order"])
    if kind == "shape" and tensor.shape is not None and len(tensor.shape):
        tensor.shape = np.array(tensor.shape)
        tensor.shape[rng.randrange(len(tensor.shape))] = rng.choice(
            [0, -1, 1, 2, 3, 7, 100000, 2**31 - 1, rng.randint(-5, 300)])
    elif kind == "buffer":
        tensor.buffer = rng.choice([0, -1, len(model.buffers), rng.randrange(len(model.buffers))])
    elif kind == "scale" and q is not None and q.scale is not None and len(q.scale):
        q.scale = np.array(q.scale)
        q.scale[0] = rng.choice([0.0, -1.0, float("nan"), float("inf"), 1e-30, 1e30])
    elif kind == "zero_point" and q is not None and q.zeroPoint is not None and len(q.zeroPoint):
        q.zeroPoint = np.array(q.zeroPoint)
        q.zeroPoint[0] = rng.choice([-129, 128, 255, 1000, -(2**40)])
    elif kind == "type":
        tensor.type = rng.randrange(25)
    elif kind == "opcode":
        rng.choice(ops).opcodeIndex = rng.choice([-1, len(model.operatorCodes), 0])
    elif kind == "op_input":
        op = rng.choice(ops)
        if op.inputs is not None and len(op.inputs):
            op.inputs = list(op.inputs)
            op.inputs[rng.randrange(len(op.inputs))] = rng.choice(
                [-1, -2, len(tensors), rng.randrange(len(tensors))])
    elif kind == "op_output":
        op = rng.choice(ops)
        op.outputs = list(op.outputs)
        op.outputs[0] = rng.choice([-1, len(tensors), rng.randrange(len(tensors))])
    elif kind == "graph_io":
        which = rng.choice(["inputs", "outputs"])
        values = list(getattr(sg, which))
        values[0] = rng.choice([-1, len(tensors), rng.randrange(len(tensors))])
        setattr(sg, which, values)
    elif kind == "axis" and q is not None:
        q.quantizedDimension = rng.choice([-1, 5, 1, 3])
    elif kind == "options":
        options = rng.choice(ops).builtinOptions
        if options is not None:
            for name, value in vars(options).items():
                if isinstance(value, (int, float)) and rng.random() < 0.5:
                    setattr(options, name, rng.choice([0, -1, 1, 2, 3, 100, 2**31 - 1]))
    elif kind == "builtin":
        code = rng.choice(model.operatorCodes)
        code.builtinCode = rng.randrange(210)
        code.deprecatedBuiltinCode = min(code.builtinCode, 127)
    elif kind == "data":
        buffer = rng.choice(model.buffers)
        if buffer.data is not None:
            buffer.data = None if rng.random() < 0.5 else buffer.data[:len(buffer.data) // 2]
    elif kind == "order" and len(ops) > 1:
        a, b = rng.sample(range(len(ops)), 2)
        ops[a], ops[b] = ops[b], ops[a]
    return kind


def mutate(models_dir: Path, seed: int, seeds: list[str] = SEEDS) -> tuple[str, bytes]:
    rng = random.Random(seed)
    name = rng.choice(seeds)
    data = bytearray((models_dir / f"{name}.tflite").read_bytes())
    kind = rng.choice(["fields", "fields", "fields", "flip", "flip_head", "truncate", "bytes"])
    if kind == "fields":
        model = schema.ModelT.InitFromPackedBuf(bytes(data), 0)
        edits = [_field_edit(model, rng) for _ in range(rng.randint(1, 3))]
        builder = flatbuffers.Builder(1024)
        try:
            builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
            data = bytearray(builder.Output())
        except Exception:  # an edit the packer refuses: fall back to a bit flip
            edits = ["flip"]
            data[rng.randrange(len(data))] ^= 1
        kind = "fields:" + ",".join(edits)
    elif kind in ("flip", "flip_head"):
        span = len(data) if kind == "flip" else min(len(data), 2048)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(span)] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        data = data[:rng.randrange(len(data))]
    else:
        at, count = rng.randrange(len(data)), rng.randint(1, 64)
        data[at:at + count] = bytes(rng.randrange(256) for _ in range(count))
    return f"{name} {kind}", bytes(data)


def run_tflm_isolated(model_bytes: bytes, inputs, num_outputs: int):
    """TFLite Micro in a forked child: on a corrupt model it may abort or
    crash instead of raising. Returns its outputs, or None if it failed."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            result = run_tflm(model_bytes, inputs, num_outputs)
        except BaseException:  # noqa: BLE001 - any failure of the oracle means "refused"
            result = None
        with os.fdopen(write_end, "wb") as pipe:
            pickle.dump(result, pipe)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return pickle.loads(data) if data else None


class CaseTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise CaseTimeout()


def check_case(models_dir: Path, seed: int, out_dir: Path, seeds: list[str] = SEEDS) -> str:
    """Run one fuzz case; returns "refused", "bit-exact", "oracle refused" or
    "both failed at run time",
    and raises AssertionError on anything else (a crash, a wrong byte, a
    message over one line, a case slower than SECONDS_PER_CASE)."""
    description, data = mutate(models_dir, seed, seeds)
    # odd seeds for a DSP target: its folder (interleaved weight matrices,
    # passes/pack_weights.py) runs on the host all the same
    target = "cortex-m4" if seed % 2 else "generic"
    where = f"seed {seed} ({description}, {target})"
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS_PER_CASE)
    try:
        try:
            model = tinyedge.compile(data, out_dir, target=target)
        except TinyEdgeError as exc:
            assert str(exc).strip() and "\n" not in str(exc).strip(), f"{where}: {exc}"
            return "refused"
        inputs = random_inputs(model.inputs, np.random.default_rng(seed))
        try:
            ours = model.run(*inputs)
        except TinyEdgeError as exc:  # a kernel refused these inputs (RSQRT of a negative)
            ours = exc
    except CaseTimeout:
        raise AssertionError(f"{where}: over {SECONDS_PER_CASE} s") from None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    theirs = run_tflm_isolated(data, inputs, len(model.outputs))
    if isinstance(ours, TinyEdgeError):
        # Only right where TFLite Micro fails these inputs too.
        assert theirs is None, f"{where}: ours failed ({ours}), TFLite Micro ran"
        return "both failed at run time"
    if theirs is None:
        return "oracle refused"
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, np.asarray(b).reshape(a.shape), err_msg=where)
    return "bit-exact"
