"""Volunteers' homes out of published routes.

A volunteer's day starts and ends at home (``DayParams.start_at = "home"``), and lunch may be
at home. Published maps (``routes.html``, the per-volunteer pages) show routes without those
home legs unless the scenario opts in (``[privacy] volunteer_homes = true``):
:func:`strip_home_legs` turns each route record (``routes.json``) into one that starts and
ends at the volunteer's service point (no times), keeps every task stop, drops a lunch taken
at home, and cuts the street geometry to the part between the first and the last task stop
(a home lunch in between is left out: the line then jumps from the stop before it to the stop
after it).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

from planner.daily.record import VolunteerRoute, parse_routes

HOME_KINDS = ("start", "end")
NEAR_M = 1.0
"""Stops closer than this (m) are the same place."""


def strip_home_legs(
    routes: Sequence[VolunteerRoute],
    points: Mapping[str, tuple[float, float, str]],
) -> tuple[VolunteerRoute, ...]:
    """Route records without homes: start/end at the service point, home legs cut.

    Parameters
    ----------
    routes
        Route records (``service_point`` names the volunteer's point).
    points
        Service point id -> (lon, lat, name), degrees EPSG:4326.

    Returns
    -------
    tuple of VolunteerRoute
        A route whose day already starts at its point is returned as it is; the others
        start when the first task's trip would start from the point (no travel on that
        first leg, whose street line is not the point's) and end when the last task ends.
    """
    stripped = [_strip(r.to_dict(), points) for r in routes]
    return parse_routes(stripped, source="published routes")


def _strip(route: dict[str, Any], points: Mapping[str, tuple[float, float, str]]) -> dict[str, Any]:
    """:meth:`VolunteerRoute.to_dict` record -> the same without home legs."""
    stops = [dict(s) for s in route.get("stops", [])]
    homes = [s for s in stops if s.get("kind") in HOME_KINDS]
    home = (homes[0].get("lon"), homes[0].get("lat")) if homes else None
    point = points.get(str(route.get("service_point")))
    at_point = home is not None and point is not None and _same(home, point[:2])
    if home is None or home[0] is None or at_point:
        return route  # the day already starts at the service point: nothing personal
    kept = [
        s
        for s in stops
        if s.get("kind") not in HOME_KINDS
        and not (s.get("kind") == "lunch" and _same((s.get("lon"), s.get("lat")), home))
    ]
    out = copy.deepcopy(route)
    out["geometry"] = _cut(route.get("geometry"), stops, kept) or {
        "type": "LineString",
        "coordinates": [],
    }
    if kept:
        kept[0] = {**kept[0], "travel_s": 0.0, "travel_m": 0.0}  # the leg came from home
    ends = []
    if point is not None and kept:
        t_start, t_end = int(kept[0]["arrival_s"]), int(kept[-1]["departure_s"])
        for kind, name, at, node in (
            ("start", "Start 出发", t_start, kept[0]["node"]),
            ("end", "End of day 收工", t_end, kept[-1]["node"]),
        ):
            ends.append(
                {
                    "kind": kind,
                    "node": node,  # the matrix node is internal; the place is lon/lat
                    "task_id": None,
                    "label": f"{name} · {point[2]}",
                    "lon": point[0],
                    "lat": point[1],
                    "arrival_s": at,
                    "start_s": at,
                    "departure_s": at,
                    "travel_s": 0.0,
                    "travel_m": 0.0,
                }
            )
    out["stops"] = ([ends[0]] if ends else []) + kept + ([ends[1]] if ends else [])
    out["home_legs_removed"] = True
    return out


def _cut(geometry: Any, stops: list[dict[str, Any]], kept: list[dict[str, Any]]) -> Any:
    """The line between the first and last kept stop, without detours to a home lunch."""
    if not isinstance(geometry, Mapping) or not kept:
        return None
    coords = [tuple(c[:2]) for c in geometry.get("coordinates", [])]
    if len(coords) < 2:
        return None
    # Vertex of each stop along the line, in order (legs join at the stops' street points).
    at: list[int] = []
    start = 0
    for s in stops:
        i = _nearest(coords, (s.get("lon"), s.get("lat")), start)
        at.append(i)
        start = i
    keep_ids = {id(s) for s in kept}
    pieces: list[tuple[float, float]] = []
    for k in range(len(stops) - 1):
        if id(stops[k]) in keep_ids and id(stops[k + 1]) in keep_ids:
            leg = coords[at[k] : at[k + 1] + 1]
            pieces.extend(leg if not pieces else leg[1:] if pieces[-1] == leg[0] else leg)
        elif id(stops[k]) in keep_ids and (not pieces or pieces[-1] != coords[at[k]]):
            pieces.append(coords[at[k]])
    if len(pieces) < 2:  # one place only: a line of no length there, never the home leg
        first = kept[0]
        pieces = [(float(first["lon"]), float(first["lat"]))] * 2
    return {"type": "LineString", "coordinates": [list(p) for p in pieces]}


def _nearest(coords: list[tuple[float, float]], xy: tuple[Any, Any], start: int) -> int:
    if xy[0] is None or xy[1] is None:
        return start
    best, best_d = start, math.inf
    for i in range(start, len(coords)):
        d = (coords[i][0] - xy[0]) ** 2 + (coords[i][1] - xy[1]) ** 2
        if d < best_d:
            best, best_d = i, d
    return best


def _same(a: tuple[Any, Any], b: tuple[Any, Any]) -> bool:
    if None in a or None in b:
        return False
    dx = (float(a[0]) - float(b[0])) * 111_320 * math.cos(math.radians(float(a[1])))
    dy = (float(a[1]) - float(b[1])) * 110_574
    return math.hypot(dx, dy) < NEAR_M
