"""Plan map: opened service points sized by load, catchments, crowd panel, industry toggles.

Expected inputs (GeoDataFrames in EPSG:4326, extra columns ignored):

``service_points``  points; ``id``, ``name``, ``kind`` (site kind code), ``industries``
                    (``;``-separated codes the point serves), ``load`` (visitors per day),
                    ``capacity`` (safe visitors per day: what the staff serve); optional
                    ``staff``, ``mean_wait_min``/``p90_wait_min`` (peak hour; empty = the
                    queue grows all day), ``target_wait_min``, ``peak_on_site``,
                    ``p95_on_site``, ``max_on_site`` (shown in popups and used for colour)
``catchments``      (multi)polygons; ``point_id`` (an ``id`` of `service_points`), optional
                    ``minutes`` (travel-time limit of the area)
``crowd``           mapping with ``market_before`` and ``market_after`` (visitors per day at
                    the central talent market without / with the plan), optional
                    ``market_capacity`` (default: the talent market's ``capacity``) and
                    ``market_name``; per-point loads come from `service_points`;
                    optional ``tradeoff`` (the plan's ``tradeoff.json``) adds a chart of
                    the trade-off curve

Every service point appears in one toggleable layer per industry it serves, so switching
industries on and off shows which points serve whom (a point serving two industries sits
in both layers).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo import InputError, Problem
from geo.industries import DEFAULT_CATALOGUE, IndustryCatalogue
from maps import _layers as layers
from maps._base import (
    HtmlControl,
    LegendItem,
    LegendSection,
    add_legend,
    base_map,
    bounds_of,
    check_frame,
    esc,
    finish,
    geojson,
    register,
    round_coords,
)
from maps._tools import add_tools, table_html
from maps.loop import LOOP_LAYER, LoopSection, add_loop_layer, add_loop_panel, point_loop_text
from maps.market import MARKET_DEMAND_LAYER, MarketDemand, add_market_demand, reasons_html
from planner.hexbin import HexBins

logger = logging.getLogger(__name__)

UTILISATION_COLOURS = (
    (0.8, "#f2f0eb", "below 80 % of capacity 低于容量80%"),
    (1.0, "#8d877d", "80–100 % of capacity 容量80–100%"),
    (math.inf, "#1b1b1b", "over capacity 超出容量"),
)
"""(upper bound of load/capacity, colour, legend label), checked in order."""
SHORT_WAIT_MIN = 5.0
"""A point is green only if its peak-hour mean wait is below this (and its load below 80 %)."""
QUEUE_COLOURS = (
    ("#f2f0eb", "short wait (< 5 min), load < 80 % of staffed capacity 排队短"),
    ("#8d877d", "queue at the peak, wait within target 高峰排队（达标）"),
    ("#1b1b1b", "over capacity or wait above target 超负荷/排队超标"),
)
"""Fill of a point by its peak-hour wait: a lightness ramp (light = fine, black = too long),
never a hue, so it cannot be read as an industry (see maps/STYLE.md)."""
CATCHMENT_PALETTE = ("#5b5b5b",)
"""Catchments are neutral dashed outlines (one grey), so they never look like an industry."""
MIN_RADIUS_PX = 5.0
MAX_RADIUS_PX = 18.0


def points_layer_name(industry: str, industries: IndustryCatalogue = DEFAULT_CATALOGUE) -> str:
    return f"Service points: {industries.label(industry)}"


CATCHMENTS_LAYER = "Catchment areas 服务范围"


@dataclass(frozen=True)
class PlanLayers:
    """The plan-specific inputs of :func:`plan_map` (see the module docstring)."""

    service_points: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame | None = None
    crowd: Mapping[str, Any] | None = None
    market_demand: MarketDemand | None = None
    loop: LoopSection | None = None


def utilisation_colour(load: float, capacity: float) -> str:
    ratio = load / capacity if capacity > 0 else (math.inf if load > 0 else 0.0)
    for upper, colour, _label in UTILISATION_COLOURS:
        if ratio < upper or (upper == math.inf):
            return colour
    return UTILISATION_COLOURS[-1][1]  # pragma: no cover - the last bound is inf


def queue_colour(load: float, capacity: float, wait: float | None, target: float) -> str:
    """Colour of a staffed point: red if over capacity or the wait is unbounded (``None``) or
    above `target`; green only with a short wait and load below 80 %; amber otherwise."""
    green, amber, red = (c for c, _l in QUEUE_COLOURS)
    ratio = load / capacity if capacity > 0 else (math.inf if load > 0 else 0.0)
    if wait is None or not math.isfinite(wait) or wait > target + 1e-9 or ratio > 1.0 + 1e-9:
        return red
    if wait < SHORT_WAIT_MIN and ratio < 0.8:
        return green
    return amber


def radius_px(load: np.ndarray) -> np.ndarray:
    """Marker radius (pixels): area grows with load, largest load gets MAX_RADIUS_PX."""
    top = float(load.max()) if len(load) and load.max() > 0 else 1.0
    return MIN_RADIUS_PX + (MAX_RADIUS_PX - MIN_RADIUS_PX) * np.sqrt(np.clip(load, 0, None) / top)


def _split_codes(value: object) -> list[str]:
    return [c.strip().lower() for c in str(value).replace(",", ";").split(";") if c.strip()]


def check_service_points(
    frame: object, problems: list[Problem], industries: IndustryCatalogue = DEFAULT_CATALOGUE
) -> gpd.GeoDataFrame | None:
    cols = ("id", "name", "kind", "industries", "load", "capacity")
    out = check_frame(
        frame, "service_points", columns=cols, geom_types=layers.POINT, problems=problems
    )
    if out is None:
        return None
    for col in ("load", "capacity"):
        layers.check_nonneg(out, col, "service_points", problems)
    for i, value in enumerate(out["industries"]):
        codes = _split_codes(value)
        bad = [c for c in codes if c not in industries]
        if bad or not codes:
            problems.append(
                Problem(
                    "service_points",
                    i + 1,
                    f"`industries` {value!r} must list codes from {', '.join(industries.codes)}",
                )
            )
    dup = out["id"][out["id"].duplicated()].tolist()
    if dup:
        problems.append(Problem("service_points", None, f"duplicate `id` values {dup[:10]}"))
    return out


def check_catchments(
    frame: object, point_ids: set[str] | None, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    out = check_frame(
        frame, "catchments", columns=("point_id",), geom_types=layers.POLYGON, problems=problems
    )
    if out is not None and point_ids is not None:
        unknown = sorted(set(out["point_id"].astype(str)) - point_ids)
        if unknown:
            problems.append(
                Problem(
                    "catchments", None, f"`point_id` values {unknown[:10]} are not service points"
                )
            )
    return out


def check_crowd(crowd: object, problems: list[Problem]) -> dict[str, Any] | None:
    if not isinstance(crowd, Mapping):
        problems.append(
            Problem("crowd", None, f"`crowd` must be a mapping, got {type(crowd).__name__}")
        )
        return None
    out = dict(crowd)
    for key in ("market_before", "market_after"):
        value = out.get(key)
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            problems.append(Problem("crowd", None, f"`{key}` must be a number >= 0, got {value!r}"))
    cap = out.get("market_capacity")
    if cap is not None and (not isinstance(cap, int | float) or not cap > 0):
        problems.append(Problem("crowd", None, f"`market_capacity` must be > 0, got {cap!r}"))
    return out


def _bar(value: float, top: float, capacity: float | None, *, width_px: int = 70) -> str:
    width = 0 if top <= 0 else max(1, round(width_px * value / top)) if value > 0 else 0
    over = " over" if capacity is not None and value > capacity else ""
    return f'<span class="dm-bar{over}" style="width:{width}px"></span>'


TRIP_FIGURES = (
    ("p50_min", "Median trip 行程中位数", "{:.0f} min"),
    ("p95_min", "95 % of trips within 95%行程在", "{:.0f} min"),
    ("within_30_min", "Seekers within 30 min 30分钟内可达", "{:.0%}"),
)
"""Headline trip-time figures of the plan summary (``travel_time_all``) shown before/after."""


def headline_html(trips: Mapping[str, Any]) -> str:
    """Before/after table of the headline trip figures (``trips["before"|"after"]``)."""
    before, after = trips.get("before") or {}, trips.get("after") or {}
    rows = []
    for key, label, fmt in TRIP_FIGURES:
        if key in before and key in after:
            rows.append(
                f"<tr><td>{label}</td><td>{fmt.format(float(before[key]))}</td>"
                f"<td><b>{fmt.format(float(after[key]))}</b></td></tr>"
            )
    if not rows:
        return ""
    return (
        "<table class='dm-headline'><tr><th>Trips 出行</th><th>Before 之前</th>"
        f"<th>After 之后</th></tr>{''.join(rows)}</table>"
    )


def crowd_panel_html(
    crowd: Mapping[str, Any],
    points: gpd.GeoDataFrame,
    market_capacity: float | None,
    demand: MarketDemand | None = None,
) -> str:
    """HTML of the crowd panel: headline trip figures, the market before/after (bars on the
    market's scale), why demand still goes there, and a sortable table of the points (bars
    on the points' own scale; a click on a row zooms to the point)."""
    before, after = float(crowd["market_before"]), float(crowd["market_after"])
    cap = crowd.get("market_capacity", market_capacity)
    cap = float(cap) if cap is not None else None
    name = esc(crowd.get("market_name") or "Central talent market 人才市场")
    change = (after - before) / before * 100 if before > 0 else 0.0
    loads = pd.to_numeric(points["load"]).to_numpy(dtype=float)
    caps = pd.to_numeric(points["capacity"]).to_numpy(dtype=float)
    market_top = max(before, after, cap or 0.0)
    cap_txt = f"{cap:,.0f}" if cap is not None else "–"
    rows = [
        f"<tr><td>{name}</td><td>{cap_txt}</td><td>{before:,.0f}</td><td>{after:,.0f}</td></tr>",
        f"<tr><td></td><td></td><td>{_bar(before, market_top, cap)}</td>"
        f"<td>{_bar(after, market_top, cap)}</td></tr>",
    ]
    top = max([*loads.tolist(), *caps.tolist(), 1.0])
    order = np.argsort(-loads, kind="stable")
    waits = _wait_cells(points)
    point_rows = [
        f'<tr data-id="{esc(points["id"].iloc[i])}"><td>{esc(points["name"].iloc[i])}</td>'
        f"<td data-v='{caps[i]:.1f}'>{caps[i]:,.0f}</td><td data-v='{loads[i]:.1f}'>"
        f"{loads[i]:,.0f}</td>{waits[i]}<td>{_bar(loads[i], top, caps[i])}</td></tr>"
        for i in order
    ]
    wait_head = "<th>Staff 人员</th><th>Wait 等候</th>" if _has_queue(points) else ""
    curve = crowd.get("tradeoff")
    chart = tradeoff_html(curve) if isinstance(curve, Mapping) and curve.get("points") else ""
    trips = crowd.get("trips")
    headline = headline_html(trips) if isinstance(trips, Mapping) else ""
    return (
        f"<details open><summary><b>Crowding 人流</b></summary>{headline}"
        "<b>Visitors/day 日访客</b>"
        "<table><tr><th></th><th>Capacity 容量</th><th>Before 之前</th><th>After 之后</th></tr>"
        f"{''.join(rows)}</table>"
        f"<p class='note'>Market load change 变化: {change:+.0f} %</p>"
        f"{reasons_html(demand) if demand is not None else ''}"
        "<b>Service points 服务点</b> <small>(click a heading to sort, a row to zoom "
        "点击表头排序，点击行定位)</small>"
        "<table class='dm-points dm-sortable' data-key='points:'>"
        f"<thead><tr><th>Point 服务点</th><th>Capacity 容量</th><th>Load 负荷</th>{wait_head}"
        f"<th></th></tr></thead><tbody>{''.join(point_rows)}</tbody></table>"
        f"{chart}</details>"
    )


def _wait_cells(points: gpd.GeoDataFrame) -> list[str]:
    """``<td>`` cells with staff and peak-hour mean wait of each point ("" without them)."""
    if not _has_queue(points):
        return [""] * len(points)
    out = []
    for staff, wait in zip(points["staff"], points["mean_wait_min"], strict=True):
        w = _minutes(wait)
        text = "unbounded 无限" if w is None else f"{w:.0f} min"
        key = "1e9" if w is None else f"{w:.2f}"
        out.append(
            f"<td data-v='{int(pd.to_numeric(staff))}'>{int(pd.to_numeric(staff))}</td>"
            f"<td data-v='{key}'>{esc(text)}</td>"
        )
    return out


def tradeoff_html(curve: Mapping[str, Any]) -> str:
    """Trade-off chart (inline SVG: share of seekers within 15/30/45 min by number of new
    points) and table (staff used, worst wait, market load, unserved) for the given pool."""
    rows = [r for r in curve["points"] if isinstance(r, Mapping)]
    xs = [float(r["new_points"]) for r in rows]
    width, height, pad = 240.0, 110.0, 22.0
    x0, x1 = min(xs), max(xs)

    def px(x: float) -> float:
        return pad + (width - 2 * pad) * ((x - x0) / (x1 - x0) if x1 > x0 else 0.5)

    def py(share: float) -> float:
        return height - pad - (height - 2 * pad) * share

    lines = []
    for key, colour in (("within_15_min", "#9ecae1"), ("within_30_min", "#3182bd"),
                        ("within_45_min", "#08519c")):  # fmt: skip
        pts = " ".join(
            f"{px(x):.1f},{py(float(r[key])):.1f}" for x, r in zip(xs, rows, strict=True)
        )
        lines.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>')
    ticks = "".join(
        f'<text x="{px(x):.1f}" y="{height - 6:.0f}" font-size="9" text-anchor="middle">'
        f"{x:.0f}</text>"
        for x in xs
    )
    axes = (
        f'<line x1="{pad}" y1="{py(0):.1f}" x2="{width - pad}" y2="{py(0):.1f}" stroke="#999"/>'
        f'<text x="2" y="{py(1):.1f}" font-size="9">100%</text>'
        f'<text x="2" y="{py(0.5):.1f}" font-size="9">50%</text>'
    )
    svg = f'<svg width="{width:.0f}" height="{height:.0f}">{axes}{"".join(lines)}{ticks}</svg>'
    table = "".join(
        f"<tr><td>{int(r['new_points'])}</td><td>{float(r['within_30_min']):.0%}</td>"
        f"<td>{int(r['staff_used'])}</td><td>{float(r['worst_mean_wait_min']):.0f}</td>"
        f"<td>{float(r['market_load']):,.0f}</td><td>{float(r['unserved_visits']):,.0f}</td></tr>"
        for r in rows
    )
    pool = esc(str(curve.get("pool", "")))
    return (
        f"<b>Trade-off 方案权衡 (staff pool 人员 {pool})</b>"
        "<p class='note'>Seekers within 15/30/45 min (light to dark) by new points "
        "按新增服务点数的15/30/45分钟内可达比例</p>"
        f"{svg}<table class='dm-points'><tr><th>Points 点</th><th>≤30 min</th>"
        "<th>Staff 人员</th><th>Worst wait 最长等候</th><th>Market 市场</th>"
        f"<th>Unserved 未服务</th></tr>{table}</table>"
    )


QUEUE_FIELDS = (
    ("staff", "Staff 工作人员"),
    ("wait", "Peak-hour wait 高峰平均等候"),
    ("on_site", "People on site 现场人数"),
    ("loop", "Loop 事事有回音"),
)


def _has_queue(points: gpd.GeoDataFrame) -> bool:
    return {"staff", "mean_wait_min"} <= set(points.columns)


def _minutes(value: object) -> float | None:
    v = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return None if pd.isna(v) else float(v)


def _points_frame(
    points: gpd.GeoDataFrame, industries: IndustryCatalogue = DEFAULT_CATALOGUE
) -> gpd.GeoDataFrame:
    load = pd.to_numeric(points["load"]).to_numpy(dtype=float)
    cap = pd.to_numeric(points["capacity"]).to_numpy(dtype=float)
    codes = points["industries"].map(_split_codes)
    data: dict[str, Any] = {
        "id": points["id"].map(esc),
        "name": points["name"].map(esc),
        "kind": points["kind"].map(layers.kind_label),
        "codes": codes.map(";".join),
        "industries": codes.map(lambda cs: ", ".join(industries.label(c) for c in cs)),
        "load": np.round(load).astype(int),
        "capacity": np.round(cap).astype(int),
        "utilisation": [f"{ld / c:.0%}" if c > 0 else "–" for ld, c in zip(load, cap, strict=True)],
        "radius": np.round(radius_px(load), 1),
        "fill": [utilisation_colour(ld, c) for ld, c in zip(load, cap, strict=True)],
    }
    if _has_queue(points):
        data.update(_queue_columns(points, load, cap))
    return gpd.GeoDataFrame(data, geometry=points.geometry.values, crs=points.crs)


def _queue_columns(points: gpd.GeoDataFrame, load: np.ndarray, cap: np.ndarray) -> dict[str, Any]:
    """Popup texts and the wait-aware fill of staffed points."""
    waits = [_minutes(v) for v in points["mean_wait_min"]]
    p90 = [_minutes(v) for v in points.get("p90_wait_min", pd.Series([None] * len(points)))]
    target = pd.to_numeric(points.get("target_wait_min", pd.Series([15.0] * len(points))))
    wait_txt = [
        "unbounded queue 排队无限增长"
        if w is None
        else f"{w:.1f} min" + (f" (90 % within {q:.0f} min)" if q is not None else "")
        for w, q in zip(waits, p90, strict=True)
    ]
    on_site = []
    for _, row in points.iterrows():
        mean, p95, limit = (
            _minutes(row.get(k)) for k in ("peak_on_site", "p95_on_site", "max_on_site")
        )
        text = "–" if mean is None else f"{mean:.0f} on average"
        if p95 is not None:
            text += f", {p95:.0f} at most (95 %)"
        if limit is not None:
            text += f" / safe {limit:.0f}"
        on_site.append(esc(text))
    return {
        "staff": pd.to_numeric(points["staff"]).fillna(0).astype(int).to_numpy(),
        "wait": [esc(t) for t in wait_txt],
        "on_site": on_site,
        "fill": [
            queue_colour(ld, c, w, float(t))
            for ld, c, w, t in zip(load, cap, waits, target.to_numpy(dtype=float), strict=True)
        ],
    }


def _add_points(
    m: folium.Map,
    data: gpd.GeoDataFrame,
    industry: str,
    industries: IndustryCatalogue = DEFAULT_CATALOGUE,
) -> None:
    subset = data[data["codes"].str.split(";").map(lambda cs: industry in cs)]
    group = folium.FeatureGroup(name=points_layer_name(industry, industries)).add_to(m)
    colour = industries.colour(industry)
    fields = ["name", "kind", "industries", "load", "capacity", "utilisation"]
    aliases = [
        "Service point 服务点",
        "Kind 类型",
        "Industries 行业",
        "Load/day 日负荷",
        "Safe capacity/day 安全日容量",
        "Load / capacity 负荷率",
    ]
    for col, alias in QUEUE_FIELDS:
        if col in data:
            fields.append(col)
            aliases.append(alias)
    geojson(
        round_coords(subset.drop(columns=["codes"])),
        marker=folium.CircleMarker(radius=MIN_RADIUS_PX),
        style_function=lambda f: {
            "radius": f["properties"]["radius"],
            "fill": True,
            "fillColor": f["properties"]["fill"],
            "fillOpacity": 0.95,
            "color": colour,  # ring in the industry colour, fill by load and wait
            "weight": 3,
        },
        popup=folium.GeoJsonPopup(fields=[*fields, "id"], aliases=[*aliases, "ID"]),
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "load", "capacity"], aliases=["", "Load 负荷", "Capacity 容量"]
        ),
    ).add_to(group)
    register(m, f"points:{industry}", group)


