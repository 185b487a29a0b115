"""Weights in the order a target's kernels read fastest.

The ARMv7E-M fully connected kernel, and the LSTM kernel's gate products, take
four rows of a weight matrix at a time. In the TE_FC_QUAD_ROWS order
(kernels/include/tinyedge/te_types.h, tinyedge/weight_layout.py) each group of
four rows is interleaved by words, so that one LDM reads a word of all four
and the weights stream through the flash accelerator's data cache in order
(rows a multiple of 128 bytes apart would share its lines and miss on every
word). The rewrite attaches an interleaved copy of each such matrix to the
node (`packed_inputs`, one copy per tensor that layers share) and sets its
`weight_layout`; lowering hands the copy to the kernel, while the node's
inputs keep their rows for whatever else reads them. The reference kernels
read both orders, so the output folder still runs on the host.

compile() runs it after planning (it moves no activation), for targets whose
kernel folders are in PACKED_FOR; other targets keep rows.
"""
from __future__ import annotations

import dataclasses

from tinyedge import weight_layout
from tinyedge.ir import DType, Graph, Node, OpKind, Tensor
from tinyedge.ops import fully_connected, lstm

# kernel folders (targets.Target.kernel_dirs) whose kernels read quad rows
PACKED_FOR = frozenset({"armv7em"})


def _matrices(node: Node) -> tuple[int, ...]:
    """The inputs of node to interleave: none unless its kernel reads quad rows
    and it has at least one group of four rows."""
    if "weight_layout" in node.options:
        return ()
    if node.kind == OpKind.FULLY_CONNECTED:
        return (1,) if fully_connected.takes_quad_rows(node) else ()
    if node.kind == OpKind.UNIDIRECTIONAL_SEQUENCE_LSTM and len(node.inputs) == 24:
        indices = lstm.INPUT_WEIGHTS + lstm.RECURRENT_WEIGHTS
        matrices = [node.inputs[i] for i in indices]
        if all(m is not None and m.is_constant and m.dtype == DType.INT8 and len(m.shape) == 2
               and m.shape[0] >= 4 for m in matrices):
            return indices
    return ()


def pack_weights(graph: Graph, kernel_dirs: tuple[str, ...]) -> Graph:
    if not PACKED_FOR.intersection(kernel_dirs):
        return graph
    copies: dict[int, Tensor] = {}

    def interleaved(t: Tensor) -> Tensor:
        if id(t) not in copies:
            data = weight_layout.quad_rows(t.data).reshape(t.shape)
            copies[id(t)] = dataclasses.replace(t, name=f"{t.name}_quad_rows", data=data)
        return copies[id(t)]

    nodes = []
    for node in graph.nodes:
        indices = _matrices(node)
        if indices:
            options = {**node.options, "weight_layout": weight_layout.QUAD_ROWS,
                       "packed_inputs": {i: interleaved(node.inputs[i]) for i in indices}}
            node = dataclasses.replace(node, options=options)
        nodes.append(node)
    if not copies:
        return graph
    return dataclasses.replace(graph, nodes=nodes)
