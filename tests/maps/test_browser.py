"""Open every generated map in headless Chromium and check what a planner would see.

Driven by Playwright (Python) with the system Chromium (Debian ``chromium``; Playwright's
own browser download is never used). Checks per page: no JavaScript errors and no failed
requests (the pages must work offline), the expected layers in the layer control, marker and
polygon counts equal to the input data, and a screenshot in ``out/screenshots/``.

Chromium or Playwright missing: the test fails in CI (``CI=true``) and skips locally with
the reason. Override the browser path with ``DIANMIAN_CHROMIUM``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from jinja2.utils import htmlsafe_json_dumps

from maps._layers import LAYER_NAMES
from maps.daily import HOME_LABEL, layer_name
from maps.loop import LOOP_LAYER, LoopSection
from maps.market import MARKET_DEMAND_LAYER, market_demand
from maps.plan import CATCHMENTS_LAYER, PlanLayers, points_layer_name
from maps.write import write_maps
from planner.loop.report import FIGURES, published_summary

DATE = "2025-03-03"
TITLE = "Dongcao 东草"

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "out" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]

# Leaf layers under each registered layer (MarkerCluster.getLayers() is already flat).
LEAF_COUNTS_JS = """() => {
  const leaves = (l) => (l.getLayers ? l.getLayers().flatMap(leaves) : [l]);
  const kind = (l) => (l instanceof L.Marker ? 'marker' : l instanceof L.CircleMarker ? 'circle'
    : l instanceof L.Polygon ? 'polygon' : l instanceof L.Polyline ? 'line' : 'other');
  const out = {};
  for (const [key, layer] of Object.entries(window.dianmian_layers || {})) {
    const counts = {};
    for (const leaf of leaves(layer)) counts[kind(leaf)] = (counts[kind(leaf)] || 0) + 1;
    out[key] = counts;
  }
  return out;
}"""
# The initial fitBounds zoom is animated (CSS transform of the SVG); screenshots and DOM
# checks wait until it has finished: two frames for it to start, then its zoomend.
SETTLE_JS = """() => new Promise((done) => {
  const m = window.dianmian_map;
  const frames = (n, then) => (n ? requestAnimationFrame(() => frames(n - 1, then)) : then());
  frames(2, () => {
    if (m._animatingZoom || document.querySelector('.leaflet-zoom-anim')) {
      m.once('zoomend', () => frames(2, done));
    } else {
      done();
    }
  });
})"""
LAYER_CONTROL_JS = """() => Array.from(
  document.querySelectorAll('.leaflet-control-layers-overlays label > span > span'),
  (e) => e.textContent.trim())"""


def _chromium() -> str | None:
    path = os.environ.get("DIANMIAN_CHROMIUM") or shutil.which("chromium")
    if path is None and Path("/usr/bin/chromium").exists():
        path = "/usr/bin/chromium"
    return path


def _require(what: str) -> None:
    reason = f"{what} is needed for the browser test (see `make test`)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; in CI it must be installed", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser_context():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require("the Python package `playwright`")
    executable = _chromium()
    if executable is None:
        _require("Chromium (Debian package `chromium`)")
    with (
        tempfile.TemporaryDirectory(prefix="dianmian-chromium-") as profile,
        sync_playwright() as p,
    ):
        # A persistent context is how Playwright takes a (fresh, temporary) user-data-dir.
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 800},
        )
        context.set_default_timeout(10_000)  # ms; fail fast instead of Playwright's 30 s
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory, request):
    """Write every map once for the module."""
    values = {
        name: request.getfixturevalue(name)
        for name in (
            "employers",
            "seeker_bins",
            "candidate_sites",
            "talent_market",
            "belts",
            "roads",
            "service_points",
            "catchments",
            "crowd",
            "routes",
        )
    }
    out = tmp_path_factory.mktemp("maps")
    idle = dataclasses.replace(
        values["routes"][0],
        volunteer_id="V003",
        name="Wang Fang",
        stops=values["routes"][0].stops[:1],
        geometry=(),
        reason="not available today",
    )
    write_maps(
        out,
        employers=values["employers"],
        seeker_cells=values["seeker_bins"],
        candidate_sites=values["candidate_sites"],
        talent_market=values["talent_market"],
        belts=values["belts"],
        roads=values["roads"],
        plan=PlanLayers(
            values["service_points"],
            values["catchments"],
            values["crowd"],
            _demand(),
            loop=LoopSection(published_summary(LOOP_REPORT, k=5)),
        ),
        routes=values["routes"],
        routes_date=DATE,
        pages_dir=out / "day" / "volunteers",
        day_routes=[*values["routes"], idle],
        title=TITLE,
        synthetic=True,
    )
    return out, values


def _loop_row(registrations, open_cases, due, hires):
    return dict.fromkeys(FIGURES, registrations) | {
        "interviews": registrations + 3,
        "escorted_interviews": 6,
        "hires": hires,
        "open_cases": open_cases,
        "follow_ups_due": due,
        "follow_ups_done": 7,
        "answered_share": 1.0,
    }


LOOP_REPORT = {
    "date": "2025-03-02",
    "follow_up_days": 7,
    "totals": _loop_row(64, 34, 8, 24)
    | {
        "median_days_to_first_recommendation": 0.0,
        "median_days_to_outcome": 2.0,
        "outcomes": {"hired": 24, "not_hired": 6},
        "no_recommendation_reasons": {},
    },
    # C1 all published; C2: 2 follow-ups due hidden (and a complement); C3 (3 people) and
    # the market desk TM (so C3 cannot be had by subtraction) left out.
    "by_service_point": {
        "C1": _loop_row(40, 20, 6, 14),
        "C2": _loop_row(12, 9, 2, 6),
        "C3": _loop_row(3, 3, 0, 0),
        "TM": _loop_row(9, 2, 0, 4),
    },
    "by_industry": {"textile": _loop_row(43, 23, 6, 14), "food": _loop_row(12, 9, 2, 6)},
}
"""A loop report (as ``loop_summary`` gives it) for the fixture's service points."""


