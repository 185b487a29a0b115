"""Generate the C sources of a model from templates/*.j2.

Python builds a context of ready-to-print values (names, numbers, offsets);
the templates hold all the C text. Output is deterministic: the same model
and options give identical bytes.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np

from tinyedge import KERNELS_DIR, TEMPLATES_DIR, __version__
from tinyedge.ir import Graph, Tensor
from tinyedge.kernel_paths import PATH_HEADERS
from tinyedge.ops import CArray, CName, CStruct, IntArg, KernelCall, NullArg, StructArg, TensorArg, \
    TensorListArg
from tinyedge.planner import MemoryPlan

VALUES_PER_LINE = 12
KERNEL_DEFINITION = re.compile(r"^te_status\s+(te_\w+)\s*\(", re.MULTILINE)


@dataclass
class Layer:
    index: int  # operator index in the source model
    call: KernelCall


C_TYPE_BYTES = {"int8_t": 1, "int16_t": 2, "int32_t": 4}
REF_INCLUDE = re.compile(r'^#include "\.\./ref/(\w+\.c)"', re.MULTILINE)


def kernel_variant(filename: str, kernel_dirs, roots) -> Path | None:
    """The target's version of a kernel source: the first root/src/<dir>/filename
    that exists, for each of roots in order and in it each of kernel_dirs in order
    (None: the reference one). A compiled folder's own versions come first: they
    read the weight layouts it was compiled with."""
    for root in roots:
        for d in kernel_dirs:
            if (Path(root) / "src" / d / filename).is_file():
                return Path(root) / "src" / d / filename
    return None


def kernel_sources() -> dict[str, Path]:
    """Map each kernel function to the reference source file that defines it."""
    found = {}
    for path in sorted((KERNELS_DIR / "src" / "ref").glob("*.c")):
        for function in KERNEL_DEFINITION.findall(path.read_text()):
            found[function] = path
    return found


def c_literal(value) -> str:
    """A C literal for a struct field value."""
    if isinstance(value, CName):
        return value.name
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        # INT32_MIN and INT64_MIN cannot be written as plain negative literals.
        if value == -(2**63):
            return "(-9223372036854775807LL - 1)"
        return "(-2147483647 - 1)" if value == -(2**31) else str(value)
    if isinstance(value, float):
        return f"{np.float32(value):.9e}f"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(c_literal(v) for v in value) + "}"
    raise TypeError(f"no C literal for {value!r}")


def _rows(values: np.ndarray) -> list[str]:
    flat = [c_literal(int(v)) for v in values.reshape(-1)]
    return [", ".join(flat[i:i + VALUES_PER_LINE]) for i in range(0, len(flat), VALUES_PER_LINE)]


class _Names:
    """C names of the model's constant tensors, in first-use order."""

    def __init__(self, model: str):
        self.model = model
        self.weights: dict[int, tuple[str, Tensor]] = {}
        self.state: dict[int, int] = {}  # id(variable tensor) -> offset in the state block

    def weight(self, t: Tensor) -> str:
        if id(t) not in self.weights:
            self.weights[id(t)] = (f"{self.model}_weight{len(self.weights)}", t)
        return self.weights[id(t)][0]


def _arg(arg, names: _Names, plan: MemoryPlan) -> dict:
    if isinstance(arg, StructArg):
        return {"kind": "struct", "name": arg.struct.name}
    if isinstance(arg, TensorArg):
        t = arg.tensor
        if t.is_constant:
            return {"kind": "weight", "name": names.weight(t)}
        if t.variable:
            return {"kind": "state", "ctype": t.dtype.ctype, "offset": names.state[id(t)]}
        return {"kind": "arena", "ctype": t.dtype.ctype, "offset": plan.offset_of(t)}
    if isinstance(arg, TensorListArg):
        return {"kind": "pointers", "ctype": arg.tensors[0].dtype.ctype, "writable": arg.writable,
                "items": [_arg(TensorArg(t), names, plan) for t in arg.tensors]}
    if isinstance(arg, IntArg):
        return {"kind": "int", "value": arg.value}
    if isinstance(arg, NullArg):
        return {"kind": "null"}
    raise TypeError(f"unknown kernel argument {arg!r}")


