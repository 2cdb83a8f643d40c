"""Nearest service points from precomputed labels equal a brute-force networkx search."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for the shared truth
from _nearest_truth import brute_nearest

from api.state import ServicePoints
from geo.engine import NearestIndex

N_POINTS = 200
K = 3


@pytest.fixture(scope="module")
def points(city):
    return ServicePoints.from_frame(city.service_points())


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["walk", "ebike"])
@pytest.mark.parametrize("industry", [None, "textile"])
def test_nearest_equals_brute_force_networkx(network, points, city, mode, industry):
    groups = points.groups()
    index = NearestIndex(network, mode, points.lon, points.lat, groups=groups, k_max=5)
    rng = np.random.default_rng(2024 + (mode == "ebike") + 2 * (industry is not None))
    span = (city.N - 1) * city.STEP_DEG
    lon = city.LON0 + rng.uniform(-0.05, 1.05, N_POINTS) * span
    lat = city.LAT0 + rng.uniform(-0.05, 1.05, N_POINTS) * span
    got = index.query(lon, lat, k=K, group=industry)
    assert got.valid.all()
    members = groups[industry] if industry else np.arange(len(points))
    assert len(members) > K
    qx, qy = index.project(lon, lat)
    fx, fy = index.project(points.lon, points.lat)
    truth = brute_nearest(network, mode, (qx, qy), (fx, fy), members.tolist(), K)
    n_checked = 0
    for i, rows in enumerate(truth):
        want_t = np.array([t for _, t, _ in rows])
        np.testing.assert_allclose(got.time_s[i, : len(rows)], want_t, rtol=1e-9, atol=1e-6)
        for r, (j, t, m) in enumerate(rows):
            # Facilities tied in time may come in either order; otherwise the ids must agree.
            tied = np.sum(np.abs(want_t - t) < 1e-6) > 1
            if not tied:
                assert got.facility[i, r] == j, (i, r)
                assert got.length_m[i, r] == pytest.approx(m, rel=1e-9, abs=1e-6)
            n_checked += 1
        assert (got.facility[i, len(rows) :] == -1).all()
    assert n_checked >= N_POINTS * K * 0.99


def test_single_point_query_equals_batch(network, points, city):
    LON0, LAT0 = city.LON0, city.LAT0  # noqa: N806
    index = NearestIndex(network, "walk", points.lon, points.lat, groups=points.groups(), k_max=5)
    lon = np.array([LON0 + 0.004, LON0 + 0.011, LON0 + 0.017])
    lat = np.array([LAT0 + 0.006, LAT0 + 0.002, LAT0 + 0.015])
    batch = index.query(lon, lat, k=5)
    for i in range(3):
        one = index.query(lon[i : i + 1], lat[i : i + 1], k=5)
        np.testing.assert_array_equal(one.facility[0], batch.facility[i])
        np.testing.assert_allclose(one.time_s[0], batch.time_s[i])


def test_points_outside_the_network_area_are_invalid(network, points, city):
    LON0, LAT0 = city.LON0, city.LAT0  # noqa: N806
    index = NearestIndex(network, "walk", points.lon, points.lat, k_max=2, max_snap_m=300)
    got = index.query(np.array([LON0 - 0.05, np.nan]), np.array([LAT0, LAT0]), k=1)
    assert not got.valid.any()
    assert (got.facility == -1).all() and np.isinf(got.time_s).all()


def test_route_time_matches_ranked_time(network, points, city):
    LON0, LAT0 = city.LON0, city.LAT0  # noqa: N806
    index = NearestIndex(network, "ebike", points.lon, points.lat, k_max=2)
    lon, lat = LON0 + 0.0093, LAT0 + 0.0071
    got = index.query(np.array([lon]), np.array([lat]), k=2)
    for r in range(2):
        route = index.route(lon, lat, int(got.facility[0, r]))
        assert route.time_s == pytest.approx(got.time_s[0, r], rel=1e-9)
        assert route.length_m == pytest.approx(got.length_m[0, r], rel=1e-6)


@pytest.mark.parametrize("k", [0, 6])
def test_k_out_of_range_is_refused(network, points, city, k):
    LON0, LAT0 = city.LON0, city.LAT0  # noqa: N806
    index = NearestIndex(network, "walk", points.lon, points.lat, k_max=5)
    with pytest.raises(ValueError, match=r"`k` must be in 1\.\.5"):
        index.query(np.array([LON0]), np.array([LAT0]), k=k)


@pytest.mark.parametrize("mode", ["walk", "ebike"])
def test_fast_snapping_equals_the_engine(network, city, mode):
    from geo.engine.base import ModeBase
    from geo.engine.segment_index import SegmentIndex
    from geo.engine.snap import snap_points

    base = ModeBase.build(network, mode)
    rng = np.random.default_rng(9)
    span = (city.N - 1) * city.STEP_DEG * 111_000
    x0, y0 = network.x.min(), network.y.min()
    x = x0 + rng.uniform(-0.1, 1.1, 2000) * span
    y = y0 + rng.uniform(-0.1, 1.1, 2000) * span
    x[:5] = network.x[:5]  # exactly on nodes
    y[:5] = network.y[:5]
    want = snap_points(base, x, y, np.arange(x.size), max_snap_m=150, on_error="mask")
    got = SegmentIndex(base, sample_m=20).snap(x, y, max_snap_m=150)
    np.testing.assert_array_equal(got.valid, want.valid)
    ok = want.valid
    np.testing.assert_allclose(got.distance_m[ok], want.distance_m[ok], atol=1e-6)
    np.testing.assert_allclose(got.snap_x[ok], want.snap_x[ok], atol=1e-6)
    np.testing.assert_allclose(got.snap_y[ok], want.snap_y[ok], atol=1e-6)
    same_edge = got.edge[ok] == want.edge[ok]
    # Different edges only where the point projects onto a node they share (a tie).
    assert same_edge.mean() > 0.9
    np.testing.assert_allclose(got.fraction[ok][same_edge], want.fraction[ok][same_edge], atol=1e-9)


def test_single_point_snapping_equals_batch_snapping(network, city):
    from geo.engine.base import ModeBase
    from geo.engine.segment_index import SegmentIndex

    index = SegmentIndex(ModeBase.build(network, "walk"))
    rng = np.random.default_rng(12)
    span = (city.N - 1) * city.STEP_DEG * 111_000
    x = network.x.min() + rng.uniform(-0.2, 1.2, 500) * span
    y = network.y.min() + rng.uniform(-0.2, 1.2, 500) * span
    batch = index.snap(x, y, max_snap_m=400)
    for i in range(x.size):
        e, f, d = index.snap_one(float(x[i]), float(y[i]), max_snap_m=400)
        assert (e >= 0) == batch.valid[i]
        if e >= 0:
            assert d == pytest.approx(batch.distance_m[i], abs=1e-9)
            if e == batch.edge[i]:
                assert f == pytest.approx(batch.fraction[i], abs=1e-9)
