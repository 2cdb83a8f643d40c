"""Base map factory and the small building blocks every map shares.

Every map has a layer control, a legend (English and Chinese), a scale bar, a fullscreen
button and a measure tool. Maps of a synthetic city (the Dongcao demo) get a plain light
background instead of real-world tiles, so nobody mistakes the demo for a real place; real
cities get OpenStreetMap tiles by default or any tile URL with its attribution.

Pages are rendered by :func:`render_html`, which inlines the vendored Leaflet assets so the
HTML file works without internet (see :mod:`maps._offline`).

Test hook: every map registers itself as ``window.dianmian_map`` and its main layers in
``window.dianmian_layers`` (key -> Leaflet layer), so the browser test can count what is
drawn without guessing folium's generated variable names.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, Figure, MacroElement
from folium import plugins
from folium.utilities import JsCode
from jinja2 import Template
from jinja2.utils import htmlsafe_json_dumps

from geo import InputError, Problem
from maps._offline import LEAFLET_ONLY_CSS, LEAFLET_ONLY_JS, inline_assets

logger = logging.getLogger(__name__)

PLAIN_BACKGROUND = "#f3f1ec"
"""Background colour of synthetic-city maps (no tiles)."""
MAX_ZOOM = 19
MIN_ZOOM = 8
COORD_DECIMALS = 6
"""Decimals kept for coordinates in the page (1e-6 degree is about 0.1 m)."""

_CSS = """
<style>
.leaflet-container { font: 13px/1.35 system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; }
.dm-panel { background: rgba(255,255,255,0.94); padding: 6px 9px; border-radius: 5px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); max-width: 300px; max-height: 60vh; overflow-y: auto; }
.dm-title { font-weight: 600; font-size: 15px; }
.dm-title small { display: block; font-weight: 400; color: #555; font-size: 12px; }
.dm-legend h4 { margin: 6px 0 3px; font-size: 12px; }
.dm-legend h4:first-child { margin-top: 0; }
.dm-legend .row { display: flex; align-items: center; gap: 6px; margin: 1px 0; font-size: 12px; }
.dm-panel .note { color: #555; font-size: 11px; margin: 2px 0 4px; }
.dm-legend { max-height: 42vh; }
@media (max-width: 600px) { .dm-panel { max-width: 230px; max-height: 40vh; } }
.leaflet-control-layers { font-size: 12px; max-height: 45vh; overflow-y: auto; }
.dm-sw { display: inline-block; width: 14px; height: 12px; border: 1px solid #555;
  flex: none; box-sizing: border-box; }
.dm-sw.dot { border-radius: 50%; width: 11px; height: 11px; }
.dm-sw.line { height: 4px; border: none; }
.dm-dot { width: 10px; height: 10px; border-radius: 50%; border: 1px solid #222;
  box-sizing: border-box; }
.dm-market { position: relative; width: 34px; height: 34px; }
.dm-market .sym { display: block; width: 34px; height: 34px; background: #111; color: #fff;
  border: 3px solid #fff; border-radius: 6px; box-shadow: 0 0 4px #000; box-sizing: border-box;
  font-size: 22px; line-height: 28px; text-align: center; }
.dm-market .lbl { position: absolute; left: 38px; top: 6px; white-space: nowrap; font-weight: 700;
  font-size: 13px; background: rgba(255,255,255,0.9); padding: 1px 4px; border-radius: 3px;
  box-shadow: 0 0 2px #000; }
.dm-market.small, .dm-market.small .sym { width: 16px; height: 16px; font-size: 11px;
  line-height: 11px; border-width: 1px; border-radius: 3px; }
.dm-mk { background: none; border: none; }
/* Cluster badges neutral: the plugin's green/yellow/orange would read as industries. */
.marker-cluster-small, .marker-cluster-medium, .marker-cluster-large {
  background-color: rgba(60, 60, 60, 0.25) !important; }
.marker-cluster-small div, .marker-cluster-medium div, .marker-cluster-large div {
  background-color: rgba(255, 255, 255, 0.92) !important; color: #222; border: 1px solid #444; }
details > summary { cursor: pointer; }
.dm-stop { width: 22px; height: 22px; border-radius: 50%; color: #fff; font-weight: 700;
  font-size: 12px; line-height: 20px; text-align: center; border: 1px solid #fff;
  box-sizing: border-box; box-shadow: 0 0 2px #000; }
.dm-stop.home { border-radius: 3px; background: #222; }
.dm-popup th { text-align: left; padding-right: 8px; font-weight: 600; }
/* Leaves room for the title, table and download panels below it (bottom left) and the
   folded loop panel under it. */
.dm-crowd { max-height: max(140px, calc(100vh - 480px)); }
.dm-crowd table { border-collapse: collapse; font-size: 12px; }
.dm-crowd td, .dm-crowd th { padding: 1px 4px; text-align: right; }
.dm-crowd td:first-child, .dm-crowd th:first-child { text-align: left; }
.dm-bar { display: inline-block; height: 8px; background: #8d877d; vertical-align: middle; }
.dm-bar.over { background: #1b1b1b; }
</style>
"""


_SMALL_SCREEN_JS = """
<script>
// On a phone the panels start folded (a tap on the heading opens them): open, they would
// cover the map.
document.addEventListener('DOMContentLoaded', function () {
  if (window.innerWidth >= 600) return;
  document.querySelectorAll('.dm-panel details[open]').forEach(function (d) { d.open = false; });
});
</script>
"""


class HtmlControl(MacroElement):
    """A Leaflet control showing fixed HTML (title, legend, panels).

    `html_text` must already be safe HTML (escape user text with :func:`esc`).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function (map) {
            var div = L.DomUtil.create('div', {{ this.css_class|tojson }});
            div.innerHTML = {{ this.html_text|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, position: str = "bottomright", css_class: str = ""):
        super().__init__()
        self._name = "HtmlControl"
        self.html_text = html_text
        self.position = position
        self.css_class = f"dm-panel {css_class}".strip()


class _Register(MacroElement):
    """Expose a layer as ``window.dianmian_layers[key]`` (test and debugging hook)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.dianmian_layers = window.dianmian_layers || {};
        window.dianmian_layers[{{ this.key|tojson }}] = {{ this.layer.get_name() }};
        {% endmacro %}
        """
    )

    def __init__(self, key: str, layer: Element):
        super().__init__()
        self._name = "Register"
        self.key = key
        self.layer = layer


class _RegisterMap(MacroElement):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.dianmian_map = {{ this._parent.get_name() }};
        {% endmacro %}
        """
    )


def register(m: folium.Map, key: str, layer: Element) -> None:
    """Register `layer` (already added to `m`) under `key` for tests."""
    _Register(key, layer).add_to(m)


_POPUP_JS = """
function (feature, layer) {
    var fields = %s, aliases = %s;
    // Bound per marker: a popup bound to the GeoJSON group would never open once the
    // markers live in a MarkerCluster (the group itself is not on the map).
    layer.bindPopup(function () {
        var p = feature.properties, rows = '';
        for (var i = 0; i < fields.length; i++) {
            var v = p[fields[i]];
            if (v === null || v === undefined) v = '';
            rows += '<tr><th>' + aliases[i] + '</th><td>' + v + '</td></tr>';
        }
        return '<table class="dm-popup">' + rows + '</table>';
    });
}
"""


def marker_popup(fields: Sequence[str], aliases: Sequence[str]) -> JsCode:
    """``on_each_feature`` JS binding a table popup to each feature (values pre-escaped)."""
    return JsCode(
        _POPUP_JS % (htmlsafe_json_dumps(list(fields)), htmlsafe_json_dumps(list(aliases)))
    )


def esc(value: object) -> str:
    """HTML-escape a value for popups and panels (names come from user files)."""
    return html.escape("" if value is None else str(value))


@dataclass
class LegendItem:
    """One legend row: a swatch (``box``, ``dot``, ``line`` or raw HTML) and a label."""

    colour: str
    label: str
    swatch: str = "box"
    outline: str | None = None


@dataclass
class LegendSection:
    """A legend heading with rows and an optional note (labels are plain text)."""

    heading: str
    items: list[LegendItem] = field(default_factory=list)
    note: str | None = None

    def html(self) -> str:
        rows = []
        for item in self.items:
            if item.swatch == "html":
                sw = item.colour  # raw HTML built by us, not user text
            else:
                cls = "dm-sw" + ("" if item.swatch == "box" else f" {item.swatch}")
                border = f"border-color:{item.outline};" if item.outline else ""
                sw = f'<span class="{cls}" style="background:{item.colour};{border}"></span>'
            rows.append(f'<div class="row">{sw}<span>{esc(item.label)}</span></div>')
        note = f'<p class="note">{esc(self.note)}</p>' if self.note else ""
        return f"<h4>{esc(self.heading)}</h4>{''.join(rows)}{note}"


def add_legend(m: folium.Map, sections: Sequence[LegendSection]) -> None:
    """Add the legend (bottom right) from `sections`, skipping empty ones."""
    parts = [s.html() for s in sections if s.items or s.note]
    if parts:
        HtmlControl(
            f"<details open><summary><b>Legend 图例</b></summary>{''.join(parts)}</details>",
            position="bottomright",
            css_class="dm-legend",
        ).add_to(m)


def bounds_of(frames: Iterable[gpd.GeoDataFrame | gpd.GeoSeries | None]) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of all non-empty geometries (EPSG:4326)."""
    boxes = [f.total_bounds for f in frames if f is not None and len(f) > 0]
    boxes = [b for b in boxes if np.all(np.isfinite(b))]
    if not boxes:
        msg = "nothing to show: every layer given to the map is empty"
        raise InputError([Problem("map", None, msg)])
    arr = np.array(boxes)
    return [
        [float(arr[:, 1].min()), float(arr[:, 0].min())],
        [float(arr[:, 3].max()), float(arr[:, 2].max())],
    ]


def base_map(
    *,
    bounds: list[list[float]],
    title: str,
    subtitle: str | None = None,
    synthetic: bool,
    tiles: str | None = None,
    attribution: str | None = None,
    measure: bool = True,
    height: str = "100%",
) -> folium.Map:
    """Create a map with scale bar, fullscreen button, measure tool and title.

    Parameters
    ----------
    bounds
        ``[[south, west], [north, east]]`` in degrees (EPSG:4326); the map fits them.
    title, subtitle
        Shown in a panel at the top left (plain text).
    synthetic
        True for a synthetic city: no tiles, plain background (`tiles` must be None).
    tiles
        Real cities only: a folium tile name or an XYZ URL template
        (``https://.../{z}/{x}/{y}.png``); default OpenStreetMap.
    attribution
        Required with a tile URL (the tile provider's terms ask for it).
    measure
        Add the measure tool (distances in metres, areas in square metres).
    height
        CSS height of the map element.
    """
    problems: list[Problem] = []
    if synthetic and tiles is not None:
        problems.append(Problem("map", None, "`tiles` must be None for a synthetic city"))
    if tiles is not None and "{" in tiles and not attribution:
        problems.append(Problem("map", None, f"tile URL `{tiles}` needs an `attribution`"))
    if problems:
        raise InputError(problems)

    (south, west), (north, east) = bounds
    centre = [(south + north) / 2.0, (west + east) / 2.0]
    if synthetic:
        m = folium.Map(location=centre, tiles=None, control_scale=True, height=height)
    else:
        m = folium.Map(
            location=centre,
            tiles=tiles or "OpenStreetMap",
            attr=attribution,
            control_scale=True,
            height=height,
        )
    # Without a tile layer Leaflet has no zoom limits, and MarkerCluster needs one.
    m.options["max_zoom"] = MAX_ZOOM
    m.options["min_zoom"] = MIN_ZOOM
    # Only Leaflet itself from folium's CDN list; plugins add their own (all vendored).
    m.default_js = list(LEAFLET_ONLY_JS)
    m.default_css = list(LEAFLET_ONLY_CSS)
    m.fit_bounds(bounds, padding=(10, 10))
    root = figure(m)
    # The tab and bookmark name: scenario and page (and date); branca does not escape it.
    root.title = esc(" · ".join(t for t in (title, subtitle) if t))
    root.header.add_child(Element(_CSS), name="dm_css")
    if synthetic:
        # More specific than leaflet.css's `.leaflet-container` (which is inlined later).
        css = f"<style>.folium-map.leaflet-container {{ background: {PLAIN_BACKGROUND}; }}</style>"
        root.header.add_child(Element(css), name="dm_plain_background")
    plugins.Fullscreen(
        position="topleft", title="Fullscreen 全屏", title_cancel="Exit 退出"
    ).add_to(m)
    if measure:
        plugins.MeasureControl(
            position="topleft",
            primary_length_unit="meters",
            secondary_length_unit="kilometers",
            primary_area_unit="sqmeters",
            secondary_area_unit="hectares",
        ).add_to(m)
    sub = f"<small>{esc(subtitle)}</small>" if subtitle else ""
    synth = "<small>Synthetic demo city 虚构示范城市</small>" if synthetic else ""
    HtmlControl(f"{esc(title)}{sub}{synth}", position="bottomleft", css_class="dm-title").add_to(m)
    _RegisterMap().add_to(m)
    root.html.add_child(Element(_SMALL_SCREEN_JS), name="dm_small_screen")
    return m


def figure(m: folium.Map) -> Figure:
    """The page (branca Figure) holding `m`."""
    return cast(Figure, m.get_root())


def finish(m: folium.Map, *, collapsed: bool = False) -> folium.Map:
    """Add the layer control; call after every layer has been added."""
    folium.LayerControl(collapsed=collapsed, position="topright").add_to(m)
    return m


def render_html(m: folium.Map) -> str:
    """Render `m` to a self-contained HTML page (vendored assets inlined, no CDN links)."""
    return inline_assets(m.get_root().render())


def round_coords(frame: gpd.GeoDataFrame, decimals: int = COORD_DECIMALS) -> gpd.GeoDataFrame:
    """Copy of `frame` with coordinates rounded (smaller pages, no visible change)."""
    out = frame.copy()
    out.geometry = shapely.set_precision(out.geometry.values, 10.0**-decimals, mode="pointwise")
    return out


def check_frame(
    frame: object,
    name: str,
    *,
    columns: Sequence[str],
    geom_types: Sequence[str],
    problems: list[Problem],
) -> gpd.GeoDataFrame | None:
    """Validate one input layer; append problems and return it in EPSG:4326 (or None).

    Checks: a GeoDataFrame with a CRS, the required `columns`, geometry types among
    `geom_types`, no missing or empty geometries.
    """
    if not isinstance(frame, gpd.GeoDataFrame):
        problems.append(
            Problem(name, None, f"`{name}` must be a GeoDataFrame, got {type(frame).__name__}")
        )
        return None
    bad = False
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        problems.append(
            Problem(name, None, f"missing column(s) {', '.join(f'`{c}`' for c in missing)}")
        )
        bad = True
    if frame.crs is None:
        problems.append(Problem(name, None, "no CRS set (expected EPSG:4326)"))
        bad = True
    geoms = frame.geometry
    for i in np.flatnonzero(geoms.isna().to_numpy() | geoms.is_empty.to_numpy())[:20]:
        problems.append(Problem(name, int(i) + 1, "missing or empty geometry"))
        bad = True
    types = geoms.geom_type.dropna()
    wrong = sorted(set(types) - set(geom_types))
    if wrong:
        problems.append(
            Problem(
                name, None, f"geometry type(s) {wrong} not allowed; expected {list(geom_types)}"
            )
        )
        bad = True
    if bad:
        return None
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs("EPSG:4326")
    return frame


def geojson(data: Any, **kwargs: Any) -> folium.GeoJson:
    """``folium.GeoJson`` that tolerates a layer without features.

    folium rejects tooltip/popup field lists over an empty layer, and an empty layer is
    normal (every seeker cell suppressed, a plan without catchments); the layer is kept so
    that the layer control stays the same.
    """
    n = len(data.get("features", ())) if isinstance(data, dict) else len(data)
    if n == 0:
        kwargs.pop("tooltip", None)
        kwargs.pop("popup", None)
    return folium.GeoJson(data, **kwargs)
