"""A city's volunteer routes for one date: tasks, volunteers, travel costs, plan and files.

The routing core (:mod:`planner.daily.vrp`) works on matrix nodes; this module builds them from
a validated city and its service-point plan:

* **Tasks** (:func:`day_tasks`): employer visits chosen by priority (open demand and days
  since the last visit, see :mod:`planner.daily.select`) and escorts of seekers from their
  service point to an interview at an employer of their industry. Only counts of seekers
  assigned to a point are used: no seeker's home enters the routes.
* **Volunteers**: each belongs to the nearest open service point by their own mode, starts
  and ends at home (or at the point), and lunches 45 min in 11:30-13:30 at the point or home.
* **Locations** (the matrix nodes): volunteer homes, service points, then today's employers,
  each snapped once per mode; durations (s) and distances (m) come from the travel-time
  engine, and legs used by the plan get street-following geometry from its routes.

:func:`plan_city_day` plans (or re-plans, with a :class:`~planner.daily.state.DayState`) a
day and :func:`write_routes` writes its data: ``plan.json``, ``routes.json``,
``routes.geojson`` and ``routes.gpx`` (pages are drawn by the ``maps`` face).
:func:`routes_for_day` does all of it for the CLI.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.engine import Engine
from planner.daily.costs import GeometryClock, LegGeometry, day_matrices
from planner.daily.export import write_exports
from planner.daily.state import load_state, parse_state, resolve_state, state_to_dict
from planner.daily.tasks import (
    UNREACHABLE_S,
    DayParams,
    DayTasks,
    EscortRequest,
    day_tasks,
    parse_date,
)
from planner.daily.vrp import (
    DayPlan,
    DayProblem,
    DayState,
    SolveOptions,
    solve_day,
)
from planner.daily.vrp.districts import solve_by_district

__all__ = [
    "UNREACHABLE_S",
    "DayParams",
    "DayTasks",
    "GeometryClock",
    "LegGeometry",
    "RoutesRun",
    "day_matrices",
    "day_tasks",
    "parse_date",
    "plan_city_day",
    "routes_dir",
    "routes_for_day",
    "write_routes",
]

if TYPE_CHECKING:
    from planner.city import City
    from planner.points.plan import Plan
    from planner.points.written import WrittenPlan

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class RoutesRun:
    """A planned day: the plan, its problem and tasks, files written (by
    :func:`routes_for_day`) and wall-clock timings (s, kept out of ``plan.json``)."""

    plan: DayPlan
    problem: DayProblem
    day: DayTasks
    paths: dict[str, Path]
    timings: dict[str, float] = field(default_factory=dict)


def _plan(
    city: City,
    plan: Plan | WrittenPlan,
    date: str | dt.date,
    *,
    options: SolveOptions | None,
    state: DayState | None,
    done: Iterable[str],
    absent: Iterable[str],
    now: str | int | None,
    params: DayParams | None,
    engine: Engine | None,
    escorts: Sequence[EscortRequest] = (),
) -> RoutesRun:
    engine = engine or Engine(city.network, max_snap_m=city.scenario.planning.max_snap_m)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    day = day_tasks(city, plan, date, params=params, engine=engine, escorts=escorts)
    t1 = time.perf_counter()
    matrices, geometry = day_matrices(day, engine, params=params)
    t2 = time.perf_counter()
    problem = DayProblem(day.tasks, day.volunteers, matrices)
    full = (state or DayState()).merged(done=done, absent=absent, now=now)
    replan = None if full.is_empty else resolve_state(full, day)
    opts = options or SolveOptions()
    if len(day.volunteers) > opts.districts_above:
        keys = day.locations["key"].astype(str)
        point_node = {k[len("point:") :]: i for i, k in enumerate(keys) if k.startswith("point:")}
        result = solve_by_district(
            problem,
            day.point_of,
            point_node,
            options=opts,
            state=replan,
            path_geometry=geometry,
        )
    else:
        result = solve_day(problem, options=opts, state=replan, path_geometry=geometry)
    t3 = time.perf_counter()
    clock = geometry.clock
    timings = {
        "tasks_s": round(t1 - t0, 2),
        "matrices_s": round(t2 - t1, 2),
        "solver_s": round(result.solve_seconds - clock.seconds, 2),
        "geometry_s": round(clock.seconds, 2),
        "geometry_legs": clock.legs,
        "plan_day_s": round(t3 - t2, 2),
    }
    n_planned = len(result.planned_task_ids)
    notes = (
        *day.notes,
        *result.notes,
        f"{day.date}: {n_planned} of {len(day.tasks)} tasks planned for "
        f"{sum(not r.is_empty for r in result.routes)} of {len(day.volunteers)} volunteers",
    )
    if replan is not None:
        notes = (
            *notes,
            "re-planned from state: " + json.dumps(state_to_dict(full), ensure_ascii=False),
        )
    logger.info(notes[-1] if replan is None else notes[-2])
    logger.info("timings (s): %s", ", ".join(f"{k} {v}" for k, v in timings.items()))
    routes = tuple(
        dataclasses.replace(r, service_point=day.point_of.get(r.volunteer_id, ""))
        for r in result.routes
    )
    result = dataclasses.replace(result, routes=routes, notes=tuple(notes))
    return RoutesRun(result, problem, day, {}, timings)


def plan_city_day(
    city: City,
    plan: Plan | WrittenPlan,
    date: str | dt.date,
    *,
    options: SolveOptions | None = None,
    state: DayState | Mapping[str, Any] | None = None,
    done: Iterable[str] = (),
    absent: Iterable[str] = (),
    now: str | int | None = None,
    params: DayParams | None = None,
    engine: Engine | None = None,
    escorts: Sequence[EscortRequest] = (),
) -> RoutesRun:
    """Plan (or re-plan) every volunteer's route of `date` (nothing is written).

    Parameters
    ----------
    city, plan
        The validated city and its service-point plan.
    date
        ``YYYY-MM-DD``.
    options
        Solver settings (iterations, seed, balance; see :class:`planner.daily.vrp.SolveOptions`).
    state
        What has happened today: a :class:`planner.daily.vrp.DayState` (positions by place
        id, e.g. from :func:`planner.daily.state.load_state`) or the decoded state file.
    done, absent, now
        Shortcuts added to `state`: finished task ids, absent volunteer ids, current time
        (``HH:MM`` or seconds since midnight). With any of them the plan covers the rest of
        the day only.
    params
        Task and volunteer settings.
    engine
        Travel-time engine to reuse.
    escorts
        Interviews booked for `date` with an escort (:func:`planner.loop.booked_escorts`);
        each becomes an escort task naming its interview.

    Returns
    -------
    RoutesRun
        The plan (its ``notes`` hold counts and how the search stopped), the problem it
        solves and the day's tasks (for the exports and for checking), and timings.

    Raises
    ------
    geo.InputError
        On a malformed date, parameters, state or unknown ids in the state.
    planner.InfeasibleError, planner.SolverError
        As :func:`planner.daily.vrp.solve_day` (only with required tasks, which this module
        does not create: impossible tasks are left out with a reason instead).
    """
    if state is not None and not isinstance(state, DayState):
        state = parse_state(state)
    return _plan(
        city,
        plan,
        date,
        options=options,
        state=state,
        done=done,
        absent=absent,
        now=now,
        params=params,
        engine=engine,
        escorts=escorts,
    )


def write_routes(day_plan: DayPlan, out_dir: str | Path) -> dict[str, Path]:
    """Write the day's data files (see :func:`planner.daily.export.write_exports`).

    Data only: the printable sheet and the volunteers' pages are drawn from these files by
    :func:`maps.sheets.write_sheets` (the CLI does both).
    """
    return write_exports(day_plan, Path(out_dir))


def routes_dir(out_root: str | Path, scenario: str, date: str | dt.date) -> Path:
    """``<out_root>/<scenario>/routes/<YYYY-MM-DD>``."""
    return Path(out_root) / scenario / "routes" / parse_date(date).isoformat()


def routes_for_day(
    city: City,
    plan: Plan | WrittenPlan,
    date: str | dt.date,
    *,
    out_root: str | Path = "out",
    state_file: str | Path | None = None,
    options: SolveOptions | None = None,
    params: DayParams | None = None,
    engine: Engine | None = None,
    done: Iterable[str] = (),
    escorts: Sequence[EscortRequest] = (),
) -> RoutesRun:
    """Plan `date` (re-plan with `state_file`) and write ``out/<scenario>/routes/<date>/``.

    `done` adds task ids reported done elsewhere (e.g. through the HTTP API) to the state;
    `escorts` are the day's booked escorted interviews (see :func:`plan_city_day`).

    The entry point of ``dianmian routes SCENARIO --date YYYY-MM-DD [--state FILE]``. When
    re-planning, the state used is copied to ``state.json`` next to the plan; timings and
    how the search stopped go to ``run.json`` (``plan.json`` holds nothing that depends on
    the machine).
    """
    state = load_state(state_file) if state_file is not None else None
    done = tuple(done)
    if done:
        state = (state or DayState()).merged(done=done)
    run = _plan(
        city,
        plan,
        date,
        options=options,
        state=state,
        done=(),
        absent=(),
        now=None,
        params=params,
        engine=engine,
        escorts=escorts,
    )
    out = routes_dir(out_root, city.scenario.name, run.day.date)
    t0 = time.perf_counter()
    paths = write_routes(run.plan, out)
    if state is not None:
        paths["state"] = out / "state.json"
        paths["state"].write_text(
            json.dumps(state_to_dict(state), ensure_ascii=False, indent=1), encoding="utf-8"
        )
    timings = {**run.timings, "write_s": round(time.perf_counter() - t0, 2)}
    paths["run"] = out / "run.json"
    opts = options or SolveOptions()
    meta = {
        "timings_s": timings,
        "seed": opts.seed,
        "iterations": opts.iterations,
        "no_improvement": opts.no_improvement,
        "safety_net_s": opts.seconds,
        "stopped_by": next((n for n in run.plan.notes if n.startswith("search stopped")), ""),
    }
    paths["run"].write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return RoutesRun(run.plan, run.problem, run.day, paths, timings)
