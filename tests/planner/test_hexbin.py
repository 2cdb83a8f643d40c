"""Hexagon aggregation of personal locations."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.hexbin import axial_index, hex_polygons, hexbin

CRS = "EPSG:32650"


@settings(max_examples=60, deadline=None)
@given(
    xs=st.lists(st.floats(-50_000, 50_000), min_size=1, max_size=40),
    ys=st.lists(st.floats(-50_000, 50_000), min_size=1, max_size=40),
    cell=st.sampled_from([100.0, 250.0, 1000.0]),
)
def test_each_point_lies_in_its_own_hexagon(xs, ys, cell):
    n = min(len(xs), len(ys))
    x, y = np.array(xs[:n]), np.array(ys[:n])
    q, r = axial_index(x, y, cell)
    polys = hex_polygons(q, r, cell)
    # Points on a shared edge may go either way; allow a tiny tolerance.
    assert shapely.dwithin(polys, shapely.points(x, y), 1e-6).all()


def _points(xy, extra=None):
    gdf = gpd.GeoDataFrame(
        extra or {}, geometry=gpd.points_from_xy(*zip(*xy, strict=True)), crs=CRS
    )
    return gdf


def test_counts_and_suppression_lose_nobody():
    rng = np.random.default_rng(0)
    dense = rng.normal([500_000, 2_400_000], 200, size=(300, 2))
    sparse = np.array([[520_000, 2_420_000], [540_000, 2_440_000]])  # two loners
    pts = _points(np.vstack([dense, sparse]).tolist())
    bins = hexbin(pts, metric_crs=CRS, cell_m=500, min_count=5)
    assert bins.cells["count"].min() >= 5
    assert bins.cells["count"].sum() + bins.suppressed == len(pts)
    assert bins.suppressed >= 2
    assert bins.cells.crs.to_epsg() == 4326


def test_category_columns_count_each_listed_value():
    xy = [(500_000.0, 2_400_000.0)] * 6
    pts = _points(xy, {"industries": ["textile", "textile;toys", "toys", "food", "food", "food"]})
    bins = hexbin(
        pts,
        metric_crs=CRS,
        category="industries",
        categories=["textile", "toys", "food"],
        min_count=1,
    )
    row = bins.cells.iloc[0]
    assert (row["count"], row["n_textile"], row["n_toys"], row["n_food"]) == (6, 2, 2, 3)


def test_small_industry_counts_are_never_published():
    # Two cells of 6 and 8; the 1-2 person industries cannot be published, nor recovered
    # from the city-wide totals: with one cell's breakdown hidden, the other's must be too.
    xy = [(500_000.0, 2_400_000.0)] * 6 + [(510_000.0, 2_400_000.0)] * 8
    inds = ["textile"] * 5 + ["food"] + ["textile"] * 6 + ["toys"] * 2
    pts = _points(xy, {"industries": inds})
    bins = hexbin(
        pts, metric_crs=CRS, category="industries", categories=["textile", "toys", "food"]
    )
    parts = bins.cells[["n_textile", "n_toys", "n_food"]]
    assert not ((parts > 0) & (parts < 5)).fillna(False).to_numpy().any()
    assert list(bins.cells["count"]) == [6, 8]
    assert list(bins.cells["merged"]) == [6, 8]  # everything merged: 5 + 1, 6 + 2


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"cell_m": 0}, "`cell_m`"), ({"min_count": 0}, "`min_count`")]
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        hexbin(_points([(0.0, 0.0)]), metric_crs=CRS, **kwargs)
