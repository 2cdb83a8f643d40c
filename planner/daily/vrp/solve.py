"""Plan a day's routes with PyVRP (hybrid genetic search).

How the product's rules map onto PyVRP 0.14 (which has no native skills or breaks):

* **Travel modes**: one PyVRP *profile* per mode (its own time and cost matrices).
* **Time windows**: a visit's opening hours; several windows become a mutually exclusive
  client group with one copy per window. Escorts are PyVRP *shipments* (pickup and delivery
  on the same route, pickup first) with the interview as the delivery deadline.
* **Optional tasks**: clients/shipments with ``required=False`` and a *prize*
  (``priority * prize_per_priority_s``); the solver drops a task when its prize is lower than
  the travel time it costs, so the lowest priorities go first.
* **Skills** as load dimensions: a task of industry *k* puts load 1 on dimension *k*;
  volunteers who do not know *k* have capacity 0 there. Exact, and cheap (one dimension per
  industry in use).
* **Capacity**: dimension 0 counts task units against ``max_tasks``; dimension 1 counts
  escorted seekers against ``seats``.
* **Lunch** (and, when re-planning, a group already walking with a volunteer) are stops that
  belong to one volunteer. They carry a binary code over ``k`` extra load dimensions: each
  volunteer gets a distinct ``k/2``-subset of dimensions as capacity 1, so a stop fits only
  the volunteer whose subset it is (``C(10, 5) = 252`` volunteers need 10 dimensions).
  Lunch is a required group of optional stops, one per allowed place.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyvrp
from pyvrp.stop import MaxRuntime

from geo import TravelMode
from geo.timeofday import format_hhmm
from planner.daily.record import DayPlan, DroppedTask, Stop, StopKind, VolunteerRoute
from planner.daily.vrp.build import BuiltModel, Crew, build_model
from planner.daily.vrp.model import (
    DayProblem,
    DayState,
    Escort,
    Task,
    TimeWindow,
    Visit,
)
from planner.errors import InfeasibleError, SolverError

logger = logging.getLogger(__name__)

PathGeometry = Callable[[int, int], Sequence[tuple[float, float]]]
"""``path_geometry(from_node, to_node) -> [(lon, lat), ...]`` street-following geometry."""


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings.

    Parameters
    ----------
    seconds
        Wall-clock budget of the search (s).
    seed
        Random seed (same seed and budget-limited by iterations gives the same plan).
    prize_per_priority_s
        Travel time (s) one priority point is worth: a visit of priority 5 is dropped only if
        serving it costs more than ``5 * prize_per_priority_s`` seconds of extra travel.
    objective
        ``"time"`` minimises total travel time, ``"distance"`` total travel distance.
    """

    seconds: float = 5.0
    seed: int = 0
    prize_per_priority_s: int = 1800
    objective: Literal["time", "distance"] = "time"

    def __post_init__(self) -> None:
        if not self.seconds > 0:
            msg = f"`seconds` ({self.seconds}) must be > 0"
            raise ValueError(msg)
        if self.prize_per_priority_s < 0:
            msg = f"`prize_per_priority_s` ({self.prize_per_priority_s}) must be >= 0"
            raise ValueError(msg)
        if self.objective not in ("time", "distance"):
            msg = f"`objective` {self.objective!r} must be 'time' or 'distance'"
            raise ValueError(msg)


def _crews(problem: DayProblem, state: DayState | None) -> tuple[list[Crew], list[str]]:
    notes: list[str] = []
    escorts = {t.id: t for t in problem.tasks if isinstance(t, Escort)}
    crews = []
    for v in problem.volunteers:
        if state is not None and v.id in state.absent:
            continue
        now = (state.now_s or 0) if state is not None else 0
        early = max(v.shift.start_s, now)
        if early >= v.shift.end_s:
            notes.append(f"volunteer {v.id}: shift over at {format_hhmm(now)}")
            continue
        lunch = None
        if v.lunch is not None and not (state is not None and v.id in state.lunch_taken):
            w = v.lunch.window
            start = max(w.start_s, early)
            if start + v.lunch.duration_s <= w.end_s:
                lunch = TimeWindow(start, w.end_s)
            else:
                notes.append(f"volunteer {v.id}: lunch window passed, no lunch planned")
        carried: tuple[Escort, ...] = ()
        if state is not None:
            carried = tuple(escorts[e] for e in state.carrying.get(v.id, ()) if e in escorts)
        start_node = state.node_of(v.id, v.start_node) if state is not None else v.start_node
        crews.append(Crew(v, start_node, early, lunch, carried))
    return crews, notes


