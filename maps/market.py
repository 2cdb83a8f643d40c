"""Demand still sent to the central talent market, aggregated under disclosure control.

The plan's ``assignment_cells`` (``plan.gpkg``) give, per small seeker cell, the service point
(or the market) its seekers go to. Seekers' homes are personal data, so the cells sent to
the market are never drawn as they are: their centres are re-binned into coarser hexagons
(:data:`MARKET_CELL_M`, with :func:`planner.hexbin.axial_index`) and a hexagon is drawn only
if it holds at least :data:`planner.hexbin.MIN_COUNT` seekers; the rest is reported as a total
(seekers, visits per day, hexagons) in the legend. The reasons come from the plan summary
(``plan_summary.json`` ``after.reasons``: visits per day per reason), in English and Chinese.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from maps._base import LegendItem, LegendSection, esc, geojson, register, round_coords
from planner.hexbin import MIN_COUNT, axial_index, hex_polygons

logger = logging.getLogger(__name__)

MARKET_CELL_M = 1500.0
"""Edge-to-edge size (metres) of the hexagons the market-bound demand is shown in."""
MARKET_DEMAND_LAYER = "Still to the market 仍去人才市场"
DEMAND_INK = "#1b1b1b"
"""Market-bound cells are drawn in black ink (lightness = visits), never in an industry hue."""
_MODES_ZH = {"walk": "步行", "ebike": "电动车", "bus": "公交", "car": "汽车"}
_REASONS_ZH = (
    (
        re.compile(r"no open service point for its industries within (\d+) min by (\w+)"),
        "{m}分钟内（{mode}）没有服务其行业的服务点",
    ),
    (
        re.compile(r"matching service points within (\d+) min by (\w+) are full"),
        "{m}分钟内（{mode}）对口服务点已满",
    ),
)


def reason_zh(reason: str) -> str:
    """Chinese text of a plan reason (why demand goes to the market); ``""`` if unknown."""
    for pattern, text in _REASONS_ZH:
        m = pattern.search(reason)
        if m:
            return text.format(m=m.group(1), mode=_MODES_ZH.get(m.group(2), m.group(2)))
    return ""


@dataclass(frozen=True)
class MarketDemand:
    """Market-bound demand as publishable hexagons plus what was held back.

    ``cells`` (EPSG:4326): ``seekers``, ``visits_per_day``, ``mean_time_min`` per hexagon.
    """

    cells: gpd.GeoDataFrame
    hidden_seekers: float = 0.0
    hidden_visits: float = 0.0
    hidden_cells: int = 0
    reasons: Mapping[str, float] = field(default_factory=dict)

    @property
    def visits(self) -> float:
        """All market-bound visits per day (shown and held back)."""
        return float(self.cells["visits_per_day"].sum()) + self.hidden_visits


def market_demand(
    assignment_cells: gpd.GeoDataFrame,
    market_ids: Iterable[str],
    *,
    reasons: Mapping[str, float] | None = None,
    cell_m: float = MARKET_CELL_M,
    min_count: int = MIN_COUNT,
) -> MarketDemand:
    """Aggregate the rows of `assignment_cells` whose ``service_point`` is a market.

    Parameters
    ----------
    assignment_cells
        ``service_point``, ``seekers``, ``visits_per_day``, optional ``mean_time_min`` per
        (cell, destination); polygons in any CRS.
    market_ids
        Ids of the talent market(s) in ``service_point``.
    reasons
        Visits per day per reason (plan summary).
    cell_m, min_count
        Hexagon size (metres) and smallest count shown.
    """
    rows = assignment_cells[assignment_cells["service_point"].astype(str).isin(set(market_ids))]
    empty = gpd.GeoDataFrame(
        {"seekers": [], "visits_per_day": [], "mean_time_min": []}, geometry=[], crs="EPSG:4326"
    )
    if len(rows) == 0:
        return MarketDemand(empty, reasons=dict(reasons or {}))
    metric = rows.estimate_utm_crs()
    centres = rows.to_crs(metric).geometry.centroid
    q, r = axial_index(centres.x.to_numpy(), centres.y.to_numpy(), cell_m)
    seekers = pd.to_numeric(rows["seekers"]).to_numpy(dtype=float)
    minutes = pd.to_numeric(rows.get("mean_time_min", pd.Series(np.nan, index=rows.index)))
    frame = pd.DataFrame(
        {
            "q": q,
            "r": r,
            "seekers": seekers,
            "visits_per_day": pd.to_numeric(rows["visits_per_day"]).to_numpy(dtype=float),
            "weighted": minutes.to_numpy(dtype=float) * seekers,
        }
    )
    agg = frame.groupby(["q", "r"], as_index=False).sum()
    shown = agg[agg["seekers"] >= min_count].reset_index(drop=True)
    hidden = agg[agg["seekers"] < min_count]
    cells = gpd.GeoDataFrame(
        {
            "seekers": np.round(shown["seekers"]).astype(int),
            "visits_per_day": np.round(shown["visits_per_day"], 1),
            "mean_time_min": np.round(shown["weighted"] / shown["seekers"], 0),
        },
        geometry=hex_polygons(shown["q"].to_numpy(), shown["r"].to_numpy(), cell_m),
        crs=metric,
    ).to_crs("EPSG:4326")
    logger.info(
        "market demand: %d hexagons shown, %d held back (%.0f seekers)",
        len(cells),
        len(hidden),
        hidden["seekers"].sum(),
    )
    return MarketDemand(
        cells,
        hidden_seekers=float(hidden["seekers"].sum()),
        hidden_visits=float(hidden["visits_per_day"].sum()),
        hidden_cells=len(hidden),
        reasons=dict(reasons or {}),
    )


def reasons_html(demand: MarketDemand) -> str:
    """Reasons table (visits per day, largest first), English and Chinese, escaped."""
    if not demand.reasons:
        return ""
    rows = "".join(
        f"<tr><td>{esc(reason.split(';')[0])}<br><small>{esc(reason_zh(reason))}</small></td>"
        f"<td>{visits:,.0f}</td></tr>"
        for reason, visits in sorted(demand.reasons.items(), key=lambda kv: -kv[1])
    )
    return (
        "<b>Why they still go to the market 仍去人才市场的原因</b>"
        "<table class='dm-reasons'><tr><th>Reason 原因</th><th>Visits/day 日访次</th></tr>"
        f"{rows}</table>"
    )


def add_market_demand(m: folium.Map, demand: MarketDemand, *, show: bool = True) -> LegendSection:
    """Draw the market-bound hexagons (opacity grows with visits); return the legend."""
    cells = demand.cells
    top = float(cells["visits_per_day"].max()) if len(cells) else 1.0
    data = cells.assign(
        opacity=np.round(0.2 + 0.55 * cells["visits_per_day"] / max(top, 1e-9), 2),
        why="see the reasons in the crowd panel 原因见人流面板",
    )
    layer = geojson(
        round_coords(data),
        name=MARKET_DEMAND_LAYER,
        show=show,
        style_function=lambda f: {
            "color": DEMAND_INK,
            "weight": 1.5,
            "dashArray": "4 3",
            "fillColor": DEMAND_INK,
            "fillOpacity": f["properties"]["opacity"],
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["seekers", "visits_per_day", "mean_time_min", "why"],
            aliases=[
                "Seekers sent to the market 去市场的求职者",
                "Visits/day 日访次",
                "Mean trip 平均行程 (min)",
                "Why 原因",
            ],
        ),
    ).add_to(m)
    register(m, "market_demand", layer)
    # The cells' visits are the plan's assignment_cells; the market's load in the crowd panel
    # (plan summary) is the reference figure and may differ (it is not re-derived here).
    note = (
        f"Home cells sent to the market: {demand.visits:,.0f} visits/day, in hexagons of "
        f"{MARKET_CELL_M / 1000:g} km with at least {MIN_COUNT} seekers. Held back (privacy): "
        f"{demand.hidden_seekers:,.0f} seekers, {demand.hidden_visits:,.0f} visits/day in "
        f"{demand.hidden_cells} hexagons. 分配到人才市场的网格：每日{demand.visits:,.0f}人次。"
    )
    return LegendSection(
        MARKET_DEMAND_LAYER,
        [LegendItem("rgba(27,27,27,0.45)", "darker = more visits/day 越深访次越多")],
        note,
    )
