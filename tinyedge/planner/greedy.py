"""Greedy-by-size placement: the largest buffer first, each at the lowest
aligned offset that does not collide with a placed buffer alive at the same time."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Buffer:
    size: int
    first: int  # first step the buffer is alive (written)
    last: int  # last step it is alive (read)
    offset: int = -1

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last


class GreedyPlanner:
    def __init__(self, alignment: int = 4):
        self.alignment = alignment
        self.buffers: list[Buffer] = []
        self._planned = False

    def add_buffer(self, size: int, first: int, last: int) -> int:
        assert size >= 0 and first <= last, f"bad buffer size={size} life=[{first}, {last}]"
        self.buffers.append(Buffer(size, first, last))
        self._planned = False
        return len(self.buffers) - 1

    def _align(self, value: int) -> int:
        return -(-value // self.alignment) * self.alignment

    def _plan(self) -> None:
        order = sorted(range(len(self.buffers)),
                       key=lambda i: (-self.buffers[i].size, self.buffers[i].first, i))
        placed: list[Buffer] = []
        for i in order:
            buf = self.buffers[i]
            conflicts = sorted((b for b in placed if b.overlaps_in_time(buf) and b.size > 0),
                               key=lambda b: b.offset)
            offset = 0
            for other in conflicts:
                if offset + buf.size <= other.offset:
                    break
                offset = max(offset, self._align(other.offset + other.size))
            buf.offset = offset
            placed.append(buf)
        self._planned = True

    def offset(self, index: int) -> int:
        if not self._planned:
            self._plan()
        return self.buffers[index].offset

    def arena_size(self) -> int:
        if not self._planned:
            self._plan()
        end = max((b.offset + b.size for b in self.buffers), default=0)
        return self._align(end)
