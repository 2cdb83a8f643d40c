"""Context layers shared by the overview and plan maps.

Each ``check_*`` validates one input layer (collecting problems, see
:func:`maps._base.check_frame`), each ``add_*`` draws it as one toggleable layer, registers
it for the browser test (:func:`maps._base.register`) and returns its legend section.

Expected inputs (GeoDataFrames in EPSG:4326; extra columns are ignored):

``employers``        points; ``id``, ``name``, ``industry`` (code), ``demand`` (positions)
``seeker_cells``     hexagons from :func:`planner.hexbin.hexbin` (``count`` >= 5), or the
                     :class:`planner.hexbin.HexBins` itself (then the legend states how many
                     seekers were suppressed)
``candidate_sites``  points; ``id``, ``name``, ``kind`` (see :data:`geo.layers.SITE_KINDS`),
                     ``capacity`` (visitors/day)
``talent_market``    points; ``id``, ``name``, ``capacity`` (visitors/day)
``belts``            (multi)polygons; ``industry`` (code), optional ``name``
``roads``            (multi)linestrings; no columns needed (background for synthetic cities)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium import plugins

from geo import Problem
from geo.industries import DEFAULT_CATALOGUE, IndustryCatalogue
from geo.layers import SITE_KINDS
from maps._base import (
    LegendItem,
    LegendSection,
    check_frame,
    esc,
    geojson,
    marker_popup,
    register,
    round_coords,
)
from planner.hexbin import MIN_COUNT, HexBins

POINT = ("Point",)
POLYGON = ("Polygon", "MultiPolygon")
LINE = ("LineString", "MultiLineString")

SEEKER_COLOURS = ("#eef1f4", "#c9d1da", "#9aa7b5", "#6b7a8c", "#3b4a5a")
"""Sequential slate greys of the seeker-density classes (light = few): lightness, not hue,
so density never reads as an industry (see maps/STYLE.md)."""

LAYER_NAMES = {
    "belts": "Industry belts 产业带",
    "employers": "Employers 企业",
    "seekers": "Job seekers (hexagons) 求职者分布",
    "candidate_sites": "Candidate sites 候选站点",
    "talent_market": "Central talent market 人才市场",
    "roads": "Streets 街道",
}
"""Names of the context layers in the layer control (English + Chinese)."""


def industry_label(code: str, industries: IndustryCatalogue = DEFAULT_CATALOGUE) -> str:
    """``"English 中文"`` of an industry of the scenario's catalogue."""
    return industries.label(code)


def _check_codes(
    frame: gpd.GeoDataFrame,
    column: str,
    name: str,
    problems: list[Problem],
    industries: IndustryCatalogue = DEFAULT_CATALOGUE,
) -> None:
    bad = ~frame[column].astype(str).isin(industries.codes)
    for i in np.flatnonzero(bad.to_numpy())[:20]:
        value = frame[column].iloc[i]
        problems.append(
            Problem(
                name,
                int(i) + 1,
                f"unknown industry `{value}` in `{column}`; allowed: {', '.join(industries.codes)}",
            )
        )


def check_nonneg(frame: gpd.GeoDataFrame, column: str, name: str, problems: list[Problem]) -> None:
    """Append a problem for each of the first 20 rows whose `column` is not a number >= 0."""
    values = pd.to_numeric(frame[column], errors="coerce")
    for i in np.flatnonzero((values.isna() | (values < 0)).to_numpy())[:20]:
        problems.append(
            Problem(
                name, int(i) + 1, f"`{column}` must be a number >= 0, got {frame[column].iloc[i]!r}"
            )
        )


@dataclass(frozen=True)
class SeekerCells:
    """Seeker hexagons plus what was suppressed (None when unknown) and the k they were
    protected with; also accepted as input (cells read back from ``city.gpkg``)."""

    cells: gpd.GeoDataFrame
    suppressed: int | None
    suppressed_cells: int | None
    min_count: int = MIN_COUNT  # the scenario's k when the cells come from hexbin


def check_employers(
    frame: object, problems: list[Problem], industries: IndustryCatalogue = DEFAULT_CATALOGUE
) -> gpd.GeoDataFrame | None:
    cols = ("id", "name", "industry", "demand")
    out = check_frame(frame, "employers", columns=cols, geom_types=POINT, problems=problems)
    if out is not None:
        _check_codes(out, "industry", "employers", problems, industries)
        check_nonneg(out, "demand", "employers", problems)
    return out


