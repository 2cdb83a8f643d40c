"""Industry belt detection on synthetic blobs with known membership."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo import InputError
from planner.points.belts import density_clusters, detect_belts


def blobs(seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal([0, 0], 120, (40, 2))
    b = rng.normal([6000, 1000], 120, (25, 2))
    noise = np.array([[3000, -4000], [-5000, 5000], [9000, -3000]])
    xy = np.vstack([a, b, noise])
    truth = np.r_[np.zeros(40), np.ones(25), -np.ones(3)].astype(int)
    return xy, truth


def test_density_clusters_recover_blobs():
    xy, truth = blobs()
    labels = density_clusters(xy, np.full(len(xy), 5.0), radius_m=400, min_demand=30)
    np.testing.assert_array_equal(labels, truth)


def test_demand_weight_makes_a_sparse_group_a_belt():
    # Three far-apart-ish employers: too few by count, but heavy hiring makes them a belt.
    xy = np.array([[0, 0], [300, 0], [600, 0], [5000, 5000]])
    light = density_clusters(xy, [1, 1, 1, 1], radius_m=350, min_demand=50)
    heavy = density_clusters(xy, [40, 40, 40, 1], radius_m=350, min_demand=50)
    assert (light == -1).all()
    assert heavy.tolist() == [0, 0, 0, -1]


def test_detect_belts_per_industry():
    xy, truth = blobs(1)
    industry = np.where(truth == 1, "toys", "textile")
    demand = np.full(len(xy), 5.0)
    gdf = gpd.GeoDataFrame(
        {"industry": industry, "demand": demand}, geometry=shapely.points(xy), crs="EPSG:32649"
    )
    out = detect_belts(gdf, radius_m=400, min_demand=30, buffer_m=100)
    assert len(out.belts) == 2
    by_industry = out.belts.set_index("industry")
    assert by_industry.loc["textile", "n_employers"] == 40
    assert by_industry.loc["toys", "n_employers"] == 25
    assert by_industry.loc["toys", "demand"] == pytest.approx(125.0)
    # Every member lies inside its belt polygon; noise points lie outside all belts.
    for row in out.belts.itertuples():
        members = gdf.geometry.values[out.labels == row.belt_id]
        assert shapely.contains(row.geometry, members).all()
    noise = gdf.geometry.values[out.labels == -1]
    assert len(noise) == 3
    assert not shapely.intersects(out.belts.union_all(), noise).any()


@pytest.mark.parametrize(
    ("crs", "columns", "match"),
    [
        ("EPSG:4326", {"industry": ["toys"], "demand": [1.0]}, "projected"),
        ("EPSG:32649", {"industry": ["toys"]}, "demand"),
        ("EPSG:32649", {"demand": [1.0]}, "industry"),
    ],
)
def test_detect_belts_bad_input(crs, columns, match):
    gdf = gpd.GeoDataFrame(columns, geometry=shapely.points([[0.0, 0.0]]), crs=crs)
    with pytest.raises(InputError, match=match):
        detect_belts(gdf)


@pytest.mark.parametrize("radius", [0.0, -5.0])
def test_bad_radius(radius):
    with pytest.raises(ValueError, match="radius_m"):
        density_clusters(np.zeros((2, 2)), [1, 1], radius_m=radius, min_demand=1)
