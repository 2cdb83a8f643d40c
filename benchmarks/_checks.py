"""Independent checks of a planned day, shared by the benchmarks (not the planner's own)."""

from __future__ import annotations

from planner.daily.record import DayPlan
from planner.daily.vrp import DayProblem, Visit


def idle_could_take(plan: DayPlan, problem: DayProblem) -> int:
    """Independent check (not the planner's own): left-out visits that a volunteer without
    any task knows, reaches from their start inside the opening hours, and finishes back home
    before the shift ends (lunch aside)."""
    vols = {v.id: v for v in problem.volunteers}
    idle = [vols[r.volunteer_id] for r in plan.routes if r.is_empty and r.stops]
    tasks = {t.id: t for t in problem.tasks}
    count = 0
    for d in plan.dropped:
        t = tasks[d.task_id]
        if not isinstance(t, Visit):
            continue
        for v in idle:
            if t.industry not in v.industries:
                continue
            dur = problem.matrices.durations[v.mode]
            w = t.windows[0]
            start = max(v.shift.start_s + dur[v.start_node, t.node], w.start_s)
            end = start + t.service_s
            if end <= w.end_s and end + dur[t.node, v.end_node] <= v.shift.end_s:
                count += 1
                break
    return count
