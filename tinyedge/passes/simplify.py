"""Small structural rewrites."""
from __future__ import annotations

import dataclasses

from tinyedge.ir import Graph, Tensor


def replace_tensors(graph: Graph, mapping: dict[int, Tensor], nodes) -> Graph:
    def sub(t):
        return mapping.get(id(t), t) if t is not None else None

    new_nodes = [dataclasses.replace(n, inputs=[sub(t) for t in n.inputs],
                                     outputs=[sub(t) for t in n.outputs]) for n in nodes]
    return dataclasses.replace(graph, inputs=[sub(t) for t in graph.inputs],
                               outputs=[sub(t) for t in graph.outputs], nodes=new_nodes)


def remove_dead_nodes(graph: Graph) -> Graph:
    """Drop nodes none of whose outputs is read later or is a graph output."""
    needed = {id(t) for t in graph.outputs}
    kept = []
    for node in reversed(graph.nodes):
        if any(id(t) in needed for t in node.outputs):
            kept.append(node)
            needed.update(id(t) for t in node.inputs if t is not None)
    kept.reverse()
    if len(kept) == len(graph.nodes):
        return graph
    return dataclasses.replace(graph, nodes=kept)
