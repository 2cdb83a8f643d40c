"""Times and the routes map, drawn from route records (phone pages: test_phone.py)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from geo import InputError
from maps._base import render_html
from maps.daily import routes_map, stop_anchors, stop_times
from maps.phone import volunteer_page
from maps.sheets import sheet_html
from planner.daily.record import DayPlan


def test_map_sheet_and_phone_page_show_the_same_minute(routes):
    # 08:50:59 is 08:50 everywhere (one rounding rule, geo.timeofday): never 08:51 on one
    # page and 08:50 on another.
    r = routes[0]
    stop = dataclasses.replace(r.stops[1], arrival_s=31859, start_s=31859)
    r = dataclasses.replace(r, stops=(r.stops[0], stop, *r.stops[2:]))
    assert stop_times(stop) == "08:50–09:20"
    page = volunteer_page(r, scenario="Town", synthetic=True)
    sheet = sheet_html(DayPlan((r,), (), 0, 0.0))
    whole = render_html(routes_map([r], title="t", synthetic=True))
    assert "08:50–09:20" in page and json.dumps("08:50–09:20")[1:-1] in whole
    assert "<td class='t'>08:50</td>" in sheet and "08:50–09:20" in page
    assert "08:51" not in page + sheet + whole


def test_waiting_is_shown_as_waiting(routes):
    r = routes[0]
    stop = dataclasses.replace(r.stops[1], arrival_s=31800 - 600)
    assert stop_times(stop) == "08:40 (wait 等候) 08:50–09:20"
    assert "等候 wait 10 min" in sheet_html(
        DayPlan((dataclasses.replace(r, stops=(r.stops[0], stop, *r.stops[2:])),), (), 0, 0.0)
    )


def test_routes_without_stops_or_places_are_refused(routes):
    with pytest.raises(InputError, match="no stop"):
        routes_map([dataclasses.replace(routes[0], stops=())], title="t", synthetic=True)
    unplaced = dataclasses.replace(routes[0].stops[1], lon=None, lat=None)
    r = dataclasses.replace(routes[0], stops=(routes[0].stops[0], unplaced))
    with pytest.raises(InputError, match="no `lon`/`lat`"):
        volunteer_page(r, scenario="Town", synthetic=True)


def test_routes_map_escapes_names_and_links_pages(routes):
    html = render_html(
        routes_map(routes, title="Routes", synthetic=True, page_links={"V001": "routes/V001.html"})
    )
    assert "Li <Wei>" not in html and json.dumps("Li &lt;Wei&gt;")[1:-1] in html
    assert "routes/V001.html" in html


def test_stops_at_one_place_are_fanned_out():
    anchors = stop_anchors([1.0, 2.0, 1.0, 1.0], [5.0, 5.0, 5.0, 5.0])
    assert anchors[1] == [11.0, 11.0]  # alone: centred
    stacked = [anchors[0], anchors[2], anchors[3]]
    assert len({tuple(a) for a in stacked}) == 3  # three places on the circle
    for a in stacked:
        assert abs(((a[0] - 11) ** 2 + (a[1] - 11) ** 2) ** 0.5 - 13.0) < 0.1
