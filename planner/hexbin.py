"""Aggregate personal locations into hexagonal cells, suppressing small cells.

Seekers' residences are personal data. Every output that shows where seekers live (maps,
API, plan files) goes through :func:`hexbin`, which counts points per hexagon of a fixed size
in a metric CRS and applies :func:`planner.disclosure.protect`: cells with fewer than
``min_count`` people are suppressed (their count is reported in :attr:`HexBins.suppressed`,
never silently lost), sub-counts per category in ``1..min_count-1`` are hidden (null) and
merged into ``merged``, with complementary suppression so none can be recovered by
subtraction from row or city-wide totals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.disclosure import MERGED, protect

DEFAULT_CELL_M = 500.0
"""Default hexagon size: distance between opposite edges (metres)."""
MIN_COUNT = 5
"""Cells with fewer people than this are suppressed (not shown)."""


@dataclass(frozen=True)
class HexBins:
    """Result of :func:`hexbin`.

    Attributes
    ----------
    cells
        One row per shown cell: ``cell`` (``"q,r"`` axial id), ``count``, one ``n_<value>``
        column per category value if categories were given (nullable: hidden sub-counts are
        null) and ``merged`` (their sum), geometry (hexagon, EPSG:4326).
    suppressed
        Number of people in suppressed cells.
    suppressed_cells
        Number of suppressed cells.
    cell_m
        Hexagon size (distance between opposite edges, metres).
    hidden_parts
        Number of sub-counts hidden in shown cells.
    min_count
        The ``k`` applied: no shown cell holds fewer people.
    """

    cells: gpd.GeoDataFrame
    suppressed: int
    suppressed_cells: int
    cell_m: float
    hidden_parts: int = 0
    min_count: int = MIN_COUNT


def axial_index(x: np.ndarray, y: np.ndarray, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Axial coordinates (q, r) of pointy-top hexagons of size `cell_m` containing (x, y)."""
    size = cell_m / math.sqrt(3.0)  # centre-to-corner radius
    qf = (math.sqrt(3.0) / 3.0 * x - y / 3.0) / size
    rf = (2.0 / 3.0 * y) / size
    # Cube rounding: round all three cube coordinates, fix the one with the largest error.
    sf = -qf - rf
    q, r, s = np.rint(qf), np.rint(rf), np.rint(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return q.astype(np.int64), r.astype(np.int64)


def hex_polygons(q: np.ndarray, r: np.ndarray, cell_m: float) -> np.ndarray:
    """Hexagon polygons (metric CRS) for axial coordinates."""
    size = cell_m / math.sqrt(3.0)
    cx = size * math.sqrt(3.0) * (q + r / 2.0)
    cy = size * 1.5 * r
    angles = np.deg2rad(np.arange(6) * 60.0 + 30.0)
    xs = cx[:, None] + size * np.cos(angles)[None, :]
    ys = cy[:, None] + size * np.sin(angles)[None, :]
    rings = np.stack([xs, ys], axis=-1)
    return shapely.polygons(rings)


def hexbin(
    points: gpd.GeoDataFrame,
    *,
    metric_crs: str,
    cell_m: float = DEFAULT_CELL_M,
    min_count: int = MIN_COUNT,
    category: str | None = None,
    categories: list[str] | None = None,
) -> HexBins:
    """Count `points` per hexagon and suppress cells with fewer than `min_count` points.

    Parameters
    ----------
    points
        Point layer (any CRS).
    metric_crs
        Projected CRS (metres) in which the hexagons are regular.
    cell_m
        Distance between opposite edges of a hexagon (metres).
    min_count
        Smallest publishable count (``k`` of :func:`planner.disclosure.protect`): cells
        with fewer points are suppressed, smaller sub-counts hidden.
    category
        Optional column; a ``;``-separated list per row is counted once per value.
    categories
        Values of `category` to give columns for (default: all values seen).
    """
    if cell_m <= 0:
        msg = f"`cell_m` must be positive, got {cell_m}"
        raise ValueError(msg)
    if min_count < 1:
        msg = f"`min_count` must be at least 1, got {min_count}"
        raise ValueError(msg)
    geom = points.geometry.to_crs(metric_crs)
    q, r = axial_index(geom.x.to_numpy(), geom.y.to_numpy(), cell_m)
    frame = pd.DataFrame({"q": q, "r": r})
    counts = frame.groupby(["q", "r"]).size().rename("count")
    parts: list[str] = []
    if category is not None:
        values = points[category].astype(str).str.split(";")
        exploded = frame.assign(value=values.to_numpy()).explode("value")
        wide = exploded.groupby(["q", "r", "value"]).size().unstack(fill_value=0)
        wanted = categories if categories is not None else sorted(wide.columns)
        wide = wide.reindex(columns=wanted, fill_value=0).add_prefix("n_")
        parts = list(wide.columns)
        table = pd.concat([counts, wide], axis=1).fillna(0).astype(np.int64)
    else:
        table = counts.to_frame()
    protected = protect(table.reset_index(), total="count", parts=parts, k=min_count)
    shown = protected.table
    if not parts:
        shown = shown.drop(columns=[MERGED])
    polys = hex_polygons(shown["q"].to_numpy(), shown["r"].to_numpy(), cell_m)
    cells = gpd.GeoDataFrame(
        shown.drop(columns=["q", "r"]).assign(
            cell=shown["q"].astype(str) + "," + shown["r"].astype(str)
        ),
        geometry=polys,
        crs=metric_crs,
    ).to_crs("EPSG:4326")
    cells = cells[
        ["cell", *[c for c in cells.columns if c not in ("cell", "geometry")], "geometry"]
    ]
    return HexBins(
        cells=cells,
        suppressed=protected.suppressed,
        suppressed_cells=protected.suppressed_rows,
        cell_m=cell_m,
        hidden_parts=protected.hidden_parts,
        min_count=min_count,
    )
