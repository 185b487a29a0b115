"""Weights in the order a target's kernels read fastest.

The ARMv7E-M fully connected kernel takes four units at a time. In the
TE_FC_QUAD_ROWS layout (kernels/include/tinyedge/te_types.h) each group of
four rows is interleaved by words, so that one LDM reads a word of all four
and the weights stream through the flash accelerator's data cache in order.
The rewrite replaces the filter by its interleaved copy (same shape, same
bytes in another order, under a new name) and marks the node's
`filter_layout`, which lowering passes to the kernel. The reference kernel
reads both layouts, so the output folder still runs on the host.

Only compile() runs it, after planning (it changes no activation), for
targets whose kernel folders are in PACKED_FOR; other targets keep rows.
"""
from __future__ import annotations

import dataclasses

from tinyedge.ir import Graph, OpKind, Tensor
from tinyedge.ops import fully_connected

# kernel folders (targets.Target.kernel_dirs) whose fully connected kernel reads quad rows
PACKED_FOR = frozenset({"armv7em"})


def pack_weights(graph: Graph, kernel_dirs: tuple[str, ...]) -> Graph:
    if not PACKED_FOR.intersection(kernel_dirs):
        return graph
    packed: dict[int, Tensor] = {}  # one copy of a filter that layers share
    nodes = []
    for node in graph.nodes:
        if (node.kind != OpKind.FULLY_CONNECTED or "filter_layout" in node.options
                or not fully_connected.takes_quad_rows(node)):
            nodes.append(node)
            continue
        filter_ = node.inputs[1]
        if id(filter_) not in packed:
            data = fully_connected.quad_rows(filter_.data).reshape(filter_.shape)
            packed[id(filter_)] = dataclasses.replace(
                filter_, name=f"{filter_.name}_quad_rows", data=data)
        inputs = [node.inputs[0], packed[id(filter_)], *node.inputs[2:]]
        options = {**node.options, "filter_layout": fully_connected.QUAD_ROWS}
        nodes.append(dataclasses.replace(node, inputs=inputs, options=options))
    if not packed:
        return graph
    return dataclasses.replace(graph, nodes=nodes)
