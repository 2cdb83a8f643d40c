"""Peak-hour queue figures and staffed capacities against independent formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.points.crowd import erlang_c
from planner.points.staffing import (
    capacity_table,
    is_safe,
    max_safe_arrivals,
    on_site_quantile,
    queue_figures,
    staff_for,
)


def _erlang_c_by_sums(a: float, c: int) -> float:
    """Textbook Erlang C: (a^c/c! * c/(c-a)) / (sum_{k<c} a^k/k! + a^c/c! * c/(c-a))."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


# (offered load in Erlangs, staff, probability of waiting) to four decimals, as in Erlang-C
# tables (1/3 and 4/9 are the classic closed forms; every row is also checked against the
# textbook sum formula below).
PUBLISHED = [
    (1.0, 2, 0.3333),
    (2.0, 3, 0.4444),
    (2.0, 4, 0.1739),
    (5.0, 7, 0.3241),
    (10.0, 12, 0.4494),
    (20.0, 25, 0.2091),
]


@pytest.mark.parametrize(("a", "c", "p_wait"), PUBLISHED)
def test_erlang_c_matches_table_values(a, c, p_wait):
    service_min = 12.0
    ec = erlang_c(a * 60.0 / service_min, service_min, c)
    assert ec.p_wait == pytest.approx(p_wait, abs=6e-5)
    assert ec.p_wait == pytest.approx(_erlang_c_by_sums(a, c), rel=1e-9)
    assert ec.mean_wait_min == pytest.approx(ec.p_wait * service_min / (c - a), rel=1e-9)


def test_single_server_is_mm1():
    # M/M/1: P(wait) = rho, Wq = rho / (1 - rho) * s, P(W > t) = rho exp(-(mu - lam) t).
    f = queue_figures(3.0, 12.0, 1)  # rho = 0.6
    assert f.mean_wait_min == pytest.approx(0.6 / 0.4 * 12.0)
    mu_minus_lam = 1 / 12 - 3 / 60
    assert f.p90_wait_min == pytest.approx(math.log(0.6 / 0.1) / mu_minus_lam)
    assert f.peak_on_site == pytest.approx(0.6 / 0.4)  # L = rho / (1 - rho)
    # P(N <= n) = 1 - rho^(n+1) >= 0.95  ->  n = 5
    assert f.p95_on_site == 5


def _state_probabilities(a: float, c: int, n_max: int) -> np.ndarray:
    """M/M/c state probabilities by the balance equations (independent of Erlang C)."""
    rates = np.array([a / min(n + 1, c) for n in range(n_max)])
    p = np.concatenate([[1.0], np.cumprod(rates)])
    return p / p.sum()


@pytest.mark.parametrize(("lam", "c"), [(20.0, 5), (4.0, 3), (27.0, 6), (1.0, 4), (140.0, 30)])
def test_on_site_quantile_against_state_distribution(lam, c):
    service = 12.0
    a = lam * service / 60
    probs = _state_probabilities(a, c, 4000)
    truth = int(np.searchsorted(np.cumsum(probs), 0.95 - 1e-12))
    ec = erlang_c(lam, service, c)
    assert on_site_quantile(lam, service, c, ec.p_wait) == truth
    mean = float((np.arange(probs.size) * probs).sum())
    assert queue_figures(lam, service, c).peak_on_site == pytest.approx(mean, rel=1e-6)


def test_capacity_table_is_safe_and_tight():
    table = capacity_table(6, 12.0, target_wait_min=15.0, max_on_site=40, peak_share=0.2)
    assert table[0] == 0 and (np.diff(table) >= 0).all()
    for c in range(1, 7):
        lam = table[c] * 0.2
        assert is_safe(lam, 12.0, c, target_wait_min=15.0, max_on_site=40)
        assert not is_safe(lam * 1.001, 12.0, c, target_wait_min=15.0, max_on_site=40)
    assert staff_for(table[3], table) == 3 and staff_for(table[3] + 0.01, table) == 4
    assert staff_for(0.0, table) == 0 and staff_for(table[6] + 1, table) == -1


def test_room_capacity_and_occupancy_cap_the_table():
    roomy = capacity_table(4, 12.0, target_wait_min=15.0, max_on_site=1000, peak_share=0.25)
    tight = capacity_table(4, 12.0, target_wait_min=15.0, max_on_site=3, peak_share=0.25)
    capped = capacity_table(
        4, 12.0, target_wait_min=15.0, max_on_site=1000, peak_share=0.25, room_capacity=50
    )
    assert (tight <= roomy + 1e-9).all() and tight[4] < roomy[4]
    assert capped.max() == 50


@settings(max_examples=60, deadline=None)
@given(
    staff=st.integers(1, 40),
    service=st.floats(1.0, 60.0),
    target=st.floats(0.5, 60.0),
    occupancy=st.integers(1, 500),
    load_share=st.floats(0.0, 1.0),
)
def test_no_reported_wait_is_infinite_or_above_the_target(
    staff, service, target, occupancy, load_share
):
    """Any arrival rate up to what the staff serve safely gives a finite wait within target."""
    lam = load_share * max_safe_arrivals(
        staff, service, target_wait_min=target, max_on_site=occupancy
    )
    f = queue_figures(lam, service, staff)
    assert math.isfinite(f.mean_wait_min) and f.mean_wait_min <= target + 1e-9
    assert math.isfinite(f.p90_wait_min)
    assert f.p95_on_site <= occupancy