def check_seeker_cells(frame: object, problems: list[Problem]) -> SeekerCells | None:
    suppressed = suppressed_cells = None
    # Cells made by hexbin carry the k they were protected with (the scenario's
    # `[privacy] min_count`); a bare frame is held to the default.
    floor = MIN_COUNT
    if isinstance(frame, HexBins | SeekerCells):
        suppressed, suppressed_cells = frame.suppressed, frame.suppressed_cells
        floor = frame.min_count
        frame = frame.cells
    out = check_frame(
        frame, "seeker_cells", columns=("count",), geom_types=POLYGON, problems=problems
    )
    if out is None:
        return None
    counts = pd.to_numeric(out["count"], errors="coerce")
    small = int((counts.isna() | (counts < floor)).sum())
    if small:
        # Privacy guard: residences are personal data, small cells could identify people.
        problems.append(
            Problem(
                "seeker_cells",
                None,
                f"{small} cell(s) have `count` < {floor}; seeker "
                "cells must come from planner.hexbin.hexbin (small cells suppressed)",
            )
        )
        return None
    return SeekerCells(out, suppressed, suppressed_cells, floor)


def check_candidate_sites(frame: object, problems: list[Problem]) -> gpd.GeoDataFrame | None:
    cols = ("id", "name", "kind", "capacity")
    out = check_frame(frame, "candidate_sites", columns=cols, geom_types=POINT, problems=problems)
    if out is not None:
        check_nonneg(out, "capacity", "candidate_sites", problems)
    return out


def check_talent_market(frame: object, problems: list[Problem]) -> gpd.GeoDataFrame | None:
    cols = ("id", "name", "capacity")
    out = check_frame(frame, "talent_market", columns=cols, geom_types=POINT, problems=problems)
    if out is not None:
        check_nonneg(out, "capacity", "talent_market", problems)
    return out


def check_belts(
    frame: object, problems: list[Problem], industries: IndustryCatalogue = DEFAULT_CATALOGUE
) -> gpd.GeoDataFrame | None:
    out = check_frame(frame, "belts", columns=("industry",), geom_types=POLYGON, problems=problems)
    if out is not None:
        _check_codes(out, "industry", "belts", problems, industries)
    return out


def check_roads(frame: object, problems: list[Problem]) -> gpd.GeoDataFrame | None:
    return check_frame(frame, "roads", columns=(), geom_types=LINE, problems=problems)


def industries_legend(
    codes: set[str], industries: IndustryCatalogue = DEFAULT_CATALOGUE
) -> LegendSection:
    """Legend rows of `codes`, in the catalogue's display order."""
    items = [LegendItem(i.colour, i.label) for i in industries if i.code in codes]
    return LegendSection("Industries 行业", items)


def dot_html(colour: str, size: int = 10) -> str:
    return f'<div class="dm-dot" style="background:{colour};width:{size}px;height:{size}px"></div>'


def merged_roads(roads: gpd.GeoDataFrame, decimals: int = 5) -> dict[str, Any]:
    """All street lines as one GeoJSON MultiLineString feature, coordinates rounded.

    One feature instead of tens of thousands keeps the page small and fast: folium writes
    per-feature ids and style cases, which would dominate a city's street network. Built
    with vectorised shapely calls (shapely's ``__geo_interface__`` loops in Python per part).
    5 decimals (about 1 m) is plenty for a background.
    """
    parts = shapely.get_parts(roads.geometry.to_numpy())
    coords, index = shapely.get_coordinates(parts, return_index=True)
    coords = np.round(coords, decimals)
    lines = [c.tolist() for c in np.split(coords, np.flatnonzero(np.diff(index)) + 1) if len(c)]
    geometry = {"type": "MultiLineString", "coordinates": lines}
    feature = {"type": "Feature", "properties": {}, "geometry": geometry}
    return {"type": "FeatureCollection", "features": [feature]}


def add_roads(m: folium.Map, roads: gpd.GeoDataFrame) -> None:
    layer = geojson(
        merged_roads(roads),
        name=LAYER_NAMES["roads"],
        style_function=lambda _f: {"color": "#b9b3a8", "weight": 1.2, "opacity": 0.9},
        interactive=False,
    ).add_to(m)
    register(m, "roads", layer)


