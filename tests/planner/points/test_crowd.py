"""Erlang B/C, staffing, occupancy and travel-time summaries."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InfeasibleError
from planner.points.crowd import (
    erlang_b,
    erlang_c,
    peak_occupancy,
    staff_needed,
    travel_time_summary,
    weighted_quantile,
)


def erlang_b_recursive(c, a):
    """Textbook recursion B(k) = a B(k-1) / (k + a B(k-1)), computed independently."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


@pytest.mark.parametrize(("c", "a"), [(1, 0.5), (4, 3.0), (10, 7.5), (50, 45.0), (400, 380.0)])
def test_erlang_b_matches_recursion(c, a):
    assert erlang_b(c, a) == pytest.approx(erlang_b_recursive(c, a), rel=1e-9)


def test_erlang_c_textbook_values():
    # M/M/1: P(wait) = rho, Wq = rho / (mu - lam). lam = 30/h, s = 1.5 min -> rho = 0.75.
    r = erlang_c(30, 1.5, 1)
    assert r.p_wait == pytest.approx(0.75)
    assert r.mean_wait_min == pytest.approx(0.75 * 1.5 / (1 - 0.75))
    # a = 3 Erlang, c = 4: C = 0.5094 (standard table); Wq = C * s / (c - a).
    r = erlang_c(180, 1.0, 4)
    assert r.p_wait == pytest.approx(0.509434, abs=1e-6)
    assert r.mean_wait_min == pytest.approx(0.509434, abs=1e-6)
    # M/M/2 closed form: C = 2 rho^2 / (1 + rho), rho = a / 2.
    rho = 0.6
    r = erlang_c(rho * 2 * 60 / 5.0, 5.0, 2)
    assert r.p_wait == pytest.approx(2 * rho**2 / (1 + rho))


def test_erlang_c_large_staff_is_finite():
    r = erlang_c(60_000, 1.0, 1050)
    assert math.isfinite(r.mean_wait_min)
    assert 0.0 <= r.p_wait <= 1.0


@settings(max_examples=40, deadline=None)
@given(lam=st.floats(1, 500), service=st.floats(0.5, 30))
def test_wait_decreases_with_staff(lam, service):
    base = math.floor(lam * service / 60) + 1
    waits = [erlang_c(lam, service, c).mean_wait_min for c in range(base, base + 6)]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(waits))


@settings(max_examples=40, deadline=None)
@given(lam=st.floats(0.5, 400), service=st.floats(1, 30), target=st.floats(0.5, 30))
def test_staff_needed_is_minimal(lam, service, target):
    c = staff_needed(lam, service, target)
    assert erlang_c(lam, service, c).mean_wait_min <= target
    if c - 1 > lam * service / 60:
        assert erlang_c(lam, service, c - 1).mean_wait_min > target


def test_overloaded_staff_is_infeasible():
    with pytest.raises(InfeasibleError, match="utilisation"):
        erlang_c(120, 1.0, 2)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"service_min": 0},
        {"service_min": 5, "open_hours": (17, 9)},
        {"service_min": 5, "profile": [1, 2]},
        {"service_min": 5, "profile": [-1] * 8},
    ],
)
def test_peak_occupancy_bad_input(kwargs):
    with pytest.raises(ValueError):
        peak_occupancy(100, **kwargs)


def test_peak_occupancy_without_staff_is_littles_law():
    profile = [1, 1, 2, 4, 2, 1, 1, 0]
    occ = peak_occupancy(130, service_min=12, profile=profile)
    lam = 130 * np.array(profile) / sum(profile)
    np.testing.assert_allclose(occ.on_site, lam * 12 / 60)
    assert occ.peak_hour == 12
    assert occ.booked.sum() == pytest.approx(130)


def test_peak_occupancy_moves_overflow_to_later_slots():
    # Slot capacity 2 staff * 60 / 20 = 6 per hour; 10 wanted in the first hour.
    occ = peak_occupancy(16, service_min=20, open_hours=(9, 12), profile=[10, 3, 3], staff=2)
    np.testing.assert_allclose(occ.booked, [6, 6, 4])
    assert occ.unserved == pytest.approx(0.0)
    occ = peak_occupancy(30, service_min=20, open_hours=(9, 12), profile=[1, 1, 1], staff=2)
    assert occ.unserved == pytest.approx(12.0)


def test_travel_time_summary():
    times = np.array([60, 600, 1200, 3000, np.inf])
    out = travel_time_summary(times, [1, 1, 1, 1, 1])
    assert out["p50_min"] == pytest.approx(20.0)
    assert out["within_15_min"] == pytest.approx(0.4)
    assert out["within_45_min"] == pytest.approx(0.6)
    assert out["unreachable_share"] == pytest.approx(0.2)
    assert math.isinf(out["p95_min"])


def test_weighted_quantile_matches_numpy_for_unit_weights():
    rng = np.random.default_rng(0)
    v = rng.uniform(0, 100, 101)
    for q in (0.1, 0.5, 0.95):
        assert weighted_quantile(v, q) == pytest.approx(np.quantile(v, q, method="inverted_cdf"))
    # Weights act like repetition.
    assert weighted_quantile([1, 2, 3], 0.5, [1, 1, 5]) == 3
