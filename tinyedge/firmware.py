"""Build a compiled model into firmware for an emulated Cortex-M, run it under
QEMU, and measure it: instructions per inference (exact), estimated cycles
and latency (tinyedge.cycles, docs/cycles.md), flash and RAM.

    model = tinyedge.load("out/kws")
    result = bench(model, "cortex-m4", seed=0, clock="80MHz", flash_wait_states=3)
    result["instructions"], result["cycles"], result["latency_ms"], result["code_bytes"]

The firmware is made from templates/firmware/ (start-up code, linker script per
board, a semihosting harness with the inputs compiled in) plus the model's
sources. The harness runs one inference between two marker functions; a QEMU
TCG plugin (tools/qemu_icount/te_icount.c, built here with the host gcc and
cached) counts the instructions executed between them, and weighs each with the
core's cycle timings, in total and per layer: from the entry of a kernel
function to the next instruction back in `<model>_invoke`.
The outputs come back as hex on the semihosting console and must equal the
host run (CompiledModel.run) byte for byte.

Per-target kernels: for a target with `kernel_dirs` (e.g. armv7em for
cortex-m4/m7), a kernel source found under kernels/src/<dir>/ with the same file
name as the model's reference kernel replaces it in the firmware build.
"""
from __future__ import annotations

import bisect
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyedge import KERNELS_DIR, ROOT, __version__, host
from tinyedge.codegen import kernel_variant, template_environment
from tinyedge.cycles import (CORE_TIMINGS, DEFAULT_CLOCK_HZ, FlashModel, latency_ms, parse_clock,
                             plugin_config)
from tinyedge.errors import (BudgetError, BuildError, EmulatorError, FirmwareMismatchError,
                             TinyEdgeError, ToolchainError)
from tinyedge.ir import DType
from tinyedge.targets import get_target

PLUGIN_SOURCE = ROOT / "tools" / "qemu_icount" / "te_icount.c"
QEMU = "qemu-system-arm"
GCC = "arm-none-eabi-gcc"
NM = "arm-none-eabi-nm"
SIZE = "arm-none-eabi-size"
WARNING_FLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic")
BUILD_FLAGS = ("-ffunction-sections", "-fdata-sections", "-g")
OPT_LEVELS = ("-O0", "-O1", "-O2", "-O3", "-Os")
DEFAULT_TIMEOUT = 300.0
VALUES_PER_LINE = 12
MB = 1024 * 1024
KB = 1024


@dataclass(frozen=True)
class Board:
    """A QEMU machine that runs a target, and where its memories are."""
    machine: str
    flash_origin: int
    flash_bytes: int
    ram_origin: int
    ram_bytes: int
    stack_bytes: int = 64 * KB


# The MPS2 boards (AN385/AN386/AN500) have 4 MB of SSRAM at 0 (code) and 4 MB at
# 0x20000000 (data). The MPS3 AN547 (SSE-300) boots from its 512 KB ITCM at 0;
# its 4 MB "SRAM 2" at 0x21000000 sits behind no protection controller.
BOARDS = {
    # No QEMU board has a Cortex-M0+: ARMv6-M code runs on the Cortex-M3 model, whose
    # instruction set contains it, so the instruction counts are the M0+ binary's.
    "cortex-m0plus": Board("mps2-an385", 0x00000000, 4 * MB, 0x20000000, 4 * MB),
    "cortex-m3": Board("mps2-an385", 0x00000000, 4 * MB, 0x20000000, 4 * MB),
    "cortex-m4": Board("mps2-an386", 0x00000000, 4 * MB, 0x20000000, 4 * MB),
    "cortex-m7": Board("mps2-an500", 0x00000000, 4 * MB, 0x20000000, 4 * MB),
    "cortex-m55": Board("mps3-an547", 0x00000000, 512 * KB, 0x21000000, 4 * MB),
}


