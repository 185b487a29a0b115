"""Speed and size on an emulated Cortex-M4 (or another target): tinyedge against TFLite Micro.

    python benchmarks/cortex_m.py [--target cortex-m4] [--opt O2] [--models KWS VWW ...]
                                  [--models-dir DIR] [--per-layer]
                                  [--clock 120MHz] [--flash-wait-states 5]

For the MLPerf Tiny models (KWS, VWW, IC = pretrainedResnet_quant, AD = ad01_int8, streaming
wake word = str_ww_ref_model), compiles the model, builds it as firmware for QEMU's mps2-an386
(tinyedge.firmware), runs one inference on seeded random inputs, checks the outputs equal the
host run byte for byte, and prints: executed instructions per inference, MACs, MACs per
instruction, code bytes (everything in flash that is not weights or the bench inputs), weight
bytes, arena, stack high-water mark. Beside them, on cortex-m4, TFLite Micro's figures measured
the same way (docs/DESIGN.md, "The peer": reference kernels and CMSIS-NN kernels, code bytes
ref / CMSIS-NN).
A second table gives the estimated cycles (docs/cycles.md), MACs per cycle and latency at the
clock and flash wait states of the MLPerf Tiny reference board, an STM32L4R5 (120 MHz, 5 wait
states), beside the published MLPerf Tiny latencies on that board.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tinyedge  # noqa: E402
from tinyedge.cycles import STM32L4R5_WAIT_STATES_120MHZ, parse_clock  # noqa: E402
from tinyedge.errors import TinyEdgeError  # noqa: E402
from tinyedge.firmware import bench  # noqa: E402

MODELS_DIR = ROOT.parent / "shared" / "models" / "mlperf_tiny"
MODELS = [("KWS", "kws_ref_model"), ("VWW", "vww_96_int8"), ("IC", "pretrainedResnet_quant"),
          ("AD", "ad01_int8"), ("WW", "str_ww_ref_model")]
# TFLite Micro at 90b983c on QEMU mps2-an386 (docs/DESIGN.md, "The peer"):
# instructions with reference kernels, with CMSIS-NN kernels, code bytes ref / CMSIS-NN.
PEER = {
    "KWS": (43_039_879, 7_697_902, 41_244, 84_132),
    "VWW": (100_241_161, 24_101_962, 41_244, 84_132),
    "IC": (107_406_111, 29_861_680, 45_656, 78_960),
    "AD": (1_952_364, 582_964, 20_212, 31_764),
}
# Published MLPerf Tiny latencies on the STM32L4R5 (Cortex-M4, 120 MHz), in ms: the best
# result on that board, and the original TFLite Micro reference submission.
PUBLISHED_MS = {"KWS": (43.0, 182.0), "VWW": (89.0, 601.0), "IC": (165.0, 704.0),
                "AD": (4.05, 10.0)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="cortex-m4")
    parser.add_argument("--opt", default="O2", choices=["O0", "O1", "O2", "O3", "Os"])
    parser.add_argument("--models", nargs="*", default=[label for label, _ in MODELS],
                        help="labels to run (default: all)")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-layer", action="store_true", help="also print each model's layers")
    parser.add_argument("--ref-kernels", action="store_true",
                        help="reference kernels even where the target has optimized ones")
    parser.add_argument("--clock", default="120MHz", help="clock of the latency estimate")
    parser.add_argument("--flash-wait-states", type=int, default=STM32L4R5_WAIT_STATES_120MHZ)
    args = parser.parse_args()
    clock_hz = parse_clock(args.clock)

    header = (f"{'model':<5} {'instructions':>13} {'MACs':>11} {'MAC/insn':>8} {'code B':>8} "
              f"{'weight B':>9} {'arena B':>8} {'stack B':>7} | {'TFLM ref insns':>14} "
              f"{'TFLM CMSIS insns':>16} {'TFLM code B ref/CMSIS':>21}  {'vs ref':>6} "
              f"{'vs CMSIS':>8}")
    timing_header = (f"{'model':<5} {'est. cycles':>13} {'MAC/cycle':>9} {'est. ms':>9} | "
                     f"{'best published ms':>17} {'TFLM ref ms':>11}  {'est./best':>9}")
    rows, timing_rows, notes = [], [], []
    with tempfile.TemporaryDirectory(prefix="tinyedge-bench-") as tmp:
        for label, stem in MODELS:
            if label not in args.models:
                continue
            started = time.time()
            try:
                # compiled for the target: its kernels, with only the paths the model takes
                model = tinyedge.compile(args.models_dir / f"{stem}.tflite", Path(tmp) / stem,
                                         target=args.target)
                r = bench(model, args.target, seed=args.seed, opt=f"-{args.opt}",
                          reference_only=args.ref_kernels, clock=clock_hz,
                          flash_wait_states=args.flash_wait_states)
            except TinyEdgeError as exc:
                rows.append(f"{label:<5} not measured: {exc}")
                continue
            # TFLite Micro's figures are Cortex-M4 ones (mps2-an386)
            peer = PEER.get(label) if args.target == "cortex-m4" else None
            if peer:
                ref, cmsis, code_ref, code_cmsis = peer
                tail = (f"{ref:>14,} {cmsis:>16,} {f'{code_ref:,} / {code_cmsis:,}':>21}  "
                        f"{ref / r['instructions']:>5.2f}x {cmsis / r['instructions']:>7.2f}x")
            else:
                tail = f"{'-':>14} {'-':>16} {'-':>21}  {'-':>6} {'-':>8}"
            rows.append(f"{label:<5} {r['instructions']:>13,} {r['macs']:>11,} "
                        f"{r['macs_per_instruction']:>8.3f} {r['code_bytes']:>8,} "
                        f"{r['weight_bytes']:>9,} {r['arena_bytes']:>8,} {r['stack_bytes']:>7,} | "
                        + tail)
            if r["cycles"] is not None:
                best, ref_ms = PUBLISHED_MS.get(label, (None, None))
                timing_rows.append(
                    f"{label:<5} {r['cycles']:>13,} {r['macs_per_cycle']:>9.3f} "
                    f"{r['latency_ms']:>9.2f} | "
                    + (f"{best:>17g} {ref_ms:>11g}  {r['latency_ms'] / best:>8.2f}x" if best
                       else f"{'-':>17} {'-':>11}  {'-':>9}"))
            notes.append(f"{label}: {stem}, kernels: "
                         f"{', '.join(r['kernel_variants']) or 'reference'}; outputs equal to "
                         "the host run: "
                         f"{'yes' if r['outputs_match_host'] else 'NO'}, code "
                         + ", ".join(f"{k} {v:,}" for k, v in r["code_breakdown"].items())
                         + f" ({time.time() - started:.1f} s)")
            if args.per_layer:
                for e in r["layers"]:
                    notes.append(f"    {e['index']:>3} {e['op']:<18} {e['macs']:>11,} MACs "
                                 f"{e['instructions']:>12,} insns "
                                 f"{e['macs_per_instruction']:>6.3f} MAC/insn"
                                 + (f" {e['cycles']:>12,} cycles" if e["cycles"] is not None
                                    else ""))
    kernels = "reference kernels" if args.ref_kernels else "the target's kernels"
    print(f"tinyedge on {args.target} (QEMU, -{args.opt}, {kernels}) vs TFLite Micro "
          "(docs/DESIGN.md); 'vs' = TFLite Micro instructions / ours"
          + ("" if args.target == "cortex-m4" else " (measured on cortex-m4 only)"))
    print(header)
    print("-" * len(header))
    for row in rows:
        print(row)
    if timing_rows:
        print()
        print(f"Estimated on {args.target} at {clock_hz / 1e6:g} MHz with "
              f"{args.flash_wait_states} flash wait states (docs/cycles.md) vs the published "
              "MLPerf Tiny latencies on an STM32L4R5 (Cortex-M4, 120 MHz)")
        print(timing_header)
        print("-" * len(timing_header))
        for row in timing_rows:
            print(row)
    print()
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
