"""Plan a day's routes with PyVRP (hybrid genetic search), then check the plan.

How the product's rules map onto PyVRP 0.14 (which has no native skills or breaks; the model
is built in :mod:`planner.daily.vrp.build`):

* **Travel modes**: one PyVRP *profile* per mode (its own time and cost matrices).
* **Time windows**: a visit's opening hours; several windows become a mutually exclusive
  client group with one copy per window. Escorts are PyVRP *shipments* (pickup and delivery
  on the same route, pickup first) with the interview as the delivery deadline.
* **Optional tasks**: clients/shipments with ``required=False`` and a *prize*
  (``priority * prize_per_priority_s``); the solver leaves a task out when its prize is lower
  than the travel time it costs, so the lowest priorities go first.
* **Skills** as load dimensions: a task of industry *k* puts load on dimension *k*;
  volunteers who do not know *k* have capacity 0 there. Exact, and cheap (one dimension per
  industry in use).
* **Capacity**: dimension 0 counts task units against ``max_tasks``; dimension 1 counts
  escorted seekers against ``seats``.
* **Balance**: each volunteer has a *fair day* (their share of the day's work, see
  :func:`fair_days`); every second a route lasts beyond it costs ``balance`` (PyVRP overtime,
  up to the shift end), so long days are spread over the team in the objective itself.
* **Lunch** (and, when re-planning, a group already walking with a volunteer) are stops that
  belong to one volunteer. They carry a binary code over ``k`` extra load dimensions: each
  volunteer gets a distinct ``k/2``-subset of dimensions as capacity, so a stop fits only
  the volunteer whose subset it is (``C(10, 5) = 252`` volunteers need 10 dimensions).
  Lunch is a required group of optional stops, one per allowed place.

The search stops after ``iterations`` (or ``no_improvement`` iterations without a better
plan): the same problem and seed give the same plan on any machine. The wall-clock limit
``seconds`` is only a safety net; the plan says when it was hit.

After the search, the plan is checked (:mod:`planner.daily.vrp.explain`): a left-out task
that a volunteer still has room for is inserted, every task left out gets the reason found
by checking each volunteer, and every volunteer without a task gets a reason.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import (
    MaxIterations,
    MaxRuntime,
    MultipleCriteria,
    NoImprovement,
    StoppingCriterion,
)

from geo import TravelMode
from geo.engine.parallel import check_workers
from geo.timeofday import format_hhmm
from planner.daily.record import DayPlan, DroppedTask, VolunteerRoute
from planner.daily.vrp.build import Crew, build_model
from planner.daily.vrp.decode import PathGeometry, read_solution, route_record, work_first
from planner.daily.vrp.explain import fill_gaps, why_dropped, why_idle
from planner.daily.vrp.model import DayProblem, DayState, Escort, Task, TimeWindow, Visit
from planner.daily.vrp.partition import crew_hours_s, task_work_s
from planner.daily.vrp.timeline import Timeline
from planner.errors import InfeasibleError, SolverError

logger = logging.getLogger(__name__)

__all__ = ["PathGeometry", "SolveOptions", "fair_days", "solve_day"]


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings.

    Parameters
    ----------
    iterations
        Most iterations of the search; with `no_improvement` what makes a plan reproducible.
    no_improvement
        Stop earlier after this many iterations without a better plan (``None``: never).
    seconds
        Wall-clock safety net (s): the search also stops here, and the plan notes it (the
        result then depends on the machine's speed).
    seed
        Random seed: the same problem, seed and iteration limits give the same plan.
    prize_per_priority_s
        Travel time (s) one priority point is worth: a visit of priority 5 is left out by the
        solver only if serving it costs more than ``5 * prize_per_priority_s`` seconds of
        extra travel (and then only if no volunteer has room for it, see module docstring).
    objective
        ``"time"`` minimises total travel time, ``"distance"`` total travel distance.
    balance
        Cost of each second a volunteer's day lasts beyond their fair day, in units of the
        objective (1: one second of travel). ``0`` turns balancing off.
    leg_s
        Typical travel between two stops (s), used to estimate the day's work for the fair
        day.
    districts_above
        With more volunteers than this, a city's day is planned district by district
        (:mod:`planner.daily.vrp.districts`; 0: always, as for measuring its loss).
    district_volunteers
        About how many volunteers a district holds (the city's available volunteers divided
        by this, rounded, is the number of districts; at least one).
    workers
        Processes that search districts at the same time (``None``: every available CPU;
        1: one after the other in this process). The plan is the same whatever the number:
        each district's search depends only on its own volunteers, tasks and the seed.
    """

    iterations: int = 2000
    no_improvement: int | None = 1000
    seconds: float = 120.0
    seed: int = 0
    prize_per_priority_s: int = 1800
    objective: Literal["time", "distance"] = "time"
    balance: float = 1.0
    leg_s: int = 600
    districts_above: int = 150
    district_volunteers: int = 80
    workers: int | None = None

    def __post_init__(self) -> None:
        bad = []
        if self.iterations < 1:
            bad.append(f"`iterations` ({self.iterations}) must be >= 1")
        if self.no_improvement is not None and self.no_improvement < 1:
            bad.append(f"`no_improvement` ({self.no_improvement}) must be >= 1 or None")
        if not self.seconds > 0:
            bad.append(f"`seconds` ({self.seconds}) must be > 0")
        if self.prize_per_priority_s < 0:
            bad.append(f"`prize_per_priority_s` ({self.prize_per_priority_s}) must be >= 0")
        if self.objective not in ("time", "distance"):
            bad.append(f"`objective` {self.objective!r} must be 'time' or 'distance'")
        if not (self.balance >= 0 and math.isfinite(self.balance)):
            bad.append(f"`balance` ({self.balance}) must be >= 0")
        if self.leg_s < 0:
            bad.append(f"`leg_s` ({self.leg_s}) must be >= 0")
        if self.districts_above < 0 or self.district_volunteers < 1:
            bad.append("`districts_above` must be >= 0 and `district_volunteers` >= 1")
        try:
            check_workers(self.workers)
        except ValueError as exc:
            bad.append(str(exc))
        if bad:
            raise ValueError("; ".join(bad))


