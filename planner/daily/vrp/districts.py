"""Plan a big city's day district by district, then hand left-out tasks over across districts.

1. **Screening** is city-wide (:func:`planner.daily.vrp.solve.prepare_day`): a task no
   volunteer of the city can do is never modelled, with its reason.
2. **Districts** of about equal work, staffed in proportion to it
   (:func:`planner.daily.vrp.partition.plan_districts`): one PyVRP search each (same
   matrices, options and seed), so the day's search grows linearly with the city instead of
   superlinearly, and stays reproducible (iterations, not seconds).
3. **Hand-over**: the tasks every district left out get a second search with the volunteers
   who ended up without a task, wherever they are (the matrices' longest leg keeps it to
   neighbouring districts); then the gap-filling check runs over the whole city (a left-out
   task goes to any volunteer who still has room for it, see
   :func:`planner.daily.vrp.explain.fill_gaps`).
4. **Reasons** of anything still left out, and of every volunteer without a task, are
   checked against all volunteers and all tasks of the city, as for a whole-city solve.

What is given up: a volunteer with part of a day in one district does not re-shuffle it
with the next district's volunteers (only gaps are filled). The loss against a whole-city
solve is measured by ``benchmarks/bench_city.py --district-loss``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from geo import TravelMode
from planner.daily.record import DayPlan
from planner.daily.vrp.model import DayProblem, DayState
from planner.daily.vrp.partition import Districts, plan_districts
from planner.daily.vrp.solve import (
    PathGeometry,
    PreparedDay,
    SolveOptions,
    finish_day,
    prepare_day,
    search_day,
)
from planner.daily.vrp.timeline import Timeline

logger = logging.getLogger(__name__)

__all__ = ["Districts", "hand_over", "plan_districts", "solve_by_district"]


def solve_by_district(
    problem: DayProblem,
    point_of: Mapping[str, str],
    point_node: Mapping[str, int],
    *,
    options: SolveOptions,
    state: DayState | None = None,
    path_geometry: PathGeometry | Mapping[TravelMode, PathGeometry] | None = None,
) -> DayPlan:
    """Plan the day district by district with a hand-over of left-out tasks (see the module
    docstring); the result is like :func:`planner.daily.vrp.solve_day`'s (volunteers in the
    problem's order, left-out tasks by priority, reasons checked city-wide)."""
    t0 = time.perf_counter()
    day = prepare_day(problem, state)
    parts = plan_districts(
        problem,
        day.crews,
        day.modelled,
        point_of,
        point_node,
        target_volunteers=options.district_volunteers,
        leg_s=options.leg_s,
    )
    crew_of = {c.vol.id: c for c in day.crews}
    task_of = {t.id: t for t in day.modelled}
    timeline_of: dict[str, Timeline] = {}
    notes = [
        f"planned in {len(parts)} districts of about {options.district_volunteers} volunteers "
        f"({parts.moved} moved to follow the work), each solved on its own: {parts.describe()}"
    ]
    for k in range(len(parts)):
        crews = [crew_of[v] for v in parts.volunteers[k] if v in crew_of]
        tasks = [task_of[t] for t in parts.tasks[k]]
        _, timelines, note = search_day(problem, crews, tasks, options)
        timeline_of.update((tl.crew.vol.id, tl) for tl in timelines)
        if note:
            notes.append(f"district {k + 1}: {note}")
        logger.info(
            "district %d/%d: %d volunteers, %d tasks", k + 1, len(parts), len(crews), len(tasks)
        )
    t1 = time.perf_counter()
    notes.append(hand_over(problem, day, timeline_of, options))
    t2 = time.perf_counter()
    timelines = [timeline_of[c.vol.id] for c in day.crews]
    day.notes[:0] = notes
    plan = finish_day(
        problem,
        day,
        [tl.crew for tl in timelines],
        timelines,
        options,
        path_geometry,
        started=t0,
    )
    logger.info(
        "by district: districts %.1f s, hand-over %.1f s, gap filling, reasons and records %.1f s",
        t1 - t0,
        t2 - t1,
        time.perf_counter() - t2,
    )
    return plan


def hand_over(
    problem: DayProblem,
    day: PreparedDay,
    timeline_of: dict[str, Timeline],
    options: SolveOptions,
) -> str:
    """Second search: the tasks left out in their district, with every volunteer left
    without a task (their timelines are replaced in `timeline_of`)."""
    planned = {a.task_id for tl in timeline_of.values() for a in tl.acts if a.task_id}
    left = [t for t in day.modelled if t.id not in planned]
    idle = [c for c in day.crews if not timeline_of[c.vol.id].has_task() and not c.carried]
    if not left or not idle:
        return (
            f"hand-over: {len(left)} task(s) left out in their district, "
            f"{len(idle)} volunteer(s) without a task: nothing to hand over"
        )
    _, timelines, note = search_day(problem, idle, left, options)
    timeline_of.update((tl.crew.vol.id, tl) for tl in timelines)
    got = {a.task_id for tl in timelines for a in tl.acts if a.task_id}
    return (
        f"hand-over: {len(got)} of the {len(left)} task(s) left out in their district planned "
        f"for {sum(tl.has_task() for tl in timelines)} of the {len(idle)} volunteer(s) without "
        f"a task in theirs ({note})"
    )
