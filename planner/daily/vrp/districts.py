"""Plan a big city's day district by district, then hand left-out tasks over across districts.

1. **Screening** is city-wide (:func:`planner.daily.vrp.solve.prepare_day`): a task no
   volunteer of the city can do is never modelled, with its reason.
2. **Districts** of about equal work, staffed in proportion to it
   (:func:`planner.daily.vrp.partition.plan_districts`): one PyVRP search each (same
   matrices, options and seed), so the day's search grows linearly with the city instead of
   superlinearly, and stays reproducible (iterations, not seconds). The searches are
   independent: they run in parallel processes (``SolveOptions.workers``; forked, see
   :func:`geo.engine.parallel.run_tasks`), largest district first so that the processes
   finish together, and give the same plan as one after the other.
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
from dataclasses import replace
from typing import Any

import numpy as np

from geo import TravelMode
from geo.engine.parallel import check_workers, fork_available, run_tasks
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
from planner.daily.vrp.timeline import Act, Timeline

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
    notes = [
        f"planned in {len(parts)} districts of about {options.district_volunteers} volunteers "
        f"({parts.moved} moved to follow the work), each solved on its own: {parts.describe()}"
    ]
    jobs = {
        "problem": problem,
        "options": options,
        "crews": [[crew_of[v] for v in vols if v in crew_of] for vols in parts.volunteers],
        "tasks": [[task_of[t] for t in ids] for ids in parts.tasks],
    }
    timeline_of: dict[str, Timeline] = {}
    for k, (searched, note) in _search_districts(jobs, options.workers):
        for vol_id, fair_s, acts in searched:
            crew = replace(crew_of[vol_id], fair_s=fair_s)
            timeline_of[vol_id] = Timeline(
                crew,
                np.asarray(problem.matrices.durations[crew.vol.mode], dtype=float),
                acts,
                sum(e.seekers for e in crew.carried),
            )
        if note:
            notes.append(f"district {k + 1}: {note}")
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


Searched = tuple[list[tuple[str, int | None, list[Act]]], str]
"""A district's searched days (each volunteer's id, fair day (s) and activities in order) and
how its search stopped: small and picklable, unlike timelines (which hold a matrix)."""


def _search_districts(jobs: dict[str, Any], workers: int | None) -> list[tuple[int, Searched]]:
    """Every district's search, largest first so that parallel processes finish together,
    returned in district order (so notes and the plan do not depend on `workers`)."""
    size = [(len(t), len(c)) for c, t in zip(jobs["crews"], jobs["tasks"], strict=True)]
    order = sorted(range(len(size)), key=lambda k: (-size[k][0], -size[k][1], k))
    processes = 1
    if len(order) > 1 and fork_available():
        processes = min(check_workers(workers), len(order))
    out: dict[int, Searched] = {}
    for k, searched in zip(
        order, run_tasks(_search_district, jobs, order, processes=processes), strict=True
    ):
        out[k] = searched
        crews, tasks = jobs["crews"][k], jobs["tasks"][k]
        logger.info(
            "district %d/%d searched: %d volunteers, %d tasks",
            k + 1,
            len(order),
            len(crews),
            len(tasks),
        )
    return sorted(out.items())


def _search_district(jobs: dict[str, Any], k: int) -> Searched:
    """District `k`'s search (in this process or a forked worker, which has `jobs`)."""
    crews, timelines, note = search_day(
        jobs["problem"], jobs["crews"][k], jobs["tasks"][k], jobs["options"]
    )
    return [(c.vol.id, c.fair_s, tl.acts) for c, tl in zip(crews, timelines, strict=True)], note


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
