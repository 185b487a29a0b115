"""Weights in the order a target's kernels read fastest.

The ARMv7E-M fully connected kernel, and the LSTM kernel's gate products, take
four rows of a weight matrix at a time. In the TE_FC_QUAD_ROWS order
(kernels/include/tinyedge/te_types.h, tinyedge/weight_layout.py) each group of
four rows is interleaved by words, so that one LDM reads a word of all four
and the weights stream through the flash accelerator's data cache in order
(rows a multiple of 128 bytes apart would share its lines and miss on every
word). Its convolution kernel computes two filters at once in the layers
kernel_paths.pairs_filters names, from filters interleaved by words in
pairs (TE_CONV_FILTER_PAIRS). The rewrite attaches an interleaved copy of
each such weight tensor to the node (`packed_inputs`, one copy per tensor that
layers share) and sets its `weight_layout`; lowering hands the copy to the
kernel, while the node's inputs keep their order for whatever else reads
them. The reference kernels read every order, so the output folder still
runs on the host.

compile() runs it after planning (it moves no activation), for targets whose
kernel folders are in PACKED_FOR; other targets keep rows. An op whose kernel
comes from an earlier folder of the target (the Cortex-M55's Helium
convolution and fully connected kernels, kernels/src/mve/) keeps rows too.
"""
from __future__ import annotations

import dataclasses

from tinyedge import KERNELS_DIR, kernel_paths, weight_layout
from tinyedge.codegen import kernel_variant
from tinyedge.ir import DType, Graph, Node, OpKind, Tensor
from tinyedge.ops import conv2d, fully_connected, is_16x8, lstm

# kernel folders (targets.Target.kernel_dirs) whose kernels read quad rows and filter pairs
PACKED_FOR = frozenset({"armv7em"})
# the kernel source of each op that pack_weights interleaves
KERNEL_FILES = {OpKind.FULLY_CONNECTED: "fully_connected_s8.c", OpKind.CONV_2D: "conv2d_s8.c",
                OpKind.UNIDIRECTIONAL_SEQUENCE_LSTM: "lstm_s8_s16.c"}


def _reads_packed(kind: OpKind, kernel_dirs: tuple[str, ...]) -> bool:
    """Whether the target's kernel for this kind of op is one of PACKED_FOR's."""
    variant = kernel_variant(KERNEL_FILES[kind], kernel_dirs, [KERNELS_DIR])
    return variant is not None and variant.parent.name in PACKED_FOR


def _matrices(node: Node, kernel_dirs: tuple[str, ...]) -> tuple[int, ...]:
    """The inputs of node to interleave: none unless its kernel reads quad rows
    and it has at least one group of four rows."""
    if ("weight_layout" in node.options or node.kind not in KERNEL_FILES
            or not _reads_packed(node.kind, kernel_dirs)):
        return ()
    if node.kind == OpKind.FULLY_CONNECTED:
        return (1,) if fully_connected.takes_quad_rows(node) else ()
    if node.kind == OpKind.CONV_2D:
        valid = not conv2d.check(node) and not is_16x8(node)
        return (1,) if valid and kernel_paths.pairs_filters(conv2d.lower(node, "pack")) else ()
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
    copies: dict[tuple[int, OpKind], Tensor] = {}

    def interleaved(t: Tensor, kind: OpKind) -> Tensor:
        if (id(t), kind) not in copies:
            if kind == OpKind.CONV_2D:
                data, order = weight_layout.filter_pairs(t.data), "pairs"
            else:
                data, order = weight_layout.quad_rows(t.data), "quad_rows"
            copies[id(t), kind] = dataclasses.replace(t, name=f"{t.name}_{order}",
                                                      data=data.reshape(t.shape))
        return copies[id(t), kind]

    nodes = []
    for node in graph.nodes:
        indices = _matrices(node, kernel_dirs)
        if indices:
            order = (weight_layout.FILTER_PAIRS if node.kind == OpKind.CONV_2D
                     else weight_layout.QUAD_ROWS)
            options = {**node.options, "weight_layout": order,
                       "packed_inputs": {i: interleaved(node.inputs[i], node.kind)
                                         for i in indices}}
            node = dataclasses.replace(node, options=options)
        nodes.append(node)
    if not copies:
        return graph
    return dataclasses.replace(graph, nodes=nodes)
