"""An independent check of a memory plan: no two buffers alive at the same
step share a byte, except an op's input and output whose overlap the op's
rule allows."""
from __future__ import annotations


def find_overlaps(buffers, overlap_limits: dict[tuple[int, int], int] | None = None
                  ) -> list[tuple[int, int]]:
    """Index pairs of buffers (objects with size, first, last, offset) alive at
    the same time that share at least one byte without being allowed to.
    overlap_limits[(input, output)] is the largest allowed
    offset(output) - offset(input) for a pair that may share bytes."""
    limits = overlap_limits or {}
    clashes = []
    for i, a in enumerate(buffers):
        for j in range(i + 1, len(buffers)):
            b = buffers[j]
            if a.size == 0 or b.size == 0:
                continue
            alive_together = a.first <= b.last and b.first <= a.last
            share_bytes = a.offset < b.offset + b.size and b.offset < a.offset + a.size
            if not (alive_together and share_bytes):
                continue
            if (i, j) in limits and b.offset - a.offset <= limits[(i, j)]:
                continue
            if (j, i) in limits and a.offset - b.offset <= limits[(j, i)]:
                continue
            clashes.append((i, j))
    return clashes
