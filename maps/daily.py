"""Volunteer routes: one toggleable layer per volunteer, and one phone page per volunteer.

Drawn from the day's route records (:class:`planner.daily.record.VolunteerRoute`, read from
``routes/<date>/routes.json`` with :func:`planner.daily.record.load_routes`, which validates
them). Start and end of the day are drawn as a dark square (home), other stops as circles
numbered in visiting order; the line is the street-following path in EPSG:4326 (the map never
draws straight lines between stops). Times come from :func:`geo.timeofday.format_hhmm`, so a
stop shows the same minute here as on the printable sheet.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

import folium
import geopandas as gpd
import numpy as np
import shapely

from geo import InputError, Problem
from geo.timeofday import format_hhmm
from maps import _layers as layers
from maps._base import (
    COORD_DECIMALS,
    HtmlControl,
    LegendItem,
    LegendSection,
    add_legend,
    base_map,
    esc,
    figure,
    finish,
    geojson,
    register,
)
from maps._tools import add_tools
from planner.daily.record import Stop, StopKind, VolunteerRoute

logger = logging.getLogger(__name__)

ROUTE_PALETTE = (
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#46a0a0",
    "#d63ca0",
    "#808000",
    "#9a6324",
    "#000075",
    "#800000",
    "#469990",
)
HOME_LABEL = "⌂"
ROADS_MARGIN_M = 400.0
"""Phone pages show only the streets within this distance (metres) of the route."""
_SMALL = "width:16px;height:16px;line-height:14px;font-size:10px"
_INLINE = "display:inline-block;"


def stop_times(stop: Stop) -> str:
    """The stop's time as shown: departure at the start, arrival at the end, else
    ``arrival–departure``; waiting for an opening or a pickup shows as ``(wait 等候)``."""
    if stop.kind is StopKind.START:
        return format_hhmm(stop.departure_s)
    if stop.kind is StopKind.END:
        return format_hhmm(stop.arrival_s)
    arrive, leave = format_hhmm(stop.arrival_s), format_hhmm(stop.departure_s)
    if stop.wait_s >= 60:
        return f"{arrive} (wait 等候) {format_hhmm(stop.start_s)}–{leave}"
    return f"{arrive}–{leave}"


def _coordinates(route: VolunteerRoute) -> np.ndarray:
    return np.round(np.asarray(route.geometry, dtype=float).reshape(-1, 2), COORD_DECIMALS)


def layer_name(route: VolunteerRoute) -> str:
    """Name in the layer control (escaped HTML: Leaflet inserts it as HTML)."""
    n = sum(not s.kind.is_home for s in route.stops)
    first, last = route.stops[0], route.stops[-1]
    span = f", {format_hhmm(first.departure_s)}–{format_hhmm(last.arrival_s)}"
    return esc(f"{route.volunteer_id} {route.display_name} ({n} stops{span})")


def check_drawable(routes: Sequence[VolunteerRoute], problems: list[Problem]) -> None:
    """A map needs every stop placed (records written without coordinates cannot be drawn)."""
    for row, r in enumerate(routes, start=1):
        if not r.stops:
            problems.append(Problem("routes", row, f"route {r.volunteer_id!r} has no stop"))
        elif any(s.lon is None or s.lat is None for s in r.stops):
            msg = f"route {r.volunteer_id!r}: a stop has no `lon`/`lat` to draw"
            problems.append(Problem("routes", row, msg))


STACK_OFFSET_PX = 13.0
"""Stops at the same place are fanned out on a circle of this radius (pixels) so each stays
clickable (stop 1 never hides under stop 2)."""


def stop_anchors(
    lons: Sequence[float | None], lats: Sequence[float | None], size: int = 22
) -> list[list[float]]:
    """Icon anchors (pixels) of stop markers: the k-th of n stops at one place is moved by
    :data:`STACK_OFFSET_PX` on a circle (``k``/``n`` of a turn); a lone stop is centred."""
    keys = [(round(x or 0.0, 5), round(y or 0.0, 5)) for x, y in zip(lons, lats, strict=True)]
    total: dict[tuple[float, float], int] = {}
    for key in keys:
        total[key] = total.get(key, 0) + 1
    seen: dict[tuple[float, float], int] = {}
    out = []
    for key in keys:
        k = seen.get(key, 0)
        seen[key] = k + 1
        n = total[key]
        dx = dy = 0.0
        if n > 1:
            angle = 2 * math.pi * k / n - math.pi / 2
            dx, dy = STACK_OFFSET_PX * math.cos(angle), STACK_OFFSET_PX * math.sin(angle)
        # The anchor is the icon point placed on the location: moving it left moves the icon right.
        out.append([round(size / 2 - dx, 1), round(size / 2 - dy, 1)])
    return out


def _stops_frame(route: VolunteerRoute, colour: str) -> gpd.GeoDataFrame:
    s = route.stops
    return gpd.GeoDataFrame(
        {
            "seq": list(range(len(s))),
            "name": [esc(x.name) for x in s],
            "kind": [esc(f"{x.kind.label_en} {x.kind.label_zh}") for x in s],
            "times": [stop_times(x) for x in s],
            "html": [
                f'<div class="dm-stop home">{HOME_LABEL}</div>'
                if x.kind.is_home
                else f'<div class="dm-stop" style="background:{colour}">{k}</div>'
                for k, x in enumerate(s)
            ],
            "anchor": stop_anchors([x.lon for x in s], [x.lat for x in s]),
        },
        geometry=gpd.points_from_xy([x.lon for x in s], [x.lat for x in s]),
        crs="EPSG:4326",
    )


def add_route(
    m: folium.Map, route: VolunteerRoute, colour: str, *, page_link: str | None, show: bool = True
) -> None:
    group = folium.FeatureGroup(name=layer_name(route), show=show).add_to(m)
    coords = _coordinates(route)
    if len(coords) >= 2:
        folium.PolyLine(
            locations=coords[:, ::-1].tolist(),
            color=colour,
            weight=4,
            opacity=0.85,
            tooltip=_tooltip_text(f"{route.volunteer_id} {route.display_name}"),
        ).add_to(group)
    stops = _stops_frame(route, colour)
    fields = ["seq", "name", "kind", "times"]
    aliases = ["Stop 站", "Place 地点", "Kind 类型", "Time 时间"]
    if page_link:
        # GeoJsonPopup inserts values as HTML; the link is built (and escaped) here.
        stops["page"] = f'<a href="{esc(page_link)}">Open 打开</a>'
        fields.append("page")
        aliases.append("Phone page 手机页面")
    geojson(
        stops,
        marker=folium.Marker(
            icon=folium.DivIcon(html="", icon_size=(22, 22), icon_anchor=(11, 11))
        ),
        style_function=lambda f: {
            "html": f["properties"]["html"],
            "iconAnchor": f["properties"]["anchor"],
        },
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases),
        tooltip=folium.GeoJsonTooltip(fields=["name", "times"], labels=False),
    ).add_to(group)
    register(m, f"route:{route.volunteer_id}", group)


def _tooltip_text(text: str) -> str:
    # folium puts tooltip text into a JS template literal: neutralise its delimiters too.
    return esc(text).replace("`", "&#96;").replace("${", "&#36;{")


def route_bounds(routes: Sequence[VolunteerRoute]) -> list[list[float]]:
    pts = [_coordinates(r) for r in routes if r.geometry]
    pts += [np.array([[s.lon, s.lat] for s in r.stops]) for r in routes]
    allpts = np.vstack(pts)
    return [
        [float(allpts[:, 1].min()), float(allpts[:, 0].min())],
        [float(allpts[:, 1].max()), float(allpts[:, 0].max())],
    ]


def roads_near(
    roads: gpd.GeoDataFrame | None, routes: Sequence[VolunteerRoute], margin_m: float
) -> gpd.GeoDataFrame | None:
    """Streets within `margin_m` metres of the routes' paths and stops (spatial index query)."""
    if roads is None or len(roads) == 0:
        return roads
    shapes = [shapely.LineString(r.geometry) for r in routes if len(r.geometry) >= 2]
    shapes += [shapely.Point(s.lon, s.lat) for r in routes for s in r.stops]
    # Degrees per metre at these latitudes; generous (cos(lat) <= 1), it only selects streets.
    lat = float(np.mean([s.lat for r in routes for s in r.stops if s.lat is not None]))
    margin_deg = margin_m / (111_320.0 * max(math.cos(math.radians(lat)), 0.1))
    area = shapely.union_all(shapely.buffer(np.array(shapes, dtype=object), margin_deg))
    idx = roads.sindex.query(area, predicate="intersects")
    return roads.iloc[np.unique(idx)]