def add_belts(
    m: folium.Map,
    belts: gpd.GeoDataFrame,
    *,
    show: bool = True,
    industries: IndustryCatalogue = DEFAULT_CATALOGUE,
) -> LegendSection:
    data = gpd.GeoDataFrame(
        {
            "industry": belts["industry"].astype(str),
            "label": belts["industry"].astype(str).map(industries.label),
            "name": belts["name"].map(esc) if "name" in belts else "",
        },
        geometry=belts.geometry.values,
        crs=belts.crs,
    )
    group = folium.FeatureGroup(name=LAYER_NAMES["belts"], show=show).add_to(m)
    geojson(
        round_coords(data),
        style_function=lambda f: {
            "color": industries.colour(f["properties"]["industry"]),
            "weight": 1.5,
            "fillColor": industries.colour(f["properties"]["industry"]),
            "fillOpacity": 0.18,
        },
        tooltip=folium.GeoJsonTooltip(fields=["label", "name"], labels=False),
    ).add_to(group)
    register(m, "belts", group)
    return industries_legend(set(data["industry"]), industries)


def add_employers(
    m: folium.Map,
    employers: gpd.GeoDataFrame,
    *,
    show: bool = True,
    industries: IndustryCatalogue = DEFAULT_CATALOGUE,
) -> LegendSection:
    data = gpd.GeoDataFrame(
        {
            "id": employers["id"].map(esc),
            "name": employers["name"].map(esc),
            "industry": employers["industry"].astype(str),
            "label": employers["industry"].astype(str).map(industries.label),
            "demand": pd.to_numeric(employers["demand"]).astype(int),
        },
        geometry=employers.geometry.values,
        crs=employers.crs,
    )
    cluster = plugins.MarkerCluster(
        name=LAYER_NAMES["employers"],
        show=show,
        options={"maxClusterRadius": 45, "chunkedLoading": True},
    ).add_to(m)
    geojson(
        round_coords(data),
        marker=folium.Marker(
            icon=folium.DivIcon(
                html="", icon_size=(10, 10), icon_anchor=(5, 5), class_name="dm-emp"
            )
        ),
        # Per-feature icon HTML: folium merges the style dict into the DivIcon options.
        style_function=lambda f: {"html": dot_html(industries.colour(f["properties"]["industry"]))},
        on_each_feature=marker_popup(
            ["name", "label", "demand", "id"],
            ["Employer 企业", "Industry 行业", "Open positions 岗位需求", "ID"],
        ),
    ).add_to(cluster)
    register(m, "employers", cluster)
    return industries_legend(set(data["industry"]), industries)


def seeker_breaks(
    counts: np.ndarray, classes: int = len(SEEKER_COLOURS), *, floor: int = MIN_COUNT
) -> np.ndarray:
    """Class edges (integers, increasing) for seeker counts: quantiles, at least `floor`."""
    qs = np.quantile(counts, np.linspace(0.0, 1.0, classes + 1)) if len(counts) else np.array([])
    edges = np.unique(np.ceil(np.concatenate([[floor], qs])).astype(int))
    edges = edges[edges >= floor]
    if len(edges) < 2:
        edges = np.array([floor, floor + 1])
    return edges


