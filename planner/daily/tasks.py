"""A day's tasks and volunteers for the routing core (see :mod:`planner.daily.run`)."""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from geo import InputError, Problem, TravelMode
from geo.engine import Engine, SnappedPoints
from geo.layers import LayerName
from geo.timeofday import format_hhmm, parse_hhmm
from planner.daily.select import (
    Claimant,
    EscortDraft,
    claim_visits,
    employer_priorities,
    service_seconds,
)
from planner.daily.vrp import (
    ROUTING_MODES,
    Escort,
    Lunch,
    Task,
    TimeWindow,
    Visit,
    Volunteer,
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
        Employer visits claimed per volunteer with an 8-hour shift (scaled by shift length).
        A little more than a volunteer's cap, so the day's list holds more work than the team
        can do: nobody stays at home while a volunteer near busy points reaches their cap
        (the lowest priorities are left out, each with its reason).
    reach_min
        Travel time (min, own mode) from a volunteer's point within which employers are
        claimed at their full priority.
    reach_cost_min, max_reach_min
        Beyond `reach_min`, every `reach_cost_min` minutes of travel cost one priority point
        of a claim (reach is a cost, not a wall), up to `max_reach_min` (see
        :mod:`planner.daily.select`).
    escort_reach_min
        Escorted seekers walk at most this long (min) from the point to the employer.
    escort_lead_min
        Seekers are ready at the point this long (min) before their interview.
    max_group
        Largest seeker group one volunteer escorts (a larger booked group is escorted in
        groups of this size).
    max_tasks, seats
        Each volunteer's daily task capacity and escort seats.
    balance
        Cap on a volunteer's visits: nobody gets more than
        ``ceil(balance * visits / volunteers)`` (nor more than `max_tasks`). Travel alone
        would pack full days onto a few volunteers near busy points and leave others idle;
        the solver also charges long days (``SolveOptions.balance``). ``0`` turns the cap off.
    start_at
        ``"home"``: days start and end at the volunteer's home; ``"point"``: at their point.
    lunch_window, lunch_min
        Lunch break window (``HH:MM`` pair) and length (min); a volunteer whose shift covers
        less than `lunch_min` of the window gets no lunch.
    work_before_lunch_min
        Lunch starts at least this long (min) after the shift starts: a shift starts with
        work, and a volunteer starting at 11:30 has had lunch before (no lunch planned).
    max_walk_leg_min, max_ebike_leg_min
        Longest leg (min) between two stops: longer pairs are left out of the matrices (no
        volunteer rides an hour between two visits), which makes them about 3x faster.
    """

    visits_per_volunteer: float = 12.0
    reach_min: float = 25.0
    reach_cost_min: float = 10.0
    max_reach_min: float = 60.0
    escort_reach_min: float = 30.0
    escort_lead_min: float = 90.0
    max_group: int = 3
    max_tasks: int = 10
    balance: float = 1.0
    seats: int = 4
    start_at: Literal["home", "point"] = "home"
    lunch_window: tuple[str, str] = ("11:30", "13:30")
    lunch_min: int = 45
    work_before_lunch_min: float = 60.0
    max_walk_leg_min: float = 90.0
    max_ebike_leg_min: float = 60.0

    def __post_init__(self) -> None:
        bad = []
        if not self.visits_per_volunteer >= 0:
            bad.append(f"`visits_per_volunteer` ({self.visits_per_volunteer}) must be >= 0")
        positive = (
            "reach_min",
            "reach_cost_min",
            "max_reach_min",
            "escort_reach_min",
            "escort_lead_min",
            "lunch_min",
        )
        for name in (*positive, "max_walk_leg_min", "max_ebike_leg_min"):
            if not getattr(self, name) > 0:
                bad.append(f"`{name}` ({getattr(self, name)}) must be > 0")
        if self.max_group < 1 or self.seats < self.max_group:
            bad.append(f"need 1 <= `max_group` ({self.max_group}) <= `seats` ({self.seats})")
        if self.max_tasks < 0:
            bad.append(f"`max_tasks` ({self.max_tasks}) must be >= 0")
        if not self.balance >= 0:
            bad.append(f"`balance` ({self.balance}) must be >= 0 (0 = off)")
        if not self.work_before_lunch_min >= 0:
            bad.append(f"`work_before_lunch_min` ({self.work_before_lunch_min}) must be >= 0")
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
    return np.array([parse_hhmm(str(v)) for v in values], dtype=np.int64)


def _industries(value: Any) -> frozenset[str]:
    return frozenset(s.strip() for s in str(value).split(";") if s.strip())


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
    first_work = shift.start_s + round(params.work_before_lunch_min * 60)
    start, end = max(w.start_s, first_work), min(w.end_s, shift.end_s)
    if end - start < params.lunch_min * 60:
        return None
    return Lunch(TimeWindow(start, end), params.lunch_min * 60, places)


@dataclass(frozen=True, eq=False)
class _Frames:
    """The city's volunteers, open points and employers, and every place as one table."""

    vols: pd.DataFrame
    pts: pd.DataFrame
    emps: pd.DataFrame
    every: pd.DataFrame  # homes, then points, then employers (see DayTasks.locations)

    @property
    def n_v(self) -> int:
        return len(self.vols)

    @property
    def n_p(self) -> int:
        return len(self.pts)

    @property
    def home_rows(self) -> np.ndarray:
        return np.arange(self.n_v)

    @property
    def point_rows(self) -> np.ndarray:
        return self.n_v + np.arange(self.n_p)

    @property
    def emp_rows(self) -> np.ndarray:
        return self.n_v + self.n_p + np.arange(len(self.emps))


def _frames(city: Any, plan: Any) -> _Frames:
    from planner.errors import InfeasibleError

    vols = city.layer(LayerName.VOLUNTEERS).reset_index(drop=True)
    emps = city.layer(LayerName.EMPLOYERS).reset_index(drop=True)
    pts = plan.service_points().reset_index(drop=True)
    if len(pts) == 0:
        msg = "the plan has no open service point for volunteers to belong to"
        raise InfeasibleError(msg)
    frames = []
    for kind, gdf in (("home", vols), ("point", pts), ("employer", emps)):
        geom = gdf.geometry.to_crs("EPSG:4326")
        ref = gdf["id"]
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
    return _Frames(vols, pts, emps, pd.concat(frames, ignore_index=True))


@dataclass(frozen=True, eq=False)
class _Crew:
    """The volunteers as the selection sees them (one entry per volunteer)."""

    mode: list[TravelMode]
    shifts: list[TimeWindow]
    industries: list[frozenset[str]]
    point_of: np.ndarray  # index of each volunteer's service point
    to_emp: dict[TravelMode, np.ndarray]  # point x employer travel time (s) per mode


def _crew(
    engine: Engine,
    f: _Frames,
    snapped: Mapping[TravelMode, SnappedPoints],
    params: DayParams,
    notes: list[str],
) -> _Crew:
    """Each volunteer's mode, shift, industries and point (the nearest by their own mode)."""
    vols = f.vols
    vol_mode = [TravelMode(m) for m in vols["mode"].astype(str)]
    shifts = [
        TimeWindow(
            parse_hhmm(str(a), name="available_from"), parse_hhmm(str(b), name="available_to")
        )
        for a, b in zip(vols["available_from"], vols["available_to"], strict=True)
    ]
    reach_s = max(params.reach_min, params.max_reach_min) * 60
    escort_reach_s = params.escort_reach_min * 60
    point_of = np.zeros(f.n_v, dtype=np.int64)
    to_emp: dict[TravelMode, np.ndarray] = {}
    lon, lat = f.every["lon"].to_numpy(), f.every["lat"].to_numpy()
    for m in ROUTING_MODES:
        sp_m = snapped[m]
        cutoff = max(reach_s, escort_reach_s) if m is TravelMode.WALK else reach_s
        to_emp[m] = (
            engine[m]
            .matrix(sp_m.take(f.point_rows), sp_m.take(f.emp_rows), cutoff_s=cutoff)
            .dense_time()
        )
        mine = np.flatnonzero([vm is m for vm in vol_mode])
        if mine.size == 0:
            continue
        t = engine[m].matrix(sp_m.take(f.home_rows[mine]), sp_m.take(f.point_rows)).dense_time()
        reachable = np.isfinite(t).any(axis=1)
        straight = (lon[mine, None] - lon[f.point_rows][None]) ** 2 + (
            lat[mine, None] - lat[f.point_rows][None]
        ) ** 2
        point_of[mine] = np.where(reachable, np.argmin(t, axis=1), np.argmin(straight, axis=1))
        for v in mine[~reachable]:
            notes.append(
                f"volunteer {vols['id'].iat[v]}: no {m.value} route to any service point; "
                "attached to the nearest point in a straight line"
            )
    inds = [_industries(v) for v in vols["industries"]]
    return _Crew(vol_mode, shifts, inds, point_of, to_emp)


@dataclass(frozen=True, eq=False)
class _Employers:
    """Employer columns the tasks need (one entry per employer)."""

    opens: np.ndarray
    closes: np.ndarray
    service: np.ndarray
    priority: np.ndarray
    industry: np.ndarray


def _employers(emps: pd.DataFrame, day: dt.date) -> _Employers:
    priority, _days = employer_priorities(emps, day)
    return _Employers(
        opens=_times(emps["opens"]),
        closes=_times(emps["closes"]),
        service=service_seconds(emps["demand"].to_numpy()),
        priority=priority,
        industry=emps["industry"].astype(str).to_numpy(),
    )


def _claimed_visits(crew: _Crew, emp: _Employers, params: DayParams) -> np.ndarray:
    """Employer visits: round-robin claims by priority (see planner.daily.select)."""
    claimants = [
        Claimant(
            industries=crew.industries[v],
            quota=round(
                params.visits_per_volunteer
                * min(1.0, (crew.shifts[v].end_s - crew.shifts[v].start_s) / 28800)
            ),
            reach_row=crew.to_emp[crew.mode[v]][crew.point_of[v]],
            shift=(crew.shifts[v].start_s, crew.shifts[v].end_s),
        )
        for v in range(len(crew.mode))
    ]
    return claim_visits(
        claimants,
        industry=emp.industry,
        priority=emp.priority,
        opens_s=emp.opens,
        closes_s=emp.closes,
        service_s=emp.service,
        reach_s=params.reach_min * 60,
        reach_cost_s=params.reach_cost_min * 60,
        max_reach_s=params.max_reach_min * 60,
    )


def _tasks(
    f: _Frames,
    emp: _Employers,
    chosen: np.ndarray,
    drafts: list[EscortDraft],
    emp_node: dict[int, int],
    *,
    day: dt.date,
    params: DayParams,
) -> list[Task]:
    emps, pts = f.emps, f.pts
    tasks: list[Task] = []
    for e in chosen.tolist():
        tasks.append(
            Visit(
                id=f"visit:{emps['id'].iat[e]}",
                node=emp_node[e],
                industry=str(emp.industry[e]),
                service_s=int(emp.service[e]),
                windows=(TimeWindow(int(emp.opens[e]), int(emp.closes[e])),),
                priority=float(emp.priority[e]),
                label=str(emps["name"].iat[e]),
            )
        )
    lead = int(params.escort_lead_min * 60)
    # A booked group larger than one volunteer escorts is split; its parts are numbered.
    per_interview = Counter(d.interview_id for d in drafts)
    split = [per_interview[d.interview_id] > 1 for d in drafts]
    for k, d in enumerate(drafts):
        tasks.append(
            Escort(
                id=f"escort:interview-{d.interview_id}" + (f"-{k + 1}" if split[k] else ""),
                pickup_node=f.n_v + d.point,
                delivery_node=emp_node[d.employer],
                industry=str(d.industry),
                seekers=d.seekers,
                ready_s=d.interview_s - lead,
                interview_s=d.interview_s,
                label=(
                    f"{d.seekers} 人 seekers {pts['name'].iat[d.point]} → "
                    f"{emps['name'].iat[d.employer]} {format_hhmm(d.interview_s)} "
                    f"(interview 面试 #{d.interview_id})"
                ),
            )
        )
    return tasks


def _volunteers(f: _Frames, crew: _Crew, n_visits: int, params: DayParams) -> list[Volunteer]:
    cap = params.max_tasks
    if params.balance > 0 and f.n_v:
        cap = min(cap, max(1, math.ceil(params.balance * n_visits / f.n_v)))
    volunteers = []
    for v in range(f.n_v):
        home, point = v, f.n_v + int(crew.point_of[v])
        start = home if params.start_at == "home" else point
        volunteers.append(
            Volunteer(
                id=str(f.vols["id"].iat[v]),
                start_node=start,
                end_node=start,
                shift=crew.shifts[v],
                mode=crew.mode[v],
                industries=crew.industries[v],
                max_tasks=cap,
                seats=params.seats,
                lunch=_lunch(params, crew.shifts[v], (point, home)),
                name=str(f.vols["name"].iat[v]),
            )
        )
    return volunteers


def day_tasks(
    city: Any,
    plan: Any,
    date: str | dt.date,
    *,
    params: DayParams | None = None,
    engine: Engine | None = None,
    escorts: Sequence[EscortRequest] = (),
) -> DayTasks:
    """Tasks and volunteers of `date` (deterministic for a city, plan, date and params).

    The tasks do not depend on what has happened today, so their ids stay the same when the
    day is re-planned (see :func:`planner.daily.run.plan_city_day`).

    Parameters
    ----------
    city
        A validated city (:class:`planner.city.City`).
    plan
        Its service-point plan (:class:`planner.points.plan.Plan`).
    date
        ``YYYY-MM-DD``.
    params
        Selection and volunteer settings.
    engine
        Travel-time engine to reuse (default: a new one on the city's network).
    escorts
        Interviews booked for `date` with an escort (:func:`planner.loop.booked_escorts`):
        each becomes an escort task whose id and label name its interview. A booking whose
        point is not open or whose employer is unknown is left out with a note.

    Raises
    ------
    geo.InputError
        On a malformed date or parameters.
    planner.InfeasibleError
        If the plan has no service point.
    """
    day = parse_date(date)
    params = params or DayParams()
    engine = engine or Engine(city.network, max_snap_m=city.scenario.planning.max_snap_m)
    notes: list[str] = []
    f = _frames(city, plan)
    snapped = _snap_all(engine, f.every, list(ROUTING_MODES))
    crew = _crew(engine, f, snapped, params, notes)
    emp = _employers(f.emps, day)
    chosen = _claimed_visits(crew, emp, params)

    # Escorts: the interviews booked for today with an escort (the registration loop).
    drafts = _booked_drafts(escorts, f, params, notes)

    # Today's locations: all homes and points, then the employers with a task.
    emp_today = np.union1d(chosen, np.array([d.employer for d in drafts], dtype=np.int64))
    rows = np.concatenate([f.home_rows, f.point_rows, f.emp_rows[emp_today]])
    emp_node = {int(e): f.n_v + f.n_p + k for k, e in enumerate(emp_today)}
    tasks = _tasks(f, emp, chosen, drafts, emp_node, day=day, params=params)
    volunteers = _volunteers(f, crew, len(chosen), params)
    locations = f.every.iloc[rows].reset_index(drop=True)
    logger.info(
        "%s: %d visits and %d escorts for %d volunteers at %d locations",
        day,
        len(chosen),
        len(drafts),
        f.n_v,
        len(locations),
    )
    ids = f.vols["id"]
    return DayTasks(
        date=day,
        tasks=tuple(tasks),
        volunteers=tuple(volunteers),
        locations=locations,
        snapped={m: s.take(rows) for m, s in snapped.items()},
        point_of={
            str(ids.iat[v]): str(f.pts["id"].iat[int(crew.point_of[v])]) for v in range(f.n_v)
        },
        notes=tuple(notes),
    )


class EscortRequest(Protocol):
    """A booked interview to escort (:class:`planner.loop.BookedEscort` has this shape)."""

    @property
    def interview_id(self) -> int: ...
    @property
    def service_point_id(self) -> str | None: ...
    @property
    def employer_id(self) -> str: ...
    @property
    def industry(self) -> str: ...
    @property
    def interview_s(self) -> int: ...
    @property
    def group_size(self) -> int: ...


def _booked_drafts(
    escorts: Sequence[EscortRequest], f: _Frames, params: DayParams, notes: list[str]
) -> list[EscortDraft]:
    """Booked escorts on today's points and employers; each one left out gets a note."""
    point_index = {str(pid): k for k, pid in enumerate(f.pts["id"])}
    emp_index = {str(eid): k for k, eid in enumerate(f.emps["id"])}
    drafts: list[EscortDraft] = []
    for e in sorted(escorts, key=lambda e: (e.interview_s, e.interview_id)):
        point = point_index.get(str(e.service_point_id))
        employer = emp_index.get(str(e.employer_id))
        if point is None or employer is None:
            what = (
                f"service point {e.service_point_id!r} is not open"
                if point is None
                else f"employer {e.employer_id!r} is unknown"
            )
            notes.append(f"interview {e.interview_id}: no escort planned, {what}")
            continue
        left = max(1, int(e.group_size))
        while left > 0:  # a group larger than one volunteer escorts goes in several groups
            size = min(left, params.max_group)
            drafts.append(
                EscortDraft(point, employer, str(e.industry), size, e.interview_s, e.interview_id)
            )
            left -= size
    return drafts