def _demand():
    """Market-bound cells: 11 seekers in one 1.5 km hexagon (shown), 2 far away (held back)."""
    cells = [(113.7500, 23.0000, 4), (113.7505, 23.0004, 4), (113.7510, 23.0000, 3)]
    cells.append((113.80, 23.06, 2))
    frame = gpd.GeoDataFrame(
        {
            "service_point": "TM",
            "seekers": [c[2] for c in cells],
            "visits_per_day": [c[2] * 0.1 for c in cells],
            "mean_time_min": 40.0,
        },
        geometry=[shapely.Point(x, y).buffer(0.001) for x, y, _n in cells],
        crs="EPSG:4326",
    )
    reasons = {"no open service point for its industries within 45 min by walk; sent": 1.3}
    return market_demand(frame, ["TM"], reasons=reasons)


class Page:
    """A page opened in Chromium with everything it logged."""

    def __init__(self, context, path: Path, screenshot: str, *, has_map: bool = True):
        self.page = context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.as_uri(), wait_until="load")
        if not has_map:
            return
        self.page.wait_for_function("() => window.dianmian_map !== undefined")
        self.page.evaluate(SETTLE_JS)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / screenshot))
        self.counts = self.page.evaluate(LEAF_COUNTS_JS)
        self.layer_names = self.page.evaluate(LAYER_CONTROL_JS)

    def close(self) -> None:
        self.page.close()


def _unescape(name: str) -> str:
    # Layer names are HTML (Leaflet sets innerHTML); the browser shows the unescaped text.
    import html

    return html.unescape(name)


@pytest.fixture(scope="module")
def pages(browser_context, site):
    out, _values = site
    opened = {
        "overview": Page(browser_context, out / "overview.html", "overview.png"),
        "plan": Page(browser_context, out / "plan.html", "plan.png"),
        "routes": Page(browser_context, out / "routes.html", "routes.png"),
        "route_page": Page(
            browser_context, out / "day" / "volunteers" / "V001.html", "route_page_V001.png"
        ),
    }
    yield opened
    for page in opened.values():
        page.close()


