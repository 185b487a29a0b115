"""Draw a memory plan: each buffer a box from its first to its last layer, at
its offset in the arena (SVG, from templates/memory_plot.svg.j2)."""
from __future__ import annotations

from html import escape
from pathlib import Path

from tinyedge.codegen import template_environment
from tinyedge.errors import TinyEdgeError
from tinyedge.planner import MemoryPlan

WIDTH, HEIGHT = 960, 540
LEFT, RIGHT, TOP, BOTTOM = 80, 940, 30, 500
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac"]


def memory_svg(plan: MemoryPlan, steps: int, title: str) -> str:
    steps = max(steps, 1)
    arena = max(plan.arena_size, 1)
    x_scale = (RIGHT - LEFT) / steps
    y_scale = (BOTTOM - TOP) / arena
    boxes = []
    for i, (buf, group) in enumerate(zip(plan.buffers, plan.tensors)):
        if buf.size == 0:
            continue
        names = ", ".join(t.name for t in group)
        boxes.append({
            "x": round(LEFT + buf.first * x_scale, 2), "w": round((buf.last - buf.first + 1) * x_scale, 2),
            "y": round(BOTTOM - (buf.offset + buf.size) * y_scale, 2),
            "h": round(max(buf.size * y_scale, 0.5), 2),
            "color": PALETTE[i % len(PALETTE)],
            "tip": escape(f"{names}: {buf.size:,} B at offset {buf.offset:,}, "
                          f"layers {buf.first}-{buf.last}"),
        })
    y_ticks = [{"y": round(BOTTOM - v * y_scale, 2), "label": f"{v:,}"}
               for v in range(0, arena + 1, max(1, _nice_step(arena)))]
    x_ticks = [{"x": round(LEFT + (s + 0.5) * x_scale, 2), "label": s}
               for s in range(0, steps, max(1, steps // 20))]
    return template_environment().get_template("memory_plot.svg.j2").render(
        width=WIDTH, height=HEIGHT, left=LEFT, right=RIGHT, top=TOP, bottom=BOTTOM,
        title=escape(title), boxes=boxes, y_ticks=y_ticks, x_ticks=x_ticks)


def _nice_step(total: int) -> int:
    """A round tick step giving about 8 ticks."""
    raw = total / 8
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def write_plot(plan: MemoryPlan, steps: int, title: str, path: Path) -> None:
    if path.suffix.lower() != ".svg":
        raise TinyEdgeError(f"cannot draw {path.name}: --plot writes SVG, name the file *.svg")
    path.write_text(memory_svg(plan, steps, title))
