"""Small structural rewrites."""
from __future__ import annotations

import dataclasses

from tinyedge.ir import ALIAS_OPS, Graph, Tensor


def _replace_tensors(graph: Graph, mapping: dict[int, Tensor], nodes) -> Graph:
    def sub(t):
        return mapping.get(id(t), t) if t is not None else None

    new_nodes = [dataclasses.replace(n, inputs=[sub(t) for t in n.inputs],
                                     outputs=[sub(t) for t in n.outputs]) for n in nodes]
    return Graph(graph.name, [sub(t) for t in graph.inputs], [sub(t) for t in graph.outputs],
                 new_nodes)


def fold_constant_aliases(graph: Graph) -> Graph:
    """A RESHAPE/SQUEEZE of a constant becomes a constant of the new shape."""
    mapping: dict[int, Tensor] = {}
    kept = []
    for node in graph.nodes:
        source = node.inputs[0] if node.inputs else None
        source = mapping.get(id(source), source)
        if (node.kind in ALIAS_OPS and source is not None and source.is_constant
                and node.outputs and source.size == node.outputs[0].size):
            out = node.outputs[0]
            mapping[id(out)] = dataclasses.replace(out, data=source.data.reshape(out.shape))
        else:
            kept.append(node)
    return _replace_tensors(graph, mapping, kept) if mapping else graph


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
    return Graph(graph.name, graph.inputs, graph.outputs, kept)
