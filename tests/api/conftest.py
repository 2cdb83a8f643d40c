"""Fixtures of the API tests: a small synthetic city (streets, plan files, routes).

The street network is an osmnx-style MultiDiGraph on a jittered 18 x 18 grid (about 2 x 2 km
around 115.5 E, 21.5 N, open sea like Dongcao) with primary, residential, footway and
motorway streets, one-way streets and a few bent street geometries, so walk and ebike
graphs differ. The plan files follow the pipeline's output layout.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely

from api.settings import Settings
from api.state import ApiState, load_state
from geo.network import StreetNetwork, network_from_graph

LON0, LAT0 = 115.50, 21.50
STEP_DEG = 0.0011  # about 115 m
N = 18
API_KEY = "test-key-0123456789abcdef"
ROUTE_DATE = "2025-03-03"
INDUSTRIES = ["textile", "electrical", "furniture", "toys", "food", "chemical"]


def synthetic_graph(seed: int = 7, n: int = N) -> nx.MultiDiGraph:
    rng = np.random.default_rng(seed)
    g = nx.MultiDiGraph(crs="EPSG:4326")
    for i in range(n):
        for j in range(n):
            g.add_node(
                i * n + j,
                x=LON0 + j * STEP_DEG + rng.uniform(-0.3, 0.3) * STEP_DEG,
                y=LAT0 + i * STEP_DEG + rng.uniform(-0.3, 0.3) * STEP_DEG,
            )

    def street(u: int, v: int, highway: str, oneway: bool, bend: bool) -> None:
        a, b = g.nodes[u], g.nodes[v]
        pts = [(a["x"], a["y"]), (b["x"], b["y"])]
        if bend:
            mx, my = (a["x"] + b["x"]) / 2, (a["y"] + b["y"]) / 2
            pts.insert(1, (mx + 0.2 * STEP_DEG, my + 0.2 * STEP_DEG))
        line = shapely.LineString(pts)
        length = float(
            np.sum(np.hypot(np.diff(line.xy[0]) * 103_600, np.diff(line.xy[1]) * 110_700))
        )
        attrs = {"length": length, "highway": highway, "oneway": oneway, "geometry": line}
        g.add_edge(u, v, **attrs)
        if not oneway:
            g.add_edge(v, u, **dict(attrs, geometry=line.reverse(), reversed=True))

    for i in range(n):
        for j in range(n):
            u = i * n + j
            for v, along_row in ((u + 1, True), (u + n, False)):
                if (along_row and j == n - 1) or (not along_row and i == n - 1):
                    continue
                if rng.random() < 0.08:
                    continue  # missing street
                line_index = i if along_row else j
                if line_index % 6 == 0:
                    highway = "primary"
                elif line_index == 9 and along_row:
                    highway = "motorway"  # no walking, no e-bikes
                elif rng.random() < 0.1:
                    highway = "footway"  # walking only
                else:
                    highway = "residential"
                oneway = highway in ("residential", "motorway") and rng.random() < 0.25
                a, b = (u, v) if rng.random() < 0.5 else (v, u)
                street(a, b, highway, oneway, bend=rng.random() < 0.15)
    return g


def service_points(seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    n = 12
    span = (N - 1) * STEP_DEG
    lon = LON0 + rng.uniform(0.05, 0.95, n) * span
    lat = LAT0 + rng.uniform(0.05, 0.95, n) * span
    inds = [";".join(sorted({INDUSTRIES[i % 6], INDUSTRIES[(i * 5 + 1) % 6]})) for i in range(n)]
    frame = gpd.GeoDataFrame(
        {
            "id": [f"sp{i:02d}" for i in range(n)],
            "name": [f"Service point {i}" for i in range(n)],
            "kind": ["community_centre"] * n,
            "industries": inds,
            "capacity": rng.integers(100, 400, n),
            "load": rng.integers(0, 300, n),
            "is_market": [False] * n,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    market = gpd.GeoDataFrame(
        {
            "id": ["market"],
            "name": ["Talent market 人才市场"],
            "kind": ["market"],
            "industries": [""],
            "capacity": [2000],
            "load": [1500],
            "is_market": [True],
        },
        geometry=gpd.points_from_xy([LON0 + span / 2], [LAT0 + span / 2]),
        crs="EPSG:4326",
    )
    return pd.concat([frame, market], ignore_index=True)


def plan_layers() -> dict[str, gpd.GeoDataFrame]:
    """Every collection's layer (EPSG:4326)."""
    rng = np.random.default_rng(11)
    span = (N - 1) * STEP_DEG
    sp = service_points()
    n_emp = 40
    emp = gpd.GeoDataFrame(
        {
            "id": [f"e{i:03d}" for i in range(n_emp)],
            "name": [f"Factory {i}" for i in range(n_emp)],
            "industry": rng.choice(INDUSTRIES, n_emp),
            "demand": rng.integers(0, 50, n_emp),
            "opens": ["08:00"] * n_emp,
            "closes": ["18:00"] * n_emp,
            "contact_phone": ["13800000000"] * n_emp,  # private: must never be served
        },
        geometry=gpd.points_from_xy(
            LON0 + rng.uniform(0, span, n_emp), LAT0 + rng.uniform(0, span, n_emp)
        ),
        crs="EPSG:4326",
    )
    belts = gpd.GeoDataFrame(
        {
            "industry": ["textile", "textile", "toys"],
            "employers": [10, 4, 6],
            "demand": [120, 30, 60],
        },
        geometry=[
            shapely.box(LON0, LAT0, LON0 + span / 3, LAT0 + span / 3),
            shapely.box(LON0 + span / 2, LAT0, LON0 + span, LAT0 + span / 4),
            shapely.box(LON0, LAT0 + span / 2, LON0 + span / 2, LAT0 + span),
        ],
        crs="EPSG:4326",
    )
    catch = gpd.GeoDataFrame(
        {"service_point": sp["id"].tolist()},
        geometry=[shapely.Point(p.x, p.y).buffer(0.002) for p in sp.geometry],
        crs="EPSG:4326",
    )
    sites = gpd.GeoDataFrame(
        {
            "id": [f"c{i}" for i in range(8)],
            "name": [f"Site {i}" for i in range(8)],
            "kind": ["school"] * 8,
            "capacity": [150] * 8,
        },
        geometry=gpd.points_from_xy(LON0 + rng.uniform(0, span, 8), LAT0 + rng.uniform(0, span, 8)),
        crs="EPSG:4326",
    )
    market = gpd.GeoDataFrame(
        {"id": ["market"], "name": ["Talent market"], "capacity": [2000]},
        geometry=[sp.geometry.iloc[-1]],
        crs="EPSG:4326",
    )
    cells = gpd.GeoDataFrame(
        {
            "cell": ["0,0", "1,0"],
            "count": [12, 7],
            # Already under disclosure control (as the planner writes them): 0 or >= 5.
            **{
                f"n_{c}": [6 if c in ("textile", "toys") else 0, 7 if c == "food" else 0]
                for c in INDUSTRIES
            },
            "merged": [0, 0],
        },
        geometry=[
            shapely.Point(LON0 + 0.003, LAT0 + 0.003).buffer(0.002, quad_segs=2),
            shapely.Point(LON0 + 0.008, LAT0 + 0.003).buffer(0.002, quad_segs=2),
        ],
        crs="EPSG:4326",
    )
    return {
        "service-points": sp,
        "belts": belts,
        "catchments": catch,
        "employers": emp,
        "candidate-sites": sites,
        "talent-market": market,
        "seeker-cells": cells,
    }


