"""Compile the MLPerf Tiny keyword-spotting model, run the generated C on the
bundled sample, and print the report and the predicted keyword.

    python3 examples/kws/demo.py [--out out/kws]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import tinyedge
from tinyedge.errors import TinyEdgeError

HERE = Path(__file__).resolve().parent
LABELS = ["down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes",
          "silence", "unknown"]
CORTEX_M4 = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]


def cortex_m4_sizes(model) -> tuple[int, int] | None:
    """(code bytes, constant data bytes) of the model built for a Cortex-M4 with
    arm-none-eabi-gcc -Os, or None when the toolchain is missing."""
    if shutil.which("arm-none-eabi-gcc") is None:
        return None
    out = model.out_dir
    code = data = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, source in enumerate(model.report["c_sources"]):
            obj = Path(tmp) / f"{i}.o"
            subprocess.run(["arm-none-eabi-gcc", "-std=c99", "-Os", *CORTEX_M4, "-ffunction-sections",
                            "-fdata-sections", f"-I{out}", f"-I{out / 'kernels/include'}", "-c",
                            str(out / source), "-o", str(obj)], check=True)
            sizes = subprocess.run(["arm-none-eabi-size", "-A", str(obj)], check=True,
                                   capture_output=True, text=True).stdout
            for line in sizes.splitlines():
                parts = line.split()
                if len(parts) >= 2 and parts[1].isdigit():
                    if parts[0].startswith(".text"):
                        code += int(parts[1])
                    elif parts[0].startswith(".rodata"):
                        data += int(parts[1])
    return code, data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/kws", help="output folder")
    args = parser.parse_args()

    model = tinyedge.compile(HERE / "kws_ref_model.tflite", args.out)
    report = model.report
    print(f"compiled {report['source']} -> {model.out_dir}/")
    print(f"  layers   {len(report['layers'])}")
    print(f"  MACs     {report['macs']:,}")
    print(f"  arena    {report['arena_bytes']:,} B of RAM (activations, one static buffer)")
    print(f"  weights  {report['weight_bytes']:,} B of flash "
          f"(+ {report['param_bytes']:,} B of requantization parameters)")
    sizes = cortex_m4_sizes(model)
    if sizes:
        print(f"  Cortex-M4 build (arm-none-eabi-gcc -Os): {sizes[0]:,} B code, "
              f"{sizes[1]:,} B constant data")
    print("\n  #  op                 output        MACs  live bytes")
    for layer in report["layers"]:
        shape = "x".join(map(str, layer["outputs"][0]))
        print(f"{layer['index']:>3}  {layer['op']:<18} {shape:<10} {layer['macs']:>9,} "
              f"{layer['live_bytes']:>10,}")

    features = np.load(HERE / "kws_sample_input.npy").reshape(1, 49, 10, 1)
    (scores,) = model.run(features)
    scores = scores.reshape(-1)
    best = int(np.argmax(scores))
    print(f"\nhost run of the generated C on kws_sample_input.npy:")
    print("  scores   " + " ".join(f"{label}={int(s)}" for label, s in zip(LABELS, scores)))
    print(f"  keyword  {LABELS[best]!r} (class {best})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TinyEdgeError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        sys.exit(1)