def _crews(
    problem: DayProblem, state: DayState | None
) -> tuple[list[Crew], dict[str, str], list[str]]:
    """Volunteers available for the (rest of the) day, and why the others are not."""
    notes: list[str] = []
    unavailable: dict[str, str] = {}
    escorts = {t.id: t for t in problem.tasks if isinstance(t, Escort)}
    now = (state.now_s or 0) if state is not None else 0
    crews = []
    for v in problem.volunteers:
        if state is not None and v.id in state.absent:
            unavailable[v.id] = "absent (re-planning state)"
            continue
        early = max(v.shift.start_s, now)
        if early >= v.shift.end_s:
            unavailable[v.id] = f"shift over at {format_hhmm(now)}"
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
    return crews, unavailable, notes


def fair_days(
    problem: DayProblem, crews: Sequence[Crew], tasks: Sequence[Task], leg_s: int
) -> list[Crew]:
    """`crews` with their fair day: lunch plus their share of the day's work.

    The day's work is every task's service time plus one typical leg (`leg_s`) per stop;
    each volunteer's share is proportional to their working hours (shift minus lunch). A
    volunteer is not charged for a day up to that length; see :class:`SolveOptions.balance`.
    """
    work = sum(task_work_s(t, leg_s) for t in tasks)
    hours = []
    for c in crews:
        lunch = c.vol.lunch.duration_s if c.lunch_window is not None and c.vol.lunch else 0
        hours.append((lunch, crew_hours_s(c)))
    total = sum(h for _, h in hours)
    share = min(1.0, work / total) if total else 1.0
    return [
        replace(c, fair_s=lunch + math.ceil(share * h))
        for c, (lunch, h) in zip(crews, hours, strict=True)
    ]


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


def _required_check(tasks: Sequence[Task], reasons: Mapping[str, str]) -> None:
    impossible = [t for t in tasks if t.required and t.id in reasons]
    if impossible:
        lines = "; ".join(f"`{t.id}`: {reasons[t.id]}" for t in impossible[:20])
        msg = f"{len(impossible)} required task(s) cannot be planned: {lines}"
        raise InfeasibleError(msg)