def board_for(target: str) -> Board:
    get_target(target)
    if target not in BOARDS:
        raise TinyEdgeError(f"target {target} has no emulated board; bench runs on "
                            f"{', '.join(BOARDS)}")
    return BOARDS[target]


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolchainError(f"{name} not found on PATH; install the Debian package {package} "
                             "(scripts/setup.sh does)")
    return path


def _env() -> dict:
    """The environment of the tools: without the AddressSanitizer preload the
    test suite puts on the Python process."""
    env = dict(os.environ)
    for key in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
        env.pop(key, None)
    return env


def _run(cmd: list[str], what: str, error=BuildError, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, env=_env(), **kwargs)
    if result.returncode != 0:
        raise error(f"{what} failed:\n{' '.join(cmd)}\n{result.stderr.strip()}")
    return result


def icount_plugin() -> Path:
    """The instruction-counting QEMU plugin, built with the host gcc on first use
    and cached by the hash of its source."""
    source = PLUGIN_SOURCE.read_bytes()
    flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC"]
    digest = hashlib.sha256(source + " ".join(flags).encode()).hexdigest()[:24]
    path = host.cache_dir() / f"te_icount-{digest}.so"
    if path.exists():
        return path
    gcc = _tool("gcc", "gcc")
    with tempfile.TemporaryDirectory(dir=host.cache_dir()) as tmp:
        tmp_path = Path(tmp) / path.name
        _run([gcc, *flags, str(PLUGIN_SOURCE), "-o", str(tmp_path)], "building the QEMU plugin")
        os.replace(tmp_path, path)
    return path


# ---------------------------------------------------------------------------
# Building


def _int_literal(value: int, dtype: np.dtype) -> str:
    if dtype.kind == "i" and value == np.iinfo(dtype).min:
        return f"({value + 1} - 1)"  # the minimum cannot be written as one literal
    return str(value) + ("u" if dtype.kind == "u" and dtype.itemsize >= 4 else "")


def _rows(array: np.ndarray) -> list[str]:
    flat = array.reshape(-1)
    if flat.dtype.kind == "f":
        items = [float(v).hex() + "f" for v in flat.astype(np.float32)]
    else:
        items = [_int_literal(int(v), flat.dtype) for v in flat]
    return [", ".join(items[i:i + VALUES_PER_LINE]) for i in range(0, len(items), VALUES_PER_LINE)]


def _io(specs: list[dict], arrays: list[np.ndarray] | None) -> list[dict]:
    result = []
    for i, spec in enumerate(specs):
        entry = {"index": i, "ctype": DType[spec["dtype"].upper()].ctype, "shape": spec["shape"],
                 "elements": int(np.prod(spec["shape"], dtype=np.int64))}
        if arrays is not None:
            entry["rows"] = _rows(np.asarray(arrays[i], dtype=spec["dtype"]))
        result.append(entry)
    return result


def kernel_files(model, target: str, reference_only: bool = False) -> list[Path]:
    """The kernel sources of the firmware: the model's reference kernels, each
    replaced by a per-target variant of the same file name where one exists
    (first in the model folder's kernels/src/<dir>/, for each of the target's
    kernel_dirs in order, then in tinyedge's), unless reference_only."""
    dirs = () if reference_only else get_target(target).kernel_dirs
    files = []
    for rel in model.report["c_sources"]:
        path = model.out_dir / rel
        if rel.startswith("kernels/src/"):
            path = kernel_variant(path.name, dirs, [model.out_dir / "kernels", KERNELS_DIR]) \
                or path
        files.append(path)
    return files


@dataclass
class Firmware:
    elf: Path
    map_file: Path
    build_dir: Path
    target: str
    board: Board
    objects: dict[str, str] = field(default_factory=dict)  # object path -> category
    kernel_variants: list[str] = field(default_factory=list)  # e.g. "armv7em/conv2d_s8.c"
    # the variants are tinyedge's own (every kernel path), not the model folder's
    variants_from_tinyedge: bool = False


