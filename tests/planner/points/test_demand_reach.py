"""Sites cut off from a mode's kept street component are unreachable by that mode."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from geo.engine import Engine
from geo.network import load_network
from planner.points.demand import build_demand, site_reachable

CLIPPED = Path(__file__).resolve().parents[2] / "data" / "networks" / "clipped.osm"
# S1 22 m from a car block cut off from the rest; S2 beside the kept ladder.
SITES = gpd.GeoDataFrame(
    {"id": ["S1", "S2"]},
    geometry=gpd.points_from_xy([113.7555, 113.7505], [23.0198, 23.0202]),
    crs="EPSG:4326",
)


@pytest.fixture(scope="module")
def engine():
    return Engine(load_network(CLIPPED, min_component_share=0.5))


def test_cut_off_site_is_unreachable_by_car_only(caplog):
    fresh = Engine(load_network(CLIPPED, min_component_share=0.5))
    assert site_reachable(fresh["car"], SITES).tolist() == [False, True]
    assert site_reachable(fresh["walk"], SITES).tolist() == [True, True]
    warned = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("site S1:") and "cut off" in m for m in warned)
    assert not any("S2" in m for m in warned)


def test_demand_gets_no_finite_time_to_a_cut_off_site(engine):
    seekers = gpd.GeoDataFrame(
        {"id": ["a", "b"], "mode": ["car", "walk"], "industries": ["toys", "toys"]},
        geometry=gpd.points_from_xy([113.7507, 113.7507], [23.0203, 23.0203]),
        crs="EPSG:4326",
    )
    employers = gpd.GeoDataFrame(
        {"id": ["E1"], "industry": ["toys"]},
        geometry=gpd.points_from_xy([113.7506], [23.0201]),
        crs="EPSG:4326",
    )
    demand = build_demand(
        engine,
        seekers,
        employers,
        SITES,
        visit_rate=1.0,
        employer_visit_rate=1.0,
        cell_m=400,
        cutoff_s=None,
    )
    car, walk = demand.seeker_time_s[0], demand.seeker_time_s[1]
    assert np.isinf(car[0]) and np.isfinite(car[1])
    assert np.isfinite(walk).all()
