"""Snapping points onto the street network (geo.engine.snap) against brute force."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo import SnapError
from geo.engine import WALK_SPEED_MS, TravelTimes
from geo.engine.base import street_lines
from geo.engine.synthetic import grid_graph
from geo.network import network_from_graph


@pytest.fixture(scope="module")
def net():
    return network_from_graph(grid_graph(8, 9, seed=3, geometry=True, oneway=0.3))


def _brute_force(net, mode, xy):
    """Distance to the nearest usable street edge, by checking every edge."""
    g = net.mode(mode)
    usable = np.unique(g.edge)
    lines = street_lines(net)[usable]
    pts = shapely.points(xy)
    d = shapely.distance(pts[:, None], lines[None, :])
    return d.min(axis=1)


@pytest.mark.parametrize("mode", ["walk", "car"])
def test_snap_distance_matches_brute_force(net, mode):
    tt = TravelTimes(net, mode)
    rng = np.random.default_rng(0)
    xy = np.column_stack(
        [rng.uniform(net.x.min(), net.x.max(), 200), rng.uniform(net.y.min(), net.y.max(), 200)]
    )
    s = tt.snap(xy)
    np.testing.assert_allclose(s.distance_m, _brute_force(net, mode, xy), atol=1e-6)
    # The projection lies on the chosen street at the reported distance.
    lines = street_lines(net)[s.edge]
    proj = shapely.points(s.snap_x, s.snap_y)
    np.testing.assert_allclose(shapely.distance(proj, lines), 0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(s.x - s.snap_x, s.y - s.snap_y), s.distance_m, atol=1e-6)
    assert ((s.fraction >= 0) & (s.fraction <= 1)).all()
    np.testing.assert_allclose(s.access_s, s.distance_m / WALK_SPEED_MS)


def test_snap_only_onto_streets_the_mode_may_use(net):
    tt = TravelTimes(net, "car")
    footways = np.flatnonzero(net.edge_highway == "footway")
    mid = shapely.line_interpolate_point(street_lines(net)[footways], 0.5, normalized=True)
    s = tt.snap(shapely.get_coordinates(mid))
    assert not np.isin(s.edge, footways).any()
    assert (s.distance_m > 0).all()


def test_point_exactly_on_node(net):
    tt = TravelTimes(net, "walk")
    nodes = np.flatnonzero(net.mode("walk").in_component)[:10]
    s = tt.snap(np.column_stack([net.x[nodes], net.y[nodes]]))
    np.testing.assert_allclose(s.distance_m, 0, atol=1e-9)
    assert np.isin(s.fraction, [0.0, 1.0]).all()
    assert (s.nearest_node(tt.base) == nodes).all()


def test_lonlat_input_equals_metric_input(net):
    tt = TravelTimes(net, "walk")
    i = np.arange(0, net.n_nodes, 7)
    a = tt.snap(np.column_stack([net.lon[i], net.lat[i]]) + 1e-4, crs="EPSG:4326")
    frame = gpd.GeoDataFrame(
        {"id": [f"p{k}" for k in i]},
        geometry=gpd.points_from_xy(net.lon[i] + 1e-4, net.lat[i] + 1e-4),
        crs="EPSG:4326",
    )
    b = tt.snap(frame)
    np.testing.assert_allclose(a.distance_m, b.distance_m)
    assert list(b.ids) == [f"p{k}" for k in i]
    c = tt.snap(frame.to_crs(net.crs))
    np.testing.assert_allclose(c.snap_x, b.snap_x)


def test_too_far_and_nan_raise_naming_points(net):
    tt = TravelTimes(net, "walk", max_snap_m=500)
    xy = np.array([[net.x.mean(), net.y.mean()], [net.x.max() + 3000, net.y.mean()], [np.nan, 1.0]])
    with pytest.raises(SnapError) as err:
        tt.snap(xy, ids=["ok", "far", "nan"])
    text = str(err.value)
    assert "'far' (index 1)" in text and "m from the nearest street" in text
    assert "'nan' (index 2)" in text and "not finite" in text
    assert "'ok'" not in text
    assert "`max_snap_m` = 500 m" in text


def test_mask_marks_invalid_points_and_matrix_gives_inf(net):
    tt = TravelTimes(net, "walk")
    xy = np.array([[net.x.mean(), net.y.mean()], [net.x.max() + 5000, net.y.mean()]])
    s = tt.snap(xy, on_error="mask")
    assert s.valid.tolist() == [True, False]
    assert s.edge[1] == -1 and np.isnan(s.distance_m[1])
    m = tt.matrix(s)
    assert np.isfinite(m.time_s[0, 0]) and np.isinf(m.time_s[1]).all()
    assert np.isinf(m.time_s[:, 1]).all()
    # A larger radius accepts the point.
    assert tt.snap(xy, max_snap_m=10_000).valid.all()


@pytest.mark.parametrize(
    ("points", "kwargs", "match"),
    [
        (np.zeros((3, 3)), {}, "shape"),
        ([["a", "b"]], {}, "coordinates"),
        (np.zeros((2, 2)), {"ids": [1, 2, 3]}, "`ids`"),
        (np.zeros((2, 2)), {"on_error": "ignore"}, "`on_error`"),
        (np.zeros((2, 2)), {"max_snap_m": -1}, "`max_snap_m`"),
        ([shapely.LineString([(0, 0), (1, 1)])], {}, "point geometries"),
    ],
)
def test_bad_input(net, points, kwargs, match):
    with pytest.raises(ValueError, match=match):
        TravelTimes(net, "walk").snap(points, **kwargs)


def test_geodataframe_crs_conflict(net):
    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy([113.75], [23.02]), crs="EPSG:4326")
    with pytest.raises(ValueError, match="`crs`"):
        TravelTimes(net, "walk").snap(frame, crs=net.crs)


def test_single_point_and_shapely_input(net):
    tt = TravelTimes(net, "walk")
    x, y = float(net.x.mean()), float(net.y.mean())
    a = tt.snap((x, y))
    b = tt.snap(shapely.Point(x, y))
    assert len(a) == len(b) == 1
    assert a.edge[0] == b.edge[0]
