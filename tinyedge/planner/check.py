"""An independent check of a memory plan: no two buffers alive at the same
step may share a byte."""
from __future__ import annotations


def find_overlaps(buffers) -> list[tuple[int, int]]:
    """Index pairs of buffers (objects with size, first, last, offset) that
    are alive at the same time and share at least one byte."""
    clashes = []
    for i, a in enumerate(buffers):
        for j in range(i + 1, len(buffers)):
            b = buffers[j]
            if a.size == 0 or b.size == 0:
                continue
            alive_together = a.first <= b.last and b.first <= a.last
            share_bytes = a.offset < b.offset + b.size and b.offset < a.offset + a.size
            if alive_together and share_bytes:
                clashes.append((i, j))
    return clashes
