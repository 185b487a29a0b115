"""Fuzzed models: every mutation of a real model either compiles and runs
bit-exact with TFLite Micro on the host, or raises tinyedge's own one-line
error, in under 10 seconds. TINYEDGE_FUZZ_CASES sets the count (default
2000); scripts/fuzz.py runs longer campaigns."""
from __future__ import annotations

import os
from collections import Counter

from fuzz_models import check_case

CASES = int(os.environ.get("TINYEDGE_FUZZ_CASES", "2000"))


def test_mutated_models(shared_models, tmp_path):
    outcomes = Counter(check_case(shared_models, seed, tmp_path / "out")
                       for seed in range(CASES))
    print(f"\nfuzz: {CASES} cases: {dict(outcomes)}")
    assert sum(outcomes.values()) == CASES