def build_firmware(model, target: str, inputs: list[np.ndarray], build_dir: Path,
                   opt: str = "-O2", seed: int = 0, reference_only: bool = False) -> Firmware:
    """Build the model in model.out_dir with the bench harness into build_dir/fw.elf
    (with the reference kernels only if reference_only)."""
    if opt not in OPT_LEVELS:
        raise TinyEdgeError(f"unknown optimization level {opt} (known: {', '.join(OPT_LEVELS)})")
    board = board_for(target)
    gcc = _tool(GCC, "gcc-arm-none-eabi")
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)

    env = template_environment()
    context = {"version": __version__, "name": model.name, "board": board.machine,
               "seed": seed, "inputs": _io(model.inputs, inputs),
               "outputs": _io(model.outputs, None),
               "flash_origin": board.flash_origin, "flash_bytes": board.flash_bytes,
               "ram_origin": board.ram_origin, "ram_bytes": board.ram_bytes,
               "stack_bytes": board.stack_bytes}
    for template, filename in (("firmware/startup.c.j2", "startup.c"),
                               ("firmware/main.c.j2", "main.c"),
                               ("firmware/te_firmware.h.j2", "te_firmware.h"),
                               ("firmware/link.ld.j2", "link.ld")):
        (build_dir / filename).write_text(env.get_template(template).render(context))

    kernels = kernel_files(model, target, reference_only)
    ref_dir = model.out_dir / "kernels" / "src"
    variant_paths = [p for p in kernels if p.parent not in (ref_dir, model.out_dir)]
    variants = [f"{p.parent.name}/{p.name}" for p in variant_paths]
    from_tinyedge = any(model.out_dir not in p.parents for p in variant_paths)
    kernel_dirs = sorted({str(p.parent) for p in kernels if p.parent != ref_dir})
    cflags = [*get_target(target).cflags, opt, *WARNING_FLAGS, *BUILD_FLAGS,
              f"-I{build_dir}", f"-I{model.out_dir}", f"-I{model.out_dir / 'kernels' / 'include'}",
              *(f"-I{d}" for d in kernel_dirs)]
    sources = [(build_dir / "startup.c", "harness"), (build_dir / "main.c", "harness"),
               (model.out_dir / f"{model.name}.c", "model"),
               (model.out_dir / f"{model.name}_weights.c", "weights")]
    sources += [(p, "kernels") for p in kernels if p.name not in
                (f"{model.name}.c", f"{model.name}_weights.c")]
    objects = {}
    obj_dir = build_dir / "obj"
    obj_dir.mkdir(exist_ok=True)
    for source, category in sources:
        obj = obj_dir / f"{category}_{source.stem}.o"
        _run([gcc, *cflags, "-c", str(source), "-o", str(obj)],
             f"arm-none-eabi-gcc ({target}) on {source.name}")
        objects[str(obj)] = category

    elf, map_file = build_dir / "fw.elf", build_dir / "fw.map"
    try:
        _run([gcc, *get_target(target).cflags, opt, "-nostartfiles", "-T",
              str(build_dir / "link.ld"), "-Wl,--gc-sections", f"-Wl,-Map={map_file}", *objects,
              "-o", str(elf)], f"linking the {target} firmware")
    except BuildError as exc:
        overflow = re.search(r"region `(\w+)' overflowed by (\d+) bytes", str(exc))
        if overflow is None:
            raise
        region, size = overflow.group(1), board.flash_bytes if overflow.group(1) == "FLASH" \
            else board.ram_bytes
        raise BudgetError(f"the {model.name} firmware does not fit {board.machine}: its "
                          f"{region} ({size:,} bytes) overflows by {int(overflow.group(2)):,} "
                          "bytes") from None
    return Firmware(elf, map_file, build_dir, target, board, objects, variants, from_tinyedge)


# ---------------------------------------------------------------------------
# Running


