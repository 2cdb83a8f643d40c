"""Published routes never show a volunteer's home (start, end or lunch at home)."""

from __future__ import annotations

from planner.daily.record import parse_routes
from planner.privacy import strip_home_legs

HOME = (115.500, 21.470)
POINT = (115.510, 21.480, "Point 1")


def _route():
    stops = [
        ("start", HOME, None),
        ("visit", (115.502, 21.472), "visit:E1"),
        ("lunch", HOME, None),  # lunch at home
        ("visit", (115.505, 21.475), "visit:E2"),
        ("pickup", POINT[:2], "escort:1"),
        ("end", HOME, None),
    ]
    line = [
        HOME,
        (115.501, 21.471),
        (115.502, 21.472),
        (115.501, 21.471),
        HOME,
        (115.503, 21.473),
        (115.505, 21.475),
        (115.508, 21.478),
        POINT[:2],
        (115.505, 21.475),
        HOME,
    ]
    hour = 3600
    record = {
        "volunteer_id": "V001",
        "name": "Chen",
        "mode": "ebike",
        "service_point": "SP1",
        "stops": [
            {
                "kind": k,
                "node": i,
                "task_id": t,
                "lon": xy[0],
                "lat": xy[1],
                "arrival_s": (8 + i) * hour,
                "start_s": (8 + i) * hour,
                "departure_s": (8 + i) * hour + 600,
                "travel_s": 0 if i == 0 else 300,
                "travel_m": 0 if i == 0 else 1000,
            }
            for i, (k, xy, t) in enumerate(stops)
        ],
        "geometry": {"type": "LineString", "coordinates": [list(p) for p in line]},
    }
    return parse_routes([record])[0]


def test_home_legs_and_home_lunch_are_removed():
    route = _route()
    (out,) = strip_home_legs([route], {"SP1": POINT})
    coords = [tuple(c) for c in out.geometry]
    assert HOME not in coords
    assert coords[0] == (115.502, 21.472) and coords[-1] == POINT[:2]
    kinds = [s.kind.value for s in out.stops]
    assert kinds == ["start", "visit", "visit", "pickup", "end"]
    assert (out.stops[0].lon, out.stops[0].lat) == POINT[:2]
    assert all((s.lon, s.lat) != HOME for s in out.stops)
    assert out.home_legs_removed is True
    # No travel from or to home is left; the day starts when the first task's trip would.
    assert out.stops[1].travel_s == 0 and out.travel_s < route.travel_s
    assert out.stops[0].departure_s == route.stops[1].arrival_s


def test_a_day_starting_at_the_point_is_left_alone():
    record = _route().to_dict()
    for s in record["stops"]:
        if (s["lon"], s["lat"]) == HOME:
            s["lon"], s["lat"] = POINT[:2]
    (route,) = parse_routes([record])
    assert strip_home_legs([route], {"SP1": POINT}) == (route,)