def _add_catchments(m: folium.Map, catchments: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> None:
    names = dict(zip(points["id"].astype(str), points["name"].map(esc), strict=True))
    order = {pid: i for i, pid in enumerate(points["id"].astype(str))}
    pid = catchments["point_id"].astype(str)
    data = gpd.GeoDataFrame(
        {
            "point": pid.map(names),
            "minutes": catchments["minutes"].astype(str) if "minutes" in catchments else "",
            "colour": pid.map(lambda p: CATCHMENT_PALETTE[order[p] % len(CATCHMENT_PALETTE)]),
        },
        geometry=catchments.geometry.values,
        crs=catchments.crs,
    )
    fields, aliases = ["point"], ["Catchment of 服务范围"]
    if "minutes" in catchments:
        fields.append("minutes")
        aliases.append("Minutes 分钟")
    layer = geojson(
        round_coords(data),
        name=CATCHMENTS_LAYER,
        style_function=lambda f: {
            "color": f["properties"]["colour"],
            "fillColor": f["properties"]["colour"],
            "fillOpacity": 0.03,
            "weight": 1.0,
            "opacity": 0.7,
        },
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases),
    ).add_to(m)
    register(m, "catchments", layer)


@dataclass(frozen=True)
class _Checked:
    points: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame | None
    crowd: dict[str, Any] | None
    context: dict[str, Any]


