"""RAM benchmark: tinyedge's activation arena against TFLite Micro's smallest working arena.

    python benchmarks/memory.py [--models NAME ...] [--models-dir DIR]

For every MLPerf Tiny model and the convolutional / feed-forward TFLite Micro examples in the
shared models folder, prints tinyedge's arena (report["arena_bytes"], plus report["state_bytes"]
for models with variable tensors), the smallest arena with
which TFLite Micro's interpreter allocates and invokes the model (binary search, 16-byte steps),
their ratio, the lower bound of the plain op-by-op schedule (max over layers of the bytes of
the activation tensors live at that layer) and the weight bytes. Models tinyedge cannot compile
yet are listed with the reason instead of numbers.

TFLite Micro's arena also holds its own bookkeeping (tensor structs, node/op data, allocator
state, scratch buffers), so the two columns measure "RAM for the model" on each side, not just
activations; the numbers are those of the host build (64-bit pointers).
"""
from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MODELS_DIR = Path(__file__).resolve().parents[2] / "shared" / "models"
# (folder, model names in table order; None = every .tflite in the folder)
SETS = [
    ("mlperf_tiny", None),
    ("tflm", ["hello_world_int8", "micro_speech_quantized", "person_detect", "simple_add_model",
              "test_conv_model",
              # stateful: tinyedge's state block is counted in its arena column here
              "micro_speech_lstm", "mnist_lstm_int8", "dtln_noise_suppression",
              "keyword_scrambled", "mobilenet_v2_quantized_1x3x224x224"]),
]
ALIGN = 16  # TFLite Micro aligns its arena and its allocations to 16 bytes
MAX_ARENA = 256 << 20


def _tflm_attempt(model: bytes, arena_size: int) -> None:
    """Allocate a fresh TFLM interpreter with this arena and run one inference on zeros."""
    from tflite_micro import runtime
    interpreter = runtime.Interpreter.from_bytes(model, arena_size=arena_size)
    index = 0
    while True:
        try:
            details = interpreter.get_input_details(index)
        except IndexError:
            break
        interpreter.set_input(np.zeros(details["shape"], dtype=details["dtype"]), index)
        index += 1
    interpreter.invoke()


