"""How far an op's output may overlap one of its inputs.

Every tinyedge kernel writes its output in increasing address order. An output
may therefore share bytes with an input that dies at this op, as long as no
write lands on an input byte the kernel still has to read. Each function here
returns the largest allowed `output_offset - input_offset` in bytes (usually
negative: the output starts below the input), derived from the kernel's exact
read and write order:

    limit = min over output groups k of (lowest input byte still to be read
                                         when group k is written)
                                        - (end of group k's bytes)

A group is what the kernel writes while it may still read the same input
bytes: one pixel (all channels) for windowed ops, one row for fully
connected, one element for elementwise ops.
"""
from __future__ import annotations

import numpy as np

NO_READ = np.iinfo(np.int64).max
UNLIMITED = 1 << 40  # no input byte is read after the first write


def _limit(still_needed: np.ndarray, write_end: np.ndarray) -> int:
    """min(still_needed - write_end) over the groups that still have reads left;
    still_needed[k] is the lowest input byte read by group k or a later one."""
    reads_left = still_needed != NO_READ
    if not reads_left.any():
        return UNLIMITED
    return int(np.min(still_needed[reads_left] - write_end[reads_left]))


def _suffix_min(values: np.ndarray) -> np.ndarray:
    return np.minimum.accumulate(values[::-1])[::-1]


def _first_tap(origin: np.ndarray, dilation: int, size: int, taps: int) -> np.ndarray:
    """Index of the first in-bounds input row (or column) of each window, -1 if none."""
    steps = np.where(origin >= 0, 0, (-origin + dilation - 1) // dilation)
    first = origin + steps * dilation
    return np.where((steps < taps) & (first < size), first, -1)


def window_limit(input_shape, output_shape, kernel_hw, stride_hw, dilation_hw, pad_hw,
                 in_itemsize: int = 1, out_itemsize: int = 1) -> int:
    """Convolution, depthwise convolution and pooling over NHWC tensors: output
    pixel (n, y, x) reads a window of input pixels, every channel of them, while
    it writes its channels."""
    n, h, w, c = input_shape
    _, oh, ow, oc = output_shape
    first_row = _first_tap(np.arange(oh) * stride_hw[0] - pad_hw[0], dilation_hw[0], h,
                           kernel_hw[0])[:, None]
    first_col = _first_tap(np.arange(ow) * stride_hw[1] - pad_hw[1], dilation_hw[1], w,
                           kernel_hw[1])[None, :]
    reads = ((first_row >= 0) & (first_col >= 0)).reshape(-1)
    offset = ((first_row * w + first_col) * c).reshape(-1).astype(np.int64)
    lowest = np.concatenate([np.where(reads, (offset + b * h * w * c) * in_itemsize, NO_READ)
                             for b in range(n)])
    write_end = (np.arange(n * oh * ow, dtype=np.int64) + 1) * oc * out_itemsize
    return _limit(_suffix_min(lowest), write_end)


def rows_limit(rows: int, in_row_bytes: int, out_row_bytes: int) -> int:
    """Fully connected: output row b reads all of input row b."""
    lowest = np.arange(rows, dtype=np.int64) * in_row_bytes
    write_end = (np.arange(rows, dtype=np.int64) + 1) * out_row_bytes
    return _limit(lowest, write_end)


def elementwise_limit(read_index: np.ndarray, in_itemsize: int, out_itemsize: int) -> int:
    """Output element k reads input element read_index[k] and is written
    right after; only the reads of later elements must survive."""
    count = read_index.size
    lowest = read_index.reshape(-1).astype(np.int64) * in_itemsize
    later = np.append(_suffix_min(lowest)[1:], NO_READ)
    write_end = (np.arange(count, dtype=np.int64) + 1) * out_itemsize
    return _limit(later, write_end)
