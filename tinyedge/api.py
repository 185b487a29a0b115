"""The Python API: compile a model into a folder of C sources, and run it.

    model = tinyedge.compile("kws.tflite", "out/kws")
    scores, = model.run(features)
    model.report["arena_bytes"]

The pipeline is three stages: import (frontend + passes), plan memory,
generate C. Everything is written to a temporary folder first and moved into
place only when all of it succeeded.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from tinyedge import __version__, host
from tinyedge.codegen import Layer, generate, invoke_cdef, reset_cdef
from tinyedge.errors import BudgetError, TinyEdgeError, UnsupportedModelError
from tinyedge.frontend.tflite import model_name, read_tflite
from tinyedge.ir import ALIAS_OPS, DType, Graph, OpKind, schedule_problems
from tinyedge.ops import registry
from tinyedge.passes import run_pipeline
from tinyedge.passes.fold_constants import COMPILE_TIME_ONLY, not_folded_problem
from tinyedge.passes.pack_weights import pack_weights
from tinyedge.passes.scratch import attach_scratch
from tinyedge.planner import MemoryPlan
from tinyedge.planner.schedule import plan_best_schedule
from tinyedge.targets import get_target

REPORT_FILE = "report.json"


def _read_model(model) -> tuple[bytes, str]:
    """(bytes, name) of a model given as a path or as bytes."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model), "model"
    path = Path(model)
    try:
        return path.read_bytes(), model_name(path.name)
    except OSError as exc:
        raise TinyEdgeError(f"cannot read model {path}: {exc.strerror}") from None


def import_model(data: bytes, name: str) -> Graph:
    """Parse, check and simplify a TFLite model into a Graph ready to plan."""
    graph = run_pipeline(read_tflite(data, name))
    problems = schedule_problems(graph)
    if problems:
        from tinyedge.errors import ModelFormatError
        raise ModelFormatError("malformed model: " + "; ".join(problems))
    handlers = registry()
    messages = []
    for node in graph.nodes:
        if node.kind in COMPILE_TIME_ONLY:
            messages.append(f"operator {node.index} ({node.kind.name}): {not_folded_problem(node)}")
            continue
        handler = handlers[node.kind]
        optional = getattr(handler, "OPTIONAL_INPUTS", frozenset())
        absent = [i for i, t in enumerate(node.inputs) if t is None and i not in optional]
        # Variable tensors (kept between calls) only where the op takes state.
        state = getattr(handler, "STATE_INPUTS", frozenset())
        stray = [i for i, t in enumerate(node.inputs)
                 if t is not None and t.variable and i not in state]
        problems = ([f"input {i} is absent, and it is not optional" for i in absent]
                    + [f"input {i} is a variable tensor (state kept between calls), which "
                       f"{node.kind.name} does not take" for i in stray]
                    or handler.check(node))
        messages += [f"operator {node.index} ({node.kind.name}): {p}" for p in problems]
    if messages:
        raise UnsupportedModelError("; ".join(messages))
    return attach_scratch(graph)  # kernel scratch becomes arena tensors (passes/scratch.py)


def lower_graph(graph: Graph) -> list[Layer]:
    handlers = registry()
    layers = []
    for step, node in enumerate(graph.nodes):
        try:
            call = handlers[node.kind].lower(node, f"{graph.name}_l{step}")
        except UnsupportedModelError as exc:
            raise UnsupportedModelError(f"operator {node.index} ({node.kind.name}): {exc}") from None
        if call is not None:
            layers.append(Layer(node.index, call))
    return layers


def _value_range(graph: Graph, tensor) -> list[float]:
    """Plausible real values of a model input, for random test inputs: the
    integer range of its type, or for a float input the range its QUANTIZE
    consumer can represent."""
    if tensor.dtype != DType.FLOAT32:
        info = np.iinfo(tensor.dtype.numpy)
        return [int(info.min), int(info.max)]
    for node in graph.nodes:
        if node.kind == OpKind.QUANTIZE and node.inputs[0] is tensor:
            q = node.outputs[0].quant
            info = np.iinfo(node.outputs[0].dtype.numpy)
            return [q.scale * (info.min - q.zero_point), q.scale * (info.max - q.zero_point)]
    return [-1.0, 1.0]


