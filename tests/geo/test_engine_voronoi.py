"""Nearest-facility labelling (geo.engine.voronoi) against matrices and networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.engine import TravelTimes
from geo.engine.synthetic import grid_graph
from geo.network import network_from_graph


@pytest.fixture(scope="module")
def net():
    return network_from_graph(grid_graph(10, 10, seed=11, geometry=True, oneway=0.3))


@pytest.fixture(scope="module")
def engines(net):
    return {m: TravelTimes(net, m) for m in ("walk", "car")}


def random_points(net, n, seed):
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [rng.uniform(net.x.min(), net.x.max(), n), rng.uniform(net.y.min(), net.y.max(), n)]
    )


def node_points(net, mode):
    nodes = np.flatnonzero(net.mode(mode).in_component)
    return nodes, np.column_stack([net.x[nodes], net.y[nodes]])


@pytest.mark.parametrize("mode", ["walk", "car"])
def test_label_is_argmin_of_matrix_column(engines, net, mode):
    tt = engines[mode]
    fac = random_points(net, 9, 1)
    labels = tt.nearest_facilities(fac)
    nodes, xy = node_points(net, mode)
    m = tt.matrix(xy, fac).time_s  # node -> facility, people travel to the facility
    np.testing.assert_allclose(labels.time_s[nodes, 0], m.min(axis=1), atol=1e-9)
    assert (labels.facility[nodes, 0] == m.argmin(axis=1)).all()
    assert labels.nearest(int(nodes[0])) == (int(m.argmin(axis=1)[0]), pytest.approx(m.min(1)[0]))
    outside = ~net.mode(mode).in_component
    assert (labels.facility[outside, 0] == -1).all()


def test_label_uses_reversed_graph(engines, net):
    """On one-way streets, node -> facility differs from facility -> node; labels use the first."""
    tt = engines["car"]
    graph = net.to_networkx("car")
    fac_nodes = np.flatnonzero(net.mode("car").in_component)[[3, 40]]
    fac = np.column_stack([net.x[fac_nodes], net.y[fac_nodes]])
    labels = tt.nearest_facilities(fac)
    to_fac = nx.multi_source_dijkstra_path_length(
        graph.reverse(copy=True), set(fac_nodes.tolist()), weight="time_s"
    )
    for node, t in to_fac.items():
        assert labels.time_s[node, 0] == pytest.approx(t, abs=1e-9)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_k_nearest(engines, net, k):
    tt = engines["car"]
    fac = random_points(net, 8, 2)
    labels = tt.nearest_facilities(fac, k=k)
    nodes, xy = node_points(net, "car")
    m = tt.matrix(xy, fac).time_s
    np.testing.assert_allclose(labels.time_s[nodes], np.sort(m, axis=1)[:, :k], atol=1e-9)
    assert (labels.facility[nodes] == np.argsort(m, axis=1)[:, :k]).all()
    one = tt.nearest_facilities(fac, k=1)
    np.testing.assert_allclose(one.time_s[:, 0], labels.time_s[:, 0])


def test_cutoff_and_groups(engines, net):
    tt = engines["walk"]
    fac = random_points(net, 10, 3)
    groups = np.array(["textile", "toys"] * 5)
    by = tt.nearest_facilities(fac, groups=groups, cutoff_s=600)
    assert set(by) == {"textile", "toys"}
    nodes, xy = node_points(net, "walk")
    m = tt.matrix(xy, fac).time_s
    for g, lab in by.items():
        cols = np.flatnonzero(groups == g)
        best = m[:, cols].min(axis=1)
        expect = np.where(best <= 600, best, np.inf)
        np.testing.assert_allclose(lab.time_s[nodes, 0], expect, atol=1e-9)
        got = lab.facility[nodes, 0]
        assert (got[np.isfinite(expect)] == cols[m[:, cols].argmin(1)][np.isfinite(expect)]).all()
        assert (got[~np.isfinite(expect)] == -1).all()


@pytest.mark.parametrize("k", [1, 3])
def test_for_points_equals_matrix(engines, net, k):
    tt = engines["car"]
    fac = random_points(net, 7, 4)
    labels = tt.nearest_facilities(fac, k=k)
    q = random_points(net, 60, 5)
    # Some queries on the same street as a facility.
    q = np.vstack([q, fac + 3.0])
    f, t = labels.for_points(tt.snap(q))
    m = tt.matrix(q, fac).time_s
    np.testing.assert_allclose(t, np.sort(m, axis=1)[:, :k], atol=1e-9)
    assert (f == np.argsort(m, axis=1)[:, :k]).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0}, "`k`"),
        ({"k": 99}, "`k`"),
        ({"k": 1.5}, "`k`"),
        ({"groups": ["a"]}, "`groups`"),
        ({"cutoff_s": -5}, "`cutoff_s`"),
    ],
)
def test_bad_arguments(engines, net, kwargs, match):
    with pytest.raises(ValueError, match=match):
        engines["walk"].nearest_facilities(random_points(net, 3, 0), **kwargs)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), n_fac=st.integers(1, 12))
def test_label_is_argmin_property(engines, net, seed, n_fac):
    tt = engines["walk"]
    fac = random_points(net, n_fac, seed)
    labels = tt.nearest_facilities(fac)
    nodes, _ = node_points(net, "walk")
    pick = nodes[:: max(1, nodes.size // 25)]
    m = tt.matrix(np.column_stack([net.x[pick], net.y[pick]]), fac).time_s
    np.testing.assert_allclose(labels.time_s[pick, 0], m.min(axis=1), atol=1e-9)
    assert (m[np.arange(pick.size), labels.facility[pick, 0]] <= m.min(axis=1) + 1e-9).all()


@pytest.mark.parametrize("mode", ["walk", "car"])
def test_k_nearest_with_lengths_matches_matrix(engines, net, mode):
    from geo.engine.voronoi import label_k_with_lengths

    tt = engines[mode]
    fac = tt.snap(random_points(net, 7, 5))
    groups = {"all": np.arange(7), "some": np.array([1, 4, 6])}
    labels = label_k_with_lengths(tt.base, fac, groups, k=3)
    nodes, xy = node_points(net, mode)
    m = tt.matrix(xy, fac, lengths=True)
    for key, members in groups.items():
        fac_idx, time_s, length_m = labels[key]
        sub_t = m.time_s[:, members]
        order = np.argsort(sub_t, axis=1, kind="stable")[:, :3]
        np.testing.assert_allclose(
            time_s[nodes], np.take_along_axis(sub_t, order, axis=1), atol=1e-9
        )
        # Lengths belong to the labelled facility's fastest path.
        picked = fac_idx[nodes]
        expect_len = m.length_m[np.arange(nodes.size)[:, None], picked]
        np.testing.assert_allclose(length_m[nodes], expect_len, atol=1e-6)
        assert set(np.unique(picked)) <= set(members.tolist())