def _search(
    problem: DayProblem,
    crews: Sequence[Crew],
    tasks: Sequence[Task],
    opts: SolveOptions,
    timelines: Sequence[Timeline],
) -> str:
    """Run PyVRP and put its routes on the timelines; returns how the search stopped."""
    built = build_model(
        problem,
        crews,
        tasks,
        prize_per_priority_s=opts.prize_per_priority_s,
        objective=opts.objective,
        balance=round(opts.balance),
    )
    criteria: list[StoppingCriterion] = [
        MaxIterations(opts.iterations),
        MaxRuntime(opts.seconds),
    ]
    if opts.no_improvement is not None:
        criteria.append(NoImprovement(opts.no_improvement))
    with warnings.catch_warnings(record=True) as caught:
        # PyVRP warns when a penalty reaches its bound, i.e. the search spent a while in
        # infeasible solutions (tight windows, escorts). That is a remark about the search,
        # not the plan, whose feasibility is checked below: logged, not shown to users.
        warnings.simplefilter("always", PenaltyBoundWarning)
        result = pyvrp.solve(
            built.data,
            stop=MultipleCriteria(criteria),
            seed=opts.seed,
            collect_stats=False,
            initial_solution=built.initial,
        )
    for w in caught:
        if issubclass(w.category, PenaltyBoundWarning):
            logger.info(
                "PyVRP: a penalty reached its bound during the search (%d tasks)", len(tasks)
            )
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if not result.is_feasible():
        msg = (
            f"no feasible plan found in {result.num_iterations} iterations: required tasks, "
            "lunch breaks and shift hours cannot all be met; make some tasks optional or "
            "allow more `iterations`"
        )
        raise SolverError(msg)
    read_solution(built, result.best, timelines, {t.id: t for t in problem.tasks})
    if result.runtime >= opts.seconds:
        logger.warning("search stopped by its %g s safety net", opts.seconds)
        return (
            f"the wall-clock safety net ({opts.seconds:g} s) after {result.num_iterations} "
            "iterations: this plan depends on the machine's speed"
        )
    if result.num_iterations >= opts.iterations:
        return f"the iteration limit ({opts.iterations})"
    return f"{opts.no_improvement} iterations without improvement ({result.num_iterations} in all)"


def _objective(
    routes: Sequence[VolunteerRoute],
    crews: Sequence[Crew],
    dropped: Sequence[DroppedTask],
    opts: SolveOptions,
) -> int:
    """Travel (s, or m) plus the balance cost of days beyond the fair day plus the prizes of
    the tasks left out, computed on the final plan."""
    fair = {c.vol.id: c.fair_s for c in crews}
    travel = sum(r.travel_s if opts.objective == "time" else r.distance_m for r in routes)
    over = sum(
        max(0, r.duration_s - f) for r in routes if (f := fair.get(r.volunteer_id)) is not None
    )
    lost = sum(round(d.priority * opts.prize_per_priority_s) for d in dropped)
    return round(travel + opts.balance * over) + lost


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
        Solver settings (iterations, seed, prize scale, objective, balance).
    state
        For re-planning: current time, finished tasks, absent volunteers, positions (resolved
        onto matrix nodes, see :func:`planner.daily.state.resolve_state`).
    path_geometry
        Street-following geometry of a leg, either one callable for all modes or one per mode;
        without it, legs are straight lines between node coordinates (if known).

    Returns
    -------
    DayPlan
        One route per volunteer (with a reason when they have no task) and the tasks left
        out with their reasons.

    Raises
    ------
    InfeasibleError
        When a required task cannot be done by anyone (all such tasks are listed).
    SolverError
        When the search ends without a feasible plan (e.g. required tasks that cannot all fit).
    """
    opts = options or SolveOptions()
    t0 = time.perf_counter()
    day = prepare_day(problem, state)
    crews, timelines, note = search_day(problem, day.crews, day.modelled, opts)
    if note:
        day.notes.append(note)
    return finish_day(problem, day, crews, timelines, opts, path_geometry, started=t0)


@dataclass
class PreparedDay:
    """A day ready for the search: who is available, what is left to do and what no one can.

    ``tasks`` are the day's tasks not done nor already walking with a volunteer; ``modelled``
    those of them someone could do (the others have their reason in ``reasons``).
    """

    crews: list[Crew]
    unavailable: dict[str, str]
    notes: list[str]
    tasks: list[Task]
    modelled: list[Task]
    reasons: dict[str, str]


def prepare_day(problem: DayProblem, state: DayState | None) -> PreparedDay:
    """Available volunteers and the tasks to plan, screened against all of them.

    Raises
    ------
    InfeasibleError
        When a required task cannot be done by anyone.
    """
    crews, unavailable, notes = _crews(problem, state)
    done = state.done if state is not None else frozenset()
    carried_ids = {e.id for c in crews for e in c.carried}
    tasks = [t for t in problem.tasks if t.id not in done and t.id not in carried_ids]
    reasons = _screen(problem, crews, tasks)
    _required_check(tasks, reasons)
    modelled = [t for t in tasks if t.id not in reasons]
    return PreparedDay(crews, unavailable, notes, tasks, modelled, reasons)


def search_day(
    problem: DayProblem, crews: Sequence[Crew], tasks: Sequence[Task], opts: SolveOptions
) -> tuple[list[Crew], list[Timeline], str]:
    """One PyVRP search of `tasks` over `crews` (their fair days set from these tasks).

    Returns the crews with their fair day, their timelines (in order) and how the search
    stopped (empty without crews).
    """
    fair = fair_days(problem, crews, tasks, opts.leg_s)
    timelines = [
        Timeline(
            c,
            np.asarray(problem.matrices.durations[c.vol.mode], dtype=float),
            [],
            sum(e.seekers for e in c.carried),
        )
        for c in fair
    ]
    note = ""
    if fair:
        note = "search stopped by " + _search(problem, fair, tasks, opts, timelines)
    return fair, timelines, note


def finish_day(
    problem: DayProblem,
    day: PreparedDay,
    crews: Sequence[Crew],
    timelines: list[Timeline],
    opts: SolveOptions,
    path_geometry: PathGeometry | Mapping[TravelMode, PathGeometry] | None,
    *,
    started: float,
) -> DayPlan:
    """Fill the gaps of the searched `timelines`, give every left-out task and idle volunteer
    a reason checked against all of them, and make the day's records."""
    notes = day.notes
    after_lunch = {tl.crew.vol.id for tl in timelines if work_first(tl)}
    planned = {a.task_id for tl in timelines for a in tl.acts if a.task_id is not None}
    filled = fill_gaps(
        timelines, [t for t in day.modelled if t.id not in planned], balance=opts.balance
    )
    if filled:
        notes.append(f"{len(filled)} task(s) left out by the search fit a volunteer's day: added")
    planned_by = {a.task_id: tl.crew.vol.id for tl in timelines for a in tl.acts if a.task_id}
    dropped = sorted(
        (
            DroppedTask(t.id, why_dropped(t, timelines, problem.volunteers), t.priority)
            for t in day.tasks
            if t.id not in planned_by
        ),
        key=lambda d: (-d.priority, d.task_id),
    )
    _prefetch(timelines, path_geometry)
    routes = _routes(
        problem, timelines, day.tasks, planned_by, day.unavailable, after_lunch, path_geometry
    )
    elapsed = time.perf_counter() - started
    logger.info(
        "planned %d tasks on %d routes, left out %d, in %.1f s",
        len(planned_by),
        sum(not r.is_empty for r in routes),
        len(dropped),
        elapsed,
    )
    objective = _objective(routes, crews, dropped, opts)
    return DayPlan(tuple(routes), tuple(dropped), objective, elapsed, tuple(notes))


