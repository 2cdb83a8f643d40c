"""The daily routing model: tasks, volunteers and the travel-cost matrices they use.

Every place is a *node*: an index into the cost matrices (the travel-time engine builds them
for a list of snapped points). Times of day are whole seconds since local midnight, durations
whole seconds, distances metres. Every dataclass validates itself in ``__post_init__`` and
raises :class:`geo.InputError` listing all problems at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from geo import InputError, Problem, TravelMode
from geo.timeofday import DAY_S, parse_hhmm

ROUTING_MODES: tuple[TravelMode, ...] = (TravelMode.WALK, TravelMode.EBIKE)
"""Travel modes a volunteer may use on their round."""


def visit_priority(open_demand: int, days_since_visit: int) -> float:
    """Priority (1-10) of an employer visit from its open demand and the days since the last visit.

    Open positions count with diminishing returns (``log2``); staleness grows linearly and
    saturates after 30 days, so an employer never visited still outranks one with a single
    vacancy seen yesterday. Higher means more worth the trip.
    """
    if open_demand < 0 or days_since_visit < 0:
        msg = (
            f"`open_demand` ({open_demand}) and `days_since_visit` ({days_since_visit}) "
            "must be >= 0"
        )
        raise ValueError(msg)
    demand_part = min(math.log2(1 + open_demand), 6.0)  # 63+ open positions saturate
    stale_part = 3.0 * min(days_since_visit, 30) / 30
    return round(1.0 + demand_part + stale_part, 3)


def _problems(source: str, reasons: list[str]) -> None:
    if reasons:
        raise InputError([Problem(source, None, r) for r in reasons])


@dataclass(frozen=True)
class TimeWindow:
    """A time interval ``[start_s, end_s]`` in seconds since midnight."""

    start_s: int
    end_s: int

    def __post_init__(self) -> None:
        bad = []
        if not (0 <= self.start_s <= self.end_s):
            bad.append(f"`start_s` ({self.start_s}) must be >= 0 and <= `end_s` ({self.end_s})")
        _problems("time window", bad)

    @classmethod
    def parse(cls, start: str, end: str) -> TimeWindow:
        """Window from two ``HH:MM`` strings."""
        return cls(parse_hhmm(start, name="start"), parse_hhmm(end, name="end"))


@dataclass(frozen=True)
class Visit:
    """An employer visit: collect hiring demand at ``node`` within the opening hours.

    Parameters
    ----------
    id
        Unique task id (e.g. ``"visit:E0123"``).
    node
        Matrix node of the employer.
    industry
        Industry of the employer; only volunteers who know it may visit. ``None``: anyone.
    service_s
        Time spent at the employer (s).
    windows
        Opening hours; the visit must *start* inside one of them and end before it closes.
    priority
        Worth of the visit (see :func:`visit_priority`); optional visits are dropped lowest
        priority first when the day is too short.
    required
        Must be planned; if impossible, planning fails with :class:`planner.InfeasibleError`.
    units
        How much of a volunteer's daily capacity (``Volunteer.max_tasks``) the visit uses.
    label
        Display name (employer name).
    """

    id: str
    node: int
    industry: str | None
    service_s: int
    windows: tuple[TimeWindow, ...]
    priority: float = 1.0
    required: bool = False
    units: int = 1
    label: str = ""

    def __post_init__(self) -> None:
        bad = []
        if not self.id:
            bad.append("`id` must not be empty")
        if self.node < 0:
            bad.append(f"`node` ({self.node}) must be >= 0")
        if self.service_s < 0:
            bad.append(f"`service_s` ({self.service_s}) must be >= 0")
        if not self.windows:
            bad.append("`windows` must hold at least one opening window")
        bad += [
            f"opening window {w.start_s}-{w.end_s} is shorter than `service_s` ({self.service_s})"
            for w in self.windows
            if w.end_s - w.start_s < self.service_s
        ]
        if not (self.priority > 0 and math.isfinite(self.priority)):
            bad.append(f"`priority` ({self.priority}) must be a positive number")
        if self.units < 0:
            bad.append(f"`units` ({self.units}) must be >= 0")
        _problems(f"visit {self.id!r}", bad)


@dataclass(frozen=True)
class Escort:
    """Walk a group of seekers from a service point to an employer for an interview.

    A pickup-and-delivery pair: the same volunteer picks the group up at ``pickup_node`` (not
    before ``ready_s``) and delivers it to ``delivery_node`` at the latest at ``interview_s``.

    Parameters
    ----------
    id
        Unique task id.
    pickup_node, delivery_node
        Matrix nodes of the service point and of the employer.
    industry
        Industry of the employer (``None``: anyone may escort).
    seekers
        Group size; must fit the volunteer's ``seats``.
    ready_s
        Earliest pickup time (s since midnight).
    interview_s
        Latest arrival at the employer (s since midnight).
    pickup_service_s, delivery_service_s
        Time to gather the group, and to hand it over at the employer (s).
    earliest_arrival_s
        Arrival at the employer is not planned more than this many seconds before the interview.
    priority, required, label
        As for :class:`Visit`.
    """

    id: str
    pickup_node: int
    delivery_node: int
    industry: str | None
    seekers: int
    ready_s: int
    interview_s: int
    pickup_service_s: int = 300
    delivery_service_s: int = 300
    earliest_arrival_s: int = 3600
    priority: float = 8.0
    required: bool = False
    label: str = ""

    def __post_init__(self) -> None:
        bad = []
        if not self.id:
            bad.append("`id` must not be empty")
        if self.pickup_node < 0 or self.delivery_node < 0:
            bad.append("`pickup_node` and `delivery_node` must be >= 0")
        if self.seekers < 1:
            bad.append(f"`seekers` ({self.seekers}) must be >= 1")
        if not (0 <= self.ready_s <= self.interview_s):
            bad.append(f"`ready_s` ({self.ready_s}) must be >= 0 and <= `interview_s`")
        if min(self.pickup_service_s, self.delivery_service_s, self.earliest_arrival_s) < 0:
            bad.append("service times and `earliest_arrival_s` must be >= 0")
        if not (self.priority > 0 and math.isfinite(self.priority)):
            bad.append(f"`priority` ({self.priority}) must be a positive number")
        _problems(f"escort {self.id!r}", bad)

    @property
    def delivery_window(self) -> TimeWindow:
        """When the hand-over at the employer may start."""
        return TimeWindow(
            max(self.ready_s, self.interview_s - self.earliest_arrival_s), self.interview_s
        )


Task = Visit | Escort


@dataclass(frozen=True)
class Lunch:
    """A lunch break of ``duration_s`` starting inside ``window`` at one of ``places``.

    ``places`` are matrix nodes (a canteen, the service point, home); empty means the
    volunteer's start node. The break is a stop on the route, so travel to it is planned.
    """

    window: TimeWindow
    duration_s: int = 2700
    places: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        bad = []
        if self.duration_s <= 0:
            bad.append(f"`duration_s` ({self.duration_s}) must be > 0")
        if any(p < 0 for p in self.places):
            bad.append("`places` must be matrix nodes (>= 0)")
        _problems("lunch", bad)


@dataclass(frozen=True)
class Volunteer:
    """One volunteer's day.

    Parameters
    ----------
    id
        Unique volunteer id.
    start_node, end_node
        Where the day starts and ends (home or their service point).
    shift
        Working hours; the route leaves ``start_node`` no earlier than ``shift.start_s`` and is
        back at ``end_node`` no later than ``shift.end_s``.
    mode
        ``walk`` or ``ebike``; selects the cost matrices.
    industries
        Industries the volunteer knows.
    max_tasks
        Daily capacity in task units (each visit uses ``Visit.units``, default 1).
    seats
        Largest seeker group the volunteer can escort at once.
    lunch
        Lunch break, or ``None`` for a short shift without one.
    name
        Display name.
    """

    id: str
    start_node: int
    end_node: int
    shift: TimeWindow
    mode: TravelMode
    industries: frozenset[str]
    max_tasks: int = 12
    seats: int = 4
    lunch: Lunch | None = None
    name: str = ""

    def __post_init__(self) -> None:
        bad = []
        if not self.id:
            bad.append("`id` must not be empty")
        if self.start_node < 0 or self.end_node < 0:
            bad.append("`start_node` and `end_node` must be >= 0")
        if self.mode not in ROUTING_MODES:
            allowed = ", ".join(m.value for m in ROUTING_MODES)
            bad.append(f"`mode` {self.mode!r} is not a routing mode ({allowed})")
        if self.max_tasks < 0 or self.seats < 0:
            bad.append("`max_tasks` and `seats` must be >= 0")
        if self.lunch is not None:
            w = self.lunch.window
            if w.start_s < self.shift.start_s or w.end_s > self.shift.end_s:
                bad.append("`lunch.window` must lie inside `shift`")
            if w.end_s - w.start_s < self.lunch.duration_s:
                bad.append("`lunch.window` is shorter than `lunch.duration_s`")
        _problems(f"volunteer {self.id!r}", bad)


@dataclass(frozen=True, eq=False)
class CostMatrices:
    """Travel times (s) and distances (m) between matrix nodes, one pair of matrices per mode.

    ``coords`` (optional, ``(n, 2)`` lon/lat in EPSG:4326) place the nodes on a map for the
    exports; without them geometry exports are empty.
    """

    durations: Mapping[TravelMode, np.ndarray]
    distances: Mapping[TravelMode, np.ndarray]
    coords: np.ndarray | None = None

    def __post_init__(self) -> None:
        bad = []
        if not self.durations:
            bad.append("`durations` must hold at least one mode")
        if set(self.durations) != set(self.distances):
            bad.append("`durations` and `distances` must cover the same modes")
        n = self.n
        for name, mats in (("durations", self.durations), ("distances", self.distances)):
            for mode, m in mats.items():
                arr = np.asarray(m)
                if arr.ndim != 2 or arr.shape != (n, n):
                    bad.append(f"`{name}[{mode}]` has shape {arr.shape}, expected ({n}, {n})")
                elif np.isnan(arr).any() or (arr < 0).any():
                    bad.append(f"`{name}[{mode}]` has NaN or negative entries")
        if self.coords is not None and np.asarray(self.coords).shape != (n, 2):
            bad.append(f"`coords` has shape {np.asarray(self.coords).shape}, expected ({n}, 2)")
        _problems("cost matrices", bad)

    @property
    def n(self) -> int:
        """Number of nodes."""
        first = next(iter(self.durations.values()), np.zeros((0, 0)))
        return int(np.asarray(first).shape[0])


@dataclass(frozen=True)
class DayState:
    """What has happened so far today, for planning the rest of the day.

    The one record of "the day so far": read from a state file by id
    (:func:`planner.daily.state.load_state`), then resolved onto the day's matrix nodes
    (:func:`planner.daily.state.resolve_state`) before the routing core uses it.

    Parameters
    ----------
    now_s
        Current time (s since midnight), or ``None`` (start of the day); nothing is planned
        earlier.
    done
        Ids of tasks finished (or cancelled): left out of the new plan.
    absent
        Ids of volunteers who are not (or no longer) available.
    positions
        Where each volunteer who has left their start is now: a matrix node (``int``), or,
        before resolving, a place id (an employer or service point id, ``"home"`` or
        ``"point"``).
    carrying
        Escort ids whose group a volunteer is walking right now (picked up, not delivered);
        the delivery stays with that volunteer.
    lunch_taken
        Volunteers who have had their lunch.
    """

    now_s: int | None = None
    done: frozenset[str] = frozenset()
    absent: frozenset[str] = frozenset()
    positions: Mapping[str, int | str] = field(default_factory=dict)
    carrying: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    lunch_taken: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        bad = []
        if self.now_s is not None and not (0 <= self.now_s <= DAY_S):
            bad.append(f"`now_s` ({self.now_s}) must be a time of day in seconds")
        carried = [t for ids in self.carrying.values() for t in ids]
        if len(carried) != len(set(carried)):
            bad.append("an escort appears in `carrying` of more than one volunteer")
        if set(carried) & self.done:
            bad.append("an escort is both `done` and in `carrying`")
        _problems("re-planning state", bad)

    @property
    def is_empty(self) -> bool:
        """True when nothing has happened yet (a plan for the whole day)."""
        return self.now_s is None and not (
            self.done or self.absent or self.lunch_taken or self.positions or self.carrying
        )

    @property
    def is_resolved(self) -> bool:
        """True when every position is a matrix node."""
        return all(isinstance(p, int) for p in self.positions.values())

    def node_of(self, volunteer_id: str, default: int) -> int:
        """Current node of a volunteer (`default`: their start); needs a resolved state."""
        place = self.positions.get(volunteer_id, default)
        if not isinstance(place, int):
            msg = f"position {place!r} of {volunteer_id!r} is not resolved to a matrix node"
            raise ValueError(msg)
        return place

    def merged(
        self, *, done: Iterable[str] = (), absent: Iterable[str] = (), now: str | int | None = None
    ) -> DayState:
        """This state plus more done tasks / absent volunteers and a later time."""
        now_s = self.now_s
        if now is not None:
            now_s = parse_hhmm(now, name="now") if isinstance(now, str) else int(now)
        return replace(
            self,
            now_s=now_s,
            done=self.done | frozenset(done),
            absent=self.absent | frozenset(absent),
        )


@dataclass(frozen=True, eq=False)
class DayProblem:
    """Everything to plan one day: tasks, volunteers and the cost matrices.

    Cross-checks ids (unique), nodes (inside the matrices) and modes (a matrix per mode used).
    """

    tasks: Sequence[Task]
    volunteers: Sequence[Volunteer]
    matrices: CostMatrices

    def __post_init__(self) -> None:
        bad = []
        task_ids = [t.id for t in self.tasks]
        vol_ids = [v.id for v in self.volunteers]
        for kind, ids in (("task", task_ids), ("volunteer", vol_ids)):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            if dup:
                bad.append(f"duplicate {kind} ids: {dup[:10]}")
        n = self.matrices.n
        for t in self.tasks:
            nodes = [t.node] if isinstance(t, Visit) else [t.pickup_node, t.delivery_node]
            if any(x >= n for x in nodes):
                bad.append(f"task {t.id!r}: node outside the {n}-node matrices")
        for v in self.volunteers:
            nodes = [v.start_node, v.end_node, *(v.lunch.places if v.lunch else ())]
            if any(x >= n for x in nodes):
                bad.append(f"volunteer {v.id!r}: node outside the {n}-node matrices")
            if v.mode not in self.matrices.durations:
                bad.append(f"volunteer {v.id!r}: no cost matrix for mode `{v.mode}`")
        _problems("day problem", bad)

    def task(self, task_id: str) -> Task:
        """The task with id `task_id`."""
        for t in self.tasks:
            if t.id == task_id:
                return t
        msg = f"no task with `task_id` {task_id!r}"
        raise KeyError(msg)
