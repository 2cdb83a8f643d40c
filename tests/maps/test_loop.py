"""The loop section of plan.html: the loop report's numbers, under disclosure control."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import folium
import geopandas as gpd
import pytest

from geo.engine.synthetic import grid_graph
from geo.industries import DEFAULT_CATALOGUE
from geo.network import network_from_graph
from maps._base import render_html
from maps.loop import (
    COLUMNS,
    FIGURE_LABELS,
    HIDDEN,
    LOOP_LAYER,
    LoopSection,
    add_loop_layer,
    count_text,
    point_loop_text,
)
from maps.plan import plan_map
from maps.scenario import LoopOptions, loop_section
from planner.loop import loop_summary
from planner.loop.report import last_day, published_summary
from planner.store import DB_FILE, Store, sqlite_url
from tests.planner.loop.conftest import CENTRE, make_city
from tests.planner.loop.test_report import fill_loop

K = 5


class Tables(HTMLParser):
    """Every table of an HTML snippet: rows of (row attributes, [(cell attributes, text)])."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: list[list[tuple[dict, list[tuple[dict, str]]]]] = []
        self._cell: tuple[dict, list[str]] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append((dict(attrs), []))
        elif tag in ("td", "th"):
            self._cell = (dict(attrs), [])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1][1].append((self._cell[0], "".join(self._cell[1]).strip()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1].append(data)


@pytest.fixture(scope="module")
def loop_db(tmp_path_factory):
    """A scenario output folder whose database holds three days of the loop."""
    out = tmp_path_factory.mktemp("loop_out")
    city = make_city(network_from_graph(grid_graph(12, 12, seed=5, centre_lonlat=CENTRE)))
    store = Store(sqlite_url(out / DB_FILE))
    day = fill_loop(store, city, n=90)
    summary = loop_summary(store, day)
    store.close()
    points = city.points[~city.points["is_market"]].reset_index(drop=True)
    points = points.assign(
        name=["North desk", "South <desk>"], kind="community_centre", load=50, capacity=100
    )
    return out, summary, points


def _panel(html: str) -> str:
    """The loop panel's HTML as the page sets it (HtmlControl: innerHTML = JSON string)."""
    texts = [json.loads(s) for s in re.findall(r'innerHTML = ("(?:[^"\\]|\\.)*")', html)]
    (panel,) = [t for t in texts if "Every registration answered" in t]
    return panel


def _value(text: str) -> int | None:
    return None if text == HIDDEN else int(text.replace(",", ""))


def test_numbers_on_the_page_are_the_loop_reports(loop_db):
    _out, summary, points = loop_db
    pub = published_summary(summary, k=K)
    html = render_html(
        plan_map(service_points=points, loop=LoopSection(pub), title="Plan", synthetic=True)
    )
    totals_t, *_breakdowns, industry_t, point_t = Tables(_panel(html)).tables
    labels = dict(FIGURE_LABELS)
    shown = {cells[0][1]: cells[1][1] for _a, cells in totals_t}
    for f, label in labels.items():
        value = _value(shown[label])
        assert value == (None if pub["totals"][f] is None else summary["totals"][f])
    report_points = summary["by_service_point"]
    rows = [(a["data-id"], cells) for a, cells in point_t if "data-id" in a]
    assert {pid for pid, _c in rows} == set(pub["by_service_point"]["rows"])
    hidden = 0
    for pid, cells in rows:
        for (f, _h, _t), (attrs, text) in zip(COLUMNS, cells[1:], strict=True):
            expected = report_points[pid][f]
            if text == HIDDEN:
                hidden += 1
                assert pub["by_service_point"]["rows"][pid][f] is None
                assert attrs["data-v"] == "-1"
            else:
                assert _value(text) == int(attrs["data-v"]) == expected
    assert hidden > 0  # the fixture has small counts, so disclosure control is exercised
    by_label = {DEFAULT_CATALOGUE.label(c): c for c in summary["by_industry"]}
    for _a, cells in industry_t[1:]:
        code = by_label[cells[0][1]]
        for (f, _h, _t), (_attrs, text) in zip(COLUMNS, cells[1:], strict=True):
            value = _value(text)
            assert value in (None, summary["by_industry"][code][f])
    # No published count of people is small.
    for _a, cells in [*point_t[1:], *industry_t[1:], *totals_t]:
        for _attrs, text in cells[1:]:
            if re.fullmatch(r"[\d,]+", text):
                assert int(text.replace(",", "")) == 0 or int(text.replace(",", "")) >= K
    # Every point's popup carries its loop row, with the same numbers.
    for pid in points["id"]:
        text = point_loop_text(LoopSection(pub), pid)
        fig = pub["by_service_point"]["rows"].get(pid)
        if fig is None:
            assert text.startswith(f"fewer than {K} registrations")
        else:
            assert text.startswith(f"{count_text(fig['registrations'])} registrations")
            assert f"{count_text(fig['open_cases'])} open" in text
        assert json.dumps(text)[1:-1] in html
    assert json.dumps(LOOP_LAYER)[1:-1] in html


def test_with_k_1_every_figure_of_the_report_is_on_the_page(loop_db):
    _out, summary, points = loop_db
    pub = published_summary(summary, k=1)
    panel = _panel(
        render_html(
            plan_map(service_points=points, loop=LoopSection(pub), title="Plan", synthetic=True)
        )
    )
    totals_t, *_b, _ind, point_t = Tables(panel).tables
    shown = {cells[0][1]: cells[1][1] for _a, cells in totals_t}
    assert {f: _value(shown[label]) for f, label in FIGURE_LABELS} == {
        f: summary["totals"][f] for f, _l in FIGURE_LABELS
    }
    rows = {a["data-id"]: [int(c[0]["data-v"]) for c in cells[1:]] for a, cells in point_t[1:]}
    assert rows == {
        pid: [fig[f] for f, _h, _t in COLUMNS] for pid, fig in summary["by_service_point"].items()
    }
    median = summary["totals"]["median_days_to_first_recommendation"]
    assert f"{median:g} d" in panel


def test_without_a_database_the_section_says_how_to_create_one(loop_db, tmp_path):
    _out, _summary, points = loop_db
    section = loop_section(tmp_path, LoopOptions(scenario="data/town"))
    assert section.report is None
    html = render_html(plan_map(service_points=points, loop=section, title="Plan", synthetic=True))
    panel = _panel(html)
    assert "dianmian registrations import data/town" in panel
    assert "dianmian match data/town" in panel and "dianmian maps data/town" in panel
    assert not re.search(r"\d", panel.replace("YYYY-MM-DD", ""))  # no numbers at all
    assert "Loop: open cases" not in html
    assert not (tmp_path / DB_FILE).exists()  # looking did not create a database


def test_an_empty_database_has_no_report(tmp_path):
    Store(sqlite_url(tmp_path / DB_FILE)).close()
    assert loop_section(tmp_path, LoopOptions()).report is None


def test_section_from_the_database_is_the_published_report(loop_db):
    out, summary, _points = loop_db
    section = loop_section(out, LoopOptions(min_count=K, follow_up_days=7))
    store = Store(sqlite_url(out / DB_FILE))
    day = last_day(store)
    store.close()
    assert section.report is not None and section.report["date"] == day.isoformat()
    assert section.report == published_summary(summary, k=K)


def test_layer_rings_only_where_open_cases_are_published(loop_db):
    _out, summary, points = loop_db
    pub = published_summary(summary, k=K)
    m = folium.Map()
    legend = add_loop_layer(m, LoopSection(pub), points)
    assert legend is not None and legend.heading == LOOP_LAYER
    html = m.get_root().render()
    rows = pub["by_service_point"]["rows"]
    ringed = [p for p in points["id"] if p in rows and rows[p]["open_cases"] is not None]
    for pid in points["id"]:
        assert (f'"id": "{pid}"' in html) == (pid in ringed)
    assert isinstance(points, gpd.GeoDataFrame)
