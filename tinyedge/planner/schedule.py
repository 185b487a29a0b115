"""Choosing the order of the layers where the graph branches.

The model's own order is one valid schedule; where branches (residual blocks,
concatenations) leave a choice, running first the branch that frees memory can
lower the peak. `plan_best_schedule` plans the candidates and keeps the one
with the smallest arena (the model's order wins ties, so a chain is never
reordered).
"""
from __future__ import annotations

import dataclasses

from tinyedge.ir import Graph, Node
from tinyedge.planner.plan import MemoryPlan, plan_memory


class _State:
    """What is alive after some layers have run: the tensors still to be read
    and how many readers each has left."""

    def __init__(self, graph: Graph):
        self.pending: dict[int, int] = {}
        for node in graph.nodes:
            for t in _activations(node.inputs):
                self.pending[id(t)] = self.pending.get(id(t), 0) + 1
        for t in graph.outputs:
            self.pending[id(t)] = self.pending.get(id(t), 0) + 1  # read by the caller
        self.available = {id(t) for t in graph.inputs}
        self.live = sum(t.nbytes for t in graph.inputs)

    def ready(self, node: Node) -> bool:
        return all(id(t) in self.available for t in _activations(node.inputs))

    def run(self, node: Node) -> tuple["_State", int]:
        """The state after `node`, and the bytes alive while it runs."""
        after = _State.__new__(_State)
        after.pending = dict(self.pending)
        after.available = self.available | {id(t) for t in node.outputs}
        born = sum(t.nbytes for t in node.outputs)
        peak = self.live + born
        freed = 0
        for t in _activations(node.inputs):
            after.pending[id(t)] -= 1
        for t in {id(t): t for t in _activations(node.inputs)}.values():
            if after.pending[id(t)] == 0:
                freed += t.nbytes
        for t in node.outputs:  # read by nobody (kernel scratch): dies at this step
            if id(t) not in after.pending:
                freed += t.nbytes
        after.live = self.live + born - freed
        return after, peak


def _activations(tensors):
    return [t for t in tensors if t is not None and not t.is_constant and not t.variable]


def _lookahead_peak(state: _State, node: Node, remaining: list[Node], depth: int) -> int:
    """The most bytes alive while running `node` and then, greedily, the next
    `depth` layers that keep this lowest."""
    after, peak = state.run(node)
    rest = [n for n in remaining if n is not node]
    ready = [n for n in rest if after.ready(n)]
    if depth == 0 or not ready:
        return peak
    return max(peak, min(_lookahead_peak(after, n, rest, depth - 1) for n in ready))


def memory_greedy_order(graph: Graph, depth: int = 3) -> list[Node]:
    """A topological order that, among the layers ready to run, takes the one
    whose next few steps keep the fewest activation bytes alive (ties: model order)."""
    state = _State(graph)
    remaining = list(graph.nodes)
    order = []
    while remaining:
        ready = [n for n in remaining if state.ready(n)]
        assert ready, "graph has a cycle or an input nobody produces"
        chosen = min(ready, key=lambda n: (_lookahead_peak(state, n, remaining, depth),
                                           remaining.index(n)))
        state, _ = state.run(chosen)
        remaining.remove(chosen)
        order.append(chosen)
    return order


def plan_best_schedule(graph: Graph) -> tuple[Graph, MemoryPlan]:
    best_graph, best_plan = graph, plan_memory(graph)
    reordered = memory_greedy_order(graph)
    if [id(n) for n in reordered] != [id(n) for n in graph.nodes]:
        candidate = dataclasses.replace(graph, nodes=reordered)
        plan = plan_memory(candidate)
        if plan.arena_size < best_plan.arena_size:
            best_graph, best_plan = candidate, plan
    return best_graph, best_plan
