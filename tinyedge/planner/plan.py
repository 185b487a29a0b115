"""Lifetimes of a graph's activation tensors, and their place in the arena.

Step k is the k-th node of the schedule. Graph inputs are alive from step 0
(they are copied in before the first node) and graph outputs until the step
after the last node (they are copied out after it). A tensor produced by an
alias op (RESHAPE, SQUEEZE) shares its input's buffer. An op's output may
overlap an input that dies at that op, as far as the op's rule allows
(`overlap(node)` of its ops module, see planner/overlap.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tinyedge.ir import ALIAS_OPS, Graph, Tensor
from tinyedge.planner.check import find_overlaps
from tinyedge.planner.greedy import Buffer, GreedyPlanner


@dataclass
class MemoryPlan:
    arena_size: int
    buffers: list[Buffer]
    tensors: list[list[Tensor]]  # tensors sharing each buffer
    offsets: dict[int, int] = field(default_factory=dict)  # id(tensor) -> arena offset
    # (input buffer, output buffer) -> largest allowed offset(output) - offset(input)
    overlap_limits: dict[tuple[int, int], int] = field(default_factory=dict)

    def offset_of(self, tensor: Tensor) -> int:
        return self.offsets[id(tensor)]

    def tensor_bytes(self, step: int) -> int:
        """Sum of the sizes of the buffers alive at a step: what a plan without
        overlapping buffers needs there."""
        return sum(b.size for b in self.buffers if b.first <= step <= b.last)

    def live_bytes(self, step: int) -> int:
        """Arena bytes in use at a step (overlapping buffers counted once)."""
        spans = sorted((b.offset, b.offset + b.size) for b in self.buffers
                       if b.first <= step <= b.last and b.size > 0)
        used, reach = 0, None
        for start, end in spans:
            if reach is None or start >= reach:
                used += end - start
                reach = end
            elif end > reach:
                used += end - reach
                reach = end
        return used


def plan_memory(graph: Graph, alignment: int = 4, in_place: bool = True) -> MemoryPlan:
    root: dict[int, Tensor] = {}  # id(alias) -> the tensor whose buffer it uses

    def root_of(t: Tensor) -> Tensor:
        return root.get(id(t), t)

    for node in graph.nodes:
        if node.kind in ALIAS_OPS and not node.inputs[0].is_constant:
            root[id(node.outputs[0])] = root_of(node.inputs[0])

    first: dict[int, int] = {}
    last: dict[int, int] = {}
    members: dict[int, list[Tensor]] = {}
    roots: dict[int, Tensor] = {}

    def touch(t: Tensor, step: int) -> None:
        if t is None or t.is_constant or t.variable:  # variables: the state block
            return
        r = root_of(t)
        key = id(r)
        roots[key] = r
        first[key] = min(first.get(key, step), step)
        last[key] = max(last.get(key, step), step)
        group = members.setdefault(key, [])
        if all(m is not t for m in group):
            group.append(t)

    for t in graph.inputs:
        touch(t, 0)
    for step, node in enumerate(graph.nodes):
        for t in node.inputs:
            touch(t, step)
        for t in node.outputs:
            touch(t, step)
    for t in graph.outputs:
        touch(t, len(graph.nodes))

    planner = GreedyPlanner(alignment)
    keys = list(roots)
    for key in keys:
        planner.add_buffer(roots[key].nbytes, first[key], last[key])
    if in_place:
        _allow_overlaps(graph, planner, keys, root_of, last)
    offsets: dict[int, int] = {}
    for i, key in enumerate(keys):
        for t in members[key]:
            offsets[id(t)] = planner.offset(i)
    plan = MemoryPlan(planner.arena_size(), planner.buffers, [members[k] for k in keys], offsets,
                      dict(planner.overlap_limits))
    clashes = find_overlaps(plan.buffers, planner.overlap_limits)
    assert not clashes, f"memory plan overlaps: {clashes}"
    return plan


def _allow_overlaps(graph: Graph, planner: GreedyPlanner, keys: list[int], root_of,
                    last: dict[int, int]) -> None:
    from tinyedge.ops import registry

    handlers = registry()
    index_of = {key: i for i, key in enumerate(keys)}
    for step, node in enumerate(graph.nodes):
        rule = getattr(handlers[node.kind], "overlap", None)
        if rule is None or node.kind in ALIAS_OPS:
            continue
        out_key = id(root_of(node.outputs[0]))
        for input_index, limit in rule(node).items():
            t = node.inputs[input_index]
            if t is None or t.is_constant or t.variable:
                continue
            in_key = id(root_of(t))
            if in_key != out_key and last[in_key] == step:
                planner.allow_overlap(index_of[in_key], index_of[out_key], limit)
