"""Plan a big city's day district by district: one PyVRP search per group of service points.

Every volunteer belongs to one service point. Points are merged into *districts* of at least
``district_volunteers`` volunteers (a point joins the district of its nearest point by
e-bike, deterministically, until every district is big enough). A task goes to one district:
an escort to the district of the service point it starts from, a visit to the district of
the nearest point (by travel time from the point) that has a volunteer knowing its industry;
an escort a volunteer is already walking stays with that volunteer's district. Each district
is then solved on its own (same matrices, options and seed), so the day's search grows
linearly with the city instead of superlinearly, and stays reproducible (iterations, not
seconds).

What is given up: a volunteer never crosses into another district, so a task left out in
one district is not offered to a volunteer with room in the next (its reason says it was
left out within its district). The loss against a whole-city solve is measured by
``benchmarks/bench_city.py --districts-on-dongcao``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from geo import TravelMode
from planner.daily.record import DayPlan
from planner.daily.vrp.model import DayProblem, DayState, Escort, Task
from planner.daily.vrp.solve import PathGeometry, SolveOptions, solve_day

logger = logging.getLogger(__name__)


def districts(
    problem: DayProblem,
    point_of: Mapping[str, str],
    point_node: Mapping[str, int],
    min_volunteers: int,
) -> list[list[str]]:
    """Service points grouped into districts of at least `min_volunteers` volunteers.

    Points without volunteers are left out. Returns sorted point-id lists, in a fixed order.
    """
    count: dict[str, int] = {}
    for v in problem.volunteers:
        p = point_of.get(v.id, "")
        count[p] = count.get(p, 0) + 1
    points = sorted(p for p in count if p in point_node)
    groups = {p: [p] for p in points}
    if "" in count or any(p not in point_node for p in count):  # no point: own district
        groups["~"] = [p for p in count if p not in point_node]
    dur = _durations(problem)
    size = dict(count)
    size["~"] = sum(c for p, c in count.items() if p not in point_node)
    while len(groups) > 1:
        small = sorted((size[g], g) for g in groups if size[g] < min_volunteers)
        if not small:
            break
        g = small[0][1]
        others = [h for h in groups if h != g]
        if g == "~":
            target = min(others, key=lambda h: (-size[h], h))
        else:
            target = min(others, key=lambda h: (_gap(dur, point_node, g, groups[h]), h))
        groups[target] = sorted(groups[target] + groups.pop(g))
        size[target] += size.pop(g)
    return sorted(groups.values())


def _durations(problem: DayProblem) -> np.ndarray:
    mats = problem.matrices.durations
    mode = TravelMode.EBIKE if TravelMode.EBIKE in mats else sorted(mats)[0]
    return np.asarray(mats[mode], dtype=float)


def _gap(dur: np.ndarray, node: Mapping[str, int], point: str, group: Sequence[str]) -> float:
    nodes = [node[p] for p in group if p in node]
    if not nodes:
        return float("inf")
    a = node[point]
    return float(np.min(dur[a, nodes] + dur[nodes, a]))


def split_tasks(
    problem: DayProblem,
    groups: Sequence[Sequence[str]],
    point_of: Mapping[str, str],
    point_node: Mapping[str, int],
    state: DayState | None,
) -> list[list[Task]]:
    """The tasks of each district (see the module docstring); every task goes to one."""
    dur = _durations(problem)
    group_of_point = {p: k for k, g in enumerate(groups) for p in g}
    vol_group = {v.id: group_of_point.get(point_of.get(v.id, ""), 0) for v in problem.volunteers}
    skills: list[set[str]] = [set() for _ in groups]
    for v in problem.volunteers:
        skills[vol_group[v.id]] |= set(v.industries)
    points = sorted(p for p in group_of_point if p in point_node)
    nodes = np.array([point_node[p] for p in points], dtype=int)
    carried = {}
    if state is not None:
        carried = {e: vol_group.get(v, 0) for v, ids in state.carrying.items() for e in ids}
    node_group = {point_node[p]: group_of_point[p] for p in points}
    out: list[list[Task]] = [[] for _ in groups]
    for t in problem.tasks:
        if t.id in carried:
            k = carried[t.id]
        elif isinstance(t, Escort) and t.pickup_node in node_group:
            k = node_group[t.pickup_node]
        else:
            node = t.node if not isinstance(t, Escort) else t.pickup_node
            k = _nearest_able(dur, nodes, points, node, t.industry, group_of_point, skills)
        out[k].append(t)
    return out


def _nearest_able(
    dur: np.ndarray,
    nodes: np.ndarray,
    points: Sequence[str],
    node: int,
    industry: str | None,
    group_of_point: Mapping[str, int],
    skills: Sequence[set[str]],
) -> int:
    if nodes.size == 0:
        return 0
    order = np.lexsort((np.arange(nodes.size), dur[nodes, node]))
    for i in order:
        k = group_of_point[points[i]]
        if industry is None or industry in skills[k]:
            return k
    return group_of_point[points[order[0]]]


def solve_by_district(
    problem: DayProblem,
    point_of: Mapping[str, str],
    point_node: Mapping[str, int],
    *,
    min_volunteers: int,
    options: SolveOptions,
    state: DayState | None = None,
    path_geometry: PathGeometry | Mapping[TravelMode, PathGeometry] | None = None,
) -> DayPlan:
    """Solve each district with :func:`solve_day` and merge the plans (volunteers in the
    problem's order; left-out tasks by priority)."""
    groups = districts(problem, point_of, point_node, min_volunteers)
    tasks = split_tasks(problem, groups, point_of, point_node, state)
    group_of_point = {p: k for k, g in enumerate(groups) for p in g}
    plans = []
    for k in range(len(groups)):
        vols = [v for v in problem.volunteers if group_of_point.get(point_of.get(v.id, ""), 0) == k]
        sub = DayProblem(tasks[k], vols, problem.matrices)
        plans.append(solve_day(sub, options=options, state=state, path_geometry=path_geometry))
        logger.info("district %d/%d: %d volunteers, %d tasks", k + 1, len(groups), len(vols),
                    len(tasks[k]))  # fmt: skip
    by_vol = {r.volunteer_id: r for p in plans for r in p.routes}
    routes = tuple(by_vol[v.id] for v in problem.volunteers)
    dropped = tuple(
        sorted(
            (
                replace(d, reason=f"{d.reason} (within its district)")
                for p in plans
                for d in p.dropped
            ),
            key=lambda d: (-d.priority, d.task_id),
        )
    )
    sizes = ", ".join(
        f"{len(g)} pts/{sum(1 for r in routes if point_of.get(r.volunteer_id) in g)} vols/"
        f"{len(tasks[k])} tasks"
        for k, g in enumerate(groups)
    )
    notes = (
        f"planned in {len(groups)} districts of at least {min_volunteers} volunteers, each "
        f"solved on its own ({sizes})",
        *(f"district {k + 1}: {n}" for k, p in enumerate(plans) for n in p.notes),
    )
    return DayPlan(
        routes,
        dropped,
        sum(p.objective for p in plans),
        sum(p.solve_seconds for p in plans),
        notes,
    )
