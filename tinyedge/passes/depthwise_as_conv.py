"""A DEPTHWISE_CONV_2D over one input channel is a CONV_2D of its m output
channels (m the depth multiplier): output channel k sums, over the window,
input * filter[0, y, x, k] in both. The rewrite transposes the filter from
[1, kh, kw, m] to [m, kh, kw, 1], so that the convolution kernels, which are
faster on it (a first layer such as micro_speech's takes the DSP kernel's
column path instead of a scalar loop over channels), compute the same sums,
requantized with the same per-channel multipliers: the outputs are equal byte
for byte."""
from __future__ import annotations

import dataclasses

import numpy as np

from tinyedge.ir import DType, Graph, Node, OpKind, Tensor
from tinyedge.ops import depthwise_conv2d


def _as_conv(node: Node) -> Node | None:
    """The CONV_2D node equal to node, or None when node is not an int8
    depthwise convolution of one input channel that passes its own checks
    (those keep their depthwise error messages)."""
    if node.kind != OpKind.DEPTHWISE_CONV_2D or len(node.inputs) not in (2, 3):
        return None
    input_, filter_ = node.inputs[0], node.inputs[1]
    if (input_ is None or filter_ is None or len(input_.shape) != 4 or input_.shape[3] != 1
            or input_.dtype != DType.INT8 or depthwise_conv2d.check(node)):
        return None
    quant = filter_.quant
    conv_filter = Tensor(
        name=f"{filter_.name}_as_conv",
        shape=(filter_.shape[3], filter_.shape[1], filter_.shape[2], 1),
        dtype=filter_.dtype,
        quant=dataclasses.replace(quant, axis=0) if quant.per_channel else quant,
        data=np.ascontiguousarray(np.transpose(filter_.data, (3, 1, 2, 0))))
    options = {k: v for k, v in node.options.items() if k != "depth_multiplier"}
    options["from_depthwise"] = True  # for the layer's summary
    return dataclasses.replace(node, kind=OpKind.CONV_2D,
                               inputs=[input_, conv_filter, *node.inputs[2:]], options=options)


def depthwise_as_conv(graph: Graph) -> Graph:
    nodes = [_as_conv(node) or node for node in graph.nodes]
    if all(new is old for new, old in zip(nodes, graph.nodes)):
        return graph
    return dataclasses.replace(graph, nodes=nodes)
