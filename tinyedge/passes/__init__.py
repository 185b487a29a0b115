"""Graph rewrites, each a pure `Graph -> Graph` function, run in PIPELINE order."""
from __future__ import annotations

from tinyedge.ir import Graph
from tinyedge.passes.depthwise_as_conv import depthwise_as_conv
from tinyedge.passes.fold_constants import fold_constants
from tinyedge.passes.fold_input_offset import fold_input_offset
from tinyedge.passes.simplify import remove_dead_nodes

PIPELINE = [
    fold_constants,  # SHAPE/FILL/... and ops on constants become constants
    depthwise_as_conv,  # a depthwise convolution of one input channel is a convolution
    fold_input_offset,  # a fully connected layer's input offset goes into its bias
    remove_dead_nodes,  # nodes whose outputs nobody reads
]


def run_pipeline(graph: Graph) -> Graph:
    for rewrite in PIPELINE:
        graph = rewrite(graph)
    return graph