def symbols(elf: Path) -> dict[str, tuple[int, int]]:
    """name -> (address, size) of the ELF's symbols (Thumb bit cleared)."""
    out = _run([_tool(NM, "gcc-arm-none-eabi"), "-S", "--defined-only", str(elf)],
               "arm-none-eabi-nm").stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            found[parts[3]] = (int(parts[0], 16) & ~1, int(parts[1], 16))
        elif len(parts) == 3:
            found.setdefault(parts[2], (int(parts[0], 16) & ~1, 0))
    return found


@dataclass
class RunResult:
    outputs: list[np.ndarray]
    instructions: int
    layer_instructions: list[int]
    stack_bytes: int
    console: str
    cycles: int | None = None  # None: no cycle model for the target
    layer_cycles: list[int] = field(default_factory=list)
    # instructions and cycles per function, costliest first, when profiled
    functions: list[dict] | None = None


def flash_model(board: Board, wait_states: int = 0) -> FlashModel:
    return FlashModel(board.flash_origin, board.flash_origin + board.flash_bytes, wait_states)


def run_elf(elf: Path, board: Board, work_dir: Path, config: list[str],
            timeout: float = DEFAULT_TIMEOUT, name: str = "the firmware") -> tuple[dict, str]:
    """Run an image once under QEMU with the counting plugin configured by
    config (its lines besides "out"); returns the plugin's figures (total,
    cycles, starts and the per-layer lists layer, layer_cycles) and the
    semihosting console. Faults and timeouts are EmulatorErrors."""
    qemu = _tool(QEMU, "qemu-system-arm")
    plugin = icount_plugin()
    counts_file = work_dir / "counts.txt"
    counts_file.unlink(missing_ok=True)
    config_file = work_dir / "icount.cfg"
    config_file.write_text("\n".join([f"out {counts_file}", *config]) + "\n")
    cmd = [qemu, "-M", board.machine, "-nographic", "-monitor", "none", "-serial", "none",
           "-chardev", "stdio,id=sh0", "-semihosting-config", "enable=on,target=native,chardev=sh0",
           "-plugin", f"{str(plugin).replace(',', ',,')},cfg={str(config_file).replace(',', ',,')}",
           "-kernel", str(elf)]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL, env=_env())
    except subprocess.TimeoutExpired:
        raise EmulatorError(f"{name} on {board.machine} did not finish within "
                            f"{timeout:g} s (raise --timeout if the model is that slow)") from None
    console = result.stdout
    if "TE_FAULT" in console:
        raise EmulatorError(f"{name} on {board.machine}: the firmware took a fault "
                            f"(exit code {result.returncode}); build dir {work_dir}")
    status = re.search(r"TE_STATUS (\d+)", console)
    if status:
        raise EmulatorError(f"{name}_invoke returned status -{status.group(1)} on "
                            f"{board.machine}")
    if result.returncode != 0 or "TE_DONE" not in console:
        detail = (result.stderr.strip() or console.strip()).splitlines()
        raise EmulatorError(f"{name} on {board.machine} failed (exit code "
                            f"{result.returncode})" + (f": {detail[-1]}" if detail else ""))
    if not counts_file.exists():
        raise EmulatorError(f"the QEMU plugin wrote no counts ({' '.join(cmd)}): "
                            f"{result.stderr.strip()}")
    figures: dict = {"layer": [], "layer_cycles": []}
    for line in counts_file.read_text().splitlines():
        key, value = line.split()
        if key in ("layer", "layer_cycles"):
            figures[key].append(int(value))
        else:
            figures[key] = int(value)
    assert "total" in figures and figures.get("starts") == 1, f"unexpected plugin output {figures}"
    return figures, console


