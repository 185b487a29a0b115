"""The orders a kernel may read a weight matrix in (te_types.h: TE_FC_ROWS and
TE_FC_QUAD_ROWS, TE_CONV_FILTERS and TE_CONV_FILTER_PAIRS), and the
interleaved copies passes/pack_weights.py attaches to layers for the kernels
that read them faster.

    quad_rows(np.arange(8, dtype=np.int8).reshape(4, 2))  # one group of 4 rows of 2
    filter_pairs(np.arange(16, dtype=np.int8).reshape(2, 1, 1, 8))  # 0..3, 8..11, 4..7, 12..15
"""
from __future__ import annotations

import numpy as np

from tinyedge.ir import Node, Tensor

# te_fc_params.filter_layout, te_lstm_params.weight_layout
ROWS, QUAD_ROWS = 0, 1
# te_conv_params.filter_layout (CONV_2D): TE_CONV_FILTERS is ROWS
FILTER_PAIRS = 1


def quad_rows(weights: np.ndarray) -> np.ndarray:
    """A [rows, depth] matrix in the TE_FC_QUAD_ROWS order, flat: each group of
    four rows as its whole words side by side (word i of the four rows, then
    word i + 1 ...), then each row's last depth % 4 bytes; the rows % 4 last
    rows as they are."""
    rows, depth = weights.shape
    groups, whole = rows // 4, depth & ~3
    if groups == 0:
        return weights.reshape(-1).copy()
    quads = weights[:4 * groups].reshape(groups, 4, depth)
    words = quads[:, :, :whole].reshape(groups, 4, whole // 4, 4).transpose(0, 2, 1, 3)
    packed = np.concatenate([words.reshape(groups, -1), quads[:, :, whole:].reshape(groups, -1)],
                            axis=1)
    return np.concatenate([packed.reshape(-1), weights[4 * groups:].reshape(-1)])


def filter_pairs(filters: np.ndarray) -> np.ndarray:
    """CONV_2D filters [C_out, kh, kw, C_in] (C_out even, kh * kw * C_in a
    multiple of 4) in the TE_CONV_FILTER_PAIRS order, flat: for each pair of
    filters, word i of the first, then word i of the second, for every word."""
    cout = filters.shape[0]
    words = filters.reshape(cout // 2, 2, -1, 4)
    return words.transpose(0, 2, 1, 3).reshape(-1).copy()


def layout(node: Node) -> int:
    """The order the node's kernel reads its weights in: ROWS unless packed."""
    return node.options.get("weight_layout", ROWS)


def kernel_input(node: Node, index: int) -> Tensor:
    """The tensor the kernel gets for input `index`: its interleaved copy where
    passes/pack_weights.py attached one, else the input. The node's inputs keep
    their rows, for everything else that reads them (row sums, checks)."""
    return node.options.get("packed_inputs", {}).get(index, node.inputs[index])