@pytest.mark.parametrize("name", ["overview", "plan", "routes", "route_page"])
def test_no_javascript_errors_and_offline(pages, name):
    assert pages[name].errors == []
    # Offline: nothing but the page itself (and in-page data/blob URLs) is ever requested.
    assert [u for u in pages[name].requests if not u.startswith(("file:", "data:", "blob:"))] == []
    assert (
        SCREENSHOTS / f"{'route_page_V001' if name == 'route_page' else name}.png"
    ).stat().st_size > 10_000


def test_overview_layers_and_counts(pages, site):
    _out, v = site
    page = pages["overview"]
    assert page.layer_names == [
        LAYER_NAMES[k]
        for k in ("roads", "seekers", "belts", "employers", "candidate_sites", "talent_market")
    ]
    assert page.counts["employers"] == {"marker": len(v["employers"])}
    assert (
        page.counts["seekers"] == {"polygon": len(v["seeker_bins"].cells)} == {"polygon": 2}
    )  # 5-cell complement
    assert page.counts["belts"] == {"polygon": len(v["belts"])}
    assert page.counts["candidate_sites"] == {"circle": len(v["candidate_sites"])}
    assert page.counts["talent_market"] == {"marker": 1}
    # Streets are merged into one multi-line (small pages); every street is a part of it.
    assert page.counts["roads"] == {"line": 1}
    parts = page.page.evaluate(
        "() => window.dianmian_layers.roads.getLayers()[0].getLatLngs().length"
    )
    assert parts == len(v["roads"])
    # What is drawn: clickable SVG paths = belts + seeker cells + candidate sites.
    paths = page.page.locator("path.leaflet-interactive").count()
    assert paths == len(v["belts"]) + len(v["seeker_bins"].cells) + len(v["candidate_sites"])


def test_overview_popup_shows_escaped_name(pages, site):
    page = pages["overview"].page
    page.evaluate(
        """() => { const g = window.dianmian_layers.candidate_sites;
                   const m = g.getLayers()[0]; m.fire('click', {latlng: m.getLatLng()}, true); }"""
    )
    text = page.locator(".leaflet-popup-content").inner_text()
    assert "North Community Centre" in text and "Community centre" in text and "150" in text
    # An employer's popup: zoom the cluster open, then click the marker.
    page.evaluate("() => window.dianmian_map.closePopup()")
    page.evaluate(
        """() => new Promise((done) => {
             const c = window.dianmian_layers.employers;
             const m = c.getLayers().find((x) => x.feature.properties.id === 'E2');
             c.zoomToShowLayer(m, () => {
               m.fire('click', {latlng: m.getLatLng()}, true);
               done();
             });
           })"""
    )
    text = page.locator(".leaflet-popup-content").last.inner_text()
    assert "<b>Evil</b> & Sons" in text  # shown literally, not as bold HTML
    assert "Textile, garment & footwear 纺织服装鞋业" in text


def test_plan_layers_and_counts(pages, site):
    _out, v = site
    page = pages["plan"]
    sp = v["service_points"]
    served = ["textile", "toys", "food"]  # INDUSTRY_CODES order
    assert page.layer_names == [
        LAYER_NAMES["roads"],
        LAYER_NAMES["belts"],
        LAYER_NAMES["seekers"],
        CATCHMENTS_LAYER,
        LAYER_NAMES["employers"],
        LAYER_NAMES["candidate_sites"],
        MARKET_DEMAND_LAYER,
        *[points_layer_name(c) for c in served],
        LOOP_LAYER,
        LAYER_NAMES["talent_market"],
    ]
    for code in served:
        expected = int(sp["industries"].str.split(";").map(lambda cs, c=code: c in cs).sum())
        assert page.counts[f"points:{code}"] == {"circle": expected}
    assert page.counts["catchments"] == {"polygon": len(v["catchments"])}
    panel = page.page.locator(".dm-crowd").inner_text()
    assert "1,240" in panel and "610" in panel and "-51 %" in panel
    radii = page.page.evaluate(
        """() => window.dianmian_layers['points:textile'].getLayers()[0].getLayers()
                 .map((l) => [l.feature.properties.load, l.getRadius()])"""
    )
    radii.sort()
    assert radii[0][1] < radii[-1][1]  # bigger load, bigger circle


