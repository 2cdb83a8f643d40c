"""A volunteer's day as an ordered list of activities, with its schedule and free gaps.

The solver chooses who does what in which order; a :class:`Timeline` holds that order for one
volunteer and answers, against the final plan, "could this volunteer still take that task,
and where?" (:meth:`Timeline.insertions`). Times are seconds since midnight, travel from the
volunteer's own-mode duration matrix; waiting for an opening time is allowed (and shown as
waiting), everything else must fit: each activity starts inside its window, the day ends back
at the end node before the shift ends.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from planner.daily.record import StopKind
from planner.daily.vrp.build import Crew
from planner.daily.vrp.model import Escort, Task, Visit


@dataclass(frozen=True)
class Act:
    """One activity of a day: start it in ``[early_s, late_s]``, then spend ``service_s``.

    ``units`` counts against ``Volunteer.max_tasks``; ``seekers`` is the change of the group
    walking with the volunteer (+ at a pickup, - at a delivery).
    """

    kind: StopKind
    node: int
    task_id: str | None
    service_s: int
    early_s: int
    late_s: int
    units: int = 0
    seekers: int = 0


@dataclass(frozen=True)
class Slot:
    """When an activity happens: arrival, start (after waiting) and departure (s)."""

    arrival_s: int
    start_s: int
    departure_s: int


def task_acts(task: Task) -> list[list[Act]]:
    """The ways to do `task` as consecutive activities: one per opening window of a visit;
    an escort is its pickup directly followed by its delivery."""
    if isinstance(task, Visit):
        return [
            [
                Act(
                    StopKind.VISIT,
                    task.node,
                    task.id,
                    task.service_s,
                    w.start_s,
                    w.end_s - task.service_s,
                    units=task.units,
                )
            ]
            for w in task.windows
        ]
    return [escort_acts(task)]


def escort_acts(task: Escort) -> list[Act]:
    """Pickup then delivery of an escort."""
    dw = task.delivery_window
    pickup = Act(
        StopKind.PICKUP,
        task.pickup_node,
        task.id,
        task.pickup_service_s,
        task.ready_s,
        task.interview_s,
        seekers=task.seekers,
    )
    drop = Act(
        StopKind.DELIVERY,
        task.delivery_node,
        task.id,
        task.delivery_service_s,
        dw.start_s,
        dw.end_s,
        seekers=-task.seekers,
    )
    return [pickup, drop]


@dataclass(frozen=True)
class Insertion:
    """Where `acts` fit into a timeline (before activity `at`) and the travel they add (s)."""

    at: int
    acts: tuple[Act, ...]
    added_s: float


@dataclass
class Timeline:
    """One volunteer's activities between leaving their start and returning to their end."""

    crew: Crew
    dur: np.ndarray
    acts: list[Act] = field(default_factory=list)
    carried_seekers: int = 0  # groups walking with the volunteer at the start (re-planning)

    @property
    def late_s(self) -> int:
        return self.crew.vol.shift.end_s

    def _nodes(self) -> list[int]:
        return [self.crew.start_node, *(a.node for a in self.acts), self.crew.vol.end_node]

    def travel_s(self) -> float:
        nodes = self._nodes()
        return float(sum(self.dur[a, b] for a, b in itertools.pairwise(nodes)))

    def units(self) -> int:
        return sum(a.units for a in self.acts)

    def has_task(self) -> bool:
        return any(a.task_id is not None for a in self.acts)

    def _forward(self, depart_s: int) -> list[Slot] | None:
        """Slots of every activity and of the return (last), or None if something is late."""
        slots: list[Slot] = []
        t = depart_s
        prev = self.crew.start_node
        for a in self.acts:
            arrive = t + int(self.dur[prev, a.node])
            start = max(arrive, a.early_s)
            if start > a.late_s:
                return None
            t = start + a.service_s
            slots.append(Slot(arrive, start, t))
            prev = a.node
        back = t + int(self.dur[prev, self.crew.vol.end_node])
        if back > self.late_s:
            return None
        slots.append(Slot(back, back, back))
        return slots

    def schedule(self) -> tuple[int, list[Slot]]:
        """Departure and slots of a feasible timeline, leaving as late as the first waiting
        allows (so waiting for an opening is not spent at the start of the day).

        Raises
        ------
        ValueError
            If the timeline is not feasible (a solver or repair bug, never expected).
        """
        early = self.crew.early_s
        slots = self._forward(early)
        if slots is None:
            msg = f"the day of volunteer {self.crew.vol.id!r} cannot be scheduled"
            raise ValueError(msg)
        delay = 0
        slack = self.late_s - slots[-1].arrival_s
        for a, s in zip(self.acts, slots, strict=False):
            slack = min(slack, a.late_s - s.start_s)
            if s.start_s > s.arrival_s:  # first wait: leaving later removes it
                delay = min(slack, s.start_s - s.arrival_s)
                break
        if delay > 0:
            later = self._forward(early + delay)
            if later is not None:
                return early + delay, later
        return early, slots

    def _latest_arrivals(self) -> list[int]:
        """Latest arrival at each activity (and at the end) that keeps the rest on time."""
        nodes = self._nodes()
        latest = [0] * (len(self.acts) + 1)
        latest[-1] = self.late_s
        for k in range(len(self.acts) - 1, -1, -1):
            a = self.acts[k]
            leave_by = latest[k + 1] - int(self.dur[a.node, nodes[k + 2]])
            latest[k] = min(a.late_s, leave_by - a.service_s)
        return latest

    def _load_before(self) -> list[int]:
        """Seekers walking with the volunteer on arrival at each position (and the end)."""
        load = [self.carried_seekers]
        for a in self.acts:
            load.append(load[-1] + a.seekers)
        return load

    def seekers_at(self, k: int) -> int:
        """Seekers walking with the volunteer on the way to activity `k` (or the end)."""
        return self._load_before()[k]

    def insertions(self, options: list[list[Act]], seats: int) -> Iterator[Insertion]:
        """Every feasible place for one of `options` (consecutive activities) in the day."""
        slots = self._forward(self.crew.early_s)
        if slots is None:
            return
        latest = self._latest_arrivals()
        load = self._load_before()
        nodes = self._nodes()
        for k in range(len(self.acts) + 1):
            prev_node = nodes[k]
            leave = self.crew.early_s if k == 0 else slots[k - 1].departure_s
            nxt = nodes[k + 1]
            for acts in options:
                if load[k] + max(0, sum(a.seekers for a in acts[:1])) > seats:
                    continue
                t, node, ok = leave, prev_node, True
                for a in acts:
                    start = max(t + int(self.dur[node, a.node]), a.early_s)
                    if start > a.late_s:
                        ok = False
                        break
                    t, node = start + a.service_s, a.node
                if ok and t + int(self.dur[node, nxt]) <= latest[k]:
                    path = [prev_node, *(a.node for a in acts), nxt]
                    added = sum(float(self.dur[a, b]) for a, b in itertools.pairwise(path))
                    yield Insertion(k, tuple(acts), added - float(self.dur[prev_node, nxt]))

    def insert(self, ins: Insertion) -> None:
        self.acts[ins.at : ins.at] = list(ins.acts)
