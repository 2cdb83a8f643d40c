"""Route parsing, times, the routes map and the phone page."""

from __future__ import annotations

import copy
import json
import re

import pytest
import shapely

from geo import InputError
from maps._base import render_html
from maps.daily import format_time, parse_routes, route_page, routes_map


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("08:30", "08:30"),
        ("8:05", "08:05"),
        ("09:15:59", "09:15"),
        ("2025-03-03T13:45:00", "13:45"),
        ("2025-03-03 13:45:00+08:00", "13:45"),
        (0, "00:00"),
        (30600, "08:30"),
        (30629.9, "08:30"),
        (None, None),
        (float("nan"), None),
    ],
)
def test_format_time(value, expected):
    assert format_time(value) == expected


@pytest.mark.parametrize("value", ["8h30", "25:99", "noon", -1, 3 * 86400, True])
def test_format_time_rejects(value):
    with pytest.raises(ValueError, match="time"):
        format_time(value)


def test_list_and_feature_collection_parse_the_same(routes):
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": r["geometry"],
                "properties": {k: v for k, v in r.items() if k != "geometry"},
            }
            for r in routes
        ],
    }
    a, b = parse_routes(routes), parse_routes(fc)
    assert [r.volunteer_id for r in a] == [r.volunteer_id for r in b] == ["V001", "V/002"]
    assert [r.stops for r in a] == [r.stops for r in b]
    assert a[1].stops[2].times == "10:00–10:30"  # seconds since midnight
    assert a[0].stops[0].label == "⌂" and a[0].stops[1].label == "1"


def test_shapely_and_coordinate_list_geometries(routes):
    r = copy.deepcopy(routes[0])
    r["geometry"] = shapely.LineString(r["geometry"]["coordinates"])
    (parsed,) = parse_routes([r])
    assert parsed.coordinates.shape == (len(routes[0]["geometry"]["coordinates"]), 2)


def _set(path, value):
    def change(routes):
        target = routes[0]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return routes

    return change


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (_set(["volunteer_id"], ""), "`volunteer_id` is missing"),
        (lambda rs: [rs[0], rs[0]], "duplicate `volunteer_id`"),
        (_set(["stops"], []), "non-empty list"),
        (_set(["geometry"], None), "street path"),
        (_set(["geometry"], {"type": "Point", "coordinates": [1, 2]}), "not LineString"),
        (
            _set(["geometry"], {"type": "LineString", "coordinates": [[500000.0, 2500000.0]] * 3}),
            "not lon/lat",
        ),
        (_set(["stops", 1, "lat"], 123.0), "not in EPSG:4326"),
        (_set(["stops", 1, "arrival"], "9 o'clock"), "not HH:MM"),
        (lambda rs: [rs[0], "oops"], "must be a mapping"),
        (lambda rs: {"type": "Feature"}, "FeatureCollection"),
        (lambda rs: 42, "must be a list"),
    ],
)
def test_bad_routes(routes, change, match):
    with pytest.raises(InputError, match=match):
        parse_routes(change(copy.deepcopy(routes)))


def test_errors_name_route_and_stop(routes):
    bad = copy.deepcopy(routes)
    del bad[1]["stops"][2]["lon"]
    with pytest.raises(InputError) as info:
        parse_routes(bad)
    (problem,) = info.value.problems
    assert (
        problem.row == 2 and "route 'V/002' stop 3" in problem.reason and "`lon`" in problem.reason
    )


def test_routes_map_escapes_names_and_links_pages(routes):
    html = render_html(
        routes_map(routes, title="Routes", synthetic=True, page_links={"V001": "routes/V001.html"})
    )
    assert "Li <Wei>" not in html and json.dumps("Li &lt;Wei&gt;")[1:-1] in html
    assert "routes/V001.html" in html


def test_route_page_lists_stops_in_order_with_times(routes):
    html = route_page(routes[0], synthetic=True)
    seqs = [int(s) for s in re.findall(r'<li data-seq="(\d+)">', html)]
    assert seqs == [0, 1, 2, 3, 4]
    for t in ("08:30", "08:50–09:20", "09:35–10:05", "10:30–11:00", "12:05"):
        assert t in html
    assert "9.1 km" in html and "3.8 h" in html and "ebike" in html
    assert 'name="viewport"' in html
