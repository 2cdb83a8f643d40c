"""Connectivity diagnostics on a clipped extract (geo.network.connectivity)."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely

from geo import TravelMode
from geo.engine import TravelTimes
from geo.network import check_components, diagnose_points, load_network

CLIPPED = Path(__file__).resolve().parents[1] / "data" / "networks" / "clipped.osm"
LADDER = {200, 201, 202, 203, 204, 205, 206, 207, 208}
BLOCK = {220, 221, 222}
# S1 22 m south of the block, S2 by the ladder, S3 5 km out.
POINTS = np.array([[113.7555, 23.0198], [113.7505, 23.0202], [113.80, 23.05]])


@pytest.fixture(scope="module")
def clipped():
    return load_network(CLIPPED)


def _way_lines(ways: set[int], crs: str) -> shapely.MultiLineString:
    """The given ways straight from the file (ElementTree), projected to `crs`."""
    root = ET.parse(CLIPPED).getroot()
    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    nodes = {
        n.get("id"): tr.transform(float(n.get("lon")), float(n.get("lat")))
        for n in root.iter("node")
    }
    lines = [
        shapely.LineString([nodes[nd.get("ref")] for nd in w.iter("nd")])
        for w in root.iter("way")
        if int(w.get("id")) in ways
    ]
    return shapely.MultiLineString(lines)


def test_component_shares_per_mode(clipped):
    checks = check_components(clipped, log=False)
    walk, car, bus = checks[TravelMode.WALK], checks[TravelMode.CAR], checks[TravelMode.BUS]
    assert (walk.usable_nodes, walk.kept_nodes, walk.ok) == (14, 14, True)
    assert (car.usable_nodes, car.kept_nodes, car.sizes, car.ok) == (14, 10, (10, 4), False)
    assert car.share == pytest.approx(10 / 14)
    assert (bus.usable_nodes, bus.kept_nodes, bus.sizes) == (10, 6, (6, 4))  # no service stubs
    assert "10 of 14 street nodes" in car.message and "component sizes 10, 4" in car.message
    assert check_components(clipped, min_share=0.7, log=False)[TravelMode.CAR].ok


def test_loading_warns_about_small_components(caplog):
    with caplog.at_level(logging.WARNING, logger="geo.network"):
        load_network(CLIPPED)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith("car:") and "10 of 14" in m for m in warned)
    assert not any(m.startswith("walk:") for m in warned)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="geo.network"):
        load_network(CLIPPED, min_component_share=0.5)
    assert not caplog.records


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_min_share_is_checked(clipped, bad):
    with pytest.raises(ValueError, match="`min_share`"):
        check_components(clipped, min_share=bad)


def test_cut_off_points_get_both_distances(clipped):
    got = diagnose_points(clipped, POINTS, "car", ids=["S1", "S2", "S3"])
    assert got["status"].tolist() == ["cut_off", "ok", "far"]
    # Independent truth from the file's ways: the block is near, the kept ladder far.
    p = shapely.points(*pyproj.Transformer.from_crs("EPSG:4326", clipped.crs, always_xy=True)
                       .transform(POINTS[:, 0], POINTS[:, 1]))  # fmt: skip
    near_block = shapely.distance(p[0], _way_lines(BLOCK, clipped.crs))
    near_ladder = shapely.distance(p[0], _way_lines(LADDER, clipped.crs))
    s1 = got.iloc[0]
    assert s1["street_m"] == pytest.approx(near_block, abs=0.01)
    assert s1["component_m"] == pytest.approx(near_ladder, abs=0.01)
    assert near_block < 30 and near_ladder > 250
    assert f"{near_block:,.0f} m from the nearest car street" in s1["message"]
    assert f"{near_ladder:,.0f} m from the car network's largest connected part" in s1["message"]
    assert "outside the network area" in got.iloc[2]["message"]
    assert got.iloc[1]["message"] == ""
    # What the engine does with it: snapped to the kept part, hundreds of metres away.
    snapped = TravelTimes(clipped, "car").snap(POINTS[:1], crs="EPSG:4326")
    assert snapped.distance_m[0] == pytest.approx(s1["component_m"], abs=0.01)


def test_walkers_are_not_cut_off(clipped):
    got = diagnose_points(clipped, POINTS[:2], "walk")
    assert got["status"].tolist() == ["ok", "ok"]
    np.testing.assert_allclose(got["street_m"], got["component_m"])


def test_geodataframe_points(clipped):
    import geopandas as gpd

    frame = gpd.GeoDataFrame(
        {"id": ["S1", "S2"]},
        geometry=gpd.points_from_xy(POINTS[:2, 0], POINTS[:2, 1]),
        crs="EPSG:4326",
    )
    got = diagnose_points(clipped, frame, TravelMode.EBIKE)
    assert got["id"].tolist() == ["S1", "S2"]
    assert got["status"].tolist() == ["cut_off", "ok"]


def test_bad_points_shape(clipped):
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        diagnose_points(clipped, np.zeros((2, 3)), "car")


@pytest.mark.parametrize("name", ["mixed.osm", "clipped.osm"])
def test_vectorisededge_lines_are_the_edges_own(name):
    from geo.network.connectivity import edge_lines

    net = load_network(CLIPPED.parent / name)
    idx = np.arange(net.n_edges)
    lines = edge_lines(net, idx)
    for i in idx:  # the per-edge accessor is the truth (stored curve or straight segment)
        assert shapely.equals_exact(lines[i], net.edge_line(int(i)), tolerance=0.0)
