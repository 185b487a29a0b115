"""Build C sources into a shared library on the host and load it with CFFI.

Object files and libraries are cached by the hash of everything that goes
into them (source, the headers it can see, flags): the kernels compile once
for all models, and re-running a model or a kernel test does not recompile.
With sanitizers on (``TINYEDGE_SANITIZE=1``, as the test suite sets), the
library is built with AddressSanitizer and UndefinedBehaviorSanitizer and any
report aborts the process; the ASan runtime must then be preloaded into
Python (tests/conftest.py does it).
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

import cffi

from tinyedge.errors import BuildError

COMPILE_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fPIC"]
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


INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def _content_digest(source: Path, include_dirs: list[Path]) -> str:
    """Hash of a source and every header it includes with quotes, transitively
    (angle-bracket includes are the C library's)."""
    digest = hashlib.sha256()
    seen: set[Path] = set()
    pending = [source]
    while pending:
        path = pending.pop()
        text = path.read_bytes()
        digest.update(text)
        for name in INCLUDE.findall(text.decode("utf-8", "replace")):
            for d in [path.parent] + list(include_dirs):
                candidate = (Path(d) / name).resolve()
                if candidate.is_file():
                    if candidate not in seen:
                        seen.add(candidate)
                        pending.append(candidate)
                    break
    return digest.hexdigest()


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"host C build failed:\n{' '.join(cmd)}\n{result.stderr.strip()}")


def _object(source: Path, include_dirs: list[Path], flags: list[str]) -> Path:
    """Compile one source to an object file, cached by its content, the headers
    it includes and the flags (kernels are shared by every model: built once)."""
    digest = hashlib.sha256(" ".join(flags).encode()
                            + _content_digest(source, include_dirs).encode())
    obj = cache_dir() / "objects" / f"{source.stem}-{digest.hexdigest()[:24]}.o"
    if not obj.exists():
        obj.parent.mkdir(exist_ok=True)
        tmp = obj.with_suffix(f".tmp{os.getpid()}.o")
        _run(["gcc", "-c"] + flags + [f"-I{d}" for d in include_dirs]
             + [str(source), "-o", str(tmp)])
        os.replace(tmp, obj)
    return obj


def build_library(sources: list[Path], include_dirs: list[Path],
                  sanitize: bool | None = None) -> Path:
    """Compile sources into one shared library and return its cached path."""
    sanitize = sanitizers_enabled() if sanitize is None else sanitize
    flags = COMPILE_FLAGS + (SANITIZE_FLAGS if sanitize else OPTIMIZE_FLAGS)
    objects = [_object(Path(s), include_dirs, flags) for s in sources]
    digest = hashlib.sha256(" ".join(flags).encode())
    for obj in objects:
        digest.update(obj.name.encode())
    lib_path = cache_dir() / f"lib{digest.hexdigest()[:24]}.so"
    if not lib_path.exists():
        tmp = lib_path.with_suffix(f".tmp{os.getpid()}.so")
        _run(["gcc", "-shared"] + flags + [str(o) for o in objects] + ["-o", str(tmp), "-lm"])
        os.replace(tmp, lib_path)
    return lib_path


def load_library(lib_path: Path, cdef: str):
    """Open a built library with CFFI (ABI mode); returns (ffi, lib)."""
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    return ffi, ffi.dlopen(str(lib_path))
