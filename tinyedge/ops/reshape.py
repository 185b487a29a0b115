"""RESHAPE and SQUEEZE: the output is the input's bytes under another shape.
No kernel runs: the planner gives the output the input's buffer."""
from __future__ import annotations

from tinyedge.ir import Node
from tinyedge.ops import require

# One line of `tinyedge ops`: types and constraints.
SUPPORT = (
    "any type; no copy (the output shares the input buffer); RESHAPE and SQUEEZE"
)


def check(node: Node) -> list[str]:
    problems: list[str] = []
    require(problems, len(node.inputs) >= 1 and len(node.outputs) == 1,
            f"{node.kind.name} takes a data input and 1 output")
    if problems:
        return problems
    input_, output = node.inputs[0], node.outputs[0]
    require(problems, input_ is not None and input_.dtype == output.dtype
            and input_.size == output.size,
            f"{node.kind.name} from {list(input_.shape)} to {list(output.shape)} changes the "
            "element count or type")
    require(problems, input_ is not None and input_.quant == output.quant,
            f"{node.kind.name} changes the quantization of '{input_.name}'")
    return problems


def lower(node: Node, prefix: str) -> None:
    return None
