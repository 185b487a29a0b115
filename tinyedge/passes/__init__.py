"""Graph rewrites, each a pure `Graph -> Graph` function, run in PIPELINE order."""
from __future__ import annotations

from tinyedge.ir import Graph
from tinyedge.passes.simplify import fold_constant_aliases, remove_dead_nodes

PIPELINE = [
    fold_constant_aliases,  # RESHAPE of a weight becomes the weight itself
    remove_dead_nodes,  # nodes whose outputs nobody reads
]


def run_pipeline(graph: Graph) -> Graph:
    for rewrite in PIPELINE:
        graph = rewrite(graph)
    return graph
