"""Volunteer routes: one toggleable layer per volunteer, and one phone page per volunteer.

Route shape (what ``planner/daily/export.py`` should produce), one dict per volunteer::

    {
        "volunteer_id": "V001",              # required, unique, non-empty
        "volunteer_name": "Chen Jing",       # optional (default: the id)
        "mode": "ebike",                     # optional, shown on the phone page
        "date": "2025-03-03",                # optional
        "distance_m": 18250.0,               # optional, metres
        "duration_s": 14400.0,               # optional, seconds
        "stops": [                           # required, in visiting order
            {"seq": 0, "kind": "home", "name": "Home", "lon": 113.75, "lat": 23.02,
             "arrival": None, "departure": "08:30"},
            {"seq": 1, "kind": "employer", "id": "E0042", "name": "Hongda Textiles",
             "lon": 113.76, "lat": 23.03, "arrival": "08:52", "departure": "09:22"},
            ...
        ],
        "geometry": {"type": "LineString", "coordinates": [[lon, lat], ...]},
    }

* ``kind``: ``home`` (start/end at the volunteer's home; drawn as a dark square) or any
  visit kind (``employer``, ``service_point``, ``talent_market`` ...; drawn as a circle with
  the number ``seq``). ``id`` of a stop is optional.
* ``arrival`` / ``departure``: ``"HH:MM"``, ``"HH:MM:SS"``, an ISO datetime, seconds since
  midnight (number) or None (start / end of the day).
* ``geometry``: the street-following path in EPSG:4326, as a GeoJSON LineString dict, a
  list of ``[lon, lat]`` pairs or a shapely LineString; required when there are two or more
  stops (the map never draws straight lines between stops).

A GeoJSON FeatureCollection is accepted too: one Feature per volunteer, its geometry the
LineString and its properties the other keys above.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely

from geo import InputError, Problem
from maps import _layers as layers
from maps._base import (
    COORD_DECIMALS,
    LegendItem,
    LegendSection,
    add_legend,
    base_map,
    esc,
    figure,
    finish,
    geojson,
    register,
    render_html,
)

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
HOME_KINDS = frozenset({"home", "start", "end", "depot"})
HOME_LABEL = "⌂"
ROADS_MARGIN_M = 400.0
"""Phone pages show only the streets within this distance (metres) of the route."""
_SMALL = "width:16px;height:16px;line-height:14px;font-size:10px"
_INLINE = "display:inline-block;"
STOP_KINDS_LABEL = {
    "home": "Home 家",
    "employer": "Employer 企业",
    "service_point": "Service point 服务点",
    "talent_market": "Talent market 人才市场",
}


@dataclass(frozen=True)
class Stop:
    """One stop of a route (times as ``HH:MM`` text or None)."""

    seq: int
    kind: str
    name: str
    lon: float
    lat: float
    arrival: str | None
    departure: str | None
    id: str | None = None

    @property
    def is_home(self) -> bool:
        return self.kind in HOME_KINDS

    @property
    def label(self) -> str:
        return HOME_LABEL if self.is_home else str(self.seq)

    @property
    def times(self) -> str:
        if self.arrival and self.departure and self.arrival != self.departure:
            return f"{self.arrival}–{self.departure}"
        return self.arrival or self.departure or ""


@dataclass(frozen=True)
class Route:
    """A validated volunteer route; `coordinates` is an ``(n, 2)`` lon/lat array."""

    volunteer_id: str
    volunteer_name: str
    stops: tuple[Stop, ...]
    coordinates: np.ndarray
    mode: str | None = None
    date: str | None = None
    distance_m: float | None = None
    duration_s: float | None = None

    @property
    def layer_name(self) -> str:
        """Name in the layer control (escaped HTML: Leaflet inserts it as HTML)."""
        n = sum(not s.is_home for s in self.stops)
        span = ""
        if self.stops and self.stops[0].times and self.stops[-1].times:
            first, last = self.stops[0], self.stops[-1]
            span = f", {first.departure or first.times}–{last.arrival or last.times}"
        return esc(f"{self.volunteer_id} {self.volunteer_name} ({n} stops{span})")


def format_time(value: object) -> str | None:
    """``HH:MM`` from ``HH:MM[:SS]``, an ISO datetime or seconds since midnight; None stays None.

    Raises
    ------
    ValueError
        If `value` is none of these.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        msg = f"time {value!r} is not a time"
        raise ValueError(msg)
    if isinstance(value, int | float | np.integer | np.floating):
        seconds = float(value)
        if not 0 <= seconds < 2 * 86400:
            msg = f"time {value!r} s is not within two days of midnight"
            raise ValueError(msg)
        minutes = round(seconds / 60.0)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    if isinstance(value, dt.datetime | dt.time):
        return value.strftime("%H:%M")
    text = str(value).strip()
    match = re.fullmatch(
        r"(?:\d{4}-\d{2}-\d{2}[T ])?(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?",
        text,
    )
    if match is None or int(match.group(1)) > 47 or int(match.group(2)) > 59:
        msg = f"time {value!r} is not HH:MM"
        raise ValueError(msg)
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _coords(geometry: object) -> np.ndarray:
    if geometry is None:
        return np.empty((0, 2))
    if isinstance(geometry, shapely.LineString):
        return np.asarray(geometry.coords, dtype=float)[:, :2]
    if isinstance(geometry, Mapping):
        if geometry.get("type") != "LineString":
            msg = f"geometry type {geometry.get('type')!r} is not LineString"
            raise ValueError(msg)
        geometry = geometry.get("coordinates")
    arr = np.asarray(geometry, dtype=float)
    if arr.ndim != 2 or arr.shape[1] < 2:
        msg = "geometry must be a list of [lon, lat] pairs"
        raise ValueError(msg)
    return arr[:, :2]