def _io_report(graph: Graph, tensors) -> list[dict]:
    result = []
    for t in tensors:
        entry = {"name": t.name, "shape": list(t.shape), "dtype": t.dtype.numpy_name,
                 "range": _value_range(graph, t)}
        if t.quant is not None:
            entry["scale"] = t.quant.scale
            entry["zero_point"] = t.quant.zero_point
        result.append(entry)
    return result


def build_report(graph: Graph, layers: list[Layer], plan: MemoryPlan, facts: dict,
                 target: str, source: str, sha256: str) -> dict:
    calls = {layer.index: layer.call for layer in layers}
    layer_entries = []
    for step, node in enumerate(graph.nodes):
        call = calls.get(node.index)
        layer_entries.append({
            "index": node.index,
            "op": node.kind.name,
            "kernel": call.function if call else None,
            "inputs": [list(t.shape) for t in node.inputs if t is not None and not t.is_constant],
            "outputs": [list(t.shape) for t in node.outputs],
            "macs": call.macs if call else 0,
            "live_bytes": plan.live_bytes(step),
            "tensor_bytes": plan.tensor_bytes(step),
            "in_place": node.kind in ALIAS_OPS,
        })
    buffers = [{"tensors": [t.name for t in group], "offset": b.offset, "bytes": b.size,
                "first_layer": b.first, "last_layer": b.last}
               for b, group in zip(plan.buffers, plan.tensors)]
    return {
        "tinyedge_version": __version__,
        "model": graph.name,
        "source": source,
        "sha256": sha256,
        "target": target,
        "arena_bytes": max(4, plan.arena_size),
        # Variable tensors kept between calls (SVDF/LSTM state), outside the arena.
        "state_bytes": facts["state_bytes"],
        "state": facts["state"],
        # The largest sum of live tensor bytes: the arena of the plain op-by-op
        # schedule without overlapping buffers.
        "plain_schedule_bytes": max((plan.tensor_bytes(s) for s in range(len(graph.nodes) + 1)),
                                    default=0),
        "weight_bytes": facts["weight_bytes"],
        "param_bytes": facts["param_array_bytes"],
        "macs": sum(entry["macs"] for entry in layer_entries),
        "kernels": facts["kernels"],
        "c_sources": facts["c_sources"],
        # For a target with its own kernel versions (cortex-m4/m7): the sources its
        # firmware builds, and per folder of versions the optional paths kept (1)
        "target_sources": facts["target_sources"],
        "kernel_paths": facts["kernel_paths"],
        "inputs": _io_report(graph, graph.inputs),
        "outputs": _io_report(graph, graph.outputs),
        "layers": layer_entries,
        # Ops of the model evaluated at compile time (passes/fold_constants.py).
        "folded": [{"index": node.index, "op": node.kind.name} for node in graph.folded],
        "buffers": buffers,
    }


def _peak_layers(report: dict, limit: int, count: int = 3) -> str:
    """The layers whose live bytes exceed limit (the largest first), with the
    tensors alive there: what sets the peak."""
    over = sorted((entry for entry in report["layers"] if entry["live_bytes"] > limit),
                  key=lambda entry: -entry["live_bytes"])
    parts = []
    for entry in over[:count]:
        step = report["layers"].index(entry)
        alive = [f"{b['bytes']:,}" for b in report["buffers"]
                 if b["first_layer"] <= step <= b["last_layer"] and b["bytes"]]
        parts.append(f"operator {entry['index']} ({entry['op']}) needs {entry['live_bytes']:,} "
                     f"(buffers {' + '.join(alive)})")
    more = f", and {len(over) - count} more layers" if len(over) > count else ""
    return "; ".join(parts) + more


def _check_budget(report: dict, target_name: str, ram_limit: int | None = None) -> None:
    target = get_target(target_name)
    limits = [(lim, what) for lim, what in ((target.ram_bytes, f"target {target.name} has"),
                                           (ram_limit, "the RAM limit is"))
              if lim is not None]
    for limit, what in limits:
        state = report.get("state_bytes", 0)
        if report["arena_bytes"] + state > limit:
            peak = _peak_layers(report, limit - state)
            needs = report["arena_bytes"] + state
            raise BudgetError(f"the model needs {needs:,} bytes of RAM"
                              + (f" ({state:,} of them state)" if state else "") + f" and {what} "
                              f"{limit:,}" + (f": {peak}" if peak else "")
                              + "; use a target with more RAM or a smaller model")
    if target.flash_bytes is not None and report["weight_bytes"] > target.flash_bytes:
        raise BudgetError(f"the model's weights take {report['weight_bytes']:,} bytes of flash, "
                          f"target {target.name} has {target.flash_bytes:,}; use a target "
                          "with more flash or a smaller model")