def run_firmware(fw: Firmware, model, timeout: float = DEFAULT_TIMEOUT,
                 flash_wait_states: int = 0, profile: bool = False) -> RunResult:
    """Run the firmware once under QEMU with the counting plugin (and the
    target's cycle model, where it has one); with profile, also count every
    instruction of the code in flash."""
    syms = symbols(fw.elf)
    invoke = f"{model.name}_invoke"
    for needed in ("te_bench_start", "te_bench_stop", invoke):
        assert needed in syms, f"{needed} missing from {fw.elf}"
    config = [f"start {syms['te_bench_start'][0]:x}",
              f"stop {syms['te_bench_stop'][0]:x}",
              f"scope {syms[invoke][0]:x} {syms[invoke][0] + syms[invoke][1]:x}"]
    config += [f"entry {syms[k][0]:x}" for k in model.report["kernels"] if k in syms]
    timings = CORE_TIMINGS.get(fw.target)
    if timings is not None:
        config += plugin_config(timings, flash_model(fw.board, flash_wait_states))
    profile_file = fw.build_dir / "profile.txt"
    profile_file.unlink(missing_ok=True)
    if profile:
        code = [(a, a + n) for a, n in syms.values()
                if n and fw.board.flash_origin <= a < fw.board.flash_origin + fw.board.flash_bytes]
        config.append(f"profile {min(c[0] for c in code):x} {max(c[1] for c in code):x} "
                      f"{profile_file}")
    figures, console = run_elf(fw.elf, fw.board, fw.build_dir, config, timeout, model.name)
    functions = None
    if profile:
        counted = []
        for line in profile_file.read_text().splitlines():
            address, n, cycles = line.split()
            counted.append((int(address, 16), int(n), int(cycles)))
        functions = function_profile(syms, counted)

    outputs = []
    for i, spec in enumerate(model.outputs):
        match = re.search(rf"^TE_OUTPUT {i} ([0-9a-f]*)$", console, re.MULTILINE)
        assert match, f"output {i} missing from the firmware console: {console[:200]!r}"
        data = bytes.fromhex(match.group(1))
        outputs.append(np.frombuffer(data, dtype=spec["dtype"]).reshape(spec["shape"]).copy())
    stack = int(re.search(r"^TE_STACK (\d+)$", console, re.MULTILINE).group(1))
    return RunResult(outputs, figures["total"], figures["layer"], stack, console,
                     figures["cycles"] if timings is not None else None,
                     figures["layer_cycles"] if timings is not None else [], functions)


def function_profile(syms: dict[str, tuple[int, int]],
                     counted: list[tuple[int, int, int]]) -> list[dict]:
    """Instructions and cycles per function (syms: symbols() of the ELF) from the
    plugin's profile, (address, instructions, cycles) per instruction; the
    costliest first, code outside every sized symbol counted as "(other)"."""
    functions = sorted((a, a + n, name) for name, (a, n) in syms.items() if n)
    starts = [f[0] for f in functions]
    totals: dict[str, list[int]] = {}
    for address, n, cycles in counted:
        i = bisect.bisect_right(starts, address) - 1
        name = functions[i][2] if i >= 0 and address < functions[i][1] else "(other)"
        entry = totals.setdefault(name, [0, 0])
        entry[0] += n
        entry[1] += cycles
    return [{"function": name, "instructions": n, "cycles": c}
            for name, (n, c) in sorted(totals.items(), key=lambda kv: (-kv[1][1], -kv[1][0],
                                                                        kv[0]))]


# ---------------------------------------------------------------------------
# Measuring


FLASH_SECTIONS = (".text", ".ARM.exidx", ".data")  # .data: its initial values
_MAP_INPUT_SECTION = re.compile(
    r"^ (\.[\w.]+|COMMON)\s*\n?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$", re.MULTILINE)


def map_sizes(map_file: Path, objects: dict[str, str]) -> dict[str, int]:
    """Bytes each category of object (harness, model, weights, kernels, libc)
    puts into flash: the input sections of the flash output sections in the
    linker map."""
    text = map_file.read_text()
    text = text[text.find("Linker script and memory map"):]
    sizes: dict[str, int] = {}
    # Split the map at each output section header; keep the flash ones.
    headers = [(m.start(), m.group(1)) for m in re.finditer(r"^(\.[\w.]+|/DISCARD/)", text,
                                                          re.MULTILINE)]
    for (begin, name), (end, _) in zip(headers, headers[1:] + [(len(text), "")]):
        if name not in FLASH_SECTIONS:
            continue
        for _, _, size, origin in _MAP_INPUT_SECTION.findall(text[begin:end]):
            category = objects.get(origin, "libc" if ".a(" in origin else "other")
            sizes[category] = sizes.get(category, 0) + int(size, 16)
    return sizes