def _valid_lonlat(lon: np.ndarray, lat: np.ndarray) -> bool:
    return bool(
        np.all(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    )


def _parse_stop(raw: object, where: str, problems: list[Problem], row: int) -> Stop | None:
    """Parse one stop; `where` prefixes the problem messages (route and stop number)."""
    if not isinstance(raw, Mapping):
        problems.append(
            Problem("routes", row, f"{where}: stop must be a mapping, got {type(raw).__name__}")
        )
        return None
    missing = [k for k in ("seq", "kind", "lon", "lat") if k not in raw]
    if missing:
        problems.append(
            Problem("routes", row, f"{where}: stop misses {', '.join(f'`{k}`' for k in missing)}")
        )
        return None
    try:
        seq = int(raw["seq"])
        lon, lat = float(raw["lon"]), float(raw["lat"])
        arrival = format_time(raw.get("arrival"))
        departure = format_time(raw.get("departure"))
    except (TypeError, ValueError) as exc:
        problems.append(Problem("routes", row, f"{where}: {exc}"))
        return None
    if not _valid_lonlat(np.array([lon]), np.array([lat])):
        problems.append(
            Problem("routes", row, f"{where}: `lon`/`lat` ({lon}, {lat}) is not in EPSG:4326")
        )
        return None
    kind = str(raw["kind"]).strip().lower()
    name = str(raw.get("name") or STOP_KINDS_LABEL.get(kind, kind))
    sid = raw.get("id")
    return Stop(seq, kind, name, lon, lat, arrival, departure, None if sid is None else str(sid))


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def parse_routes(routes: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> list[Route]:
    """Validate routes (list of dicts or GeoJSON FeatureCollection; see module docstring).

    Raises
    ------
    geo.InputError
        Listing every problem (row = 1-based route number; stop numbers in the message).
    """
    problems: list[Problem] = []
    if isinstance(routes, Mapping):
        if routes.get("type") != "FeatureCollection":
            msg = "`routes` must be a list of route dicts or a GeoJSON FeatureCollection"
            raise InputError([Problem("routes", None, msg)])
        items: list[Any] = []
        for feature in routes.get("features", []):
            props = dict(feature.get("properties") or {}) if isinstance(feature, Mapping) else {}
            props.setdefault(
                "geometry", feature.get("geometry") if isinstance(feature, Mapping) else None
            )
            items.append(props)
    elif isinstance(routes, Sequence) and not isinstance(routes, str):
        items = list(routes)
    else:
        msg = f"`routes` must be a list or a FeatureCollection, got {type(routes).__name__}"
        raise InputError([Problem("routes", None, msg)])

    out: list[Route] = []
    seen: set[str] = set()
    for row, raw in enumerate(items, start=1):
        if not isinstance(raw, Mapping):
            problems.append(
                Problem("routes", row, f"route must be a mapping, got {type(raw).__name__}")
            )
            continue
        vid = str(raw.get("volunteer_id") or "").strip()
        if not vid:
            problems.append(Problem("routes", row, "`volunteer_id` is missing or empty"))
            continue
        if vid in seen:
            problems.append(Problem("routes", row, f"duplicate `volunteer_id` {vid!r}"))
        seen.add(vid)
        raw_stops = raw.get("stops")
        if not isinstance(raw_stops, Sequence) or isinstance(raw_stops, str) or not raw_stops:
            problems.append(
                Problem("routes", row, f"route {vid!r}: `stops` must be a non-empty list")
            )
            continue
        n_before = len(problems)
        stops = [
            _parse_stop(s, f"route {vid!r} stop {k}", problems, row)
            for k, s in enumerate(raw_stops, 1)
        ]
        try:
            coords = _coords(raw.get("geometry"))
        except (TypeError, ValueError) as exc:
            problems.append(Problem("routes", row, f"route {vid!r}: bad `geometry`: {exc}"))
            continue
        if len(stops) >= 2 and len(coords) < 2:
            problems.append(
                Problem(
                    "routes",
                    row,
                    f"route {vid!r}: `geometry` (street path) needs at least 2 points",
                )
            )
        elif len(coords) and not _valid_lonlat(coords[:, 0], coords[:, 1]):
            problems.append(
                Problem("routes", row, f"route {vid!r}: `geometry` is not lon/lat (EPSG:4326)")
            )
        if len(problems) > n_before:
            continue
        out.append(
            Route(
                volunteer_id=vid,
                volunteer_name=str(raw.get("volunteer_name") or vid),
                stops=tuple(s for s in stops if s is not None),
                coordinates=np.round(coords, COORD_DECIMALS),
                mode=None if raw.get("mode") is None else str(raw["mode"]),
                date=None if raw.get("date") is None else str(raw["date"]),
                distance_m=_optional_float(raw.get("distance_m")),
                duration_s=_optional_float(raw.get("duration_s")),
            )
        )
    if problems:
        raise InputError(problems)
    return out


def _stops_frame(route: Route, colour: str) -> gpd.GeoDataFrame:
    s = route.stops
    return gpd.GeoDataFrame(
        {
            "seq": [x.seq for x in s],
            "name": [esc(x.name) for x in s],
            "kind": [esc(STOP_KINDS_LABEL.get(x.kind, x.kind)) for x in s],
            "times": [x.times for x in s],
            "html": [
                f'<div class="dm-stop home">{HOME_LABEL}</div>'
                if x.is_home
                else f'<div class="dm-stop" style="background:{colour}">{x.seq}</div>'
                for x in s
            ],
        },
        geometry=gpd.points_from_xy([x.lon for x in s], [x.lat for x in s]),
        crs="EPSG:4326",
    )


def _add_route(
    m: folium.Map, route: Route, colour: str, *, page_link: str | None, show: bool = True
) -> None:
    group = folium.FeatureGroup(name=route.layer_name, show=show).add_to(m)
    if len(route.coordinates) >= 2:
        folium.PolyLine(
            locations=route.coordinates[:, ::-1].tolist(),
            color=colour,
            weight=4,
            opacity=0.85,
            tooltip=_tooltip_text(f"{route.volunteer_id} {route.volunteer_name}"),
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
        style_function=lambda f: {"html": f["properties"]["html"]},
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases),
        tooltip=folium.GeoJsonTooltip(fields=["name", "times"], labels=False),
    ).add_to(group)
    register(m, f"route:{route.volunteer_id}", group)


def _tooltip_text(text: str) -> str:
    # folium puts tooltip text into a JS template literal: neutralise its delimiters too.
    return esc(text).replace("`", "&#96;").replace("${", "&#36;{")


def _route_bounds(routes: Sequence[Route]) -> list[list[float]]:
    pts = [r.coordinates for r in routes if len(r.coordinates)]
    pts += [np.array([[s.lon, s.lat] for s in r.stops]) for r in routes]
    allpts = np.vstack(pts)
    return [
        [float(allpts[:, 1].min()), float(allpts[:, 0].min())],
        [float(allpts[:, 1].max()), float(allpts[:, 0].max())],
    ]


def _roads_near(
    roads: gpd.GeoDataFrame | None, routes: Sequence[Route], margin_m: float
) -> gpd.GeoDataFrame | None:
    """Streets within `margin_m` metres of the routes' paths and stops (spatial index query)."""
    if roads is None or len(roads) == 0:
        return roads
    shapes = [shapely.LineString(r.coordinates) for r in routes if len(r.coordinates) >= 2]
    shapes += [shapely.Point(s.lon, s.lat) for r in routes for s in r.stops]
    # Degrees per metre at these latitudes; generous (cos(lat) <= 1), it only selects streets.
    lat = float(np.mean([s.lat for r in routes for s in r.stops]))
    margin_deg = margin_m / (111_320.0 * max(math.cos(math.radians(lat)), 0.1))
    area = shapely.union_all(shapely.buffer(np.array(shapes, dtype=object), margin_deg))
    idx = roads.sindex.query(area, predicate="intersects")
    return roads.iloc[np.unique(idx)]


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
                "Home (start/end) 家（起点/终点）",
                swatch="html",
            ),
            LegendItem("#4363d8", "Street path, one colour per volunteer 沿街路线", swatch="line"),
        ],
        "Click a stop for its time. 点击站点查看时间。",
    )