def _check_out_dir(out_dir: Path) -> None:
    """Refuse an output path whose contents a compile would destroy: a file, a
    symbolic link, or a folder holding something other than an earlier
    compile's output (report.json)."""
    if out_dir.is_symlink():
        raise TinyEdgeError(f"output {out_dir} is a symbolic link; give the folder itself, "
                            "or a new one")
    if out_dir.exists() and not out_dir.is_dir():
        raise TinyEdgeError(f"output {out_dir} exists and is not a folder; give a new or "
                            "empty folder")
    if (out_dir.is_dir() and not (out_dir / REPORT_FILE).is_file()
            and any(out_dir.iterdir())):
        raise TinyEdgeError(f"output folder {out_dir} is not empty and is not a tinyedge "
                            "output folder (no report.json), so compile would delete its "
                            "files; give a new or empty folder")


def _replace_dir(staging: Path, out_dir: Path) -> None:
    """Move a finished staging folder to out_dir, replacing what was there."""
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
        os.replace(staging, out_dir)
        shutil.rmtree(old)
    else:
        os.replace(staging, out_dir)


def compile(model, out_dir, target: str = "generic", name: str | None = None,  # noqa: A001
            ram_limit: int | None = None, calibration=None,
            io_type: str | None = None, activations: str = "int8") -> "CompiledModel":
    """Compile a .tflite model (a path or its bytes) into C sources in out_dir.
    ram_limit (bytes) fails the compile when the arena does not fit it.
    A float Keras model (object, .keras/.h5 file, SavedModel folder) is first
    quantized with `calibration` data, `io_type` and `activations` (see
    quantize()), then compiled."""
    kernel_dirs = get_target(target).kernel_dirs
    if calibration is not None or _is_float_model(model):
        from tinyedge.frontend import keras as keras_frontend
        source = keras_frontend._load_source(model)
        model = keras_frontend._quantize(source, calibration, io_type, quiet=True,
                                         activations=activations)
        name = name or source.name
    data, default_name = _read_model(model)
    name = model_name(name) if name else default_name
    source = Path(model).name if not isinstance(model, (bytes, bytearray, memoryview)) else name
    sha256 = hashlib.sha256(data).hexdigest()

    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    graph, plan = plan_best_schedule(import_model(data, name))
    graph = pack_weights(graph, kernel_dirs)  # after planning: it moves no activation
    layers = lower_graph(graph)

    staging = None
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
        facts = generate(graph, layers, plan, staging, source, sha256, kernel_dirs)
        report = build_report(graph, layers, plan, facts, target, source, sha256)
        _check_budget(report, target, ram_limit)
        (staging / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
        _replace_dir(staging, out_dir)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise TinyEdgeError(f"cannot write the output folder {out_dir}: "
                            f"{exc.strerror or exc}{where}") from None
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging)
    return CompiledModel(out_dir, report)


def _is_float_model(model) -> bool:
    from tinyedge.frontend.keras import is_keras_model, is_keras_path
    return is_keras_model(model) or is_keras_path(model)


def quantize(model, calibration, out_path=None, io_type: str | None = None,
             quiet: bool = False, activations: str = "int8") -> bytes:
    """Full-integer post-training quantization of a float Keras model (object,
    .keras/.h5 file or SavedModel folder) with calibration data (an array whose
    first axis is the samples; a list/tuple/dict of arrays or an .npz for
    several inputs; or an .npy/.npz path). Batch size 1, per-channel weights,
    `activations` "int8" (full int8) or "int16" (TFLite's 16x8 scheme: int16
    activations, int8 weights, int64 biases; refused if the model has layers
    tinyedge does not compile in 16x8). `io_type` at the edges defaults to the
    activation type; "uint8" or "float32" with int8, "float32" with int16.
    Returns the .tflite bytes; out_path, if given, is written atomically."""
    from tinyedge.frontend import keras as keras_frontend
    if out_path is not None:
        check_out_file(Path(out_path))
    data = keras_frontend.quantize(model, calibration, io_type=io_type, quiet=quiet,
                                   activations=activations)
    if out_path is not None:
        write_atomic(Path(out_path), data)
    return data


