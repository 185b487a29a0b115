"""Run a model in TFLite Micro (the oracle) and compare it with the generated C."""
from __future__ import annotations

import numpy as np

from tinyedge.errors import TinyEdgeError


def random_inputs(specs: list[dict], rng: np.random.Generator) -> list[np.ndarray]:
    """One random array per input spec (from a report's "inputs"), spread over
    the values the input can take."""
    arrays = []
    for spec in specs:
        dtype = np.dtype(spec["dtype"])
        low, high = spec["range"]
        if dtype.kind in "iu":
            arrays.append(rng.integers(low, high, size=spec["shape"], endpoint=True, dtype=dtype))
        else:
            arrays.append(rng.uniform(low, high, size=spec["shape"]).astype(dtype))
    return arrays


def run_tflm(model_bytes: bytes, inputs: list[np.ndarray], num_outputs: int,
             arena_size: int = 4 << 20) -> list[np.ndarray]:
    """Outputs of TFLite Micro's reference interpreter for one set of inputs."""
    from tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(model_bytes, arena_size=arena_size)
    for i, x in enumerate(inputs):
        interpreter.set_input(x, i)
    interpreter.invoke()
    return [np.array(interpreter.get_output(i)) for i in range(num_outputs)]


class TflmStream:
    """One TFLite Micro interpreter kept across invocations: its variable
    tensors (SVDF/LSTM state) carry from one run() to the next, as the
    generated C's state block does; reset() zeroes them as <name>_reset()."""

    def __init__(self, model_bytes: bytes, num_outputs: int, arena_size: int = 4 << 20):
        from tflite_micro import runtime

        self.interpreter = runtime.Interpreter.from_bytes(model_bytes, arena_size=arena_size)
        self.num_outputs = num_outputs

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for i, x in enumerate(inputs):
            self.interpreter.set_input(x, i)
        self.interpreter.invoke()
        return [np.array(self.interpreter.get_output(i)) for i in range(self.num_outputs)]

    def reset(self) -> None:
        self.interpreter.reset()


def differences(ours: list[np.ndarray], theirs: list[np.ndarray]) -> list[str]:
    """Every differing element, described in one line each."""
    if len(ours) != len(theirs):
        return [f"{len(ours)} outputs vs TFLite Micro's {len(theirs)}"]
    found = []
    for k, (a, b) in enumerate(zip(ours, theirs)):
        a, b = np.asarray(a), np.asarray(b).reshape(np.asarray(a).shape)
        if a.dtype.kind == "f":
            mismatch = np.flatnonzero(a.view(np.uint32) != b.astype(a.dtype).view(np.uint32))
        else:
            mismatch = np.flatnonzero(a.reshape(-1) != b.reshape(-1))
        for flat in mismatch:
            found.append(f"output {k} element {flat}: tinyedge {a.reshape(-1)[flat]}, "
                         f"TFLite Micro {b.reshape(-1)[flat]}")
    return found


def verify(compiled, model_bytes: bytes, cases: int, seed: int = 0) -> list[str]:
    """Run `cases` seeded random inputs through both; return every difference."""
    rng = np.random.default_rng(seed)
    problems = []
    arena = max(1 << 20, 4 * compiled.report["arena_bytes"] + (256 << 10))
    stream = None
    if getattr(compiled, "stateful", False):
        # A stateful model runs the cases as one stream, state carried in both.
        compiled.reset()
        try:
            stream = TflmStream(model_bytes, len(compiled.outputs), arena)
        except Exception as exc:
            raise TinyEdgeError(f"TFLite Micro could not run the model: {exc}") from None
    for case in range(cases):
        inputs = random_inputs(compiled.inputs, rng)
        try:
            expected = (stream.run(inputs) if stream is not None
                        else run_tflm(model_bytes, inputs, len(compiled.outputs), arena))
        except Exception as exc:  # the oracle refused the model: report, do not crash
            raise TinyEdgeError(f"TFLite Micro could not run the model: {exc}") from None
        problems += [f"case {case}: {d}" for d in differences(compiled.run(*inputs), expected)]
    return problems