def routes_json(sp: gpd.GeoDataFrame, emp: gpd.GeoDataFrame) -> list[dict]:
    """Route records (planner.daily.record) of three volunteers, three visits each."""
    out = []
    for v in range(3):
        stops = []
        for s, row in enumerate(emp.iloc[v * 3 : v * 3 + 3].itertuples()):
            arrive = (9 + s) * 3600
            stops.append(
                {
                    "kind": "visit",
                    "node": s + 1,
                    "task_id": f"t{v}-{s}",
                    "label": row.name,
                    "lon": row.geometry.x,
                    "lat": row.geometry.y,
                    "arrival_s": arrive,
                    "start_s": arrive,
                    "departure_s": arrive + 1200,
                    "travel_s": 411.5,
                    "travel_m": 1440.0,
                }
            )
        coords = [[st["lon"], st["lat"]] for st in stops]
        out.append(
            {
                "volunteer_id": f"v{v}",
                "name": f"Volunteer {v}",
                "mode": "walk",
                "service_point": "sp00" if v < 2 else "sp01",  # who may read it (staff)
                "stops": stops,
                "geometry": {"type": "LineString", "coordinates": coords},
            }
        )
    return out


def write_scenario(root: Path, name: str = "testcity") -> tuple[Path, Path]:
    """A scenario folder and its planned output; returns (scenario folder, out root)."""
    folder = root / "scenarios" / name
    folder.mkdir(parents=True)
    ox.save_graphml(synthetic_graph(), folder / "network.graphml")
    for layer in ("employers", "seekers", "volunteers", "candidate_sites", "talent_market"):
        (folder / f"{layer}.csv").write_text("id,lon,lat\n", encoding="utf-8")
    (folder / "scenario.toml").write_text(
        f"""[scenario]
name = "{name}"
title = "Test city"
synthetic = true

[network]
source = "network.graphml"

[layers]
employers = "employers.csv"
seekers = "seekers.csv"
volunteers = "volunteers.csv"
candidate_sites = "candidate_sites.csv"
talent_market = "talent_market.csv"

[planning]
max_snap_m = 500
""",
        encoding="utf-8",
    )
    out_root = root / "out"
    plan = out_root / name
    plan.mkdir(parents=True)
    layers = plan_layers()
    for coll, layer in (
        ("service-points", "service_points"),
        ("belts", "belts"),
        ("catchments", "catchments"),
        ("seeker-cells", "seeker_cells"),
    ):
        layers[coll].to_file(plan / "plan.gpkg", layer=layer, driver="GPKG")
    for coll, layer in (
        ("employers", "employers"),
        ("candidate-sites", "candidate_sites"),
        ("talent-market", "talent_market"),
    ):
        layers[coll].to_file(plan / "city.gpkg", layer=layer, driver="GPKG")
    summary = {"before": {"market_visitors": 1800}, "after": {"market_visitors": 900}}
    (plan / "plan_summary.json").write_text(json.dumps(summary), encoding="utf-8")
    day = plan / "routes" / ROUTE_DATE
    day.mkdir(parents=True)
    routes = routes_json(layers["service-points"], layers["employers"])
    (day / "routes.json").write_text(json.dumps(routes), encoding="utf-8")
    return folder, out_root