def check_out_file(path: Path) -> None:
    """Refuse an output file path that is a folder (before the work that fills it)."""
    if path.is_dir():
        raise TinyEdgeError(f"output {path} is a folder; give a file name, such as "
                            f"{path / 'model_int8.tflite'}")


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file through a temporary file in the same folder and a rename."""
    check_out_file(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise TinyEdgeError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


# What load() and the tools that reopen a folder read from its report
REPORT_KEYS = {"model": str, "inputs": list, "outputs": list, "c_sources": list,
               "kernels": list, "layers": list, "macs": int, "arena_bytes": int,
               "weight_bytes": int}


def load(out_dir) -> "CompiledModel":
    """Reopen a folder written by compile()."""
    out_dir = Path(out_dir)
    try:
        report = json.loads((out_dir / REPORT_FILE).read_text())
    except (OSError, ValueError):
        raise TinyEdgeError(f"{out_dir} is not a tinyedge output folder (no readable "
                            f"{REPORT_FILE}); compile a model into it first") from None
    missing = ([key for key, kind in REPORT_KEYS.items()
                if not isinstance(report.get(key), kind)]
               if isinstance(report, dict) else ["model"])
    if missing:
        raise TinyEdgeError(f"{out_dir / REPORT_FILE} is not a report tinyedge {__version__} "
                            f"wrote (no valid '{missing[0]}'); compile the model into "
                            f"{out_dir} again")
    return CompiledModel(out_dir, report)


class CompiledModel:
    """A compiled model: its folder, its report, and a host runner of its C code."""

    def __init__(self, out_dir: Path, report: dict):
        self.out_dir = Path(out_dir)
        self.report = report
        self.name = report["model"]
        self._lib = None

    @property
    def inputs(self) -> list[dict]:
        return self.report["inputs"]

    @property
    def outputs(self) -> list[dict]:
        return self.report["outputs"]

    def _library(self):
        if self._lib is None:
            sources = [self.out_dir / s for s in self.report["c_sources"]]
            lib_path = host.build_library(sources, [self.out_dir, self.out_dir / "kernels" / "include"])
            cdef = invoke_cdef(self.name,
                               [{"index": i, "ctype": DType[t["dtype"].upper()].ctype}
                                for i, t in enumerate(self.inputs)],
                               [{"index": i, "ctype": DType[t["dtype"].upper()].ctype}
                                for i, t in enumerate(self.outputs)])
            if "state_bytes" in self.report:  # folders of older versions have no reset
                cdef += "\n" + reset_cdef(self.name)
            self._ffi, self._lib = host.load_library(lib_path, cdef)
        return self._ffi, self._lib

    @property
    def stateful(self) -> bool:
        return self.report.get("state_bytes", 0) > 0

    def reset(self) -> None:
        """Reset the model's state (variable tensors) as <name>_reset() does,
        like TFLite Micro's ResetVariableTensors(); nothing for a stateless model."""
        if self.stateful:
            ffi, lib = self._library()
            getattr(lib, f"{self.name}_reset")()

    def run(self, *inputs) -> list[np.ndarray]:
        """Run the generated C on the host; inputs as numpy arrays of the model's
        input shapes and dtypes. Returns one array per model output. A stateful
        model keeps its state from one call to the next, as on the device;
        reset() starts a new stream."""
        if len(inputs) != len(self.inputs):
            raise TinyEdgeError(f"{self.name} takes {len(self.inputs)} inputs, got {len(inputs)}")
        arrays = []
        for i, (x, spec) in enumerate(zip(inputs, self.inputs)):
            x = np.asarray(x)
            if x.dtype != np.dtype(spec["dtype"]) or x.size != int(np.prod(spec["shape"])):
                raise TinyEdgeError(
                    f"input {i} ('{spec['name']}') must be {spec['dtype']} of shape "
                    f"{spec['shape']}, got {x.dtype} of shape {list(x.shape)}")
            arrays.append(np.ascontiguousarray(x.reshape(spec["shape"])))
        outputs = [np.zeros(spec["shape"], dtype=spec["dtype"]) for spec in self.outputs]
        ffi, lib = self._library()
        args = [ffi.from_buffer(DType[a.dtype.name.upper()].ctype + "[]", a)
                for a in arrays + outputs]
        status = getattr(lib, f"{self.name}_invoke")(*args)
        if status != 0:
            raise TinyEdgeError(f"{self.name}_invoke returned status {status}")
        return outputs
