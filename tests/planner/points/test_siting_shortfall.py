"""The staffed model's shortfall: a proven limit stated before solving, never a time-out."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from planner.points.siting.shortfall import pool_bound
from planner.points.siting.staffed import StaffedSiting
from tests.planner.points.test_siting_staffed import MAX_S, _tables, tiny


@settings(max_examples=25, deadline=None)
@given(tiny())
def test_bound_never_below_what_the_exact_plan_serves(inst):
    cost, w, pool, p, existing, excluded, market_cap = inst
    n_sites = cost.shape[1]
    model = StaffedSiting.from_cost_matrix(
        cost, w, p, _tables(n_sites), pool=pool, market=n_sites - 1, market_capacity=market_cap,
        max_cost=MAX_S, existing=existing, excluded=excluded,
    )  # fmt: skip
    exact = model.solve("milp", time_limit_s=30)
    served = float(w.sum() - exact.unserved.sum())
    heuristic = model.solve("heuristic", time_limit_s=10)
    if heuristic.bound is not None:  # lifted by the shortfall, still a lower bound
        assert heuristic.bound <= exact.objective + 1e-6 * max(1.0, exact.objective)
    short = model.shortfall()
    if short is None:
        return
    # The exact optimum serves as much as possible (unserved costs most): never above the bound.
    assert served <= short.most + 1e-6
    assert exact.notes[0] == short.message


def test_pool_bound_against_enumeration():
    tables = _tables(3)
    rng = np.random.default_rng(1)
    tables = tables * rng.uniform(0.5, 1.5, (3, 1))
    sites = np.arange(3)
    for pool in range(0, 10):
        truth = max(
            tables[0, a] + tables[1, b] + tables[2, c]
            for a in range(4)
            for b in range(4)
            for c in range(4)
            if a + b + c <= pool
        )
        assert pool_bound(tables, sites, pool) >= truth - 1e-9


def _city(pool: int, p: int, visits: float = 100.0) -> StaffedSiting:
    # 10 rows of `visits` a day next to 6 sites; the market (last) holds 50.
    cost = np.full((10, 7), 300.0)
    tables = _tables(7)
    return StaffedSiting.from_cost_matrix(
        cost, np.full(10, visits), p, tables, pool=pool, market=6, market_capacity=50.0,
        max_cost=MAX_S,
    )  # fmt: skip


def test_too_few_points_says_how_many():
    model = _city(pool=100, p=1)
    full = float(model.caps[0].max())
    short = model.shortfall()
    assert short is not None
    need_points = int(np.ceil((1000.0 - 50.0) / full))
    assert "1,000 visits/day, but 1 new points" in short.message
    assert f"+ market 50 = {full + 50:,.0f}" in short.message
    if need_points <= 6:
        assert f"open at least {need_points} new points" in short.message
    else:
        assert "even all 6 candidate sites" in short.message
    result = model.solve("milp", time_limit_s=30)
    assert result.status == "optimal"
    assert result.unserved.sum() >= 1000.0 - short.most - 1e-6
    assert short.message in result.notes
    heuristic = model.solve("heuristic", time_limit_s=10)
    assert heuristic.bound is not None
    assert heuristic.bound <= result.objective + 1e-6 * result.objective
    assert heuristic.gap is not None and heuristic.gap < 0.5  # the lift makes it informative


def test_small_pool_says_the_pool_needed():
    model = _city(pool=1, p=6, visits=30.0)
    short = model.shortfall()
    assert short is not None
    assert short.sites_bound + 50.0 >= 300.0  # the sites could hold it: the pool cannot
    assert "open at least" not in short.message
    assert f"raise the pool to at least {short.min_pool} staff" in short.message
    # The pool named is the least whose bound reaches the demand.
    sites = np.arange(6)
    assert pool_bound(model.caps, sites, short.min_pool) + 50.0 >= 300.0
    assert pool_bound(model.caps, sites, short.min_pool - 1) + 50.0 < 300.0


def test_enough_room_has_no_shortfall():
    cost = np.full((2, 3), 300.0)
    model = StaffedSiting.from_cost_matrix(
        cost, [5.0, 5.0], 2, _tables(3), pool=6, market=2, market_capacity=50.0, max_cost=MAX_S
    )
    assert model.shortfall() is None
    assert model.solve("milp", time_limit_s=30).notes[0].startswith("MILP")


@pytest.mark.parametrize("pool", [0, 3])
def test_pool_bound_zero_or_positive(pool):
    assert (pool_bound(_tables(2), np.arange(2), pool) > 0) == (pool > 0)
