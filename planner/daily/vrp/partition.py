"""Split a big city's day into districts of about equal work, each staffed in proportion.

Every volunteer belongs to one service point and every task is *anchored* to one: an escort to
the point it starts from, a visit to the nearest point by e-bike (from the point). A point's
*work* is the service time of its tasks plus one typical leg per stop (as for the fair day,
:func:`planner.daily.vrp.solve.fair_days`); its *hours* are its available volunteers' working
hours (shift minus lunch).

1. **Districts of points**, grown by e-bike time: ``k = round(volunteers / target)`` seeds
   (the busiest point, then each time the point farthest from all seeds); then, repeatedly, the
   district with the least load takes the unassigned point nearest to it (round trip to its
   closest member). A district's load is its share of the city's work plus its share of the
   city's hours, so districts come out even in both and made of neighbouring points.
2. **Volunteers in proportion to work**: each district should hold the city's hours times its
   share of the work. While a district is short by more than half a volunteer's day, the
   volunteer of a district with hours to spare who is nearest to it (own mode, from their
   start to its nearest point) moves over, those knowing the industries it lacks first.
   Each volunteer moves at most once; volunteers keep their start, end and lunch places.
3. **Tasks** go to the district of their point; unavailable volunteers to that of theirs.

Everything is ordered by ids and indices (ties included): the same day gives the same
districts. Every volunteer and every task is in exactly one district.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from geo import TravelMode
from planner.daily.vrp.build import Crew
from planner.daily.vrp.model import DayProblem, Escort, Task, Visit

__all__ = ["Districts", "crew_hours_s", "plan_districts", "task_work_s"]

SKILL_BONUS_S = 1800
"""Travel time (s) a volunteer who knows all a short district's missing industries is worth
when choosing who moves (one knowing none of them gets no bonus)."""


@dataclass(frozen=True)
class Districts:
    """The districts of a day (in a fixed order): each one's points, volunteer ids, task ids,
    work (s) and available volunteers' hours (s)."""

    points: tuple[tuple[str, ...], ...]
    volunteers: tuple[tuple[str, ...], ...]
    tasks: tuple[tuple[str, ...], ...]
    work_s: tuple[int, ...]
    hours_s: tuple[int, ...]
    moved: int

    def __len__(self) -> int:
        return len(self.points)

    def describe(self) -> str:
        """One line per district: points, volunteers, tasks, work/hours."""
        return ", ".join(
            f"{len(p)} pts/{len(v)} vols/{len(t)} tasks/{w / 3600:.0f} h work for {h / 3600:.0f} h"
            for p, v, t, w, h in zip(
                self.points, self.volunteers, self.tasks, self.work_s, self.hours_s, strict=True
            )
        )


def task_work_s(task: Task, leg_s: int) -> int:
    """Service time of `task` plus one typical leg (`leg_s`) per stop (s)."""
    if isinstance(task, Visit):
        return task.service_s + leg_s
    return task.pickup_service_s + task.delivery_service_s + 2 * leg_s


def crew_hours_s(crew: Crew) -> int:
    """Working seconds of a crew for the rest of the day (shift minus lunch)."""
    lunch = crew.vol.lunch.duration_s if crew.lunch_window is not None and crew.vol.lunch else 0
    return max(0, crew.vol.shift.end_s - crew.early_s - lunch)


def _ebike(problem: DayProblem) -> np.ndarray:
    mats = problem.matrices.durations
    mode = TravelMode.EBIKE if TravelMode.EBIKE in mats else sorted(mats)[0]
    return np.asarray(mats[mode], dtype=float)


def _nearest(row: np.ndarray) -> int:
    """Index of the smallest value (the first among equals)."""
    return int(np.argmin(row))


@dataclass
class _City:
    """Points, their matrix nodes and the e-bike times among them."""

    points: list[str]
    nodes: np.ndarray
    dur: np.ndarray  # full e-bike matrix

    def anchor(self, task: Task) -> int:
        node = task.pickup_node if isinstance(task, Escort) else task.node
        hit = np.flatnonzero(self.nodes == node)
        if isinstance(task, Escort) and hit.size:
            return int(hit[0])
        return _nearest(self.dur[self.nodes, node])


def _grow(round_trip: np.ndarray, load_w: np.ndarray, load_h: np.ndarray, k: int) -> np.ndarray:
    """District index of each point (see the module docstring, step 1)."""
    n = len(load_w)
    share = load_w / max(load_w.sum(), 1.0) + load_h / max(load_h.sum(), 1.0)
    seeds = [int(np.argmax(share))]
    while len(seeds) < k:
        gap = round_trip[:, seeds].min(axis=1)
        gap[seeds] = -1.0
        seeds.append(int(np.argmax(gap)))
    of = np.full(n, -1, dtype=np.int64)
    of[seeds] = np.arange(k)
    load = share[seeds].astype(float)
    gap_to = round_trip[seeds, :].copy()  # (k, n): round trip from each district
    for _ in range(n - k):
        free = of < 0
        d = int(np.argmin(load))
        cand = np.where(free, gap_to[d], np.inf)
        p = int(np.argmin(cand))
        of[p] = d
        load[d] += share[p]
        gap_to[d] = np.minimum(gap_to[d], round_trip[p])
    return of


def _industry_need(
    tasks: Sequence[Task], task_district: Sequence[int], k: int, leg_s: int
) -> list[dict[str, int]]:
    need: list[dict[str, int]] = [{} for _ in range(k)]
    for t, d in zip(tasks, task_district, strict=True):
        if t.industry is not None:
            need[d][t.industry] = need[d].get(t.industry, 0) + task_work_s(t, leg_s)
    return need


