"""The record of a planned day: ordered stops per volunteer, tasks left out, with reasons.

One schema for every reader: the routing core builds it, ``plan.json`` and ``routes.json``
are written from it (:meth:`DayPlan.to_dict`, :meth:`VolunteerRoute.to_dict`), and the maps
and the HTTP API read those files back through :func:`load_plan` / :func:`load_routes`,
which validate them (pydantic) and name the file and the field of every problem.

Times of day are whole seconds since local midnight (``HH:MM`` copies in the JSON are for
people and come from :func:`geo.timeofday.format_hhmm`), durations seconds, distances metres,
coordinates (lon, lat) in EPSG:4326.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field, TypeAdapter, ValidationError, field_validator
from pydantic.dataclasses import dataclass

from geo import InputError, Problem, TravelMode
from geo.crs import Datum, from_wgs84
from geo.timeofday import format_hhmm

Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]
Seconds = Annotated[int, Field(ge=0)]
NonNegative = Annotated[float, Field(ge=0)]


class StopKind(StrEnum):
    """What happens at a stop, with English and Chinese labels for the exports."""

    START = "start"
    VISIT = "visit"
    PICKUP = "pickup"
    DELIVERY = "delivery"
    LUNCH = "lunch"
    END = "end"

    @property
    def label_en(self) -> str:
        return _LABELS[self][0]

    @property
    def label_zh(self) -> str:
        return _LABELS[self][1]

    @property
    def is_home(self) -> bool:
        """Start or end of the day (home, or the point with ``start_at="point"``)."""
        return self in (StopKind.START, StopKind.END)


_LABELS = {
    StopKind.START: ("Start", "出发"),
    StopKind.VISIT: ("Employer visit", "走访企业"),
    StopKind.PICKUP: ("Pick up seekers", "接求职者"),
    StopKind.DELIVERY: ("Interview drop-off", "送达面试"),
    StopKind.LUNCH: ("Lunch break", "午休"),
    StopKind.END: ("End of day", "收工"),
}


@dataclass(frozen=True)
class Stop:
    """One stop of a route. Times in seconds since midnight, travel in s and m.

    ``arrival_s`` is when the volunteer gets there, ``start_s`` when the activity starts
    (after waiting for opening time), ``departure_s`` when they leave. ``travel_s`` and
    ``travel_m`` describe the leg from the previous stop (0 for the first stop). ``node`` is
    the matrix node; ``lon``/``lat`` its place (``None`` when the plan has no coordinates).
    """

    kind: StopKind
    node: Annotated[int, Field(ge=0)]
    task_id: str | None
    arrival_s: Seconds
    start_s: Seconds
    departure_s: Seconds
    travel_s: NonNegative
    travel_m: NonNegative
    label: str = ""
    lon: Lon | None = None
    lat: Lat | None = None

    @property
    def wait_s(self) -> int:
        """Time waiting on site before the activity starts (s)."""
        return self.start_s - self.arrival_s

    @property
    def name(self) -> str:
        """What to show: the place or task label, else the kind."""
        return self.label or f"{self.kind.label_en} {self.kind.label_zh}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "node": self.node,
            "task_id": self.task_id,
            "label": self.label,
            "lon": self.lon,
            "lat": self.lat,
            "arrival_s": self.arrival_s,
            "start_s": self.start_s,
            "departure_s": self.departure_s,
            "travel_s": self.travel_s,
            "travel_m": self.travel_m,
            "arrival": format_hhmm(self.arrival_s),
            "start": format_hhmm(self.start_s),
            "departure": format_hhmm(self.departure_s),
        }


@dataclass(frozen=True)
class VolunteerRoute:
    """A volunteer's ordered stops; ``geometry`` is the route as (lon, lat) pairs (EPSG:4326).

    ``reason`` says why a volunteer has no task (empty for a volunteer with tasks);
    ``shift_start_s``/``shift_end_s`` are their working hours (s since midnight), the base of
    the idle time; ``service_point`` the point the volunteer belongs to (it decides which
    staff may read the route); ``home_legs_removed`` marks a published copy whose day starts
    and ends at the service point instead of home (:func:`planner.privacy.strip_home_legs`).
    """

    volunteer_id: Annotated[str, Field(min_length=1)]
    mode: TravelMode
    stops: tuple[Stop, ...]
    geometry: tuple[tuple[Lon, Lat], ...] = ()
    name: str = ""
    reason: str = ""
    shift_start_s: Seconds = 0
    shift_end_s: Seconds = 0
    service_point: str = ""
    home_legs_removed: bool = False

    @field_validator("geometry", mode="before")
    @classmethod
    def _geojson_line(cls, value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("type") != "LineString":
                msg = f"geometry type {value.get('type')!r} is not LineString"
                raise ValueError(msg)
            return value.get("coordinates", ())
        return value

    @property
    def task_ids(self) -> list[str]:
        """Task ids in visiting order (an escort appears once per pickup and delivery)."""
        return [s.task_id for s in self.stops if s.task_id is not None]

    @property
    def travel_s(self) -> float:
        return float(sum(s.travel_s for s in self.stops))

    @property
    def distance_m(self) -> float:
        return float(sum(s.travel_m for s in self.stops))

    @property
    def duration_s(self) -> int:
        return self.stops[-1].departure_s - self.stops[0].departure_s if self.stops else 0

    @property
    def working_s(self) -> int:
        """Time at tasks (service at visits, pickups and deliveries), s."""
        return sum(s.departure_s - s.start_s for s in self.stops if s.task_id is not None)

    @property
    def waiting_s(self) -> int:
        """Time waiting on site for an opening, a pickup or a lunch window, s."""
        return sum(s.wait_s for s in self.stops)

    @property
    def lunch_s(self) -> int:
        """Lunch break on the route, s."""
        return sum(s.departure_s - s.start_s for s in self.stops if s.kind is StopKind.LUNCH)

    @property
    def idle_s(self) -> int:
        """Working hours spent neither at tasks, travelling nor at lunch (s): waiting on
        site, and time before leaving and after coming back."""
        hours = max(0, self.shift_end_s - self.shift_start_s)
        return max(0, round(hours - self.working_s - self.travel_s - self.lunch_s))

    @property
    def is_empty(self) -> bool:
        """True when the volunteer has no task (a lunch stop alone does not count)."""
        return not any(s.task_id for s in self.stops)

    @property
    def display_name(self) -> str:
        return self.name or self.volunteer_id

    def to_dict(self) -> dict[str, Any]:
        return {
            "volunteer_id": self.volunteer_id,
            "name": self.name,
            "mode": self.mode.value,
            "tasks": len(set(self.task_ids)),
            "travel_s": round(self.travel_s, 1),
            "distance_m": round(self.distance_m, 1),
            "duration_s": self.duration_s,
            "working_s": self.working_s,
            "waiting_s": self.waiting_s,
            "idle_s": self.idle_s,
            "shift_start_s": self.shift_start_s,
            "shift_end_s": self.shift_end_s,
            "reason": self.reason,
            "service_point": self.service_point,
            "home_legs_removed": self.home_legs_removed,
            "stops": [s.to_dict() for s in self.stops],
            "geometry": {"type": "LineString", "coordinates": [list(p) for p in self.geometry]},
        }


@dataclass(frozen=True)
class DroppedTask:
    """A task left out of the plan and why."""

    task_id: str
    reason: str
    priority: float

    def to_dict(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "reason": self.reason, "priority": self.priority}


@dataclass(frozen=True)
class DayPlan:
    """The solver's plan: one route per available volunteer plus the dropped tasks.

    ``objective`` is the total travel cost (s, or m with ``objective="distance"``) plus the
    balance cost of days beyond the fair day plus the prize (``priority *
    prize_per_priority_s``) of every dropped task. ``solve_seconds`` (wall clock) is kept out
    of the JSON (see :meth:`to_dict`).
    """

    routes: tuple[VolunteerRoute, ...]
    dropped: tuple[DroppedTask, ...]
    objective: int
    solve_seconds: float = 0.0
    notes: tuple[str, ...] = ()

    def route(self, volunteer_id: str) -> VolunteerRoute:
        for r in self.routes:
            if r.volunteer_id == volunteer_id:
                return r
        msg = f"no route for `volunteer_id` {volunteer_id!r}"
        raise KeyError(msg)

    @property
    def planned_task_ids(self) -> set[str]:
        return {t for r in self.routes for t in r.task_ids}

    def summary(self) -> dict[str, Any]:
        """How the team is used: volunteers with and without tasks, tasks per volunteer,
        working/travel/idle time (h) and utilisation (working + travel over working hours,
        lunch excluded)."""
        busy = [r for r in self.routes if not r.is_empty]
        tasks = sorted(len(set(r.task_ids)) for r in busy)
        hours = sum(max(0, r.shift_end_s - r.shift_start_s) - r.lunch_s for r in self.routes)
        working = sum(r.working_s for r in self.routes)
        travel = sum(r.travel_s for r in self.routes)
        days = sorted(r.working_s + r.travel_s for r in busy)
        return {
            "volunteers": len(self.routes),
            "with_tasks": len(busy),
            "without_tasks": len(self.routes) - len(busy),
            "tasks_planned": len(self.planned_task_ids),
            "tasks_left_out": len(self.dropped),
            "tasks_per_volunteer": {
                "min": tasks[0] if tasks else 0,
                "median": tasks[len(tasks) // 2] if tasks else 0,
                "max": tasks[-1] if tasks else 0,
            },
            "working_h": round(working / 3600, 2),
            "travel_h": round(travel / 3600, 2),
            "idle_h": round(sum(r.idle_s for r in self.routes) / 3600, 2),
            "utilisation": round((working + travel) / hours, 3) if hours else 0.0,
            "busy_day_h": {
                "min": round(days[0] / 3600, 2) if days else 0.0,
                "max": round(days[-1] / 3600, 2) if days else 0.0,
                "std": round(float(_std(days)) / 3600, 2),
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON data; nothing in it depends on the machine (no timings), so the
        same input and seed give the same file."""
        return {
            "objective": self.objective,
            "summary": self.summary(),
            "routes": [r.to_dict() for r in self.routes],
            "dropped": [d.to_dict() for d in self.dropped],
            "notes": list(self.notes),
        }


