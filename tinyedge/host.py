"""Build C sources into a shared library on the host and load it with CFFI.

Builds are cached by the hash of everything that goes into them (sources,
headers, flags), so re-running a model or a kernel test does not recompile.
With sanitizers on (``TINYEDGE_SANITIZE=1``, as the test suite sets), the
library is built with AddressSanitizer and UndefinedBehaviorSanitizer and any
report aborts the process; the ASan runtime must then be preloaded into
Python (tests/conftest.py does it).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

import cffi

from tinyedge.errors import BuildError

BASE_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fPIC", "-shared"]
SANITIZE_FLAGS = ["-O1", "-g", "-fno-omit-frame-pointer",
                  "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
OPTIMIZE_FLAGS = ["-O2"]


def sanitizers_enabled() -> bool:
    return os.environ.get("TINYEDGE_SANITIZE", "0") == "1"


def cache_dir() -> Path:
    root = os.environ.get("TINYEDGE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tinyedge")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _files_under(dirs: list[Path]) -> list[Path]:
    found = []
    for d in dirs:
        found.extend(p for p in sorted(Path(d).rglob("*")) if p.suffix in (".c", ".h"))
    return found


def build_library(sources: list[Path], include_dirs: list[Path],
                  sanitize: bool | None = None) -> Path:
    """Compile sources into one shared library and return its cached path."""
    sanitize = sanitizers_enabled() if sanitize is None else sanitize
    flags = BASE_FLAGS + (SANITIZE_FLAGS if sanitize else OPTIMIZE_FLAGS)
    digest = hashlib.sha256(" ".join(flags).encode())
    for path in sorted(set(map(Path, sources))) + _files_under(include_dirs):
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes())
    lib_path = cache_dir() / f"lib{digest.hexdigest()[:24]}.so"
    if lib_path.exists():
        return lib_path
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        tmp_lib = Path(tmp) / lib_path.name
        cmd = (["gcc"] + flags + [f"-I{d}" for d in include_dirs]
               + [str(s) for s in sources] + ["-o", str(tmp_lib), "-lm"])
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError(f"host C build failed:\n{' '.join(cmd)}\n{result.stderr.strip()}")
        os.replace(tmp_lib, lib_path)
    return lib_path


def load_library(lib_path: Path, cdef: str):
    """Open a built library with CFFI (ABI mode); returns (ffi, lib)."""
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    return ffi, ffi.dlopen(str(lib_path))