def routes_map(
    routes: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    *,
    title: str,
    synthetic: bool,
    tiles: str | None = None,
    attribution: str | None = None,
    roads: gpd.GeoDataFrame | None = None,
    page_links: Mapping[str, str] | None = None,
) -> folium.Map:
    """Build the map of all volunteers' routes, one toggleable layer per volunteer.

    Parameters
    ----------
    routes
        Route dicts or a GeoJSON FeatureCollection (shape in the module docstring).
    title, synthetic, tiles, attribution
        As in :func:`maps.overview.overview_map`.
    roads
        Optional street lines drawn as a thin grey background.
    page_links
        Optional ``volunteer_id -> URL`` of each volunteer's phone page (linked from the
        route's tooltip layer list).

    Raises
    ------
    geo.InputError
        Listing every problem found in `routes` (or if there is no route at all).
    """
    parsed = parse_routes(routes)
    problems: list[Problem] = []
    road = layers.check_roads(roads, problems) if roads is not None else None
    if not parsed:
        problems.append(Problem("routes", None, "no routes to show"))
    if problems:
        raise InputError(problems)
    bounds = _route_bounds(parsed)
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
    for k, route in enumerate(parsed):
        link = page_links.get(route.volunteer_id) if page_links else None
        _add_route(m, route, ROUTE_PALETTE[k % len(ROUTE_PALETTE)], page_link=link)
    add_legend(m, [_routes_legend()])
    logger.info(
        "routes map: %d volunteers, %d stops", len(parsed), sum(len(r.stops) for r in parsed)
    )
    # Many volunteers: a collapsed (scrollable) layer list keeps the map visible.
    return finish(m, collapsed=len(parsed) > 12)


