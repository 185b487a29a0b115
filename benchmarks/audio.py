"""Streaming benchmark of the stateful (SVDF / LSTM) shared models: RAM and time per frame.

    python benchmarks/audio.py [--models NAME ...] [--clock-mhz 80] [--flash-wait-states 0]
                               [--target cortex-m4]

For each model: tinyedge's arena plus its state block (the variable tensors kept between
invocations) against TFLite Micro's smallest working arena (which holds the variable tensors
too; searched with one forked child per trial, see benchmarks/memory.py), then the executed
instructions and estimated cycles of one invocation on the emulated Cortex-M4
(firmware.bench: one invocation from the reset state, outputs checked against the host run;
cycles from the TRM timings, docs/cycles.md). One invocation is one frame for the streaming
models: the time per frame at the given clock, and the clock that fits one frame in the hop.

dtln_noise_suppression takes one 257-bin magnitude spectrum per invocation: a 512-sample FFT
frame (257 = 512 / 2 + 1), and DTLN (Westhausen & Meyer, Interspeech 2020) shifts its 32 ms
frames by 8 ms, 128 samples at 16 kHz: that hop is the real-time budget per invocation. The
other models have no hop in their provenance (micro_speech_lstm and mnist_lstm_int8 take a
whole sequence per invocation; keyword_scrambled has random weights).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import MODELS_DIR, tflm_min_arena  # noqa: E402

# model -> frame hop in milliseconds (None: one invocation is not a frame of a stream)
MODELS = {
    "dtln_noise_suppression": 128 / 16000 * 1000,
    "keyword_scrambled": None,
    "micro_speech_lstm": None,
    "mnist_lstm_int8": None,
}


def measure(name: str, target: str, clock_mhz: float, wait_states: int) -> dict:
    import tinyedge
    from tinyedge.firmware import bench

    data = (MODELS_DIR / "tflm" / f"{name}.tflite").read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        model = tinyedge.compile(data, Path(tmp) / name, name=name, target=target)
        result = bench(model, target=target, clock=clock_mhz * 1e6,
                       flash_wait_states=wait_states)
    report = model.report
    row = {"model": name, "arena": report["arena_bytes"], "state": report["state_bytes"],
           "tflm_arena": tflm_min_arena(data), "instructions": result["instructions"],
           "cycles": result["cycles"], "ms_per_frame": result["latency_ms"],
           "macs": result["macs"], "hop_ms": MODELS[name]}
    return row


def table(rows: list[dict], clock_mhz: float) -> str:
    head = ["model", "arena + state (B)", "TFLM min arena (B)", "ratio", "insns/frame", "MACs",
            "est. cycles/frame", f"ms/frame @{clock_mhz:g} MHz", "hop (ms)", "MHz for real time"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        ours = r["arena"] + r["state"]
        hop = r["hop_ms"]
        lines.append("| " + " | ".join([
            r["model"], f"{r['arena']:,} + {r['state']:,} = {ours:,}", f"{r['tflm_arena']:,}",
            f"{ours / r['tflm_arena']:.2f}", f"{r['instructions']:,}", f"{r['macs']:,}",
            f"{r['cycles']:,}", f"{r['ms_per_frame']:.3f}", "-" if hop is None else f"{hop:g}",
            "-" if hop is None else f"{r['cycles'] / (hop * 1e3):.0f}"]) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--clock-mhz", type=float, default=80.0)
    parser.add_argument("--flash-wait-states", type=int, default=0)
    parser.add_argument("--target", default="cortex-m4")
    args = parser.parse_args(argv)
    rows = [measure(name, args.target, args.clock_mhz, args.flash_wait_states)
            for name in args.models]
    print(table(rows, args.clock_mhz))
    return 0


if __name__ == "__main__":
    sys.exit(main())
