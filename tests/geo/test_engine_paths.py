"""Route geometry (geo.engine.paths)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.engine import Engine
from geo.engine.base import street_lines
from geo.engine.synthetic import grid_graph
from geo.network import network_from_graph


@pytest.fixture(scope="module")
def net():
    return network_from_graph(grid_graph(8, 8, seed=21, geometry=True, oneway=0.35))


def random_points(net, n, seed):
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [rng.uniform(net.x.min(), net.x.max(), n), rng.uniform(net.y.min(), net.y.max(), n)]
    )


@pytest.mark.parametrize("mode", ["walk", "car"])
def test_route_follows_streets_in_allowed_direction(net, mode):
    tt = Engine(net)[mode]
    graph = net.to_networkx(mode)
    o, d = random_points(net, 10, 1), random_points(net, 10, 2)
    m = tt.matrix(o, d, lengths=True)
    lines = street_lines(net)
    for i in range(10):
        r = tt.path(o[i], d[i])
        assert r.time_s == pytest.approx(m.time_s[i, i], abs=1e-9)
        assert r.length_m == pytest.approx(m.length_m[i, i], rel=1e-9)
        # Starts at the origin point, ends at the destination point.
        assert r.line.coords[0] == pytest.approx(tuple(o[i]))
        assert r.line.coords[-1] == pytest.approx(tuple(d[i]))
        # Street part length equals the route length minus access legs.
        assert r.line.length == pytest.approx(r.length_m, rel=1e-6)
        # Every hop is an edge of the mode graph (one-way streets respected), and the
        # geometry runs along the streets used.
        for a, b in zip(r.nodes[:-1].tolist(), r.nodes[1:].tolist(), strict=True):
            assert graph.has_edge(a, b)
        middle = shapely.MultiLineString(list(lines[r.edges]))
        vertices = shapely.points(np.asarray(r.line.coords[1:-1]))
        assert shapely.distance(vertices, middle).max() < 1e-6


def test_route_lonlat_and_same_edge(net):
    tt = Engine(net)["car"]
    lines = street_lines(net)
    e = int(np.flatnonzero(~net.edge_oneway & (net.edge_highway != "footway"))[0])
    a = np.asarray(lines[e].interpolate(0.7, normalized=True).coords[0])
    b = np.asarray(lines[e].interpolate(0.2, normalized=True).coords[0])
    r = tt.path(a, b)
    assert r.nodes.size == 0 and r.edges.tolist() == [e]
    assert r.length_m == pytest.approx(0.5 * net.edge_length_m[e], rel=1e-6)
    lon, lat = np.asarray(r.line_lonlat.coords).T
    west, south, east, north = net.bounds_lonlat()
    assert (lon > west - 0.01).all() and (lon < east + 0.01).all()
    assert (lat > south - 0.01).all() and (lat < north + 0.01).all()
    same = tt.path(a, a)
    assert same.time_s == pytest.approx(0, abs=1e-6) and same.length_m == pytest.approx(0, abs=1e-6)


def test_route_accepts_lonlat(net):
    tt = Engine(net)["walk"]
    i, j = 5, 50
    r1 = tt.path((net.lon[i], net.lat[i]), (net.lon[j], net.lat[j]), crs="EPSG:4326")
    r2 = tt.path((net.x[i], net.y[i]), (net.x[j], net.y[j]))
    assert r1.time_s == pytest.approx(r2.time_s, abs=1e-6)


def test_route_needs_single_points(net):
    with pytest.raises(ValueError, match="`origin` must be one point"):
        Engine(net)["walk"].path(random_points(net, 2, 0), random_points(net, 1, 0))


def test_engine_unknown_mode(net):
    from geo import NetworkError

    small = network_from_graph(grid_graph(3, 3, seed=0), modes=["walk"])
    with pytest.raises(NetworkError, match="`mode`"):
        Engine(small)["car"]