_PICKER_JS = """
<script>
window.dianmian_search_extra = [];
document.addEventListener('DOMContentLoaded', function () {
  var map = window.dianmian_map, layers = window.dianmian_layers || {};
  var select = document.querySelector('.dm-picker select');
  function show(vid) {
    var bounds = null;
    Object.keys(layers).forEach(function (key) {
      if (key.indexOf('route:') !== 0) return;
      var on = !vid || key === 'route:' + vid;
      if (on && !map.hasLayer(layers[key])) map.addLayer(layers[key]);
      if (!on && map.hasLayer(layers[key])) map.removeLayer(layers[key]);
      if (on) {
        var b = layers[key].getBounds();
        bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
      }
    });
    if (bounds) map.fitBounds(bounds, {padding: [20, 20], animate: false});
    select.value = vid;
  }
  window.dianmian_show_volunteer = show;
  select.addEventListener('change', function () { show(select.value); });
  if (select.value) show(select.value);  // open on the first volunteer's day
  Array.from(select.options).forEach(function (o) {
    if (!o.value) return;
    window.dianmian_search_extra.push({label: o.dataset.name, id: o.value,
      kind: 'Volunteer 志愿者', select: function () { show(o.value); }});
  });
});
</script>
"""


def picker_html(routes: Sequence[VolunteerRoute], point_names: Mapping[str, str]) -> str:
    """The volunteer picker: a ``<select>`` grouped by service point, "All" first."""
    groups: dict[str, list[VolunteerRoute]] = {}
    for r in routes:
        groups.setdefault(r.service_point, []).append(r)
    parts = ['<option value="">All volunteers 全部志愿者</option>']
    for point in sorted(groups):
        label = point_names.get(point, point) if point else "No point 未指定服务点"
        options = "".join(
            f'<option value="{esc(r.volunteer_id)}" data-name="{esc(r.display_name)}"'
            f"{' selected' if r is routes[0] else ''}>"
            f"{esc(r.volunteer_id)} {esc(r.display_name)} ({len(set(r.task_ids))})</option>"
            for r in groups[point]
        )
        parts.append(f'<optgroup label="{esc(label)}">{options}</optgroup>')
    return f'<b>Volunteer 志愿者</b><br><select aria-label="Volunteer">{"".join(parts)}</select>'