def memory(fw: Firmware, model) -> dict:
    """Flash (code, weights) and RAM (arena, other static data) of the firmware."""
    out = _run([_tool(SIZE, "gcc-arm-none-eabi"), "-A", str(fw.elf)], "arm-none-eabi-size").stdout
    sections = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(".") and parts[1].isdigit():
            sections[parts[0]] = int(parts[1])
    flash = sum(sections.get(s, 0) for s in FLASH_SECTIONS)
    syms = symbols(fw.elf)
    weight = re.compile(rf"{re.escape(model.name)}_weight\d+$")
    weight_bytes = sum(size for name, (_, size) in syms.items() if weight.match(name))
    input_bytes = sum(size for name, (_, size) in syms.items()
                      if re.fullmatch(r"te_bench_input\d+", name))
    arena_bytes = syms.get(f"{model.name}_arena", (0, 0))[1]
    static = sections.get(".data", 0) + sections.get(".bss", 0)
    breakdown = map_sizes(fw.map_file, fw.objects)
    breakdown.pop("weights", None)
    breakdown["harness"] = breakdown.get("harness", 0) - input_bytes
    code_bytes = flash - weight_bytes - input_bytes
    # What no object accounts for: the linker's alignment fill between sections.
    breakdown["padding"] = code_bytes - sum(breakdown.values())
    return {"flash_bytes": flash - input_bytes, "code_bytes": code_bytes,
            "weight_bytes": weight_bytes, "bench_input_bytes": input_bytes,
            "code_breakdown": {k: v for k, v in sorted(breakdown.items()) if v},
            "arena_bytes": arena_bytes, "static_bytes": static - arena_bytes}


# ---------------------------------------------------------------------------
# The bench


