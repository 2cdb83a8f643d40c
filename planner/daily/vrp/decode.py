"""From the solver's answer to the day's record: timelines in, route records out."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np
import pyvrp

from geo import TravelMode
from planner.daily.record import Stop, StopKind, VolunteerRoute
from planner.daily.vrp.build import BuiltModel
from planner.daily.vrp.model import DayProblem, Escort, Task
from planner.daily.vrp.timeline import Act, Timeline, escort_acts

PathGeometry = Callable[[int, int], Sequence[tuple[float, float]]]
"""``path_geometry(from_node, to_node) -> [(lon, lat), ...]`` street-following geometry."""

AFTER_LUNCH = "after lunch 午饭后出发"
"""Label of the start of a day whose first activity would have been lunch (see
:func:`work_first`)."""


def read_solution(
    built: BuiltModel,
    solution: pyvrp.Solution,
    timelines: Sequence[Timeline],
    tasks: Mapping[str, Task],
) -> None:
    """Put each solver route's activities, in order, on its volunteer's timeline."""
    free = [list(m) for m in built.type_crews]
    data = built.data
    for route in solution.routes():
        tl = timelines[free[route.vehicle_type()].pop(0)]
        for act in route.schedule():
            if act.is_depot():
                continue
            if act.is_client():
                ref = built.clients[act.idx]
                client = data.client(act.idx)
                node = int(built.nodes[client.location])
                if ref.kind is StopKind.DELIVERY and ref.task_id is not None:  # carried group
                    task = tasks[ref.task_id]
                    assert isinstance(task, Escort)
                    tl.acts.append(replace(escort_acts(task)[1], node=node))
                    continue
                units = int(client.delivery[0]) if ref.kind is StopKind.VISIT else 0
                tl.acts.append(
                    Act(
                        ref.kind,
                        node,
                        ref.task_id,
                        int(client.service_duration),
                        int(client.tw_early),
                        int(client.tw_late),
                        units=units,
                    )
                )
            else:
                task = tasks[built.shipments[act.idx]]
                assert isinstance(task, Escort)
                pickup, drop = escort_acts(task)
                tl.acts.append(pickup if act.is_pickup() else drop)


def work_first(tl: Timeline) -> bool:
    """A day that would begin with lunch begins with work: lunch moves to the cheapest place
    after the first task that keeps the day on time (an allowed place, inside its window);
    failing that, it is eaten at the start before leaving (if the start is an allowed place)
    and the day starts after it. Returns True in the second case (the start is labelled)."""
    if not tl.acts or tl.acts[0].kind is not StopKind.LUNCH or not tl.has_task():
        return False
    lunch, rest = tl.acts[0], tl.acts[1:]
    vol = tl.crew.vol
    places = list(dict.fromkeys(vol.lunch.places if vol.lunch is not None else ()))
    options = [[replace(lunch, node=p)] for p in places or [lunch.node]]
    later = Timeline(tl.crew, tl.dur, list(rest), tl.carried_seekers)
    moves = [
        i
        for i in later.insertions(options, vol.seats)
        if i.at >= 1 and later.seekers_at(i.at) == 0  # not while walking a group
    ]
    if moves:
        later.insert(min(moves, key=lambda i: (i.added_s, i.at)))
        tl.acts = later.acts
        return False
    if places and tl.crew.start_node not in places:
        return False
    begin = max(tl.crew.early_s, lunch.early_s)
    if begin > lunch.late_s:
        return False
    after = Timeline(
        replace(tl.crew, early_s=begin + lunch.service_s, lunch_window=None),
        tl.dur,
        list(rest),
        tl.carried_seekers,
    )
    try:
        after.schedule()
    except ValueError:
        return False
    tl.crew, tl.acts = after.crew, after.acts
    return True


def route_record(
    problem: DayProblem,
    tl: Timeline,
    labels: Mapping[str, str],
    path_geometry: PathGeometry | Mapping[TravelMode, PathGeometry] | None,
    *,
    after_lunch: bool = False,
    reason: str = "",
) -> VolunteerRoute:
    """The record of one volunteer's scheduled day (a single start stop when they are idle)."""
    vol = tl.crew.vol
    coords = problem.matrices.coords
    dist = np.asarray(problem.matrices.distances[vol.mode], dtype=float)

    def stop(
        kind: StopKind,
        node: int,
        task: str | None,
        times: tuple[int, int, int],
        prev: int | None,
        label: str,
    ) -> Stop:
        lon = float(coords[node, 0]) if coords is not None else None
        lat = float(coords[node, 1]) if coords is not None else None
        travel_s = float(tl.dur[prev, node]) if prev is not None else 0.0
        travel_m = float(dist[prev, node]) if prev is not None else 0.0
        return Stop(kind, node, task, *times, travel_s, travel_m, label, lon, lat)

    shift = (vol.shift.start_s, vol.shift.end_s)
    start_label = AFTER_LUNCH if after_lunch else ""
    if not tl.acts:
        e = tl.crew.early_s
        first = stop(StopKind.START, tl.crew.start_node, None, (e, e, e), None, start_label)
        return VolunteerRoute(vol.id, vol.mode, (first,), (), vol.name, reason, *shift)
    depart, slots = tl.schedule()
    stops = [
        stop(StopKind.START, tl.crew.start_node, None, (depart, depart, depart), None, start_label)
    ]
    prev = tl.crew.start_node
    for a, sl in zip(tl.acts, slots, strict=False):
        label = labels.get(a.task_id, "") if a.task_id else ""
        stops.append(
            stop(a.kind, a.node, a.task_id, (sl.arrival_s, sl.start_s, sl.departure_s), prev, label)
        )
        prev = a.node
    back = slots[-1]
    stops.append(stop(StopKind.END, vol.end_node, None, (back.arrival_s,) * 3, prev, ""))
    line = _geometry(problem, vol.mode, [s.node for s in stops], path_geometry)
    return VolunteerRoute(vol.id, vol.mode, tuple(stops), line, vol.name, reason, *shift)


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