@pytest.fixture(scope="session")
def network() -> StreetNetwork:
    return network_from_graph(synthetic_graph(), modes=["walk", "ebike"], source="synthetic")


@pytest.fixture(scope="session")
def scenario_files(tmp_path_factory) -> tuple[Path, Path]:
    return write_scenario(tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="session")
def settings(scenario_files) -> Settings:
    folder, out_root = scenario_files
    return Settings(
        scenario=folder,
        out=out_root,
        api_key=API_KEY,
        modes=("walk", "ebike"),
        max_k=5,
        max_batch_points=500,
        max_body_bytes=200_000,
    )


@pytest.fixture(scope="session")
def state(scenario_files, settings) -> ApiState:
    folder, out_root = scenario_files
    st = load_state(folder, out_root, settings=settings)
    yield st
    st.close()


class City:
    """Constants and builders of the synthetic city, for tests (a fixture, since test
    modules cannot import conftest under pytest's importlib mode)."""

    LON0 = LON0
    LAT0 = LAT0
    N = N
    STEP_DEG = STEP_DEG
    API_KEY = API_KEY
    ROUTE_DATE = ROUTE_DATE
    synthetic_graph = staticmethod(synthetic_graph)
    service_points = staticmethod(service_points)
    plan_layers = staticmethod(plan_layers)
    write_scenario = staticmethod(write_scenario)


@pytest.fixture(scope="session")
def city() -> type[City]:
    return City