def _std(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    mean = sum(values) / len(values)
    return (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5


_PLAN = TypeAdapter(DayPlan)
_ROUTES = TypeAdapter(tuple[VolunteerRoute, ...])


def _problems(source: str, exc: ValidationError) -> InputError:
    problems = []
    for err in exc.errors():
        loc = list(err["loc"])
        row = None
        if len(loc) >= 2 and loc[0] == "routes" and isinstance(loc[1], int):
            row = loc[1] + 1
        elif loc and isinstance(loc[0], int):
            row = loc[0] + 1
        where = ".".join(str(x) for x in loc)
        problems.append(Problem(source, row, f"`{where}`: {err['msg']}"))
    return InputError(problems)


def _read(path: str | Path) -> Any:
    p = Path(path)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError([Problem(str(p), None, f"cannot read: {exc}")]) from None


def parse_routes(data: Any, *, source: str = "routes") -> tuple[VolunteerRoute, ...]:
    """Route records from decoded JSON (a list of :meth:`VolunteerRoute.to_dict` dicts).

    Raises
    ------
    geo.InputError
        Naming the route (row, 1-based) and field of every problem.
    """
    try:
        routes = _ROUTES.validate_python(data)
    except ValidationError as exc:
        raise _problems(source, exc) from None
    ids = [r.volunteer_id for r in routes]
    dup = [i for i in set(ids) if ids.count(i) > 1]
    if dup:
        msg = f"duplicate `volunteer_id` {sorted(set(dup))}"
        raise InputError([Problem(source, None, msg)])
    return routes


def load_routes(path: str | Path) -> tuple[VolunteerRoute, ...]:
    """Read ``routes.json`` (the volunteers with tasks), validated (see :func:`parse_routes`)."""
    return parse_routes(_read(path), source=str(path))


def load_plan(path: str | Path) -> DayPlan:
    """Read ``plan.json`` (every volunteer, the dropped tasks, notes), validated.

    Raises
    ------
    geo.InputError
        If the file cannot be read, or naming the field of every problem.
    """
    try:
        return _PLAN.validate_python(_read(path))
    except ValidationError as exc:
        raise _problems(str(path), exc) from None


def routes_json(routes: Sequence[VolunteerRoute]) -> str:
    """``routes.json`` text of `routes` (read back with :func:`load_routes`)."""
    return json.dumps([r.to_dict() for r in routes], ensure_ascii=False, indent=1)


def routes_in_datum(routes: Sequence[VolunteerRoute], datum: Datum) -> tuple[VolunteerRoute, ...]:
    """Copies of `routes` with stops and lines moved from WGS-84 to `datum` (GCJ-02 for Amap
    and Tencent, ``[output] coordinates``/``[map] coordinates``), rounded to 1e-7 degrees."""
    if datum is Datum.WGS84:
        return tuple(routes)
    return tuple(_route_in_datum(r, datum) for r in routes)


def plan_in_datum(plan: DayPlan, datum: Datum) -> DayPlan:
    """`plan` with every route moved to `datum` (see :func:`routes_in_datum`)."""
    return dataclasses.replace(plan, routes=routes_in_datum(plan.routes, datum))


def _route_in_datum(route: VolunteerRoute, datum: Datum) -> VolunteerRoute:
    stops = []
    for stop in route.stops:
        if stop.lon is None or stop.lat is None:
            stops.append(stop)
            continue
        x, y = from_wgs84(np.array([stop.lon]), np.array([stop.lat]), datum)
        stops.append(
            dataclasses.replace(stop, lon=round(float(x[0]), 7), lat=round(float(y[0]), 7))
        )
    line = route.geometry
    if line:
        xy = np.asarray(line, dtype=float)
        x, y = from_wgs84(xy[:, 0], xy[:, 1], datum)
        line = tuple((round(float(a), 7), round(float(b), 7)) for a, b in zip(x, y, strict=True))
    return dataclasses.replace(route, stops=tuple(stops), geometry=line)