_CONTEXT_CHECKS = {
    "employers": layers.check_employers,
    "seeker_cells": layers.check_seeker_cells,
    "candidate_sites": layers.check_candidate_sites,
    "talent_market": layers.check_talent_market,
    "belts": layers.check_belts,
    "roads": layers.check_roads,
}


def _check_inputs(
    plan: PlanLayers, context: dict[str, object], industries: IndustryCatalogue
) -> _Checked:
    """Check every input; raise one :class:`InputError` listing all problems."""
    problems: list[Problem] = []
    points = check_service_points(plan.service_points, problems, industries)
    ids = set(points["id"].astype(str)) if points is not None else None
    catch = (
        check_catchments(plan.catchments, ids, problems) if plan.catchments is not None else None
    )
    crowd_d = check_crowd(plan.crowd, problems) if plan.crowd is not None else None
    checks: dict[str, Any] = {
        **_CONTEXT_CHECKS,  # industry codes are checked against the scenario's catalogue
        "employers": functools.partial(layers.check_employers, industries=industries),
        "belts": functools.partial(layers.check_belts, industries=industries),
    }
    checked = {
        name: None if frame is None else checks[name](frame, problems)
        for name, frame in context.items()
    }
    if problems:
        raise InputError(problems)
    assert points is not None
    return _Checked(points, catch, crowd_d, checked)