def bench(model, target: str = "cortex-m4", seed: int = 0, build_dir=None,
          timeout: float = DEFAULT_TIMEOUT, opt: str = "-O2",
          reference_only: bool = False, clock=DEFAULT_CLOCK_HZ,
          flash_wait_states: int = 0, profile: bool = False) -> dict:
    """Build, run and measure a compiled model (tinyedge.load(out_dir)) on an
    emulated target, on seeded random inputs; the outputs must equal the host
    run's byte for byte (else FirmwareMismatchError). Returns every figure.
    reference_only builds the reference kernels even where the target has
    optimized variants. clock (Hz, or text such as "80MHz") and
    flash_wait_states set the cycle estimate (docs/cycles.md); a target without
    a cycle model reports None for cycles, latency_ms and macs_per_cycle.
    profile adds "functions": instructions and cycles per function of the
    firmware, costliest first."""
    from tinyedge.verify import random_inputs

    board_for(target)
    clock_hz = parse_clock(clock)
    if isinstance(flash_wait_states, bool) or not isinstance(flash_wait_states, int) \
            or not 0 <= flash_wait_states <= 15:
        raise TinyEdgeError(f"flash wait states must be a whole number from 0 to 15, "
                            f"not {flash_wait_states!r}")
    inputs = random_inputs(model.inputs, np.random.default_rng(seed))
    with tempfile.TemporaryDirectory(prefix="tinyedge-fw-") as tmp:
        where = Path(build_dir) if build_dir is not None else Path(tmp)
        fw = build_firmware(model, target, inputs, where, opt=opt, seed=seed,
                            reference_only=reference_only)
        run = run_firmware(fw, model, timeout=timeout, flash_wait_states=flash_wait_states,
                           profile=profile)
        mem = memory(fw, model)
    # The firmware runs one inference from the reset state; so must the host.
    model.reset()
    expected = model.run(*inputs)
    differing = [i for i, (a, b) in enumerate(zip(run.outputs, expected))
                 if a.tobytes() != np.ascontiguousarray(b).tobytes()]
    macs = int(model.report["macs"])
    result = {
        "model": model.name, "target": target, "board": fw.board.machine, "opt": opt,
        "seed": seed, "kernel_variants": fw.kernel_variants,
        "kernel_variants_from_tinyedge": fw.variants_from_tinyedge,
        "instructions": run.instructions, "macs": macs,
        "macs_per_instruction": macs / run.instructions if run.instructions else 0.0,
        "cycles": run.cycles, "clock_hz": clock_hz, "flash_wait_states": flash_wait_states,
        "cycle_model": CORE_TIMINGS[target].notes if run.cycles is not None else None,
        "latency_ms": latency_ms(run.cycles, clock_hz) if run.cycles is not None else None,
        "macs_per_cycle": macs / run.cycles if run.cycles else None,
        **mem,
        "stack_bytes": run.stack_bytes,
        "ram_bytes": mem["arena_bytes"] + mem["static_bytes"] + run.stack_bytes,
        "outputs_match_host": not differing,
        "layers": _layers(model.report, run),
    }
    layer_total = sum(e["instructions"] for e in result["layers"])
    if run.functions is not None:
        result["functions"] = run.functions
    result["glue_instructions"] = run.instructions - layer_total
    result["glue_cycles"] = (run.cycles - sum(e["cycles"] for e in result["layers"])
                             if run.cycles is not None else None)
    if differing:
        diff = []
        for i in differing:
            a, b = run.outputs[i].reshape(-1), np.asarray(expected[i]).reshape(-1)
            bad = np.flatnonzero(a.view(np.uint8) != b.view(np.uint8)) // a.itemsize
            diff.append(f"output {i}: {len(np.unique(bad))} of {a.size} values differ "
                        f"(first at {bad[0]}: firmware {a[bad[0]]}, host {b[bad[0]]})")
        built = (f" with {', '.join(fw.kernel_variants)}" if fw.kernel_variants else "")
        err = FirmwareMismatchError(f"{model.name} on {fw.board.machine}{built} disagrees with "
                                    f"the host run (seed {seed}): " + "; ".join(diff))
        err.result = result
        raise err
    return result


def _layers(report: dict, run: RunResult) -> list[dict]:
    """Per-layer instructions and cycles: the n-th kernel call counted belongs
    to the n-th layer of the report that has a kernel; layers without one
    (aliases) cost 0."""
    with_kernel = [entry for entry in report["layers"] if entry["kernel"]]
    assert len(with_kernel) == len(run.layer_instructions), (
        f"{len(run.layer_instructions)} kernel calls counted, {len(with_kernel)} expected")
    has_cycles = run.cycles is not None
    assert not has_cycles or len(run.layer_cycles) == len(run.layer_instructions)
    counts = iter(zip(run.layer_instructions, run.layer_cycles if has_cycles
                      else [None] * len(run.layer_instructions)))
    layers = []
    for entry in report["layers"]:
        n, cycles = next(counts) if entry["kernel"] else (0, 0 if has_cycles else None)
        layers.append({"index": entry["index"], "op": entry["op"], "kernel": entry["kernel"],
                       "macs": entry["macs"], "instructions": n,
                       "macs_per_instruction": entry["macs"] / n if n else 0.0,
                       "cycles": cycles,
                       "macs_per_cycle": entry["macs"] / cycles if cycles else None})
    return layers