def _constant(c) -> dict:
    if isinstance(c, CStruct):
        return {"kind": "struct", "ctype": c.ctype, "name": c.name,
                "fields": [(k, c_literal(v)) for k, v in c.fields]}
    if isinstance(c, CArray):
        return {"kind": "array", "ctype": c.ctype, "name": c.name, "size": len(c.values),
                "rows": _rows(np.asarray(c.values))}
    raise TypeError(f"unknown constant {c!r}")


def _io(tensors: list[Tensor], plan: MemoryPlan, names: _Names) -> list[dict]:
    result = []
    for i, t in enumerate(tensors):
        entry = {"index": i, "name": t.name, "ctype": t.dtype.ctype, "dtype": t.dtype.numpy_name,
                 "shape": list(t.shape), "elements": t.size, "bytes": t.nbytes}
        if t.is_constant:
            entry["weight"] = names.weight(t)
        else:
            entry["offset"] = plan.offset_of(t)
        result.append(entry)
    return result


def state_layout(graph: Graph, alignment: int = 4) -> list[dict]:
    """The state block: every variable tensor in first-use order, each at an
    aligned offset, with the byte TFLite Micro fills it with on reset (the
    zero point of an int8 tensor, else 0)."""
    entries, seen, offset = [], set(), 0
    for node in graph.nodes:
        for t in node.inputs:
            if t is None or not t.variable or id(t) in seen:
                continue
            seen.add(id(t))
            fill = t.quant.zero_point if t.dtype.itemsize == 1 and t.quant is not None else 0
            entries.append({"tensor": t, "name": t.name, "ctype": t.dtype.ctype,
                            "shape": "x".join(map(str, t.shape)) or "scalar",
                            "offset": offset, "bytes": t.nbytes, "fill": fill & 0xFF})
            offset += -(-t.nbytes // alignment) * alignment
    return entries


def template_environment() -> jinja2.Environment:
    """The Jinja2 environment of every generated file: templates/, StrictUndefined."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True, autoescape=False)


def generate(graph: Graph, layers: list[Layer], plan: MemoryPlan, out_dir: Path,
             source_name: str, source_sha256: str, kernel_dirs: tuple[str, ...] = ()) -> dict:
    """Write <name>.h, <name>.c, <name>_weights.c, CMakeLists.txt and the kernels
    the model uses into out_dir: the reference ones in kernels/src/, and for each
    of kernel_dirs (the target's, e.g. armv7em) its versions of them in
    kernels/src/<dir>/ with that folder's internal headers, which CMakeLists.txt
    builds instead. Returns facts for the report (weight bytes, kernels)."""
    name = graph.name
    names = _Names(name)
    state = state_layout(graph)
    names.state = {id(s["tensor"]): s["offset"] for s in state}
    state_size = sum(-(-s["bytes"] // 4) * 4 for s in state)
    context_layers = []
    for layer in layers:
        call = layer.call
        context_layers.append({"index": layer.index, "summary": call.summary,
                               "function": call.function,
                               "constants": [_constant(c) for c in call.constants],
                               "args": [_arg(a, names, plan) for a in call.args]})
    inputs = _io(graph.inputs, plan, names)
    outputs = _io(graph.outputs, plan, names)
    weights = []
    for cname, t in names.weights.values():
        weights.append({"name": cname, "ctype": t.dtype.ctype, "size": t.size,
                        "tensor": t.name, "shape": "x".join(map(str, t.shape)) or "scalar",
                        "rows": _rows(t.data)})

    sources = kernel_sources()
    functions = sorted({layer.call.function for layer in layers})
    missing = [f for f in functions if f not in sources]
    assert not missing, f"no kernel source defines {missing}"
    kernel_files = sorted({sources[f].name for f in functions})
    # kernel file -> the folder of the target's version of it
    variants = {f: v.parent.name for f in kernel_files
                if (v := kernel_variant(f, kernel_dirs, [KERNELS_DIR])) is not None}
    # what CMakeLists.txt builds for the target: none when it has no versions
    target_sources = [f"{variants[f]}/{f}" if f in variants else f
                      for f in kernel_files] if variants else []

    context = {
        "name": name, "guard": name.upper(), "version": __version__,
        "source": source_name, "sha256": source_sha256,
        "arena_size": plan.arena_size, "arena_words": max(1, plan.arena_size // 4),
        "state": state, "state_size": state_size, "state_words": max(1, state_size // 4),
        "inputs": inputs, "outputs": outputs, "layers": context_layers,
        "weights": weights, "kernel_files": kernel_files,
        "target_sources": target_sources,
        "variant_dirs": sorted(set(variants.values())),
    }
    env = template_environment()
    files = {
        f"{name}.h": "model.h.j2",
        f"{name}.c": "model.c.j2",
        f"{name}_weights.c": "weights.c.j2",
        "CMakeLists.txt": "CMakeLists.txt.j2",
    }
    for filename, template in files.items():
        (out_dir / filename).write_text(env.get_template(template).render(context))

    include_dir = out_dir / "kernels" / "include" / "tinyedge"
    include_dir.mkdir(parents=True)
    for header in sorted((KERNELS_DIR / "include" / "tinyedge").glob("*.h")):
        shutil.copyfile(header, include_dir / header.name)
    src_dir = out_dir / "kernels" / "src"
    src_dir.mkdir(parents=True)
    for filename in kernel_files:
        shutil.copyfile(KERNELS_DIR / "src" / "ref" / filename, src_dir / filename)
    kernel_paths: dict[str, dict[str, int]] = {}
    for d in sorted(set(variants.values())):
        (src_dir / d).mkdir()
        copied = [f for f, v in variants.items() if v == d]
        copied += [h.name for h in (KERNELS_DIR / "src" / d).glob("*.h")]
        for filename in sorted(copied):
            shutil.copyfile(KERNELS_DIR / "src" / d / filename, src_dir / d / filename)
            # a variant that wraps its reference kernel includes it as ../ref/<file>.c
            for included in REF_INCLUDE.findall((src_dir / d / filename).read_text()):
                (src_dir / "ref").mkdir(exist_ok=True)
                shutil.copyfile(KERNELS_DIR / "src" / "ref" / included, src_dir / "ref" / included)
        if d in PATH_HEADERS:
            paths = PATH_HEADERS[d]([layer.call for layer in layers],
                                    lambda t: None if t.is_constant or t.variable
                                    else plan.offset_of(t))
            (src_dir / d / "te_paths.h").write_text(env.get_template("te_paths.h.j2").render(
                context, dir=d, paths=paths))
            kernel_paths[d] = paths

    weight_bytes = sum(t.nbytes for _, t in names.weights.values())
    param_bytes = sum(C_TYPE_BYTES[c.ctype] * len(c.values)
                      for layer in layers for c in layer.call.constants
                      if isinstance(c, CArray))
    return {"weight_bytes": weight_bytes, "param_array_bytes": param_bytes,
            "state_bytes": state_size,
            "state": [{"tensor": s["name"], "offset": s["offset"], "bytes": s["bytes"],
                       "fill": s["tensor"].quant.zero_point if s["fill"] else 0}
                      for s in state],
            "kernels": functions, "c_sources": [f"{name}.c", f"{name}_weights.c"]
            + [f"kernels/src/{f}" for f in kernel_files],
            "target_sources": [f"kernels/src/{f}" for f in target_sources],
            "kernel_paths": kernel_paths}


def invoke_cdef(name: str, inputs: list[dict], outputs: list[dict]) -> str:
    """The C prototype of the generated invoke function, for CFFI."""
    params = [f"const {i['ctype']} *input{i['index']}" for i in inputs]
    params += [f"{o['ctype']} *output{o['index']}" for o in outputs]
    return f"int {name}_invoke({', '.join(params)});"


def reset_cdef(name: str) -> str:
    """The C prototype of the generated reset function, for CFFI."""
    return f"void {name}_reset(void);"