def test_routes_layers_and_numbered_stops(pages, site):
    _out, v = site
    page = pages["routes"]
    parsed = v["routes"]
    assert page.layer_names == [LAYER_NAMES["roads"], *(_unescape(layer_name(r)) for r in parsed)]
    for route in parsed:
        counts = page.counts[f"route:{route.volunteer_id}"]
        assert counts == {"line": 1, "marker": len(route.stops)}
    page.page.locator(".dm-picker select").select_option("")  # all volunteers
    labels = page.page.locator(".leaflet-marker-icon .dm-stop").all_inner_texts()
    want = [HOME_LABEL if s.kind.is_home else str(k) for r in parsed for k, s in enumerate(r.stops)]
    assert sorted(labels) == sorted(want)
    # Toggling a volunteer's layer off removes its stops from the map.
    page.page.locator(".leaflet-control-layers-overlays input").nth(1).evaluate("(e) => e.click()")
    assert page.page.locator(".leaflet-marker-icon .dm-stop").count() == len(parsed[1].stops)


def test_titles_name_the_scenario_and_the_date(pages):
    assert pages["overview"].page.title() == f"{TITLE} · City overview 城市概览"
    assert pages["plan"].page.title() == f"{TITLE} · Service-point plan 服务点方案"
    assert pages["routes"].page.title().startswith(f"{TITLE} · Volunteer routes")
    assert pages["route_page"].page.title() == f"Chen Jing 陈静 (V001) · {DATE} · {TITLE}"


def test_plan_market_demand_layer_and_reasons(pages):
    page = pages["plan"]
    assert page.counts["market_demand"] == {"polygon": 1}  # 2 seekers far away held back
    legend = page.page.locator(".dm-legend").inner_text()
    assert "Held back (privacy): 2 seekers" in legend
    panel = page.page.locator(".dm-crowd").inner_text()
    assert "within 45 min by walk" in panel and "45分钟内（步行）没有服务其行业的服务点" in panel
    # The market is drawn above everything else, labelled.
    assert "Talent market 人才市场" in page.page.locator(".dm-market .lbl").inner_text()


def _table_ids(page):
    return page.locator("#dm-points-table tbody tr").evaluate_all(
        "(rows) => rows.map((r) => r.dataset.id)"
    )


def test_plan_table_sorts_and_zooms_to_the_point(pages, site):
    _out, v = site
    page = pages["plan"].page
    page.locator(".dm-table summary").click()
    sp = v["service_points"].sort_values("load")
    page.locator("#dm-points-table th", has_text="Load/day").click()
    assert _table_ids(page) == list(sp["id"])
    page.locator("#dm-points-table th", has_text="Load/day").click()
    assert _table_ids(page) == list(sp["id"])[::-1]
    page.locator(".dm-filter").fill(sp["name"].iloc[0])
    visible = page.locator("#dm-points-table tbody tr:visible")
    assert visible.count() == 1
    visible.first.click()
    popup = page.locator(".leaflet-popup-content").last.inner_text()
    assert sp["name"].iloc[0] in popup and "Safe capacity" in popup
    page.evaluate("() => window.dianmian_map.closePopup()")


def test_plan_search_finds_employers_and_points(pages):
    page = pages["plan"].page
    box = page.locator(".dm-search input")
    box.fill("hongda")
    hits = page.locator(".dm-search li")
    assert hits.count() == 1 and "E1" in hits.first.inner_text()
    hits.first.click()
    page.wait_for_selector(".leaflet-popup-content")
    assert "Hongda Textiles" in page.locator(".leaflet-popup-content").last.inner_text()
    page.evaluate("() => window.dianmian_map.closePopup()")
    box.fill("")