def _routes_legend() -> LegendSection:
    return LegendSection(
        "Volunteer routes 志愿者路线",
        [
            LegendItem(
                f'<div class="dm-stop" style="background:#4363d8;{_SMALL}">1</div>',
                "Visit, in order 按顺序拜访",
                swatch="html",
            ),
            LegendItem(
                f'<div class="dm-stop home" style="{_SMALL}">{HOME_LABEL}</div>',
                "Start/end of the day 起点/终点",
                swatch="html",
            ),
            LegendItem("#4363d8", "Street path, one colour per volunteer 沿街路线", swatch="line"),
        ],
        "Click a stop for its time. 点击站点查看时间。",
    )


def routes_map(
    routes: Sequence[VolunteerRoute],
    *,
    title: str,
    synthetic: bool,
    tiles: str | None = None,
    attribution: str | None = None,
    roads: gpd.GeoDataFrame | None = None,
    page_links: Mapping[str, str] | None = None,
    point_names: Mapping[str, str] | None = None,
) -> folium.Map:
    """Build the map of all volunteers' routes, one toggleable layer per volunteer.

    Parameters
    ----------
    routes
        Route records (volunteers with tasks), e.g. from :func:`planner.daily.record.load_routes`.
    title, synthetic, tiles, attribution
        As in :func:`maps.overview.overview_map`.
    roads
        Optional street lines drawn as a thin grey background.
    page_links
        Optional ``volunteer_id -> URL`` of each volunteer's phone page (linked from the
        route's tooltip layer list).

    point_names
        Optional ``service point id -> name`` for the picker's groups.

    Only the first volunteer is shown at first; a picker (grouped by service point) shows one
    volunteer or all, and the search box finds a volunteer by name or id.

    Raises
    ------
    geo.InputError
        Listing every problem found in `routes` (or if there is no route at all).
    """
    parsed = list(routes)
    problems: list[Problem] = []
    check_drawable(parsed, problems)
    road = layers.check_roads(roads, problems) if roads is not None else None
    if not parsed:
        problems.append(Problem("routes", None, "no routes to show"))
    if problems:
        raise InputError(problems)
    bounds = route_bounds(parsed)
    m = base_map(
        bounds=bounds,
        title=title,
        subtitle=f"Volunteer routes 志愿者路线 ({len(parsed)})",
        synthetic=synthetic,
        tiles=tiles,
        attribution=attribution,
    )
    if road is not None:
        layers.add_roads(m, road)
    # One volunteer at a time by default (the picker switches; "All" shows everyone).
    for k, route in enumerate(parsed):
        link = page_links.get(route.volunteer_id) if page_links else None
        add_route(m, route, ROUTE_PALETTE[k % len(ROUTE_PALETTE)], page_link=link, show=k == 0)
    HtmlControl(
        picker_html(parsed, point_names or {}), position="topleft", css_class="dm-picker"
    ).add_to(m)
    figure(m).html.add_child(folium.Element(_PICKER_JS), name="dm_picker_js")
    add_tools(m, {}, downloads=False)
    add_legend(m, [_routes_legend()])
    logger.info(
        "routes map: %d volunteers, %d stops", len(parsed), sum(len(r.stops) for r in parsed)
    )
    # A collapsed layer list keeps popups and the map visible (the picker is the main way).
    return finish(m, collapsed=True)
