"""The engine's k-nearest query (geo.engine.NearestIndex) against networkx on small graphs."""

from __future__ import annotations

import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pyproj
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for the shared truth
from _nearest_truth import WALK_MS, brute_nearest

from geo.engine import NearestIndex, NearestResult, TravelTimes
from geo.engine.synthetic import grid_graph
from geo.network import network_from_graph


def _check(got: NearestResult, truth, k):
    for i, rows in enumerate(truth):
        want_t = np.array([t for _, t, _ in rows])
        np.testing.assert_allclose(got.time_s[i, : len(rows)], want_t, rtol=1e-9, atol=1e-6)
        for r, (j, t, m) in enumerate(rows):
            if np.sum(np.abs(want_t - t) < 1e-6) == 1:  # ties may come in either order
                assert got.facility[i, r] == j, (i, r)
                assert got.length_m[i, r] == pytest.approx(m, rel=1e-9, abs=1e-6)
        assert (got.facility[i, len(rows) :] == -1).all()
        assert np.isinf(got.time_s[i, len(rows) :]).all()
    assert got.facility.shape[1] == k


@pytest.fixture(scope="module")
def grid():
    return network_from_graph(grid_graph(9, 9, oneway=0.35, geometry=True, seed=5))


def _on_streets(net, n, rng, *, offset_m=30.0):
    """Points near random spots along random streets (so some share a street)."""
    e = rng.integers(0, net.n_edges, n)
    f = rng.uniform(0, 1, n)
    pts = [
        net.edge_line(int(i)).interpolate(float(t), normalized=True)
        for i, t in zip(e, f, strict=True)
    ]
    x = np.array([p.x for p in pts]) + rng.uniform(-offset_m, offset_m, n)
    y = np.array([p.y for p in pts]) + rng.uniform(-offset_m, offset_m, n)
    return x, y, e


def _lonlat(net, x, y):
    tr = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    return tr.transform(x, y)


@pytest.mark.parametrize("mode", ["walk", "car"])
@pytest.mark.parametrize("group", [None, "even"])
def test_k_nearest_equals_networkx_on_a_grid(grid, mode, group):
    rng = np.random.default_rng(11 + (mode == "car"))
    fx, fy, f_edge = _on_streets(grid, 24, rng)
    # Half of the queries lie on a facility's street (the same-edge case).
    qx, qy, _ = _on_streets(grid, 30, rng)
    line = [grid.edge_line(int(e)) for e in f_edge[:15]]
    on = [
        ln.interpolate(float(t), normalized=True)
        for ln, t in zip(line, rng.uniform(0, 1, 15), strict=True)
    ]
    qx[:15], qy[:15] = [p.x for p in on], [p.y for p in on]
    groups = {"even": np.arange(0, 24, 2)}
    index = NearestIndex(grid, mode, *_lonlat(grid, fx, fy), groups=groups, k_max=4)
    got = index.query(*_lonlat(grid, qx, qy), k=3, group=group)
    assert got.valid.all()
    snapped = index.snap(*_lonlat(grid, qx, qy))
    assert np.isin(snapped.edge, index.facilities.edge).sum() >= 10  # same-edge cases occur
    members = groups["even"].tolist() if group else list(range(24))
    truth = brute_nearest(grid, mode, (qx, qy), (fx, fy), members, 3)
    _check(got, truth, 3)
    # One point at a time (the API's fast path) answers the same.
    lon, lat = _lonlat(grid, qx, qy)
    for i in range(0, 30, 3):
        one = index.query(np.array([lon[i]]), np.array([lat[i]]), k=3, group=group)
        np.testing.assert_array_equal(one.facility[0], got.facility[i])
        np.testing.assert_allclose(one.time_s[0], got.time_s[i], rtol=1e-12)
        np.testing.assert_allclose(one.length_m[0], got.length_m[i], rtol=1e-12)


