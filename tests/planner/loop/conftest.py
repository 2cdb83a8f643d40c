"""A tiny city for the loop: a 12 x 12 grid (about 1.4 km), employers, points, volunteers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from geo.engine import Engine
from geo.engine.synthetic import grid_graph
from geo.network import StreetNetwork, network_from_graph
from planner.loop import LoopCity, LoopParams
from planner.store import Store, sqlite_url

CENTRE = (115.50, 21.50)
SPAN = 0.012  # degrees, about 1.3 km
INDUSTRIES = ["textile", "toys", "food"]


@pytest.fixture(scope="session")
def loop_network() -> StreetNetwork:
    return network_from_graph(grid_graph(12, 12, seed=5, centre_lonlat=CENTRE, oneway=0.2))


def points_near(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    lon = CENTRE[0] + rng.uniform(-SPAN / 2, SPAN / 2, n)
    lat = CENTRE[1] + rng.uniform(-SPAN / 2, SPAN / 2, n)
    return lon, lat


def make_city(network: StreetNetwork, *, params: LoopParams | None = None, seed: int = 1):
    rng = np.random.default_rng(seed)
    n_emp = 12
    lon, lat = points_near(rng, n_emp)
    employers = gpd.GeoDataFrame(
        {
            "id": [f"E{i:02d}" for i in range(n_emp)],
            "industry": [INDUSTRIES[i % 3] for i in range(n_emp)],
            "demand": rng.integers(1, 4, n_emp),
            "opens": ["08:00"] * n_emp,
            "closes": ["17:00"] * n_emp,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    plon, plat = points_near(rng, 3)
    points = gpd.GeoDataFrame(
        {
            "id": ["P1", "P2", "M"],
            "industries": ["textile;toys", "food", ""],
            "is_market": [False, False, True],
        },
        geometry=gpd.points_from_xy(plon, plat),
        crs="EPSG:4326",
    )
    vlon, vlat = points_near(rng, 4)
    volunteers = gpd.GeoDataFrame(
        {
            "id": ["V1", "V2", "V3", "V4"],
            "industries": ["textile", "food", "toys", "textile;food"],
            "mode": ["walk"] * 4,
        },
        geometry=gpd.points_from_xy(vlon, vlat),
        crs="EPSG:4326",
    )
    return LoopCity(
        engine=Engine(network),
        employers=employers,
        points=points,
        volunteers=volunteers,
        params=params or LoopParams(per_registration=2, candidates_per_opening=2.0, pool=2),
    )


@pytest.fixture
def loop_city(loop_network):
    return make_city(loop_network)


@pytest.fixture
def store(tmp_path):
    s = Store(sqlite_url(tmp_path / "loop.sqlite"))
    yield s
    s.close()
