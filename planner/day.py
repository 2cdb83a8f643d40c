"""A city's volunteer routes for one date: tasks, volunteers, travel costs, plan and files.

The routing core (:mod:`planner.routes`) works on matrix nodes; this module builds them from
a validated city and its service-point plan:

* **Tasks** (:func:`day_tasks`): employer visits chosen by priority (open demand and days
  since the last visit, see :mod:`planner.day_select`) and escorts of seekers from their
  service point to an interview at an employer of their industry. Only counts of seekers
  assigned to a point are used: no seeker's home enters the routes.
* **Volunteers**: each belongs to the nearest open service point by their own mode, starts
  and ends at home (or at the point), and lunches 45 min in 11:30-13:30 at the point or home.
* **Locations** (the matrix nodes): volunteer homes, service points, then today's employers,
  each snapped once per mode; durations (s) and distances (m) come from the travel-time
  engine, and legs used by the plan get street-following geometry from its routes.

:func:`plan_routes` plans (or re-plans, with a :class:`~planner.day_state.RouteState`) a
day and :func:`write_routes` writes ``plan.json``, ``routes.geojson``, ``routes.gpx``,
``routes.html`` and one page per volunteer. :func:`routes_for_day` does all of it for the CLI.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from geo import DianmianError, Industry, InputError, Problem, TravelMode
from geo.engine import Engine, SnappedPoints
from geo.layers import LayerName

from .day_select import (
    Claimant,
    EscortDraft,
    claim_visits,
    employer_priorities,
    sample_escorts,
    service_seconds,
)
from .day_state import RouteState, load_state
from .routes import (
    ROUTING_MODES,
    CostMatrices,
    DayPlan,
    DayProblem,
    Escort,
    Lunch,
    PathGeometry,
    ReplanState,
    SolveOptions,
    Task,
    TimeWindow,
    Visit,
    Volunteer,
    fmt_hhmm,
    hhmm,
    plan_day,
    plan_html,
    write_exports,
)

logger = logging.getLogger(__name__)

UNREACHABLE_S = 7 * 86400
"""Cost standing in for "no route" (s or m) in the matrices: the solver never uses such a
leg, and the pre-solve screen reports the tasks behind it as unreachable."""


@dataclass(frozen=True)
class DayParams:
    """How a day's tasks and volunteers are built.

    Parameters
    ----------
    visits_per_volunteer
        Employer visits selected per volunteer with an 8-hour shift (scaled by shift length).
    escorts_per_volunteer
        Escorts per volunteer (Dongcao: 0.6 x 100 volunteers = 60 escorts).
    reach_min
        A volunteer claims employers within this travel time (min, own mode) of their point.
    escort_reach_min
        Escorted seekers walk at most this long (min) from the point to the employer.
    escort_lead_min
        Seekers are ready at the point this long (min) before their interview.
    max_group
        Largest seeker group per escort (groups are 1..max_group).
    max_tasks, seats
        Each volunteer's daily task capacity and escort seats.
    balance
        Spread the day's visits over the volunteers: nobody gets more than
        ``ceil(balance * visits / volunteers)`` tasks (nor more than `max_tasks`). The solver
        minimises travel, which alone would pack full days onto a few volunteers near busy
        points and leave others idle. ``0`` turns this off.
    start_at
        ``"home"``: days start and end at the volunteer's home; ``"point"``: at their point.
    lunch_window, lunch_min
        Lunch break window (``HH:MM`` pair) and length (min); a volunteer whose shift covers
        less than `lunch_min` of the window gets no lunch.
    max_walk_leg_min, max_ebike_leg_min
        Longest leg (min) between two stops: longer pairs are left out of the matrices (no
        volunteer rides an hour between two visits), which makes them about 3x faster.
    seed
        Seed of the escort sample (combined with the date).
    """

    visits_per_volunteer: float = 9.0
    escorts_per_volunteer: float = 0.6
    reach_min: float = 25.0
    escort_reach_min: float = 30.0
    escort_lead_min: float = 90.0
    max_group: int = 3
    max_tasks: int = 10
    balance: float = 1.5
    seats: int = 4
    start_at: Literal["home", "point"] = "home"
    lunch_window: tuple[str, str] = ("11:30", "13:30")
    lunch_min: int = 45
    max_walk_leg_min: float = 90.0
    max_ebike_leg_min: float = 60.0
    seed: int = 0

    def __post_init__(self) -> None:
        bad = []
        for name in ("visits_per_volunteer", "escorts_per_volunteer"):
            if not getattr(self, name) >= 0:
                bad.append(f"`{name}` ({getattr(self, name)}) must be >= 0")
        positive = ("reach_min", "escort_reach_min", "escort_lead_min", "lunch_min")
        for name in (*positive, "max_walk_leg_min", "max_ebike_leg_min"):
            if not getattr(self, name) > 0:
                bad.append(f"`{name}` ({getattr(self, name)}) must be > 0")
        if self.max_group < 1 or self.seats < self.max_group:
            bad.append(f"need 1 <= `max_group` ({self.max_group}) <= `seats` ({self.seats})")
        if self.max_tasks < 0:
            bad.append(f"`max_tasks` ({self.max_tasks}) must be >= 0")
        if not self.balance >= 0:
            bad.append(f"`balance` ({self.balance}) must be >= 0 (0 = off)")
        if self.start_at not in ("home", "point"):
            bad.append(f"`start_at` {self.start_at!r} must be 'home' or 'point'")
        try:
            TimeWindow.parse(*self.lunch_window)
        except (ValueError, TypeError) as exc:
            bad.append(f"`lunch_window` {self.lunch_window!r}: {exc}")
        if bad:
            raise InputError([Problem("day parameters", None, b) for b in bad])


@dataclass(frozen=True, eq=False)
class DayTasks:
    """A date's tasks and volunteers on a common list of locations (the matrix nodes).

    Attributes
    ----------
    date
        The day planned.
    tasks, volunteers
        Routing model objects; their nodes are row positions in `locations`.
    locations
        One row per node: ``key`` (``home:<volunteer>``, ``point:<id>``, ``employer:<id>``),
        ``kind``, ``ref`` (the id), ``name``, ``lon``, ``lat`` (EPSG:4326).
    snapped
        Per routing mode, the locations snapped onto its streets (same row order).
    point_of
        Volunteer id -> id of the service point they belong to.
    notes
        Remarks for the reader (e.g. fewer escorts than asked).
    """

    date: dt.date
    tasks: tuple[Task, ...]
    volunteers: tuple[Volunteer, ...]
    locations: pd.DataFrame
    snapped: Mapping[TravelMode, SnappedPoints]
    point_of: Mapping[str, str]
    notes: tuple[str, ...] = ()

    def node(self, key: str) -> int:
        """Node (row) of a location key such as ``"employer:E00012"``."""
        hits = np.flatnonzero(self.locations["key"].to_numpy() == key)
        if hits.size == 0:
            msg = f"no location with `key` {key!r} today"
            raise KeyError(msg)
        return int(hits[0])


def parse_date(date: str | dt.date) -> dt.date:
    """A date from ``YYYY-MM-DD`` (or a date, returned as is)."""
    if isinstance(date, dt.date):
        return date
    try:
        return dt.date.fromisoformat(str(date).strip())
    except ValueError:
        msg = f"`date` {date!r} is not a YYYY-MM-DD date"
        raise InputError([Problem("date", None, msg)]) from None


def _times(values: Iterable[Any]) -> np.ndarray:
    return np.array([hhmm(str(v)) for v in values], dtype=np.int64)


def _industries(value: Any) -> frozenset[Industry]:
    return frozenset(Industry(s) for s in str(value).split(";") if s.strip())


def _snap_all(
    engine: Engine, frame: pd.DataFrame, modes: Sequence[TravelMode]
) -> dict[TravelMode, SnappedPoints]:
    pts = np.column_stack([frame["lon"].to_numpy(), frame["lat"].to_numpy()])
    return {
        m: engine[m].snap(pts, crs="EPSG:4326", ids=frame["key"].to_numpy(), on_error="mask")
        for m in modes
    }


def _lunch(params: DayParams, shift: TimeWindow, places: tuple[int, ...]) -> Lunch | None:
    w = TimeWindow.parse(*params.lunch_window)
    start, end = max(w.start_s, shift.start_s), min(w.end_s, shift.end_s)
    if end - start < params.lunch_min * 60:
        return None
    return Lunch(TimeWindow(start, end), params.lunch_min * 60, places)


def day_tasks(
    city: Any,
    plan: Any,
    date: str | dt.date,
    *,
    params: DayParams | None = None,
    engine: Engine | None = None,
) -> DayTasks:
    """Tasks and volunteers of `date` (deterministic for a city, plan, date and params).

    The tasks do not depend on what has happened today, so their ids stay the same when the
    day is re-planned (see :func:`plan_routes`).

    Parameters
    ----------
    city
        A validated city (:class:`planner.pipeline.City`).
    plan
        Its service-point plan (:class:`planner.plan.Plan`).
    date
        ``YYYY-MM-DD``.
    params
        Selection and volunteer settings.
    engine
        Travel-time engine to reuse (default: a new one on the city's network).

    Raises
    ------
    geo.InputError
        On a malformed date or parameters.
    planner.InfeasibleError
        If the plan has no service point.
    """
    from ._errors import InfeasibleError

    day = parse_date(date)
    params = params or DayParams()
    engine = engine or Engine(city.network, max_snap_m=city.scenario.planning.max_snap_m)
    notes: list[str] = []

    vols = city.layer(LayerName.VOLUNTEERS).reset_index(drop=True)
    emps = city.layer(LayerName.EMPLOYERS).reset_index(drop=True)
    pts = plan.service_points().reset_index(drop=True)
    if len(pts) == 0:
        msg = "the plan has no open service point for volunteers to belong to"
        raise InfeasibleError(msg)

    frames = []
    for kind, gdf, ref in (
        ("home", vols, vols["id"]),
        ("point", pts, pts["id"]),
        ("employer", emps, emps["id"]),
    ):
        geom = gdf.geometry.to_crs("EPSG:4326")
        frames.append(
            pd.DataFrame(
                {
                    "key": [f"{kind}:{r}" for r in ref],
                    "kind": kind,
                    "ref": ref.astype(str).to_numpy(),
                    "name": gdf["name"].astype(str).to_numpy(),
                    "lon": geom.x.to_numpy(),
                    "lat": geom.y.to_numpy(),
                }
            )
        )
    every = pd.concat(frames, ignore_index=True)
    n_v, n_p = len(vols), len(pts)
    home_rows = np.arange(n_v)
    point_rows = n_v + np.arange(n_p)
    emp_rows = n_v + n_p + np.arange(len(emps))
    modes = list(ROUTING_MODES)
    snapped = _snap_all(engine, every, modes)

    vol_mode = [TravelMode(m) for m in vols["mode"].astype(str)]
    shifts = [
        TimeWindow(hhmm(str(a)), hhmm(str(b)))
        for a, b in zip(vols["available_from"], vols["available_to"], strict=True)
    ]
    vol_inds = [_industries(v) for v in vols["industries"]]

    # Each volunteer's point: the nearest open point by their own mode.
    reach_s = params.reach_min * 60
    escort_reach_s = params.escort_reach_min * 60
    point_of = np.zeros(n_v, dtype=np.int64)
    to_emp: dict[TravelMode, np.ndarray] = {}
    for m in modes:
        sp_m = snapped[m]
        cutoff = max(reach_s, escort_reach_s) if m is TravelMode.WALK else reach_s
        to_emp[m] = (
            engine[m]
            .matrix(sp_m.take(point_rows), sp_m.take(emp_rows), cutoff_s=cutoff)
            .dense_time()
        )
        mine = np.flatnonzero([vm is m for vm in vol_mode])
        if mine.size == 0:
            continue
        t = engine[m].matrix(sp_m.take(home_rows[mine]), sp_m.take(point_rows)).dense_time()
        reachable = np.isfinite(t).any(axis=1)
        straight = (
            every["lon"].to_numpy()[mine, None] - every["lon"].to_numpy()[point_rows][None]
        ) ** 2 + (
            every["lat"].to_numpy()[mine, None] - every["lat"].to_numpy()[point_rows][None]
        ) ** 2
        point_of[mine] = np.where(reachable, np.argmin(t, axis=1), np.argmin(straight, axis=1))
        for v in mine[~reachable]:
            notes.append(
                f"volunteer {vols['id'].iat[v]}: no {m.value} route to any service point; "
                "attached to the nearest point in a straight line"
            )

    # Employer visits: round-robin claims by priority (see planner.day_select).
    opens = _times(emps["opens"])
    closes = _times(emps["closes"])
    service = service_seconds(emps["demand"].to_numpy())
    priority, _days = employer_priorities(emps, day)
    industry = emps["industry"].astype(str).to_numpy()
    claimants = [
        Claimant(
            industries=vol_inds[v],
            quota=round(
                params.visits_per_volunteer
                * min(1.0, (shifts[v].end_s - shifts[v].start_s) / 28800)
            ),
            reach_row=to_emp[vol_mode[v]][point_of[v]],
            shift=(shifts[v].start_s, shifts[v].end_s),
        )
        for v in range(n_v)
    ]
    chosen = claim_visits(
        claimants,
        industry=industry,
        priority=priority,
        opens_s=opens,
        closes_s=closes,
        service_s=service,
        reach_s=reach_s,
    )

    # Escorts: (point, industry) pairs weighted by the seekers the plan assigns there.
    drafts = _escort_drafts(
        plan,
        pts,
        params,
        day,
        n=round(params.escorts_per_volunteer * n_v),
        point_of=point_of,
        vol_inds=vol_inds,
        shifts=shifts,
        walk_s=to_emp[TravelMode.WALK],
        industry=industry,
        demand=emps["demand"].to_numpy(),
        opens=opens,
        closes=closes,
    )
    wanted = round(params.escorts_per_volunteer * n_v)
    if len(drafts) < wanted:
        notes.append(f"{len(drafts)} escorts instead of {wanted}: too few matching employers")

    # Today's locations: all homes and points, then the employers with a task.
    emp_today = np.union1d(chosen, np.array([d.employer for d in drafts], dtype=np.int64))
    rows = np.concatenate([home_rows, point_rows, emp_rows[emp_today]])
    locations = every.iloc[rows].reset_index(drop=True)
    snapped_today = {m: s.take(rows) for m, s in snapped.items()}
    emp_node = {int(e): n_v + n_p + k for k, e in enumerate(emp_today)}

    tasks: list[Task] = []
    for e in chosen.tolist():
        tasks.append(
            Visit(
                id=f"visit:{emps['id'].iat[e]}",
                node=emp_node[e],
                industry=Industry(industry[e]),
                service_s=int(service[e]),
                windows=(TimeWindow(int(opens[e]), int(closes[e])),),
                priority=float(priority[e]),
                label=str(emps["name"].iat[e]),
            )
        )
    lead = int(params.escort_lead_min * 60)
    for k, d in enumerate(drafts):
        tasks.append(
            Escort(
                id=f"escort:{day.isoformat()}:{k + 1:03d}",
                pickup_node=n_v + d.point,
                delivery_node=emp_node[d.employer],
                industry=Industry(d.industry),
                seekers=d.seekers,
                ready_s=d.interview_s - lead,
                interview_s=d.interview_s,
                label=(
                    f"{d.seekers} 人 seekers {pts['name'].iat[d.point]} → "
                    f"{emps['name'].iat[d.employer]} {fmt_hhmm(d.interview_s)}"
                ),
            )
        )

    cap = params.max_tasks
    if params.balance > 0 and n_v:
        cap = min(cap, max(1, math.ceil(params.balance * len(chosen) / n_v)))
    volunteers = []
    for v in range(n_v):
        home, point = v, n_v + int(point_of[v])
        start = home if params.start_at == "home" else point
        volunteers.append(
            Volunteer(
                id=str(vols["id"].iat[v]),
                start_node=start,
                end_node=start,
                shift=shifts[v],
                mode=vol_mode[v],
                industries=vol_inds[v],
                max_tasks=cap,
                seats=params.seats,
                lunch=_lunch(params, shifts[v], (point, home)),
                name=str(vols["name"].iat[v]),
            )
        )
    logger.info(
        "%s: %d visits and %d escorts for %d volunteers at %d locations",
        day,
        len(chosen),
        len(drafts),
        n_v,
        len(locations),
    )
    return DayTasks(
        date=day,
        tasks=tuple(tasks),
        volunteers=tuple(volunteers),
        locations=locations,
        snapped=snapped_today,
        point_of={str(vols["id"].iat[v]): str(pts["id"].iat[int(point_of[v])]) for v in range(n_v)},
        notes=tuple(notes),
    )


def _escort_drafts(
    plan: Any,
    pts: pd.DataFrame,
    params: DayParams,
    day: dt.date,
    *,
    n: int,
    point_of: np.ndarray,
    vol_inds: list[frozenset[Industry]],
    shifts: list[TimeWindow],
    walk_s: np.ndarray,
    industry: np.ndarray,
    demand: np.ndarray,
    opens: np.ndarray,
    closes: np.ndarray,
) -> list[EscortDraft]:
    open_idx = np.flatnonzero(plan.open_mask)
    point_index = {int(f): k for k, f in enumerate(open_idx)}
    flows = plan.assignment.flows
    groups = plan.demand.groups
    weight: dict[tuple[int, str], float] = {}
    is_seeker = (
        groups["kind"].to_numpy() == "seeker"
        if "kind" in groups.columns
        else np.ones(len(groups), bool)
    )
    for g, f, visits in zip(flows["group"], flows["facility"], flows["visits"], strict=True):
        if not is_seeker[g] or int(f) not in point_index:
            continue
        inds = [s for s in str(groups["industries"].iat[g]).split(";") if s]
        for ind in inds:
            key = (point_index[int(f)], ind)
            weight[key] = weight.get(key, 0.0) + float(visits) / len(inds)
    # Only pairs some volunteer of that point can escort (knows the industry).
    shifts_at: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for v, p in enumerate(point_of.tolist()):
        for ind in vol_inds[v]:
            shifts_at.setdefault((p, ind.value), []).append((shifts[v].start_s, shifts[v].end_s))
    pairs = sorted(k for k in weight if k in shifts_at)
    w = np.array([weight[k] for k in pairs], dtype=float)
    rng = np.random.default_rng([params.seed, day.toordinal()])
    return sample_escorts(
        n,
        rng,
        weights=w,
        point_industry=pairs,
        shifts_at=shifts_at,
        walk_s=walk_s,
        industry=industry,
        demand=demand,
        opens_s=opens,
        closes_s=closes,
        reach_s=params.escort_reach_min * 60,
        lead_s=int(params.escort_lead_min * 60),
        max_group=params.max_group,
    )


def day_matrices(
    day: DayTasks, engine: Engine, *, params: DayParams | None = None
) -> tuple[CostMatrices, LegGeometry]:
    """Travel times (s) and distances (m) among `day`'s locations per mode in use, and a
    street-following geometry callable per mode (legs computed on demand and cached).

    Both are rounded to whole seconds and metres (the solver works in integers, so the
    plan's times agree exactly with the matrices). Pairs without a route, or farther apart
    than the mode's longest leg (`params`), cost ``UNREACHABLE_S``. The callables count
    their own time in ``geometry.seconds`` (a :class:`GeometryClock` attribute).
    """
    params = params or DayParams()
    cutoff = {TravelMode.WALK: params.max_walk_leg_min, TravelMode.EBIKE: params.max_ebike_leg_min}
    modes = sorted({v.mode for v in day.volunteers}) or [TravelMode.WALK]
    durations: dict[TravelMode, np.ndarray] = {}
    distances: dict[TravelMode, np.ndarray] = {}
    for m in modes:
        tm = engine[m].matrix(day.snapped[m], lengths=True, cutoff_s=cutoff[m] * 60)
        t = tm.dense_time()
        d = tm.dense_length()
        assert d is not None  # lengths=True
        bad = ~np.isfinite(t)
        durations[m] = np.rint(np.where(bad, UNREACHABLE_S, t))
        distances[m] = np.rint(np.where(bad | ~np.isfinite(d), UNREACHABLE_S, d))
        np.fill_diagonal(durations[m], 0.0)
        np.fill_diagonal(distances[m], 0.0)
        logger.info(
            "%s: %d x %d matrix, %.0f%% of pairs within %g min",
            m.value,
            t.shape[0],
            t.shape[1],
            100 * (1 - bad.mean()),
            cutoff[m],
        )
    coords = day.locations[["lon", "lat"]].to_numpy(dtype=float)
    clock = GeometryClock()
    geometry = {m: _path_geometry(engine, day.snapped[m], coords, clock) for m in modes}
    return CostMatrices(durations, distances, coords), LegGeometry(geometry, clock)


@dataclass
class GeometryClock:
    """Seconds spent computing leg geometry and the number of legs computed."""

    seconds: float = 0.0
    legs: int = 0


class LegGeometry(dict[TravelMode, PathGeometry]):
    """``{mode: PathGeometry}`` that also carries the :class:`GeometryClock`."""

    def __init__(self, data: Mapping[TravelMode, PathGeometry], clock: GeometryClock) -> None:
        super().__init__(data)
        self.clock = clock


def _path_geometry(
    engine: Engine, snapped: SnappedPoints, coords: np.ndarray, clock: GeometryClock
) -> PathGeometry:
    cache: dict[tuple[int, int], list[tuple[float, float]]] = {}
    tt = engine[snapped.mode]

    def leg(a: int, b: int) -> list[tuple[float, float]]:
        if (a, b) not in cache:
            t0 = time.perf_counter()
            try:
                line = tt.path(snapped.take([a]), snapped.take([b])).line_lonlat
                cache[(a, b)] = [(float(x), float(y)) for x, y in line.coords]
            except DianmianError as exc:  # off the streets: show the leg as a straight line
                logger.warning("no street geometry from node %d to %d: %s", a, b, exc)
                cache[(a, b)] = [(coords[a, 0], coords[a, 1]), (coords[b, 0], coords[b, 1])]
            clock.seconds += time.perf_counter() - t0
            clock.legs += 1
        return cache[(a, b)]

    return leg


def replan_state(state: RouteState, day: DayTasks) -> ReplanState:
    """The routing core's :class:`ReplanState` of an id-based `state` on `day`.

    Raises
    ------
    geo.InputError
        Listing every id in `state` that is not a task, volunteer or place of the day.
    """
    task_ids = {t.id for t in day.tasks}
    escort_ids = {t.id for t in day.tasks if isinstance(t, Escort)}
    vols = {v.id: v for v in day.volunteers}
    bad: list[str] = []
    bad += [f"`done`: {t!r} is not a task of {day.date}" for t in sorted(state.done - task_ids)]
    for key in ("absent", "lunch_taken"):
        bad += [
            f"`{key}`: unknown volunteer {v!r}" for v in sorted(getattr(state, key) - set(vols))
        ]
    bad += [f"`carrying`: unknown volunteer {v!r}" for v in sorted(set(state.carrying) - set(vols))]
    bad += [
        f"`carrying`: {e!r} is not an escort of {day.date}"
        for ids in state.carrying.values()
        for e in ids
        if e not in escort_ids
    ]
    keys = {k: i for i, k in enumerate(day.locations["key"])}
    positions: dict[str, int] = {}
    for vid, place in state.positions.items():
        if vid not in vols:
            bad.append(f"`positions`: unknown volunteer {vid!r}")
            continue
        if place == "home":
            node: int | None = keys[f"home:{vid}"]
        elif place == "point":
            node = keys[f"point:{day.point_of[vid]}"]
        else:
            node = keys.get(f"employer:{place}", keys.get(f"point:{place}"))
        if node is None:
            bad.append(
                f"`positions`: {place!r} of {vid!r} is not a service point or an employer "
                f"with a task on {day.date}"
            )
            continue
        positions[vid] = node
    if bad:
        raise InputError([Problem("re-planning state", None, b) for b in bad])
    return ReplanState(
        now_s=state.now_s or 0,
        done=state.done,
        absent=state.absent,
        positions=positions,
        carrying={k: tuple(v) for k, v in state.carrying.items()},
        lunch_taken=state.lunch_taken,
    )


@dataclass(frozen=True, eq=False)
class RoutesRun:
    """What :func:`routes_for_day` produced: the plan, its problem, files and timings (s)."""

    plan: DayPlan
    problem: DayProblem
    day: DayTasks
    paths: dict[str, Path]
    timings: dict[str, float] = field(default_factory=dict)


def _plan(
    city: Any,
    plan: Any,
    date: str | dt.date,
    *,
    seconds: float,
    seed: int,
    state: RouteState | None,
    done: Iterable[str],
    absent: Iterable[str],
    now: str | int | None,
    params: DayParams | None,
    engine: Engine | None,
) -> tuple[DayPlan, DayProblem, DayTasks, dict[str, float]]:
    engine = engine or Engine(city.network, max_snap_m=city.scenario.planning.max_snap_m)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    day = day_tasks(city, plan, date, params=params, engine=engine)
    t1 = time.perf_counter()
    matrices, geometry = day_matrices(day, engine, params=params)
    t2 = time.perf_counter()
    problem = DayProblem(day.tasks, day.volunteers, matrices)
    full = (state or RouteState()).merged(done=done, absent=absent, now=now)
    replan = None if full.is_empty else replan_state(full, day)
    result = plan_day(
        problem,
        options=SolveOptions(seconds=seconds, seed=seed),
        state=replan,
        path_geometry=geometry,
    )
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
        "timings (s): " + ", ".join(f"{k} {v}" for k, v in timings.items()),
    )
    if replan is not None:
        notes = (*notes, "re-planned from state: " + json.dumps(full.to_dict(), ensure_ascii=False))
    logger.info(notes[-1] if replan is None else notes[-2])
    return dataclasses.replace(result, notes=tuple(notes)), problem, day, timings


def plan_routes(
    city: Any,
    plan: Any,
    date: str | dt.date,
    *,
    seconds: float = 20.0,
    seed: int = 0,
    state: RouteState | None = None,
    done: Iterable[str] = (),
    absent: Iterable[str] = (),
    now: str | int | None = None,
    params: DayParams | None = None,
    engine: Engine | None = None,
) -> tuple[DayPlan, DayProblem]:
    """Plan (or re-plan) every volunteer's route of `date`.

    Parameters
    ----------
    city, plan
        The validated city and its service-point plan.
    date
        ``YYYY-MM-DD``.
    seconds
        Solver time budget (s); matrices and geometry come on top.
    seed
        Solver seed.
    state
        What has happened today (e.g. from :func:`planner.day_state.load_state`).
    done, absent, now
        Shortcuts added to `state`: finished task ids, absent volunteer ids, current time
        (``HH:MM`` or seconds since midnight). With any of them the plan covers the rest of
        the day only.
    params
        Task and volunteer settings.
    engine
        Travel-time engine to reuse.

    Returns
    -------
    DayPlan, DayProblem
        The plan (its ``notes`` hold counts and timings) and the problem it solves (for the
        exports and for checking).

    Raises
    ------
    geo.InputError
        On a malformed date, parameters or unknown ids in the state.
    planner.InfeasibleError, planner.SolverError
        As :func:`planner.routes.plan_day` (only with required tasks, which this module does
        not create: impossible tasks are dropped with a reason instead).
    """
    result, problem, _day, _t = _plan(
        city,
        plan,
        date,
        seconds=seconds,
        seed=seed,
        state=state,
        done=done,
        absent=absent,
        now=now,
        params=params,
        engine=engine,
    )
    return result, problem


def write_routes(
    day_plan: DayPlan, problem: DayProblem, out_dir: str | Path, *, title: str = ""
) -> dict[str, Path]:
    """Write the exports and one phone-friendly page per volunteer with tasks.

    Files: ``plan.json``, ``routes.geojson``, ``routes.gpx``, ``routes.html`` (everyone, for
    printing) and ``volunteers/<volunteer id>.html`` (self-contained, offline).
    """
    out = Path(out_dir)
    paths = write_exports(day_plan, problem, out)
    pages = out / "volunteers"
    pages.mkdir(exist_ok=True)
    for old in pages.glob("*.html"):
        old.unlink()  # a re-plan may leave a volunteer without tasks
    for r in day_plan.routes:
        if r.is_empty:
            continue
        one = DayPlan((r,), (), 0, 0.0)
        head = f"{r.name or r.volunteer_id} · {title}" if title else (r.name or r.volunteer_id)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in r.volunteer_id)
        (pages / f"{safe}.html").write_text(plan_html(one, title=head), encoding="utf-8")
    paths["volunteers"] = pages
    return paths


def routes_dir(out_root: str | Path, scenario: str, date: str | dt.date) -> Path:
    """``<out_root>/<scenario>/routes/<YYYY-MM-DD>``."""
    return Path(out_root) / scenario / "routes" / parse_date(date).isoformat()


def routes_for_day(
    city: Any,
    plan: Any,
    date: str | dt.date,
    *,
    out_root: str | Path = "out",
    state_file: str | Path | None = None,
    seconds: float = 20.0,
    seed: int = 0,
    params: DayParams | None = None,
    engine: Engine | None = None,
    done: Iterable[str] = (),
) -> RoutesRun:
    """Plan `date` (re-plan with `state_file`) and write ``out/<scenario>/routes/<date>/``.

    `done` adds task ids reported done elsewhere (e.g. through the HTTP API) to the state.

    The entry point of ``dianmian routes SCENARIO --date YYYY-MM-DD [--state FILE]``. When
    re-planning, the state used is copied to ``state.json`` next to the plan.
    """
    state = load_state(state_file) if state_file is not None else None
    done = tuple(done)
    if done:
        state = (state or RouteState()).merged(done=done)
    result, problem, day, timings = _plan(
        city,
        plan,
        date,
        seconds=seconds,
        seed=seed,
        state=state,
        done=(),
        absent=(),
        now=None,
        params=params,
        engine=engine,
    )
    out = routes_dir(out_root, city.scenario.name, day.date)
    t0 = time.perf_counter()
    paths = write_routes(result, problem, out, title=f"{city.scenario.title} {day.date}")
    if state is not None:
        paths["state"] = out / "state.json"
        paths["state"].write_text(
            json.dumps(state.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8"
        )
    timings["write_s"] = round(time.perf_counter() - t0, 2)
    return RoutesRun(result, problem, day, paths, timings)