def _one_way_street():
    """A one-way street 1->2 (200 m) and a two-way detour 2-3-1 back to its start."""
    lon0, lat0 = 113.75, 23.02
    graph = nx.MultiDiGraph(crs="EPSG:4326")
    deg = 200 / 111_320
    coords = {
        1: (lon0, lat0),
        2: (lon0 + deg / np.cos(np.radians(lat0)), lat0),
        3: (lon0 + deg / 2, lat0 + deg),
    }
    for n, (x, y) in coords.items():
        graph.add_node(n, x=x, y=y)
    graph.add_edge(1, 2, length=200.0, highway="residential", oneway=True)
    for a, b in ((2, 3), (3, 1)):
        graph.add_edge(a, b, length=300.0, highway="residential", oneway=False)
        graph.add_edge(b, a, length=300.0, highway="residential", oneway=False, reversed=True)
    return network_from_graph(graph)


@pytest.mark.parametrize("mode", ["walk", "car"])
def test_same_edge_respects_one_way(mode):
    net = _one_way_street()
    e = int(np.flatnonzero((net.node_id[net.edge_u] == 1) & (net.node_id[net.edge_v] == 2))[0])
    line = net.edge_line(e)
    at = [line.interpolate(t, normalized=True) for t in (0.3, 0.6, 0.9)]  # behind, query, ahead
    fx, fy = np.array([at[0].x, at[2].x]), np.array([at[0].y, at[2].y])
    index = NearestIndex(net, mode, *_lonlat(net, fx, fy), k_max=2)
    got = index.query(*_lonlat(net, np.array([at[1].x] * 2), np.array([at[1].y] * 2)), k=2)
    truth = brute_nearest(net, mode, ([at[1].x], [at[1].y]), (fx, fy), [0, 1], 2)
    _check(
        NearestResult(
            got.facility[:1], got.time_s[:1], got.length_m[:1], got.snap_m[:1], got.valid[:1]
        ),
        truth,
        2,
    )
    if mode == "car":  # the one behind is reached only round the detour
        assert got.facility[0].tolist() == [1, 0]
        assert got.length_m[0, 1] == pytest.approx(0.4 * 200 + 600 + 0.3 * 200, rel=1e-6)
    else:  # walkers go back along the street
        assert got.time_s[0, 0] == pytest.approx(60 / WALK_MS, rel=1e-6)


def test_route_matches_ranked_answer(grid):
    rng = np.random.default_rng(3)
    fx, fy, _ = _on_streets(grid, 10, rng)
    index = NearestIndex(grid, "car", *_lonlat(grid, fx, fy), k_max=2)
    qx, qy, _ = _on_streets(grid, 1, rng)
    lon, lat = _lonlat(grid, qx, qy)
    got = index.query(lon, lat, k=2)
    for r in range(2):
        route = index.route(float(lon[0]), float(lat[0]), int(got.facility[0, r]))
        assert route.time_s == pytest.approx(got.time_s[0, r], rel=1e-9)
        assert route.length_m == pytest.approx(got.length_m[0, r], rel=1e-6)


def test_labels_for_points_agree_with_the_index(grid):
    """NearestFacilities.for_points and NearestIndex share one candidate merge."""
    rng = np.random.default_rng(8)
    fx, fy, _ = _on_streets(grid, 12, rng)
    qx, qy, _ = _on_streets(grid, 40, rng)
    tt = TravelTimes(grid, "walk")
    labels = tt.nearest_facilities(np.column_stack([fx, fy]), k=3)
    _, tim = labels.for_points(tt.snap(np.column_stack([qx, qy])))
    index = NearestIndex(grid, "walk", *_lonlat(grid, fx, fy), k_max=3)
    got = index.query(*_lonlat(grid, qx, qy), k=3)
    np.testing.assert_allclose(tim, got.time_s, rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0}, r"`k` must be in 1\.\.2"),
        ({"k": 3}, r"`k` must be in"),
        ({"group": "x"}, "unknown `group`"),
    ],
)
def test_bad_queries_are_refused(grid, kwargs, match):
    index = NearestIndex(grid, "walk", *_lonlat(grid, grid.x[:3], grid.y[:3]), k_max=2)
    with pytest.raises(ValueError, match=match):
        index.query(*_lonlat(grid, grid.x[:1], grid.y[:1]), **kwargs)


def test_far_points_are_invalid(grid):
    index = NearestIndex(grid, "walk", *_lonlat(grid, grid.x[:3], grid.y[:3]), max_snap_m=100)
    lon, lat = _lonlat(grid, np.array([grid.x.max() + 5000, np.nan]), np.array([grid.y[0]] * 2))
    got = index.query(lon, lat)
    assert not got.valid.any() and (got.facility == -1).all()
