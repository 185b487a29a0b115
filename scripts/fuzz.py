"""A longer fuzz campaign than the test suite's: mutations of the shared
models, each compiled and run against TFLite Micro (see tests/fuzz_models.py).

    python3 scripts/fuzz.py --start 2000 --cases 20000 [--models ../shared/models]

Prints the outcome counts every 500 cases and stops at the first failure with
its seed (rerun one case with --start SEED --cases 1).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout's tinyedge and test helpers

from fuzz_models import check_case  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=int, default=2000, help="first seed (the tests use 0..)")
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--models", type=Path, default=ROOT.parent / "shared" / "models")
    args = parser.parse_args()
    outcomes: Counter = Counter()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.start, args.start + args.cases):
            try:
                outcomes[check_case(args.models, seed, Path(tmp) / "out")] += 1
            except AssertionError as exc:
                print(f"FAIL {exc}")
                return 1
            done = seed - args.start + 1
            if done % 500 == 0 or done == args.cases:
                print(f"{done} cases in {time.monotonic() - started:.0f} s: {dict(outcomes)}",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
