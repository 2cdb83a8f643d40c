"""Travel-time matrices (geo.engine.matrix) against networkx and brute force."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import DisconnectedError, TravelMode
from geo.engine import WALK_SPEED_MS, TravelTimes
from geo.engine.base import street_lines
from geo.engine.synthetic import grid_graph
from geo.network import MIN_EDGE_TIME_S, ModeGraph, network_from_graph


@pytest.fixture(scope="module")
def net():
    return network_from_graph(grid_graph(9, 11, seed=7, geometry=True, oneway=0.3))


def random_points(net, n, seed):
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [rng.uniform(net.x.min(), net.x.max(), n), rng.uniform(net.y.min(), net.y.max(), n)]
    )


def truth_matrix(net, mode, origins, destinations):
    """Point-to-point times by brute-force snapping and networkx Dijkstra.

    A point on street edge u->v at fraction f (by brute force over all edges) may leave to v
    if the mode drives u->v, to u if it drives v->u; the partial time is the fraction of the
    edge time, the access leg is walked; two points on one edge may also go directly.
    """
    g = net.mode(mode)
    graph = net.to_networkx(mode)
    lines = street_lines(net)
    usable = np.unique(g.edge)
    t_dir = {}
    for e, r, t in zip(g.edge.tolist(), g.reverse.tolist(), g.time_s.tolist(), strict=True):
        key = (e, r)
        t_dir[key] = min(t_dir.get(key, np.inf), max(t, MIN_EDGE_TIME_S))

    def snap(xy):
        p = shapely.Point(xy)
        d = shapely.distance(p, lines[usable])
        e = int(usable[np.argmin(d)])
        f = lines[e].project(p) / lines[e].length
        return e, f, float(d.min()) / WALK_SPEED_MS

    def part(portion, t):
        return 0.0 if portion == 0 else portion * t

    out = np.full((len(origins), len(destinations)), np.inf)
    snaps_o = [snap(p) for p in origins]
    snaps_d = [snap(p) for p in destinations]
    dist_cache = {}
    for i, (eo, fo, ao) in enumerate(snaps_o):
        u, v = int(net.edge_u[eo]), int(net.edge_v[eo])
        exits = [(v, part(1 - fo, t_dir.get((eo, False), np.inf)))]
        exits.append((u, part(fo, t_dir.get((eo, True), np.inf))))
        for j, (ed, fd, ad) in enumerate(snaps_d):
            a, b = int(net.edge_u[ed]), int(net.edge_v[ed])
            entries = [(a, part(fd, t_dir.get((ed, False), np.inf)))]
            entries.append((b, part(1 - fd, t_dir.get((ed, True), np.inf))))
            best = np.inf
            if eo == ed:
                t = t_dir.get((eo, fd < fo), np.inf)
                best = part(abs(fd - fo), t)
            for x, cx in exits:
                if not np.isfinite(cx):
                    continue
                if x not in dist_cache:
                    dist_cache[x] = nx.single_source_dijkstra_path_length(graph, x, weight="time_s")
                for y, cy in entries:
                    if np.isfinite(cy) and y in dist_cache[x]:
                        best = min(best, cx + dist_cache[x][y] + cy)
            out[i, j] = best + ao + ad
    return out


@pytest.mark.parametrize("mode", ["walk", "car", "bus"])
@pytest.mark.parametrize(("n_o", "n_d"), [(12, 30), (30, 12)])  # both search directions
def test_point_matrix_matches_networkx(net, mode, n_o, n_d):
    tt = TravelTimes(net, mode)
    o = random_points(net, n_o, 1)
    d = random_points(net, n_d, 2)
    m = tt.matrix(o, d)
    np.testing.assert_allclose(m.time_s, truth_matrix(net, mode, o, d), rtol=1e-9, atol=1e-6)
    assert m.origin_ids.tolist() == list(range(n_o))


def test_points_on_one_oneway_street(net):
    """Two points on a one-way street: forward along it, backward around the block."""
    tt = TravelTimes(net, "car")
    g = net.mode("car")
    oneway_edges = np.flatnonzero(net.edge_oneway)
    e = int(next(x for x in oneway_edges if x in set(g.edge.tolist())))
    line = street_lines(net)[e]
    a = np.asarray(line.interpolate(0.2, normalized=True).coords[0])
    b = np.asarray(line.interpolate(0.7, normalized=True).coords[0])
    m = tt.matrix(np.array([a, b]))
    t_edge = g.time_s[(g.edge == e) & ~g.reverse][0]
    assert m.time_s[0, 1] == pytest.approx(0.5 * t_edge, rel=1e-6)
    assert m.time_s[1, 0] > t_edge  # must go around
    np.testing.assert_allclose(m.time_s, truth_matrix(net, "car", [a, b], [a, b]), atol=1e-6)


@pytest.mark.parametrize("mode", ["walk", "car"])
def test_cutoff_and_sparse(net, mode):
    tt = TravelTimes(net, mode)
    o, d = random_points(net, 15, 3), random_points(net, 25, 4)
    full = tt.matrix(o, d).time_s
    cutoff = float(np.median(full))
    cut = tt.matrix(o, d, cutoff_s=cutoff)
    expect = np.where(full <= cutoff, full, np.inf)
    np.testing.assert_array_equal(np.isfinite(cut.time_s), np.isfinite(expect))
    np.testing.assert_allclose(cut.time_s[np.isfinite(expect)], expect[np.isfinite(expect)])
    sp_m = tt.matrix(o, d, cutoff_s=cutoff, sparse=True, lengths=True)
    assert sp_m.is_sparse and sp_m.time_s.nnz == np.isfinite(expect).sum()
    np.testing.assert_allclose(sp_m.dense_time(), cut.time_s)
    frame = sp_m.to_frame()
    assert len(frame) == np.isfinite(expect).sum()
    assert (frame["time_s"] <= cutoff).all() and np.isfinite(frame["length_m"]).all()


def test_zero_cutoff_keeps_only_identical_points(net):
    tt = TravelTimes(net, "walk")
    nodes = np.flatnonzero(net.mode("walk").in_component)[:5]
    xy = np.column_stack([net.x[nodes], net.y[nodes]])
    m = tt.matrix(xy, cutoff_s=0)
    np.testing.assert_array_equal(np.isfinite(m.time_s), np.eye(5, dtype=bool))


@pytest.mark.parametrize("mode", ["walk", "car"])
def test_node_matrix_and_lengths_match_networkx(net, mode):
    tt = TravelTimes(net, mode)
    graph = net.to_networkx(mode)
    nodes = np.flatnonzero(net.mode(mode).in_component)
    rng = np.random.default_rng(5)
    o, d = rng.choice(nodes, 8, replace=False), rng.choice(nodes, 20, replace=False)
    m = tt.node_matrix(o, d, lengths=True)
    for i, a in enumerate(o.tolist()):
        times, paths = nx.single_source_dijkstra(graph, a, weight="time_s")
        for j, b in enumerate(d.tolist()):
            assert m.time_s[i, j] == pytest.approx(times[b], abs=1e-9)
            length = sum(
                graph[x][y]["length_m"] for x, y in zip(paths[b][:-1], paths[b][1:], strict=True)
            )
            assert m.length_m[i, j] == pytest.approx(length, rel=1e-9, abs=1e-9)
    # Searching the other way round (more origins than destinations) agrees.
    back = tt.node_matrix(d, o, lengths=True)
    m2 = tt.node_matrix(o, d[:4], lengths=True)
    np.testing.assert_allclose(m2.time_s, m.time_s[:, :4])
    np.testing.assert_allclose(m2.length_m, m.length_m[:, :4])
    assert back.shape == (20, 8)


def test_point_lengths_match_route_and_exceed_straight_line(net):
    tt = TravelTimes(net, "car")
    o, d = random_points(net, 6, 8), random_points(net, 5, 9)
    m = tt.matrix(o, d, lengths=True)
    for i in range(6):
        for j in range(5):
            r = tt.path(o[i], d[j])
            assert r.time_s == pytest.approx(m.time_s[i, j], abs=1e-9)
            assert r.length_m == pytest.approx(m.length_m[i, j], rel=1e-9)
            assert m.length_m[i, j] >= np.hypot(*(o[i] - d[j])) - 1e-6


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"cutoff_s": -1}, "`cutoff_s`"), ({"cutoff_s": float("nan")}, "`cutoff_s`")],
)
def test_bad_cutoff(net, kwargs, match):
    with pytest.raises(ValueError, match=match):
        TravelTimes(net, "walk").matrix(random_points(net, 2, 0), **kwargs)


@pytest.mark.parametrize("nodes", [[-1], [10**6], [0.5]])
def test_bad_node_indices(net, nodes):
    with pytest.raises(ValueError, match="`origin_nodes`"):
        TravelTimes(net, "walk").node_matrix(np.array(nodes), [0])


def test_snapped_points_of_other_mode_rejected(net):
    walk, car = TravelTimes(net, "walk"), TravelTimes(net, "car")
    with pytest.raises(ValueError, match="snapped for mode 'walk'"):
        car.matrix(walk.snap(random_points(net, 2, 0)))


# -- disconnected graphs -----------------------------------------------------------------------


def two_islands():
    """Two street grids 3 km apart, with a walk graph that keeps both (no component cut)."""
    a = grid_graph(4, 4, seed=1)
    b = grid_graph(3, 3, seed=2, centre_lonlat=(113.78, 23.02))
    b = nx.relabel_nodes(b, {n: n + 10_000 for n in b.nodes})
    net = network_from_graph(nx.compose(a, b), modes=["walk"])
    m = len(net.edge_u)
    time = net.edge_length_m / (4.8 / 3.6)
    walk = ModeGraph(
        mode=TravelMode.WALK,
        src=np.concatenate([net.edge_u, net.edge_v]).astype(np.int32),
        dst=np.concatenate([net.edge_v, net.edge_u]).astype(np.int32),
        time_s=np.concatenate([time, time]),
        length_m=np.concatenate([net.edge_length_m, net.edge_length_m]),
        edge=np.concatenate([np.arange(m), np.arange(m)]),
        reverse=np.repeat([False, True], m),
        in_component=np.ones(net.n_nodes, dtype=bool),
    )
    return dataclasses.replace(net, modes={TravelMode.WALK: walk})


def test_disconnected_pairs_are_inf_and_path_raises():
    net = two_islands()
    tt = TravelTimes(net, "walk")
    left = np.column_stack([net.x[:3], net.y[:3]]) + 5
    right = np.column_stack([net.x[-3:], net.y[-3:]]) + 5
    m = tt.matrix(np.vstack([left, right]))
    block = np.isfinite(m.time_s)
    assert block[:3, :3].all() and block[3:, 3:].all()
    assert not block[:3, 3:].any() and not block[3:, :3].any()
    labels = tt.nearest_facilities(left[:1])
    assert (labels.facility[-3:, 0] == -1).all() and np.isinf(labels.time_s[-3:, 0]).all()
    with pytest.raises(DisconnectedError, match="do not connect"):
        tt.path(left[0], right[0])
    assert tt.path(left[0], left[1]).time_s == pytest.approx(m.time_s[0, 1])


# -- properties ------------------------------------------------------------------------------


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), mode=st.sampled_from(["walk", "car"]))
def test_triangle_inequality(net, seed, mode):
    tt = TravelTimes(net, mode) if mode not in _CACHE else _CACHE[mode]
    _CACHE[mode] = tt
    pts = random_points(net, 12, seed)
    t = tt.matrix(pts).time_s
    # t[a, c] <= t[a, b] + t[b, c] for all a, b, c
    assert (t[:, None, :] <= t[:, :, None] + t[None, :, :] + 1e-9).all()
    assert (np.diag(t) >= 0).all()


_CACHE: dict[str, TravelTimes] = {}
