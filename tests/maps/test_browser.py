"""Open every generated map in headless Chromium and check what a planner would see.

Driven by Playwright (Python) with the system Chromium (Debian ``chromium``; Playwright's
own browser download is never used). Checks per page: no JavaScript errors and no failed
requests (the pages must work offline), the expected layers in the layer control, marker and
polygon counts equal to the input data, and a screenshot in ``out/screenshots/``.

Chromium or Playwright missing: the test fails in CI (``CI=true``) and skips locally with
the reason. Override the browser path with ``DIANMIAN_CHROMIUM``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from jinja2.utils import htmlsafe_json_dumps

from maps._layers import LAYER_NAMES
from maps.daily import HOME_LABEL, layer_name
from maps.plan import CATCHMENTS_LAYER, PlanLayers, points_layer_name
from maps.write import write_maps

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
    write_maps(
        out,
        employers=values["employers"],
        seeker_cells=values["seeker_bins"],
        candidate_sites=values["candidate_sites"],
        talent_market=values["talent_market"],
        belts=values["belts"],
        roads=values["roads"],
        plan=PlanLayers(values["service_points"], values["catchments"], values["crowd"]),
        routes=values["routes"],
        title="Dongcao 东草",
        synthetic=True,
    )
    return out, values


class Page:
    """A page opened in Chromium with everything it logged."""

    def __init__(self, context, path: Path, screenshot: str):
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))
        self.page.goto(path.as_uri(), wait_until="load")
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
        "route_page": Page(browser_context, out / "routes" / "V001.html", "route_page_V001.png"),
    }
    yield opened
    for page in opened.values():
        page.close()


@pytest.mark.parametrize("name", ["overview", "plan", "routes", "route_page"])
def test_no_javascript_errors_and_offline(pages, name):
    assert pages[name].errors == []
    assert (
        SCREENSHOTS / f"{'route_page_V001' if name == 'route_page' else name}.png"
    ).stat().st_size > 10_000


def test_overview_layers_and_counts(pages, site):
    _out, v = site
    page = pages["overview"]
    assert page.layer_names == [
        LAYER_NAMES[k]
        for k in ("roads", "belts", "seekers", "employers", "candidate_sites", "talent_market")
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
        *[points_layer_name(c) for c in served],
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
    labels = page.page.locator(".leaflet-marker-icon .dm-stop").all_inner_texts()
    want = [HOME_LABEL if s.kind.is_home else str(k) for r in parsed for k, s in enumerate(r.stops)]
    assert sorted(labels) == sorted(want)
    # Toggling a volunteer's layer off removes its stops from the map.
    page.page.locator(".leaflet-control-layers-overlays input").nth(1).click()
    assert page.page.locator(".leaflet-marker-icon .dm-stop").count() == len(parsed[1].stops)


def test_route_page_for_phones(pages, site):
    _out, v = site
    page = pages["route_page"].page
    route = v["routes"][0]
    items = page.locator(".dm-stops li").all_inner_texts()
    assert len(items) == len(route.stops)
    assert "08:50–09:20" in items[1] and "Stop 1 of V001" in items[1]
    assert page.locator(".leaflet-marker-icon .dm-stop").count() == len(route.stops)
    # The map sits above the list.
    map_box = page.locator(".folium-map").bounding_box()
    list_box = page.locator(".dm-page").bounding_box()
    assert map_box is not None and list_box is not None and map_box["y"] < list_box["y"]


def test_layer_names_match_json_in_page(site):
    # Guard for the name assertions above: folium embeds names as HTML-safe JSON.
    out, _v = site
    html = (out / "overview.html").read_text(encoding="utf-8")
    assert htmlsafe_json_dumps(LAYER_NAMES["employers"]) in html
