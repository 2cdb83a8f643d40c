"""Published routes never show a volunteer's home (start, end or lunch at home)."""

from __future__ import annotations

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
    return {
        "volunteer_id": "V001",
        "name": "Chen",
        "service_point": "SP1",
        "travel_time_s": 999.0,
        "stops": [
            {"seq": i, "kind": k, "task_id": t, "lon": xy[0], "lat": xy[1], "arrival": "09:00"}
            for i, (k, xy, t) in enumerate(stops)
        ],
        "geometry": {"type": "LineString", "coordinates": [list(p) for p in line]},
    }


def test_home_legs_and_home_lunch_are_removed():
    (out,) = strip_home_legs([_route()], {"SP1": POINT})
    coords = [tuple(c) for c in out["geometry"]["coordinates"]]
    assert HOME not in coords
    assert coords[0] == (115.502, 21.472) and coords[-1] == POINT[:2]
    kinds = [s["kind"] for s in out["stops"]]
    assert kinds == ["start", "visit", "visit", "pickup", "end"]
    assert (out["stops"][0]["lon"], out["stops"][0]["lat"]) == POINT[:2]
    assert all((s["lon"], s["lat"]) != HOME for s in out["stops"])
    assert "travel_time_s" not in out and out["home_legs_removed"] is True


def test_a_day_starting_at_the_point_is_left_alone():
    route = _route()
    for s in route["stops"]:
        if (s["lon"], s["lat"]) == HOME:
            s["lon"], s["lat"] = POINT[:2]
    assert strip_home_legs([route], {"SP1": POINT}) == [route]