def _add_context(
    m: folium.Map,
    ctx: dict[str, Any],
    catch: gpd.GeoDataFrame | None,
    points: gpd.GeoDataFrame,
    legend: list[LegendSection],
    industries: IndustryCatalogue,
) -> LegendSection:
    """Draw the context layers below the points; returns the "Places" legend section."""
    if ctx["roads"] is not None:
        layers.add_roads(m, ctx["roads"])
    if ctx["belts"] is not None:
        layers.add_belts(m, ctx["belts"], industries=industries)
    if ctx["seeker_cells"] is not None:
        # Off by default: the hexagons would hide the belts (switch on in the layer list).
        legend.append(layers.add_seeker_cells(m, ctx["seeker_cells"], show=False))
    if catch is not None:
        _add_catchments(m, catch, points)
    if ctx["employers"] is not None:
        layers.add_employers(m, ctx["employers"], show=False, industries=industries)
    if ctx["candidate_sites"] is not None:
        return layers.add_candidate_sites(m, ctx["candidate_sites"], show=False)
    return LegendSection("Places 地点")


def _legend(
    legend: list[LegendSection],
    places: LegendSection,
    shown: set[str],
    industries: IndustryCatalogue,
    *,
    with_catchments: bool,
    with_queue: bool = False,
) -> list[LegendSection]:
    if with_queue:
        size_items = [LegendItem(colour, label, swatch="dot") for colour, label in QUEUE_COLOURS]
    else:
        size_items = [
            LegendItem(colour, label, swatch="dot") for _u, colour, label in UTILISATION_COLOURS
        ]
    out = [
        LegendSection(
            "Service points 服务点",
            size_items,
            "Circle size grows with daily load; ring colour = industry. "
            "圆越大负荷越高，外圈颜色表示行业。",
        ),
        layers.industries_legend(shown, industries),
        *legend,
        places,
    ]
    if with_catchments:
        out.append(
            LegendSection(
                CATCHMENTS_LAYER,
                [
                    LegendItem(
                        CATCHMENT_PALETTE[0],
                        "thin grey outline per service point 每个服务点灰色细线范围",
                    )
                ],
            )
        )
    return out