def _tflm_runs(model: bytes, arena_size: int) -> bool:
    """Whether TFLM allocates and invokes the model with this arena.

    Each attempt runs in a forked child: with some too-small arenas (SVDF, MobileNetV2) TFLM
    does not raise but crashes (a size computation underflows), so a crash counts as a
    failure instead of killing the benchmark. The child is also a fresh interpreter, so no
    state is carried from one size to the next.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)  # TFLM prints failed allocations to C-level stderr
            _tflm_attempt(model, arena_size)
            code = 0
        except BaseException:  # noqa: BLE001 - TFLM raises RuntimeError on a short arena
            pass
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def tflm_min_arena(model: bytes) -> int:
    """Smallest arena (a multiple of 16 bytes) with which TFLite Micro runs the model."""
    hi = 16 << 10
    while not _tflm_runs(model, hi):
        if hi >= MAX_ARENA:
            raise RuntimeError(f"TFLite Micro fails even with a {MAX_ARENA}-byte arena")
        hi *= 2
    lo = 0  # lo fails (or is 0), hi works
    while hi - lo > ALIGN:
        mid = (lo + hi) // 2 // ALIGN * ALIGN
        if _tflm_runs(model, mid):
            hi = mid
        else:
            lo = mid
    return hi


def tflm_unstable_above(model: bytes, size: int) -> list[int]:
    """Sizes a little above the found minimum at which TFLM fails (binary search assumes none)."""
    return [size + d for d in (16, 32, 64, 128, 256, 1024, 4096)
            if not _tflm_runs(model, size + d)]


def _short_reason(exc: Exception) -> str:
    """One short cell out of a compile error: the unsupported op names, else the first words."""
    text = str(exc)
    ops = list(dict.fromkeys(re.findall(r"([A-Z][A-Z0-9_]+) \(operator \d+\)", text)))
    if ops:
        return "unsupported: " + ", ".join(ops)
    text = text.split(";")[0]
    return text if len(text) <= 60 else text[:57] + "..."


def measure(path: Path) -> dict:
    import tinyedge
    row = {"model": path.stem}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            report = tinyedge.compile(path, Path(tmp) / "out").report
        # TFLite Micro's arena holds the variable tensors too: count our state block.
        row["ours"] = report["arena_bytes"] + report.get("state_bytes", 0)
        row["bound"] = report["plain_schedule_bytes"]
        row["weights"] = report["weight_bytes"]
    except Exception as exc:  # noqa: BLE001 - an uncompilable model is a row, not a crash
        row["reason"] = _short_reason(exc)
    try:
        model = path.read_bytes()
        row["tflm"] = tflm_min_arena(model)
        row["tflm_unstable"] = tflm_unstable_above(model, row["tflm"])
    except Exception as exc:  # noqa: BLE001
        row["tflm_error"] = _short_reason(exc)
    return row


def model_paths(models_dir: Path, wanted: list[str] | None) -> list[Path]:
    paths = []
    for folder, names in SETS:
        directory = models_dir / folder
        if names is None:
            found = sorted(directory.glob("*.tflite"))
        else:
            found = [directory / f"{name}.tflite" for name in names]
        paths += [p for p in found if p.exists()]
    if wanted:
        keep = {Path(w).stem for w in wanted}
        unknown = keep - {p.stem for p in paths}
        if unknown:
            sys.exit(f"unknown model(s): {', '.join(sorted(unknown))} "
                     f"(known: {', '.join(p.stem for p in paths)})")
        paths = [p for p in paths if p.stem in keep]
    return paths


def _cells(row: dict) -> list[str]:
    if "tflm" in row:
        tflm = f"{row['tflm']:,}" + ("*" if row["tflm_unstable"] else "")
    else:
        tflm = f"error: {row['tflm_error']}"
    if "reason" in row:
        return [row["model"], "-", tflm, "-", "-", "-", row["reason"]]
    ratio = f"{row['ours'] / row['tflm']:.2f}" if "tflm" in row else "n/a"
    return [row["model"], f"{row['ours']:,}", tflm, ratio, f"{row['bound']:,}",
            f"{row['weights']:,}", ""]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", metavar="NAME",
                        help="only these models (file stems, e.g. kws_ref_model)")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR,
                        help=f"shared models folder (default {MODELS_DIR})")
    args = parser.parse_args(argv)

    paths = model_paths(args.models_dir, args.models)
    if not paths:
        sys.exit(f"no models found under {args.models_dir}")
    start = time.time()
    rows = [measure(p) for p in paths]

    print("Columns: tinyedge arena = report['arena_bytes'] + report['state_bytes']; "
          "TFLM arena = smallest arena_size "
          f"(to {ALIGN} B) with which TFLite Micro's Python interpreter allocates and invokes the "
          "model on this host; ratio = tinyedge / TFLM; plain-schedule bound = lower bound of "
          "the plain op-by-op schedule (each layer's output in a buffer of its own), max over "
          "layers of the summed bytes of the activation tensors live at that layer; in-place "
          "layers let the tinyedge arena go below it; weights = report['weight_bytes']; "
          "note = why tinyedge cannot compile the model "
          "yet. All in bytes.")
    header = ["model", "tinyedge arena", "TFLM arena", "ratio", "plain-schedule bound",
              "weights", "note"]
    table = [header] + [_cells(r) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    numeric = [False, True, True, True, True, True, False]

    def fmt(line):
        cells = []
        for i, cell in enumerate(line):
            right = numeric[i] and (line is header or cell[:1].isdigit() or cell in ("n/a", "-"))
            cells.append(cell.rjust(widths[i]) if right else cell.ljust(widths[i]))
        return "| " + " | ".join(cells) + " |"

    print(fmt(header))
    print("|" + "|".join(("-" * (w + 1) + ":") if numeric[i] else "-" * (w + 2)
                         for i, w in enumerate(widths)) + "|")
    for line in table[1:]:
        print(fmt(line))
    for r in rows:
        if r.get("tflm_unstable"):
            print(f"* {r['model']}: TFLM also fails at {r['tflm_unstable']} bytes, above the "
                  "minimum found: the binary search assumed a monotone arena size")
    ratios = [r["ours"] / r["tflm"] for r in rows if "ours" in r and "tflm" in r]
    if ratios:
        geomean = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
        print(f"Geometric mean of tinyedge/TFLM over {len(ratios)} models: {geomean:.3f} "
              f"({time.time() - start:.0f} s)")
    else:
        print("Geometric mean of tinyedge/TFLM: n/a (no model compiled and ran under TFLM)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