def _rebalance(
    problem: DayProblem,
    crews: Sequence[Crew],
    crew_district: np.ndarray,
    city: _City,
    point_district: np.ndarray,
    work: np.ndarray,
    need: Sequence[Mapping[str, int]],
) -> int:
    """Move volunteers so each district's hours follow its work (step 2); returns moves."""
    k = len(work)
    hours_v = np.array([crew_hours_s(c) for c in crews], dtype=float)
    hours = np.bincount(crew_district, weights=hours_v, minlength=k)
    target = hours.sum() * work / max(work.sum(), 1.0)
    half_day = float(np.median(hours_v)) / 2 if len(hours_v) else 0.0
    mats = {m: np.asarray(x, dtype=float) for m, x in problem.matrices.durations.items()}
    moved = np.zeros(len(crews), dtype=bool)
    n_moves = 0
    while True:
        short = hours - target
        d = int(np.argmin(short))
        if short[d] >= -half_day:
            break
        members = city.nodes[point_district == d]
        lacking = _lacking(need[d], crews, crew_district == d, hours_v, work[d], hours[d])
        best: tuple[float, int] | None = None
        for i, c in enumerate(crews):
            j = int(crew_district[i])
            if moved[i] or j == d or hours[j] - hours_v[i] < target[j] - half_day:
                continue
            reach = float(mats[c.vol.mode][c.start_node, members].min()) if members.size else 0.0
            knows = sum(w for ind, w in lacking.items() if ind in c.vol.industries)
            score = reach - SKILL_BONUS_S * knows / max(sum(lacking.values()), 1)
            if best is None or score < best[0]:
                best = (score, i)
        if best is None:
            break
        i = best[1]
        hours[crew_district[i]] -= hours_v[i]
        hours[d] += hours_v[i]
        crew_district[i] = d
        moved[i] = True
        n_moves += 1
    return n_moves


def _lacking(
    need: Mapping[str, int],
    crews: Sequence[Crew],
    member: np.ndarray,
    hours_v: np.ndarray,
    work: float,
    hours: float,
) -> dict[str, float]:
    """Hours each industry of a district lacks if its hours were spread over its work."""
    scale = hours / work if work > 0 else 0.0
    out = {}
    for ind in sorted(need):
        have = sum(
            h
            for c, h, m in zip(crews, hours_v, member, strict=True)
            if m and ind in c.vol.industries
        )
        gap = need[ind] * scale - have
        if gap > 0:
            out[ind] = gap
    return out


def plan_districts(
    problem: DayProblem,
    crews: Sequence[Crew],
    tasks: Sequence[Task],
    point_of: Mapping[str, str],
    point_node: Mapping[str, int],
    *,
    target_volunteers: int,
    leg_s: int,
) -> Districts:
    """Districts of the day's `crews` (available volunteers) and `tasks` (those to plan); the
    problem's other volunteers are listed with the district of their point.

    Parameters
    ----------
    problem
        The day (volunteers, e-bike matrix).
    crews, tasks
        Who is available and what is to be planned (see
        :func:`planner.daily.vrp.solve.prepare_day`).
    point_of, point_node
        Each volunteer's service point, and each point's matrix node.
    target_volunteers
        About this many volunteers per district (at least one district).
    leg_s
        Typical travel between two stops (s), for the work of a task.
    """
    points = sorted(set(point_of.values()) & set(point_node)) or sorted(point_node)
    k_max = max(1, len(points))
    dur = _ebike(problem)
    city = _City(points, np.array([point_node[p] for p in points], dtype=np.int64), dur)
    home = {p: i for i, p in enumerate(points)}

    def point_index(vol_id: str, start: int) -> int:
        p = point_of.get(vol_id)
        if p in home:
            return home[p]
        return _nearest(dur[start, city.nodes]) if points else 0

    crew_point = np.array([point_index(c.vol.id, c.start_node) for c in crews], dtype=np.int64)
    task_point = np.array([city.anchor(t) if points else 0 for t in tasks], dtype=np.int64)
    task_w = np.array([task_work_s(t, leg_s) for t in tasks], dtype=float)
    crew_h = np.array([crew_hours_s(c) for c in crews], dtype=float)
    work_p = np.bincount(task_point, weights=task_w, minlength=k_max)
    hours_p = np.bincount(crew_point, weights=crew_h, minlength=k_max)
    k = max(1, min(len(points), round(len(crews) / target_volunteers)))
    if points:
        sub = dur[np.ix_(city.nodes, city.nodes)]
        point_district = _grow(sub + sub.T, work_p, hours_p, k)
    else:
        point_district = np.zeros(1, dtype=np.int64)
    crew_district = point_district[crew_point]
    task_district = point_district[task_point]
    work = np.bincount(task_district, weights=task_w, minlength=k)
    need = _industry_need(tasks, task_district.tolist(), k, leg_s)
    moved = _rebalance(problem, crews, crew_district, city, point_district, work, need)
    district_of_vol = {c.vol.id: int(d) for c, d in zip(crews, crew_district, strict=True)}
    for v in problem.volunteers:
        if v.id not in district_of_vol:
            district_of_vol[v.id] = int(point_district[point_index(v.id, v.start_node)])
    hours = np.bincount(crew_district, weights=crew_h, minlength=k)
    return Districts(
        points=tuple(tuple(p for p, d in zip(points, point_district, strict=True) if d == j)
                     for j in range(k)),
        volunteers=tuple(
            tuple(v.id for v in problem.volunteers if district_of_vol[v.id] == j)
            for j in range(k)
        ),
        tasks=tuple(
            tuple(t.id for t, d in zip(tasks, task_district, strict=True) if d == j)
            for j in range(k)
        ),
        work_s=tuple(round(float(w)) for w in work),
        hours_s=tuple(round(float(h)) for h in hours),
        moved=moved,
    )  # fmt: skip