def test_plan_popups_cycle_through_overlapping_points(pages, site):
    _out, v = site
    page = pages["plan"].page
    page.reload()  # as opened: employers and candidate sites hidden
    page.wait_for_function("() => window.dianmian_map !== undefined")
    page.evaluate(SETTLE_JS)
    # Far out every service point and the market sit within a few pixels of each other.
    page.evaluate("() => window.dianmian_map.setZoom(8, {animate: false})")
    page.evaluate(
        """() => { const g = window.dianmian_layers['points:textile'];
                   const m = g.getLayers()[0].getLayers()[0];
                   m.fire('click', {latlng: m.getLatLng()}, true); }"""
    )
    # .last: a closed popup fades out for 200 ms next to the new one.
    nav = page.locator(".leaflet-popup-content .dm-cycle").last
    n = len(v["service_points"]) + 1  # and the market
    assert nav.inner_text().replace("‹", "").replace("›", "").strip().startswith(f"1 / {n}")
    seen = {page.locator(".leaflet-popup-content table").last.inner_text()}
    for k in range(2, n + 1):
        page.locator(".leaflet-popup-content .dm-cycle .next").last.click()
        page.wait_for_timeout(250)
        assert f"{k} / {n}" in nav.inner_text()
        seen.add(page.locator(".leaflet-popup-content table").last.inner_text())
    assert len(seen) == n  # every overlapping feature once
    page.evaluate("() => window.dianmian_map.closePopup()")


def test_plan_download_links_cover_the_layers(pages):
    page = pages["plan"].page
    keys = page.locator(".dm-dl a[data-kind=csv]").evaluate_all(
        "(as) => as.filter((a) => a.parentNode.style.display !== 'none').map((a) => a.dataset.key)"
    )
    assert {"market_demand", "catchments", "employers", "points:textile"} <= set(keys)
    page.locator(".dm-dl summary").click()
    with page.expect_download() as dl:
        page.locator(".dm-dl a[data-key='points:textile'][data-kind=csv]").click()
    text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert {"id", "name", "load", "capacity", "lon", "lat"} <= set(header)
    assert len(text.splitlines()) == 1 + 2  # two textile points


def test_routes_show_one_volunteer_at_a_time(pages, site):
    _out, v = site
    page = pages["routes"].page
    first, second = v["routes"]
    page.reload()  # as opened: the first volunteer only
    page.wait_for_function("() => window.dianmian_map !== undefined")
    stops = page.locator(".leaflet-marker-icon .dm-stop")
    assert stops.count() == len(first.stops)
    page.locator(".dm-picker select").select_option(second.volunteer_id)
    assert stops.count() == len(second.stops)
    page.locator(".dm-picker select").select_option("")
    assert stops.count() == len(first.stops) + len(second.stops)
    # The search box finds a volunteer by name and shows only them.
    page.locator(".dm-search input").fill("li <wei")
    page.locator(".dm-search li").first.click()
    assert stops.count() == len(second.stops)


def test_routes_stops_at_one_place_do_not_hide_each_other(pages, site):
    _out, v = site
    page = pages["routes"].page
    page.locator(".dm-picker select").select_option(v["routes"][0].volunteer_id)
    boxes = page.locator(".leaflet-marker-icon .dm-stop").evaluate_all(
        "(es) => es.map((e) => { const r = e.getBoundingClientRect(); return [r.x, r.y]; })"
    )
    # Start and end are at home (same place): their icons are fanned out, not stacked.
    assert len({(round(x), round(y)) for x, y in boxes}) == len(boxes)