def add_seeker_cells(m: folium.Map, seekers: SeekerCells, *, show: bool = True) -> LegendSection:
    counts = pd.to_numeric(seekers.cells["count"]).astype(int).to_numpy()
    edges = seeker_breaks(counts, floor=seekers.min_count)
    # Class i holds counts in [edges[i], edges[i+1]); the last class includes the maximum.
    cls = np.clip(np.searchsorted(edges, counts, side="right") - 1, 0, len(edges) - 2)
    colours = np.array(SEEKER_COLOURS)[
        np.round(np.linspace(0, len(SEEKER_COLOURS) - 1, len(edges) - 1)).astype(int)
    ]
    data = gpd.GeoDataFrame(
        {"count": counts, "fill": colours[cls]},
        geometry=seekers.cells.geometry.values,
        crs=seekers.cells.crs,
    )
    layer = geojson(
        round_coords(data),
        name=LAYER_NAMES["seekers"],
        show=show,
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "fillOpacity": 0.45,
            "color": "#6b7a8c",
            "weight": 0.4,
        },
        # folium refuses a tooltip over a layer without features (every cell suppressed).
        tooltip=(
            folium.GeoJsonTooltip(fields=["count"], aliases=["Job seekers 求职者"])
            if len(data)
            else None
        ),
    ).add_to(m)
    register(m, "seekers", layer)
    items = []
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1] - (0 if i == len(edges) - 2 else 1)
        label = f"{lo}" if lo >= hi else f"{lo}–{hi}"
        items.append(LegendItem(str(colours[i]), f"{label} seekers per cell"))
    note = (
        f"Cells with fewer than {seekers.min_count} seekers are not shown (privacy). "
        f"少于{seekers.min_count}人的网格不显示。"
    )
    if seekers.suppressed is not None:
        cells = "" if seekers.suppressed_cells is None else f" in {seekers.suppressed_cells} cells"
        note += f" Suppressed: {seekers.suppressed} seekers{cells}."
    return LegendSection("Job seekers per hexagon 求职者（六边形网格）", items, note)


def kind_label(kind: object) -> str:
    """HTML-escaped English and Chinese label of a candidate-site ``kind`` code."""
    en, zh = SITE_KINDS.get(str(kind), (str(kind), ""))
    return esc(f"{en} {zh}".strip())


def add_candidate_sites(
    m: folium.Map, sites: gpd.GeoDataFrame, *, show: bool = True
) -> LegendSection:
    data = gpd.GeoDataFrame(
        {
            "id": sites["id"].map(esc),
            "name": sites["name"].map(esc),
            "kind": sites["kind"].map(kind_label),
            "capacity": pd.to_numeric(sites["capacity"]).astype(int),
        },
        geometry=sites.geometry.values,
        crs=sites.crs,
    )
    layer = geojson(
        round_coords(data),
        name=LAYER_NAMES["candidate_sites"],
        show=show,
        marker=folium.CircleMarker(radius=5),
        style_function=lambda _f: {
            "color": "#333333",
            "weight": 1.5,
            "fill": True,
            "fillColor": "#ffffff",
            "fillOpacity": 0.9,
        },
        popup=folium.GeoJsonPopup(
            fields=["name", "kind", "capacity", "id"],
            aliases=["Candidate site 候选站点", "Kind 类型", "Capacity/day 日容量", "ID"],
        ),
    ).add_to(m)
    register(m, "candidate_sites", layer)
    return LegendSection(
        "Places 地点",
        [LegendItem("#ffffff", "Candidate site 候选站点", swatch="dot", outline="#333")],
    )


MARKET_LABEL = "Talent market 人才市场"
STAR_HTML = (
    '<div class="dm-market"><span class="sym">★</span>'
    f'<span class="lbl">{MARKET_LABEL}</span></div>'
)


def add_talent_market(
    m: folium.Map, market: gpd.GeoDataFrame, *, load: float | None = None
) -> LegendItem:
    fields = {
        "name": market["name"].map(esc),
        "capacity": pd.to_numeric(market["capacity"]).astype(int),
        "id": market["id"].map(esc),
    }
    aliases = ["Central talent market 人才市场", "Capacity/day 日容量", "ID"]
    if load is not None and len(market) == 1:
        fields["load"] = pd.Series([round(float(load))], index=market.index)
        aliases.insert(2, "Visitors/day 日访客")
    data = gpd.GeoDataFrame(fields, geometry=market.geometry.values, crs=market.crs)
    keys = [k for k in ("name", "capacity", "load", "id") if k in fields]
    layer = geojson(
        round_coords(data),
        name=LAYER_NAMES["talent_market"],
        # Large, labelled and above every other marker (the issue: an unlabelled 14 px star
        # hidden under the circles).
        marker=folium.Marker(
            icon=folium.DivIcon(
                html=STAR_HTML, icon_size=(34, 34), icon_anchor=(17, 17), class_name="dm-mk"
            ),
            z_index_offset=10_000,
        ),
        popup=folium.GeoJsonPopup(fields=keys, aliases=aliases),
    ).add_to(m)
    register(m, "talent_market", layer)
    return LegendItem(
        '<div class="dm-market small"><span class="sym">★</span></div>',
        "Central talent market 人才市场",
        swatch="html",
    )
