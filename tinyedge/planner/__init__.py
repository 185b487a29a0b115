"""Memory planning: where each activation tensor lives in the one static arena.

`greedy.GreedyPlanner` places buffers given their sizes and lifetimes;
`plan.plan_memory` derives those lifetimes from a graph's schedule;
`check.find_overlaps` verifies any plan.
"""
from tinyedge.planner.check import find_overlaps
from tinyedge.planner.greedy import GreedyPlanner
from tinyedge.planner.plan import MemoryPlan, plan_memory

__all__ = ["GreedyPlanner", "MemoryPlan", "find_overlaps", "plan_memory"]