def _prefetch(
    timelines: Sequence[Timeline],
    path_geometry: PathGeometry | Mapping[TravelMode, PathGeometry] | None,
) -> None:
    """Ask a geometry callable that can (``prefetch``, e.g.
    :class:`planner.daily.costs.StreetLegs`) for all the plan's legs of its mode at once."""
    if path_geometry is None:
        return
    legs: dict[TravelMode, set[tuple[int, int]]] = {}
    for tl in timelines:
        nodes = [tl.crew.start_node, *(a.node for a in tl.acts), tl.crew.vol.end_node]
        mine = legs.setdefault(tl.crew.vol.mode, set())
        mine.update((a, b) for a, b in itertools.pairwise(nodes) if a != b)
    for mode in sorted(legs):
        fn = path_geometry.get(mode) if isinstance(path_geometry, Mapping) else path_geometry
        prefetch = getattr(fn, "prefetch", None)
        if callable(prefetch):
            prefetch(legs[mode])


def _routes(
    problem: DayProblem,
    timelines: Sequence[Timeline],
    tasks: Sequence[Task],
    planned_by: Mapping[str, str],
    unavailable: Mapping[str, str],
    after_lunch: set[str],
    path_geometry: PathGeometry | Mapping[TravelMode, PathGeometry] | None,
) -> list[VolunteerRoute]:
    """One record per volunteer, in the problem's order; those without a task get a reason."""
    labels = {t.id: t.label for t in problem.tasks}
    by_id = {tl.crew.vol.id: tl for tl in timelines}
    idle_reason: dict[tuple[object, ...], str] = {}  # identical idle volunteers: one check
    out = []
    for v in problem.volunteers:
        tl = by_id.get(v.id)
        if tl is None:
            reason = unavailable.get(v.id, "not available today")
            out.append(
                VolunteerRoute(v.id, v.mode, (), (), v.name, reason, v.shift.start_s, v.shift.end_s)
            )
            continue
        reason = ""
        if not tl.has_task():
            c = tl.crew
            key: tuple[object, ...] = (c.start_node, c.early_s, c.lunch_window, v.end_node)
            key += (v.shift, v.mode, v.industries, v.seats, tuple(tl.acts))
            if key not in idle_reason:
                idle_reason[key] = why_idle(v, tl, tasks, planned_by, unavailable)
            reason = idle_reason[key]
        out.append(
            route_record(
                problem, tl, labels, path_geometry, after_lunch=v.id in after_lunch, reason=reason
            )
        )
    return out