def _screen(problem: DayProblem, crews: list[Crew], tasks: list[Task]) -> dict[str, str]:
    """Reasons why tasks cannot be done by anyone (checked before solving, vectorised)."""
    reasons: dict[str, str] = {}
    dur = {m: np.asarray(x, dtype=float) for m, x in problem.matrices.durations.items()}
    if not crews:
        return {t.id: "no volunteer is available" for t in tasks}
    starts = np.array([c.start_node for c in crews])
    ends = np.array([c.vol.end_node for c in crews])
    early = np.array([c.early_s for c in crews], dtype=float)
    late = np.array([c.vol.shift.end_s for c in crews], dtype=float)
    modes = [c.vol.mode for c in crews]
    seats = np.array([c.vol.seats for c in crews])
    cap = np.array([c.vol.max_tasks for c in crews])

    mode_masks = [(dur[m], np.array([x == m for x in modes])) for m in set(modes)]
    n_crews = len(crews)

    def d(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
        """Travel time of each crew (own mode) from `a` to `b` (scalars or per-crew arrays)."""
        aa = np.broadcast_to(a, n_crews)
        bb = np.broadcast_to(b, n_crews)
        out = np.empty(n_crews)
        for mat, mask in mode_masks:
            out[mask] = mat[aa[mask], bb[mask]]
        return out

    for t in tasks:
        skilled = np.array([t.industry is None or t.industry in c.vol.industries for c in crews])
        if not skilled.any():
            reasons[t.id] = f"no available volunteer knows the industry `{t.industry}`"
            continue
        if isinstance(t, Visit):
            fits = skilled & (cap >= t.units)
            if not fits.any():
                reasons[t.id] = f"needs {t.units} task units, more than any volunteer's `max_tasks`"
                continue
            arrive = early + d(starts, t.node)
            back = d(t.node, ends)
            ok = np.zeros(len(crews), dtype=bool)
            for w in t.windows:
                begin = np.maximum(arrive, w.start_s)
                ok |= (begin + t.service_s <= w.end_s) & (begin + t.service_s + back <= late)
        else:
            fits = skilled & (seats >= t.seekers)
            if not fits.any():
                reasons[t.id] = (
                    f"group of {t.seekers} seekers exceeds every able volunteer's `seats`"
                )
                continue
            pick = np.maximum(early + d(starts, t.pickup_node), t.ready_s) + t.pickup_service_s
            drop = np.maximum(pick + d(t.pickup_node, t.delivery_node), t.delivery_window.start_s)
            ok = (drop <= t.interview_s) & (
                drop + t.delivery_service_s + d(t.delivery_node, ends) <= late
            )
        if not (ok & fits).any():
            if ok.any():
                reasons[t.id] = (
                    "the volunteers who could reach it in time lack its industry or capacity"
                )
            else:
                reasons[t.id] = "no volunteer can reach it inside its time window and shift hours"
    return reasons


def solve_day(
    problem: DayProblem,
    *,
    options: SolveOptions | None = None,
    state: DayState | None = None,
    path_geometry: PathGeometry | Mapping[TravelMode, PathGeometry] | None = None,
) -> DayPlan:
    """Plan every available volunteer's route for the (rest of the) day.

    Parameters
    ----------
    problem
        Tasks, volunteers and cost matrices.
    options
        Solver settings (time budget, seed, prize scale, objective).
    state
        For re-planning: current time, finished tasks, absent volunteers, positions.
    path_geometry
        Street-following geometry of a leg, either one callable for all modes or one per mode;
        without it, legs are straight lines between node coordinates (if known).

    Returns
    -------
    DayPlan
        One route per available volunteer and the dropped tasks with reasons.

    Raises
    ------
    InfeasibleError
        When a required task cannot be done by anyone (all such tasks are listed).
    SolverError
        When the search ends without a feasible plan (e.g. required tasks that cannot all fit).
    """
    opts = options or SolveOptions()
    t0 = time.perf_counter()
    crews, notes = _crews(problem, state)
    done = state.done if state is not None else frozenset()
    carried_ids = {e.id for c in crews for e in c.carried}
    tasks = [t for t in problem.tasks if t.id not in done and t.id not in carried_ids]

    reasons = _screen(problem, crews, tasks)
    impossible_required = [t for t in tasks if t.required and t.id in reasons]
    if impossible_required:
        lines = "; ".join(f"`{t.id}`: {reasons[t.id]}" for t in impossible_required[:20])
        msg = f"{len(impossible_required)} required task(s) cannot be planned: {lines}"
        raise InfeasibleError(msg)
    dropped = [DroppedTask(t.id, reasons[t.id], t.priority) for t in tasks if t.id in reasons]
    tasks = [t for t in tasks if t.id not in reasons]

    if not crews:
        plan = DayPlan((), tuple(dropped), 0, time.perf_counter() - t0, tuple(notes))
        return plan

    built = build_model(
        problem,
        crews,
        tasks,
        prize_per_priority_s=opts.prize_per_priority_s,
        objective=opts.objective,
    )
    result = pyvrp.solve(
        built.data,
        stop=MaxRuntime(opts.seconds),
        seed=opts.seed,
        collect_stats=False,
        initial_solution=built.initial,
    )
    if not result.is_feasible():
        msg = (
            f"no feasible plan found in {opts.seconds:g} s: required tasks, lunch breaks and "
            "shift hours cannot all be met; make some tasks optional or extend `seconds`"
        )
        raise SolverError(msg)
    routes, planned = _decode(problem, crews, built, result.best, path_geometry)
    full = _volunteers_at_limit(problem, routes)
    for t in tasks:
        if t.id not in planned:
            capable = [
                v.id for v in problem.volunteers if t.industry is None or t.industry in v.industries
            ]
            if isinstance(t, Visit) and capable and all(v in full for v in capable):
                skill = f" ({t.industry.value})" if t.industry is not None else ""
                reason = (
                    f"every volunteer who can do it{skill} is at their daily task limit "
                    f"(priority {t.priority:g})"
                )
            else:
                reason = (
                    f"day too short: left out for tasks of higher priority or on the way "
                    f"(priority {t.priority:g})"
                )
            dropped.append(DroppedTask(t.id, reason, t.priority))
    dropped.sort(key=lambda x: (-x.priority, x.task_id))
    elapsed = time.perf_counter() - t0
    logger.info(
        "planned %d tasks on %d routes, dropped %d, in %.1f s",
        len(planned),
        sum(not r.is_empty for r in routes),
        len(dropped),
        elapsed,
    )
    # PyVRP's own cost also counts the prizes of unused copies of multi-window visits, a
    # constant that would confuse readers: report travel cost plus the dropped tasks' prizes.
    lost = sum(round(d.priority * opts.prize_per_priority_s) for d in dropped)
    objective = int(result.best.distance_cost()) + lost
    return DayPlan(tuple(routes), tuple(dropped), objective, elapsed, tuple(notes))


def _volunteers_at_limit(problem: DayProblem, routes: Sequence[VolunteerRoute]) -> set[str]:
    """Volunteers whose planned visit units reach their ``max_tasks``."""
    units = {t.id: t.units for t in problem.tasks if isinstance(t, Visit)}
    limit = {v.id: v.max_tasks for v in problem.volunteers}
    return {
        r.volunteer_id
        for r in routes
        if sum(units.get(t, 0) for t in set(r.task_ids)) >= limit[r.volunteer_id]
    }


def _decode(
    problem: DayProblem,
    crews: list[Crew],
    built: BuiltModel,
    solution: pyvrp.Solution,
    path_geometry: PathGeometry | Mapping[TravelMode, PathGeometry] | None,
) -> tuple[list[VolunteerRoute], set[str]]:
    labels = {t.id: t.label for t in problem.tasks}
    free = [list(m) for m in built.type_crews]
    routes: dict[int, VolunteerRoute] = {}
    planned: set[str] = set()
    for route in solution.routes():
        crew_idx = free[route.vehicle_type()].pop(0)
        c = crews[crew_idx]
        dur = np.asarray(problem.matrices.durations[c.vol.mode], dtype=float)
        dist = np.asarray(problem.matrices.distances[c.vol.mode], dtype=float)
        stops: list[Stop] = []
        prev: int | None = None
        for act in route.schedule():
            if act.is_depot():
                node = int(built.nodes[built.data.depot(act.idx).location])
                kind = StopKind.START if prev is None else StopKind.END
                task_id, label = None, ""
            elif act.is_client():
                ref = built.clients[act.idx]
                node = int(built.nodes[built.data.client(act.idx).location])
                kind, task_id = ref.kind, ref.task_id
                label = labels.get(task_id, "") if task_id else ""
            else:
                ship = built.data.shipment(act.idx)
                step = ship.pickup if act.is_pickup() else ship.delivery
                node = int(built.nodes[step.location])
                kind = StopKind.PICKUP if act.is_pickup() else StopKind.DELIVERY
                task_id = built.shipments[act.idx]
                label = labels.get(task_id, "")
            if task_id is not None:
                planned.add(task_id)
            travel_s = float(dur[prev, node]) if prev is not None else 0.0
            travel_m = float(dist[prev, node]) if prev is not None else 0.0
            start = int(act.start_time)
            lon, lat = _lonlat(problem, node)
            stops.append(
                Stop(
                    kind,
                    node,
                    task_id,
                    arrival_s=start - int(act.wait_duration),
                    start_s=start,
                    departure_s=int(act.end_time),
                    travel_s=travel_s,
                    travel_m=travel_m,
                    label=label,
                    lon=lon,
                    lat=lat,
                )
            )
            prev = node
        geometry = _geometry(problem, c.vol.mode, [s.node for s in stops], path_geometry)
        routes[crew_idx] = VolunteerRoute(c.vol.id, c.vol.mode, tuple(stops), geometry, c.vol.name)
    out = []
    for i, c in enumerate(crews):
        if i in routes:
            out.append(routes[i])
        else:  # idle: stays at the start
            lon, lat = _lonlat(problem, c.start_node)
            stop = Stop(
                StopKind.START,
                c.start_node,
                None,
                c.early_s,
                c.early_s,
                c.early_s,
                0.0,
                0.0,
                lon=lon,
                lat=lat,
            )
            out.append(VolunteerRoute(c.vol.id, c.vol.mode, (stop,), (), c.vol.name))
    return out, planned


def _lonlat(problem: DayProblem, node: int) -> tuple[float | None, float | None]:
    coords = problem.matrices.coords
    if coords is None:
        return None, None
    return float(coords[node, 0]), float(coords[node, 1])


def _geometry(
    problem: DayProblem,
    mode: TravelMode,
    nodes: list[int],
    path_geometry: PathGeometry | Mapping[TravelMode, PathGeometry] | None,
) -> tuple[tuple[float, float], ...]:
    fn = path_geometry.get(mode) if isinstance(path_geometry, Mapping) else path_geometry
    coords = problem.matrices.coords
    line: list[tuple[float, float]] = []
    for a, b in itertools.pairwise(nodes):
        if a == b:
            continue
        if fn is not None:
            leg = [(float(x), float(y)) for x, y in fn(a, b)]
        elif coords is not None:
            leg = [
                (float(coords[a, 0]), float(coords[a, 1])),
                (float(coords[b, 0]), float(coords[b, 1])),
            ]
        else:
            leg = []
        if line and leg and line[-1] == leg[0]:
            leg = leg[1:]
        line.extend(leg)
    return tuple(line)