def points_table_html(data: gpd.GeoDataFrame) -> str:
    """The service points' attribute table (filterable, sortable, rows zoom to the point)."""
    headings = ["ID", "Service point 服务点", "Industries 行业", "Load/day 日负荷",
                "Capacity/day 日容量", "Load % 负荷率"]  # fmt: skip
    queue = "staff" in data
    if queue:
        headings += ["Staff 人员", "Peak wait 高峰等候", "On site 现场"]
    rows = []
    for _, p in data.iterrows():
        ratio = p["load"] / p["capacity"] if p["capacity"] > 0 else 1e9
        cells: list[tuple[str, str | None]] = [
            (p["id"], None),
            (p["name"], None),
            (esc(p["industries"]), None),
            (f"{p['load']:,}", str(p["load"])),
            (f"{p['capacity']:,}", str(p["capacity"])),
            (p["utilisation"], f"{ratio:.4f}"),
        ]
        if queue:
            cells += [(str(p["staff"]), str(p["staff"])), (p["wait"], None), (p["on_site"], None)]
        rows.append((str(p["id"]), cells))
    return table_html("dm-points-table", headings, rows, layer_key="points:")


def plan_map(
    *,
    service_points: gpd.GeoDataFrame,
    catchments: gpd.GeoDataFrame | None = None,
    crowd: Mapping[str, Any] | None = None,
    employers: gpd.GeoDataFrame | None = None,
    seeker_cells: HexBins | layers.SeekerCells | gpd.GeoDataFrame | None = None,
    candidate_sites: gpd.GeoDataFrame | None = None,
    talent_market: gpd.GeoDataFrame | None = None,
    belts: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    market_demand: MarketDemand | None = None,
    loop: LoopSection | None = None,
    title: str,
    synthetic: bool,
    tiles: str | None = None,
    attribution: str | None = None,
    industries: IndustryCatalogue = DEFAULT_CATALOGUE,
) -> folium.Map:
    """Build the plan map.

    Parameters
    ----------
    service_points
        Opened points (``id``, ``name``, ``kind``, ``industries``, ``load``, ``capacity``;
        loads and capacities in visitors per day). Circle area grows with load; fill shows
        load/capacity, ring colour the industry; popup with load and capacity.
    catchments
        Optional catchment polygons (``point_id``, optional ``minutes``).
    crowd
        Optional before/after figures for the crowd panel (see module docstring).
    market_demand
        Optional demand still sent to the market (:func:`maps.market.market_demand`): a
        layer of aggregated hexagons, and its reasons in the crowd panel.
    loop
        Optional loop section (:class:`maps.loop.LoopSection`): the loop report's panel,
        a row in the points' popups and the open-cases layer; with no report in it, the
        panel says how to create the loop database.
    employers, seeker_cells, candidate_sites, talent_market, belts, roads
        Optional context layers, as in :func:`maps.overview.overview_map`; employers and
        candidate sites start hidden.
    title, synthetic, tiles, attribution, industries
        As in :func:`maps.overview.overview_map`.

    Raises
    ------
    geo.InputError
        Listing every problem found in the inputs.
    """
    checked = _check_inputs(
        PlanLayers(service_points, catchments, crowd),
        {
            "employers": employers,
            "seeker_cells": seeker_cells,
            "candidate_sites": candidate_sites,
            "talent_market": talent_market,
            "belts": belts,
            "roads": roads,
        },
        industries,
    )
    points, catch, crowd_d = checked.points, checked.catchments, checked.crowd
    ctx = checked.context
    market = ctx["talent_market"]
    m = base_map(
        bounds=bounds_of([points, catch, market]),
        title=title,
        subtitle="Service-point plan 服务点方案",
        synthetic=synthetic,
        tiles=tiles,
        attribution=attribution,
    )
    legend: list[LegendSection] = []
    places = _add_context(m, ctx, catch, points, legend, industries)
    if market_demand is not None:
        legend.insert(0, add_market_demand(m, market_demand))
    data = _points_frame(points, industries)
    if loop is not None:
        data["loop"] = [point_loop_text(loop, str(p)) for p in points["id"]]
    served = {c for cs in data["codes"] for c in cs.split(";")}
    for code in industries.codes:  # display order, one toggle per served industry
        if code in served:
            _add_points(m, data, code, industries)
    loop_legend = None if loop is None else add_loop_layer(m, loop, points)
    if loop_legend is not None:
        legend.append(loop_legend)
    market_capacity = None
    if market is not None:
        load = float(crowd_d["market_after"]) if crowd_d is not None else None
        places.items.append(layers.add_talent_market(m, market, load=load))
        if len(market) == 1:
            market_capacity = float(market["capacity"].iloc[0])
    belt = ctx["belts"]
    shown = set(served) | (set(belt["industry"].astype(str)) if belt is not None else set())
    add_legend(
        m,
        _legend(
            legend,
            places,
            shown,
            industries,
            with_catchments=catch is not None,
            with_queue=_has_queue(points),
        ),
    )
    if crowd_d is not None:
        HtmlControl(
            crowd_panel_html(crowd_d, points, market_capacity, market_demand),
            position="topleft",
            css_class="dm-crowd",
        ).add_to(m)
    if loop is not None:
        add_loop_panel(m, loop, points, industries)
    HtmlControl(points_table_html(data), position="bottomleft", css_class="dm-table").add_to(m)
    names = {
        f"points:{c}": points_layer_name(c, industries) for c in industries.codes if c in served
    }
    drawn = {
        "market_demand": market_demand is not None,
        "catchments": catch is not None,
        "loop": loop is not None and loop.report is not None,
        **{
            k: ctx.get("seeker_cells" if k == "seekers" else k) is not None
            for k in layers.LAYER_NAMES
        },
    }
    names |= {
        k: {
            "market_demand": MARKET_DEMAND_LAYER,
            "catchments": CATCHMENTS_LAYER,
            "loop": LOOP_LAYER,
        }.get(k)
        or layers.LAYER_NAMES[k]
        for k, on in drawn.items()
        if on and k != "roads"
    }
    add_tools(m, names)
    logger.info("plan map: %d service points, %d industries", len(points), len(served))
    return finish(m, collapsed=True)