def test_route_page_for_phones(browser_context, site):
    out, v = site
    route = v["routes"][0]
    page = browser_context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto((out / "day" / "volunteers" / "V001.html").as_uri())
    page.wait_for_function("() => window.dianmian_map !== undefined")
    page.evaluate(SETTLE_JS)
    page.screenshot(path=str(SCREENSHOTS / "route_page_V001_phone.png"))
    # No horizontal scrolling at 390 px; text at a readable size.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert (
        page.evaluate(
            "() => parseFloat(getComputedStyle(document.querySelector('.dm-rows .w')).fontSize)"
        )
        >= 15
    )
    rows = page.locator(".dm-rows li")
    assert rows.count() == len(route.stops)  # no waiting or lunch in this route
    assert (
        "08:50–09:20" in rows.nth(1).inner_text() and "Hongda Textiles" in rows.nth(1).inner_text()
    )
    assert page.locator(".leaflet-marker-icon .dm-stop").count() == len(route.stops)
    map_h = page.locator(".folium-map").bounding_box()["height"]
    for k in range(rows.count()):
        row = rows.nth(k)
        # Scroll the row to just below the map (which stays on top): it is fully visible.
        page.evaluate(
            "([k, h]) => { const r = document.querySelectorAll('.dm-rows li')[k];"
            " window.scrollTo(0, r.getBoundingClientRect().top + window.scrollY - h); }",
            [k, map_h],
        )
        box = row.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844 and box["y"] >= map_h - 1
        row.click()  # tap: the map centres on the stop and opens its popup
        stop = route.stops[k]
        centre = page.evaluate("() => window.dianmian_map.getCenter()")
        assert abs(centre["lat"] - stop.lat) < 1e-4 and abs(centre["lng"] - stop.lon) < 1e-4
        assert page.locator(".leaflet-popup-content").count() == 1
    page.close()


def test_idle_volunteer_page(browser_context, site):
    out, _v = site
    page = browser_context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto((out / "day" / "volunteers" / "V003.html").as_uri())
    assert page.title() == f"Wang Fang (V003) · {DATE} · {TITLE}"
    assert "not available today" in page.locator(".dm-idle").inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.close()


def test_layer_names_match_json_in_page(site):
    # Guard for the name assertions above: folium embeds names as HTML-safe JSON.
    out, _v = site
    html = (out / "overview.html").read_text(encoding="utf-8")
    assert htmlsafe_json_dumps(LAYER_NAMES["employers"]) in html


def test_plan_loop_section_shows_the_loop_report(pages, site):
    _out, v = site
    page = pages["plan"].page
    page.reload()
    page.wait_for_function("() => window.dianmian_map !== undefined")
    page.evaluate(SETTLE_JS)
    published = published_summary(LOOP_REPORT, k=5)["by_service_point"]
    assert set(published["rows"]) == {"C1", "C2"}  # C3 below 5, TM its complement
    assert page.evaluate("() => document.querySelector('.dm-crowd details').open")
    page.locator(".dm-loop summary").first.click()
    # One top-left panel open at a time: opening the loop folds the crowd panel (from the
    # <details> `toggle` event, which the browser fires as a task after the click returns).
    page.wait_for_function("() => !document.querySelector('.dm-crowd details').open")
    panel = page.locator(".dm-loop").inner_text()
    assert "64 registrations, 100.0% answered" in panel
    assert "2 service points not shown (12 people): fewer than 5 registrations" in panel
    rows = page.locator(".dm-loop table[data-key] tbody tr").evaluate_all(
        "(rows) => rows.map((r) => [r.dataset.id, ...Array.from(r.cells, (c) => c.innerText)])"
    )
    names = dict(zip(v["service_points"]["id"], v["service_points"]["name"], strict=True))
    report = LOOP_REPORT["by_service_point"]
    columns = ["registrations", "screened_within_1_day", "with_recommendations", "interviews",
               "hires", "open_cases", "follow_ups_due", "follow_ups_done"]  # fmt: skip
    for pid, name, *cells in rows:
        assert name == names[pid]
        for f, text in zip(columns, cells, strict=True):
            hidden = published["rows"][pid][f] is None
            assert text == ("–" if hidden else f"{report[pid][f]:,}")
    assert [r[0] for r in rows] == ["C1", "C2"]
    # C2's 2 follow-ups due are hidden, and C1's 6 with them: the total (8) is published.
    assert [r[8] for r in rows] == ["–", "–"]
    # A row opens its point; the popup has the loop row.
    page.locator(".dm-loop table[data-key] tbody tr[data-id='C1']").click()
    popup = page.locator(".leaflet-popup-content").last.inner_text()
    assert names["C1"] in popup and "40 registrations 登记, 20 open 在办" in popup
    page.evaluate("() => window.dianmian_map.closePopup()")
    # Rings only where open cases are published; off until switched on.
    assert pages["plan"].counts["loop"] == {"circle": 2}
    assert not page.evaluate("() => window.dianmian_map.hasLayer(window.dianmian_layers.loop)")