def _stop_list_html(route: Route, colour: str) -> str:
    rows = []
    for s in route.stops:
        badge = (
            f'<span class="dm-stop home" style="display:inline-block">{HOME_LABEL}</span>'
            if s.is_home
            else f'<span class="dm-stop" style="{_INLINE}background:{colour}">{s.seq}</span>'
        )
        rows.append(
            f'<li data-seq="{s.seq}">{badge}<span class="t">{esc(s.times)}</span>'
            f'<span class="n">{esc(s.name)}'
            f"<small>{esc(STOP_KINDS_LABEL.get(s.kind, s.kind))}</small></span></li>"
        )
    facts = []
    if route.date:
        facts.append(esc(route.date))
    if route.mode:
        facts.append(esc(route.mode))
    if route.distance_m is not None:
        facts.append(f"{route.distance_m / 1000:.1f} km")
    if route.duration_s is not None:
        facts.append(f"{route.duration_s / 3600:.1f} h")
    return f"""
<style>
html, body {{ height: 100%; margin: 0; }}
/* Map first, stop list below, whatever the DOM order folium produces. */
body {{ display: flex; flex-direction: column; }}
body > .folium-map {{ order: 0; flex: none; }}
body > .dm-page {{ order: 1; overflow-y: auto; }}
.dm-page {{ font: 15px/1.4 system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
  padding: 8px 10px; }}
.dm-page h1 {{ font-size: 18px; margin: 4px 0; }}
.dm-page .facts {{ color: #555; font-size: 13px; }}
.dm-page ol {{ list-style: none; padding: 0; margin: 8px 0; }}
.dm-page li {{ display: flex; align-items: center; gap: 10px; padding: 6px 0;
  border-bottom: 1px solid #ddd; }}
.dm-page .t {{ font-variant-numeric: tabular-nums; min-width: 92px; font-weight: 600; }}
.dm-page .n small {{ display: block; color: #666; font-size: 12px; }}
</style>
<div class="dm-page">
<h1>{esc(route.volunteer_name)} <small>({esc(route.volunteer_id)})</small></h1>
<div class="facts">{" · ".join(facts)}</div>
<ol class="dm-stops">{"".join(rows)}</ol>
</div>
"""


