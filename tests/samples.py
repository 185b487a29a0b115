"""Real sample inputs shipped with the shared models, as model inputs."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np


def read_gray_bmp(path: Path) -> np.ndarray:
    """An 8-bit grayscale BMP as a uint8 array [height, width], top row first."""
    data = path.read_bytes()
    assert data[:2] == b"BM", f"{path} is not a BMP file"
    pixels_at = struct.unpack("<I", data[10:14])[0]
    width, height = struct.unpack("<ii", data[18:26])
    bits = struct.unpack("<H", data[28:30])[0]
    assert bits == 8, f"{path}: {bits}-bit BMP, expected 8-bit grayscale"
    row_bytes = (width + 3) // 4 * 4
    rows = [np.frombuffer(data, np.uint8, width, pixels_at + r * row_bytes)
            for r in range(abs(height))]
    image = np.stack(rows)
    return image[::-1] if height > 0 else image  # positive height: stored bottom-up


def person_detect_input(path: Path) -> np.ndarray:
    """person_detect's sample images hold int8 pixels stored as raw bytes (TFLite
    Micro's example reads them unchanged): reinterpret, do not shift."""
    return read_gray_bmp(path).view(np.int8).reshape(1, 96, 96, 1)