def format_bench(result: dict, per_layer: bool = False, top_functions: int = 15) -> str:
    """The bench result as the CLI prints it (with the costliest functions
    when the result has a profile)."""
    def kib(n: int) -> str:
        return f"{n:,} B" if n < 10 * 1024 else f"{n:,} B ({n / 1024:.1f} KiB)"

    lines = [
        f"model         {result['model']} on {result['target']} (QEMU {result['board']}, "
        f"{result['opt']}, seed {result['seed']})",
        "kernels       " + (", ".join(result["kernel_variants"]) + " instead of the reference"
                            if result["kernel_variants"] else "reference"),
        *(["              (tinyedge's, with every kernel path: compiled with --target "
           f"{result['target']}, the folder has its own, with only the model's)"]
          if result.get("kernel_variants_from_tinyedge") else []),
        f"instructions  {result['instructions']:,} per inference",
        f"MACs          {result['macs']:,} ({result['macs_per_instruction']:.3f} per instruction"
        + (f", {result['macs_per_cycle']:.3f} per cycle)" if result["cycles"] else ")"),
        (f"cycles        {result['cycles']:,} estimated ({result['cycle_model']}, "
         f"{result['flash_wait_states']} flash wait states)" if result["cycles"] is not None
         else f"cycles        no cycle model for {result['target']}"),
        *([f"latency       {result['latency_ms']:.3f} ms at {result['clock_hz'] / 1e6:g} MHz "
           "(estimated)"] if result["cycles"] is not None else []),
        f"flash         {kib(result['flash_bytes'])}: code {kib(result['code_bytes'])} + "
        f"weights {kib(result['weight_bytes'])}",
        "  code        " + ", ".join(f"{k} {v:,}" for k, v in result["code_breakdown"].items()),
        f"RAM           {kib(result['ram_bytes'])}: arena {kib(result['arena_bytes'])} + "
        f"stack {kib(result['stack_bytes'])} + other static {kib(result['static_bytes'])}",
        f"outputs       equal to the host run byte for byte: "
        f"{'yes' if result['outputs_match_host'] else 'NO'}",
    ]
    if per_layer:
        cycles = result["cycles"] is not None
        lines.append("")
        lines.append(f"{'#':>4}  {'op':<18} {'kernel':<26} {'MACs':>11} {'instructions':>13} "
                     f"{'MAC/insn':>8} "
                     + (f"{'cycles':>13} {'MAC/cycle':>9} {'ms':>9} " if cycles else "")
                     + f"{'share':>6}")
        for e in result["layers"]:
            if cycles:
                share = e["cycles"] / result["cycles"] if result["cycles"] else 0
                timing = (f"{e['cycles']:>13,} {(e['macs_per_cycle'] or 0):>9.3f} "
                          f"{latency_ms(e['cycles'], result['clock_hz']):>9.3f} ")
            else:
                share = e["instructions"] / result["instructions"] if result["instructions"] else 0
                timing = ""
            lines.append(f"{e['index']:>4}  {e['op']:<18} {(e['kernel'] or '-'):<26} "
                         f"{e['macs']:>11,} {e['instructions']:>13,} "
                         f"{e['macs_per_instruction']:>8.3f} {timing}{share:>6.1%}")
        lines.append(f"{'':>4}  {'(invoke glue: copies, calls, checks)':<45} {'':>11} "
                     f"{result['glue_instructions']:>13,}"
                     + (f" {'':>8} {result['glue_cycles']:>13,}" if cycles else ""))
    if "functions" in result:
        lines += ["", _format_functions(result, top_functions)]
    return "\n".join(lines)


def _format_functions(result: dict, top: int) -> str:
    has_cycles = result["cycles"] is not None
    key = "cycles" if has_cycles else "instructions"
    lines = [f"{'function':<34} {'instructions':>13} "
             + (f"{'cycles':>13} {'cycles/insn':>11} " if has_cycles else "") + f"{'share':>6}"]
    shown = result["functions"][:top]
    rest = result["functions"][top:]
    if rest:
        shown = shown + [{"function": f"({len(rest)} more)",
                          "instructions": sum(f["instructions"] for f in rest),
                          "cycles": sum(f["cycles"] for f in rest)}]
    for f in shown:
        share = f[key] / result[key] if result[key] else 0.0
        timing = (f"{f['cycles']:>13,} {f['cycles'] / max(1, f['instructions']):>11.2f} "
                  if has_cycles else "")
        lines.append(f"{f['function'][:34]:<34} {f['instructions']:>13,} {timing}{share:>6.1%}")
    return "\n".join(lines)