def route_page(
    route: Mapping[str, Any],
    *,
    synthetic: bool,
    tiles: str | None = None,
    attribution: str | None = None,
    roads: gpd.GeoDataFrame | None = None,
    colour: str = ROUTE_PALETTE[2],
) -> str:
    """One volunteer's page for a phone: a map of the route above the list of stops and times.

    Returns self-contained HTML (no internet needed except for real-world tiles).

    Parameters
    ----------
    route
        One route dict (shape in the module docstring).
    synthetic, tiles, attribution
        As in :func:`maps.overview.overview_map`.
    roads
        Optional street lines; only those within :data:`ROADS_MARGIN_M` of the route are
        drawn (keeps a phone page small).
    colour
        Colour of the path and stop numbers.
    """
    (parsed,) = parse_routes([route])
    problems: list[Problem] = []
    road = layers.check_roads(roads, problems) if roads is not None else None
    if problems:
        raise InputError(problems)
    bounds = _route_bounds([parsed])
    m = base_map(
        bounds=bounds,
        title=parsed.volunteer_name,
        subtitle=parsed.date,
        synthetic=synthetic,
        tiles=tiles,
        attribution=attribution,
        measure=False,
        height="58%",
    )
    if road is not None:
        near = _roads_near(road, [parsed], ROADS_MARGIN_M)
        if near is not None and len(near):
            layers.add_roads(m, near)
    _add_route(m, parsed, colour, page_link=None)
    figure(m).html.add_child(folium.Element(_stop_list_html(parsed, colour)), name="dm_stop_list")
    figure(m).header.add_child(
        folium.Element('<meta name="viewport" content="width=device-width, initial-scale=1">'),
        name="dm_viewport",
    )
    return render_html(m)
