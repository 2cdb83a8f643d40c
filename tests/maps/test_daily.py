"""Times, the routes map and the phone page, drawn from route records."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from geo import InputError
from maps._base import render_html
from maps.daily import route_page, routes_map, stop_times
from maps.sheets import sheet_html
from planner.daily.record import DayPlan


def test_map_sheet_and_phone_page_show_the_same_minute(routes):
    # 08:50:59 is 08:50 everywhere (one rounding rule, geo.timeofday): never 08:51 on one
    # page and 08:50 on another.
    r = routes[0]
    stop = dataclasses.replace(r.stops[1], arrival_s=31859, start_s=31859)
    r = dataclasses.replace(r, stops=(r.stops[0], stop, *r.stops[2:]))
    assert stop_times(stop) == "08:50–09:20"
    page = route_page(r, synthetic=True)
    sheet = sheet_html(DayPlan((r,), (), 0, 0.0))
    whole = render_html(routes_map([r], title="t", synthetic=True))
    assert "08:50–09:20" in page and json.dumps("08:50–09:20")[1:-1] in whole
    assert "<td class='t'>08:50</td>" in sheet
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
        route_page(r, synthetic=True)


def test_routes_map_escapes_names_and_links_pages(routes):
    html = render_html(
        routes_map(routes, title="Routes", synthetic=True, page_links={"V001": "routes/V001.html"})
    )
    assert "Li <Wei>" not in html and json.dumps("Li &lt;Wei&gt;")[1:-1] in html
    assert "routes/V001.html" in html


def test_route_page_lists_stops_in_order_with_times(routes):
    html = route_page(routes[0], synthetic=True, date="2025-03-03")
    seqs = [int(s) for s in re.findall(r'<li data-seq="(\d+)">', html)]
    assert seqs == [0, 1, 2, 3, 4]
    for t in ("08:30", "08:50–09:20", "09:35–10:05", "10:30–11:00", "12:05"):
        assert t in html
    assert "9.1 km" in html and "3.6 h" in html and "ebike" in html and "2025-03-03" in html
    assert 'name="viewport"' in html
