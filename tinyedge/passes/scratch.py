"""Scratch memory as tensors of the graph.

A kernel that needs scratch memory (TRANSPOSE_CONV's int32 accumulator, as
TFLite Micro requests with RequestScratchBufferInArena) gets it as an extra
output tensor of its node, appended after the op's real outputs. Nobody
reads it, so the planner keeps it alive for exactly that step and places it
in the arena beside the layer's inputs and outputs; the arena size, the
live bytes per layer and `report.json`'s buffers all count it, and the
independent plan checker verifies it overlaps nothing alive at that step.

An op module opts in with `scratch_tensors(node) -> list[Tensor]`; its
`lower` finds the scratch at node.outputs[len(real outputs):]. This runs
after the ops' checks (which see the model's node as it is), before
scheduling and planning.
"""
from __future__ import annotations

import dataclasses

from tinyedge.ir import Graph


def attach_scratch(graph: Graph) -> Graph:
    from tinyedge.ops import registry

    handlers = registry()
    nodes = []
    changed = False
    for node in graph.nodes:
        make = getattr(handlers[node.kind], "scratch_tensors", None)
        scratch = make(node) if make is not None else []
        if scratch:
            node = dataclasses.replace(node, outputs=list(node.outputs) + list(scratch))
            changed = True
        nodes.append(node)
    return dataclasses.replace(graph, nodes=nodes) if changed else graph
