"""Batched leg geometry against the engine's one-leg ``TravelTimes.path``."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo import TravelMode
from geo.democity import build_demo_city
from geo.engine import Engine
from planner.city import load_city
from planner.daily.costs import GeometryClock, StreetLegs
from planner.daily.legs import LegSearch


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    folder = build_demo_city(tmp_path_factory.mktemp("legs") / "town", seed=5, scale=0.03)
    city = load_city(folder)
    engine = Engine(city.network, max_snap_m=city.scenario.planning.max_snap_m)
    emps = city.layer("employers").to_crs("EPSG:4326").iloc[:30]
    return engine, emps


@pytest.mark.parametrize("mode", [TravelMode.EBIKE, TravelMode.WALK])
def test_batched_legs_follow_the_same_streets_as_one_leg_paths(town, mode):
    engine, emps = town
    tt = engine[mode]
    pts = tt.snap(emps.geometry)
    pairs = [(a, b) for a in range(0, 30, 3) for b in range(1, 30, 4) if a != b]
    got = LegSearch(tt, pts, limit_s=10 * 3600).lines(pairs)
    assert len(got) >= 0.8 * len(pairs)  # same-edge or unreachable legs are left out
    # Bounded per origin by the (rounded) matrix: the same legs and lines.
    dur = np.rint(tt.matrix(pts).dense_time())
    bounded = LegSearch(tt, pts, limit_s=10 * 3600, durations=dur).lines(pairs)
    assert bounded.keys() == got.keys()
    assert all(np.allclose(bounded[k], got[k]) for k in got)
    for (a, b), line in got.items():
        route = tt.path(pts.take([a]), pts.take([b]))
        want = np.asarray(route.line_lonlat.coords)
        mine = shapely.LineString(line)
        # Same route: the same length (to 1 mm of the projected line) and the same ends.
        assert mine.length == pytest.approx(route.line_lonlat.length, rel=1e-9, abs=1e-9)
        assert np.allclose(np.asarray(line)[[0, -1]], want[[0, -1]], atol=1e-9)


def test_bounded_search_leaves_long_legs_to_the_one_leg_path(town):
    engine, emps = town
    tt = engine[TravelMode.WALK]
    pts = tt.snap(emps.geometry)
    pairs = [(0, b) for b in range(1, 30)]
    unbounded = LegSearch(tt, pts, limit_s=10 * 3600).lines(pairs)
    bounded = LegSearch(tt, pts, limit_s=60).lines(pairs)
    assert len(bounded) < len(unbounded)
    clock = GeometryClock()
    coords = np.c_[emps.geometry.x, emps.geometry.y]
    legs = StreetLegs(engine, pts, coords, clock, limit_s=60)
    legs.prefetch(pairs)
    assert clock.batched == len(bounded)
    for a, b in pairs:  # the rest, one by one, and the same lines as the unbounded batch
        line = legs(a, b)
        if (a, b) in unbounded:
            assert np.allclose(np.asarray(line), np.asarray(unbounded[(a, b)]), atol=1e-9)
    assert clock.legs == len(pairs)
