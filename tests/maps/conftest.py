"""Small hand-made layers for the map tests (EPSG:4326, around 113.75 E 23.02 N).

Counts are chosen so every expected number on the map is known without running the code
under test: 8 employers, 3 shown seeker cells (12, 7 and 5 seekers, each group at one
address so it cannot straddle a cell border) plus 4 lone seekers that must be suppressed,
4 candidate sites, 1 talent market, 2 belts, 3 streets, 3 service points, 2 routes.

Fixtures are session-scoped (the browser test writes the maps once); tests must not mutate
them in place (copy first).
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo.timeofday import parse_hhmm
from planner.daily.record import VolunteerRoute, parse_routes
from planner.hexbin import hexbin

METRIC_CRS = "EPSG:32649"  # UTM 49N: Dongguan area


def _points(coords):
    return gpd.points_from_xy([c[0] for c in coords], [c[1] for c in coords], crs="EPSG:4326")


@pytest.fixture(scope="session")
def employers() -> gpd.GeoDataFrame:
    rows = [
        ("E1", "Hongda Textiles", "textile", 40, (113.740, 23.030)),
        ("E2", "<b>Evil</b> & Sons", "textile", 12, (113.742, 23.031)),
        ("E3", "Sunrise Garments", "textile", 7, (113.744, 23.029)),
        ("E4", "Happy Toys", "toys", 25, (113.770, 23.010)),
        ("E5", "Bright Toys", "toys", 3, (113.771, 23.012)),
        ("E6", "Lychee Foods", "food", 18, (113.760, 23.040)),
        ("E7", "Pearl Drinks", "food", 0, (113.761, 23.041)),
        ("E8", "Misc Works", "other", 5, (113.750, 23.000)),
    ]
    return gpd.GeoDataFrame(
        {
            "id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "industry": [r[2] for r in rows],
            "demand": [r[3] for r in rows],
        },
        geometry=_points([r[4] for r in rows]),
    )


@pytest.fixture(scope="session")
def seeker_points() -> gpd.GeoDataFrame:
    groups = [((113.745, 23.025), 12), ((113.765, 23.015), 7), ((113.755, 23.035), 5)]
    lone = [(113.70, 23.05), (113.80, 23.05), (113.70, 22.99), (113.80, 22.99)]
    coords = [c for c, n in groups for _ in range(n)] + lone
    return gpd.GeoDataFrame(
        {"id": [f"S{i}" for i in range(len(coords))], "industries": "textile"},
        geometry=_points(coords),
    )


@pytest.fixture(scope="session")
def seeker_bins(seeker_points):
    return hexbin(seeker_points, metric_crs=METRIC_CRS)


@pytest.fixture(scope="session")
def candidate_sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["C1", "C2", "C3", "C4"],
            "name": ["North Community Centre", "Town Hall", "Park Office", "Bus Hub"],
            "kind": ["community_centre", "town_hall", "industrial_park_office", "transit_hub"],
            "capacity": [150, 300, 200, 120],
        },
        geometry=_points(
            [(113.741, 23.028), (113.755, 23.020), (113.769, 23.011), (113.760, 23.038)]
        ),
    )


@pytest.fixture(scope="session")
def talent_market() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["TM"], "name": ["Dongcao Talent Market 东草人才市场"], "capacity": [800]},
        geometry=_points([(113.752, 23.021)]),
    )


@pytest.fixture(scope="session")
def belts() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"industry": ["textile", "toys"], "name": ["North textile belt", "East toy belt"]},
        geometry=[
            shapely.Point(113.742, 23.030).buffer(0.006),
            shapely.Point(113.770, 23.011).buffer(0.004),
        ],
        crs="EPSG:4326",
    )


@pytest.fixture(scope="session")
def roads() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        geometry=[
            shapely.LineString([(113.73, 23.02), (113.78, 23.02)]),
            shapely.LineString([(113.75, 23.00), (113.75, 23.045)]),
            shapely.LineString([(113.73, 23.03), (113.78, 23.03)]),
        ],
        crs="EPSG:4326",
    )


@pytest.fixture(scope="session")
def service_points(candidate_sites) -> gpd.GeoDataFrame:
    sp = candidate_sites.iloc[:3].copy()
    sp["industries"] = ["textile;toys", "food", "textile"]
    sp["load"] = [120, 40, 260]
    sp["capacity"] = [150, 300, 200]
    return sp[["id", "name", "kind", "industries", "load", "capacity", "geometry"]]


@pytest.fixture(scope="session")
def catchments(service_points) -> gpd.GeoDataFrame:
    polys = service_points.to_crs(METRIC_CRS).buffer(800).to_crs("EPSG:4326")
    return gpd.GeoDataFrame(
        {"point_id": service_points["id"].to_numpy(), "minutes": [15, 15, 15]},
        geometry=polys.to_numpy(),
        crs="EPSG:4326",
    )


@pytest.fixture(scope="session")
def crowd() -> dict:
    return {"market_before": 1240, "market_after": 610}


def _secs(t):
    return parse_hhmm(t) if isinstance(t, str) else int(t)


def _stop(kind, node, lon, lat, arrival, departure, label="", task_id=None, travel_m=0.0):
    return {
        "kind": kind,
        "node": node,
        "task_id": task_id,
        "label": label,
        "lon": lon,
        "lat": lat,
        "arrival_s": _secs(arrival),
        "start_s": _secs(arrival),
        "departure_s": _secs(departure),
        "travel_s": travel_m / 5.0,
        "travel_m": travel_m,
    }


def _route(vid, name, lon0, lat0, visits):
    """A route record (planner.daily.record) leaving home at 08:30, back at 12:05."""
    stops = [_stop("start", 0, lon0, lat0, "08:30", "08:30")]
    path = [[lon0, lat0]]
    leg_m = 9100.0 / (len(visits) + 1)
    for k, (lon, lat, arr, dep) in enumerate(visits, start=1):
        path += [[path[-1][0], lat], [lon, lat]]  # an L-shaped "street" leg
        stops.append(
            _stop("visit", k, lon, lat, arr, dep, f"Stop {k} of {vid}", f"visit:E{k}", leg_m)
        )
    path += [[path[-1][0], lat0], [lon0, lat0]]
    stops.append(_stop("end", 0, lon0, lat0, "12:05", "12:05", travel_m=leg_m))
    return {
        "volunteer_id": vid,
        "name": name,
        "mode": "ebike",
        "stops": stops,
        "geometry": {"type": "LineString", "coordinates": path},
    }


@pytest.fixture(scope="session")
def routes(route_dicts) -> tuple[VolunteerRoute, ...]:
    return parse_routes(route_dicts)


@pytest.fixture(scope="session")
def route_dicts() -> list[dict]:
    return [
        _route(
            "V001",
            "Chen Jing 陈静",
            113.745,
            23.020,
            [
                (113.741, 23.030, "08:50", "09:20"),
                (113.744, 23.029, "09:35", "10:05"),
                (113.755, 23.035, "10:30", "11:00"),
            ],
        ),
        _route(
            "V/002",
            "Li <Wei>",
            113.765,
            23.008,
            [(113.770, 23.010, "09:00", "09:40"), (113.771, 23.012, 36000, 37800)],
        ),
    ]
