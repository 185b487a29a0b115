"""Greedy placement of buffers in one arena.

The interface is TFLite Micro's: `add_buffer(size, first, last)`, `offset(i)`,
`arena_size()`; plus `allow_overlap(input, output, limit)`, which lets an op's
output share bytes with an input that dies at that op, as long as
`offset(output) - offset(input) <= limit` (see planner/overlap.py).

Several placement strategies run and the smallest arena wins:
- first fit: each buffer, largest first (or in schedule order), at the lowest
  offset where it collides with no buffer alive at the same time;
- least growth: each buffer where it grows the arena's extent least, offsets
  may go below zero (the plan is shifted back at the end). This is what lets a
  chain of in-place layers slide down the arena.
"""
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

    def shares_bytes(self, other: "Buffer") -> bool:
        return self.offset < other.offset + other.size and other.offset < self.offset + self.size


class GreedyPlanner:
    def __init__(self, alignment: int = 4):
        self.alignment = alignment
        self.buffers: list[Buffer] = []
        self.overlap_limits: dict[tuple[int, int], int] = {}  # (input, output) -> limit
        self._planned = False

    def add_buffer(self, size: int, first: int, last: int) -> int:
        assert size >= 0 and first <= last, f"bad buffer size={size} life=[{first}, {last}]"
        self.buffers.append(Buffer(size, first, last))
        self._planned = False
        return len(self.buffers) - 1

    def allow_overlap(self, input_index: int, output_index: int, limit: int) -> None:
        key = (input_index, output_index)
        self.overlap_limits[key] = min(limit, self.overlap_limits.get(key, limit))
        self._planned = False

    def offset(self, index: int) -> int:
        self._plan()
        return self.buffers[index].offset

    def arena_size(self) -> int:
        self._plan()
        end = max((b.offset + b.size for b in self.buffers), default=0)
        return self._align_up(end)

    # -- placement ---------------------------------------------------------

    def _align_up(self, value: int) -> int:
        return -(-value // self.alignment) * self.alignment

    def _align_down(self, value: int) -> int:
        return (value // self.alignment) * self.alignment

    def may_share(self, a: int, b: int, offsets: dict[int, int]) -> bool:
        """Whether buffers a and b, alive at the same time and sharing bytes at
        these offsets, are an input and output allowed to overlap so."""
        if (a, b) in self.overlap_limits:
            return offsets[b] - offsets[a] <= self.overlap_limits[(a, b)]
        if (b, a) in self.overlap_limits:
            return offsets[a] - offsets[b] <= self.overlap_limits[(b, a)]
        return False

    def _fits(self, index: int, offset: int, placed: dict[int, int]) -> bool:
        buf = self.buffers[index]
        for other, other_offset in placed.items():
            b = self.buffers[other]
            if b.size == 0 or not buf.overlaps_in_time(b):
                continue
            if offset < other_offset + b.size and other_offset < offset + buf.size:
                if not self.may_share(index, other, {index: offset, other: other_offset}):
                    return False
        return True

    def _candidates(self, index: int, placed: dict[int, int]) -> set[int]:
        buf = self.buffers[index]
        found = {0}
        for other, other_offset in placed.items():
            b = self.buffers[other]
            if not buf.overlaps_in_time(b):
                continue
            found.add(self._align_up(other_offset + b.size))
            found.add(self._align_down(other_offset - buf.size))
            if (other, index) in self.overlap_limits:
                found.add(self._align_down(other_offset + self.overlap_limits[(other, index)]))
            if (index, other) in self.overlap_limits:
                found.add(self._align_up(other_offset - self.overlap_limits[(index, other)]))
        return found

    def _options(self, index: int, placed: dict[int, int], allow_negative: bool) -> list[int]:
        return sorted(c for c in self._candidates(index, placed)
                      if (allow_negative or c >= 0) and self._fits(index, c, placed))

    @staticmethod
    def _extent(span: tuple[int, int] | None, offset: int, size: int) -> tuple[int, int]:
        if span is None:
            return offset, offset + size
        return min(span[0], offset), max(span[1], offset + size)

    def _least_growth(self, index: int, placed: dict[int, int], span, lookahead: list[int]
                      ) -> int:
        """The offset that grows the extent least, judged after also placing the
        next buffers of `lookahead` the same way (a chain of in-place layers
        decides well only when it sees where the next output will go)."""
        size = self.buffers[index].size

        def score(offset: int) -> tuple[int, int]:
            trial = dict(placed)
            trial[index] = offset
            trial_span = self._extent(span, offset, size)
            for nxt in lookahead:
                nxt_offset = min(self._options(nxt, trial, True),
                                 key=lambda c: self._growth_key(trial_span, c, nxt))
                trial[nxt] = nxt_offset
                trial_span = self._extent(trial_span, nxt_offset, self.buffers[nxt].size)
            return trial_span[1] - trial_span[0], abs(offset)

        return min(self._options(index, placed, True), key=score)

    def _growth_key(self, span, offset: int, index: int) -> tuple[int, int]:
        low, high = self._extent(span, offset, self.buffers[index].size)
        return high - low, abs(offset)

    def _place(self, order: list[int], least_growth: bool, lookahead: int = 0) -> dict[int, int]:
        placed: dict[int, int] = {}
        span = None
        for position, index in enumerate(order):
            if least_growth:
                best = self._least_growth(index, placed, span,
                                          order[position + 1:position + 1 + lookahead])
            else:
                best = self._options(index, placed, False)[0]
            placed[index] = best
            span = self._extent(span, best, self.buffers[index].size)
        shift = min(placed.values(), default=0)
        return {i: o - shift for i, o in placed.items()}

    def _plan(self) -> None:
        if self._planned:
            return
        by_size = sorted(range(len(self.buffers)),
                         key=lambda i: (-self.buffers[i].size, self.buffers[i].first, i))
        by_schedule = sorted(range(len(self.buffers)),
                             key=lambda i: (self.buffers[i].first, -self.buffers[i].size, i))
        best = None
        by_reverse_schedule = sorted(range(len(self.buffers)),
                                     key=lambda i: (-self.buffers[i].last, -self.buffers[i].size, i))
        strategies = [(by_size, False, 0), (by_schedule, False, 0), (by_size, True, 0),
                      (by_schedule, True, 0), (by_reverse_schedule, True, 0),
                      (by_schedule, True, 2), (by_reverse_schedule, True, 2)]
        for order, least_growth, lookahead in strategies:
            offsets = self._place(order, least_growth, lookahead)
            end = max((o + self.buffers[i].size for i, o in offsets.items()), default=0)
            if best is None or end < best[0]:
                best = (end, offsets)
        for i, offset in best[1].items():
            self.buffers[i].offset = offset
        self._planned = True
