"""Test-wide setup: every host build of C code in the tests runs under
AddressSanitizer and UndefinedBehaviorSanitizer.

Python itself is not instrumented, so the ASan runtime must be loaded before
anything else: when it is not, this re-executes the same pytest command with
the runtime preloaded. TINYEDGE_SANITIZE=0 turns it off (for quick runs).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest


def pytest_configure(config) -> None:
    _preload_asan(config)


def _preload_asan(config) -> None:
    if os.environ.get("TINYEDGE_SANITIZE") == "0":
        return
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        os.environ["TINYEDGE_SANITIZE"] = "1"
        return
    runtime = subprocess.run(["gcc", "-print-file-name=libasan.so"],
                             capture_output=True, text=True).stdout.strip()
    # libstdc++ loaded up front too: ASan's __cxa_throw interceptor looks up the
    # real function once, at start-up; without it any C++ exception thrown in an
    # extension (TensorFlow, optree) aborts with "real___cxa_throw != 0".
    cxx = subprocess.run(["gcc", "-print-file-name=libstdc++.so"],
                         capture_output=True, text=True).stdout.strip()
    env = dict(os.environ,
               LD_PRELOAD=f"{runtime} {cxx}" if os.path.isabs(cxx) else runtime,
               ASAN_OPTIONS="detect_leaks=0:abort_on_error=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1",
               TINYEDGE_SANITIZE="1")
    # pytest already redirects the standard streams; give them back first.
    config.pluginmanager.getplugin("capturemanager").stop_global_capturing()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable] + sys.orig_argv[1:], env)

SHARED_MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"


@pytest.fixture(scope="session")
def shared_models() -> Path:
    if not SHARED_MODELS.is_dir():
        pytest.skip(f"shared models not found at {SHARED_MODELS}")
    return SHARED_MODELS
