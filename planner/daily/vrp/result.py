"""The plan of a day: ordered stops per volunteer and the tasks left out, with reasons."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from geo import TravelMode
from geo.timeofday import format_hhmm


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
    ``travel_m`` describe the leg from the previous stop (0 for the first stop).
    """

    kind: StopKind
    node: int
    task_id: str | None
    arrival_s: int
    start_s: int
    departure_s: int
    travel_s: float
    travel_m: float
    label: str = ""

    @property
    def wait_s(self) -> int:
        return self.start_s - self.arrival_s

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = self.kind.value
        d["arrival"] = format_hhmm(self.arrival_s)
        d["departure"] = format_hhmm(self.departure_s)
        return d


@dataclass(frozen=True)
class VolunteerRoute:
    """A volunteer's ordered stops; ``geometry`` is the route as (lon, lat) pairs (EPSG:4326)."""

    volunteer_id: str
    mode: TravelMode
    stops: tuple[Stop, ...]
    geometry: tuple[tuple[float, float], ...] = ()
    name: str = ""

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
    def is_empty(self) -> bool:
        """True when the volunteer has no task (a lunch stop alone does not count)."""
        return not any(s.task_id for s in self.stops)

    def to_dict(self) -> dict[str, Any]:
        return {
            "volunteer_id": self.volunteer_id,
            "name": self.name,
            "mode": self.mode.value,
            "travel_s": round(self.travel_s, 1),
            "distance_m": round(self.distance_m, 1),
            "duration_s": self.duration_s,
            "stops": [s.to_dict() for s in self.stops],
        }


@dataclass(frozen=True)
class DroppedTask:
    """A task left out of the plan and why."""

    task_id: str
    reason: str
    priority: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DayPlan:
    """The solver's plan: one route per available volunteer plus the dropped tasks.

    ``objective`` is the total travel cost (s, or m with ``objective="distance"``) plus the
    prize (``priority * prize_per_priority_s``) of every dropped task.
    """

    routes: tuple[VolunteerRoute, ...]
    dropped: tuple[DroppedTask, ...]
    objective: int
    solve_seconds: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    def route(self, volunteer_id: str) -> VolunteerRoute:
        for r in self.routes:
            if r.volunteer_id == volunteer_id:
                return r
        msg = f"no route for `volunteer_id` {volunteer_id!r}"
        raise KeyError(msg)

    @property
    def planned_task_ids(self) -> set[str]:
        return {t for r in self.routes for t in r.task_ids}

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "solve_seconds": round(self.solve_seconds, 3),
            "routes": [r.to_dict() for r in self.routes],
            "dropped": [d.to_dict() for d in self.dropped],
            "notes": list(self.notes),
        }
