"""Staffed siting against brute force over every opening and staffing on tiny instances."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from planner.errors import InfeasibleError
from planner.points.siting.staffed import STAFF_COST, StaffedSiting
from planner.points.staffing import capacity_table, queue_figures

MAX_S = 1800.0
PEAK = 0.2
SERVICE, TARGET = 12.0, 15.0


def _flow_value(cost, w, market, caps, market_cap, market_penalty, unserved_penalty):
    """Best assignment for fixed capacities (independent LP: rows x (sites, market, slack))."""
    n, m = cost.shape
    reach = np.isfinite(cost) & (cost <= MAX_S)
    reach[:, market] = False
    ii, jj = np.nonzero(reach)
    c = np.concatenate(
        [cost[ii, jj], cost[:, market] + market_penalty, np.full(n, unserved_penalty)]
    )
    k = ii.size
    a_eq = np.zeros((n, c.size))
    a_eq[ii, np.arange(k)] = 1
    a_eq[np.arange(n), k + np.arange(n)] = 1
    a_eq[np.arange(n), k + n + np.arange(n)] = 1
    a_ub = np.zeros((m, c.size))
    a_ub[jj, np.arange(k)] = 1
    a_ub[market, k : k + n] = 1
    b_ub = caps.copy()
    b_ub[market] = market_cap
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=w, bounds=(0, None), method="highs")
    assert res.status == 0
    return res.fun


def _brute_force(model, cost, w, tables, pool, p, existing, excluded):
    n_sites = cost.shape[1]
    market = model.market
    choices = []
    for j in range(n_sites):
        if j == market or j in excluded:
            choices.append([0])
        else:
            levels = list(range(tables.shape[1]))
            choices.append(levels[1:] if j in existing else levels)
    best = np.inf
    for staff in itertools.product(*choices):
        staff = np.array(staff)
        new = [j for j in range(n_sites) if staff[j] > 0 and j not in existing]
        if staff.sum() > pool or len(new) > p:
            continue
        caps = tables[np.arange(n_sites), staff]
        value = _flow_value(
            cost, w, market, caps, model.market_capacity, model.market_penalty,
            model.unserved_penalty,
        )  # fmt: skip
        best = min(best, value + STAFF_COST * staff.sum())
    return best


@st.composite
def tiny(draw):
    n_rows = draw(st.integers(2, 5))
    n_sites = draw(st.integers(2, 4))  # candidate sites; the market is added last
    times = draw(
        st.lists(st.integers(60, 2400), min_size=n_rows * (n_sites + 1),
                 max_size=n_rows * (n_sites + 1))
    )  # fmt: skip
    cost = np.array(times, float).reshape(n_rows, n_sites + 1)
    w = np.array(draw(st.lists(st.integers(1, 40), min_size=n_rows, max_size=n_rows)), float)
    pool = draw(st.integers(1, 5))
    p = draw(st.integers(0, n_sites))
    existing = draw(st.sets(st.integers(0, n_sites - 1), max_size=1))
    excluded = draw(st.sets(st.integers(0, n_sites - 1), max_size=1)) - existing
    market_cap = float(draw(st.integers(0, 30)))
    return cost, w, pool, p, sorted(existing), sorted(excluded), market_cap


def _tables(n_sites):
    table = capacity_table(3, SERVICE, target_wait_min=TARGET, max_on_site=20, peak_share=PEAK)
    return np.tile(table, (n_sites, 1))


@settings(max_examples=25, deadline=None)
@given(tiny())
def test_milp_matches_brute_force(inst):
    cost, w, pool, p, existing, excluded, market_cap = inst
    n_sites = cost.shape[1]
    tables = _tables(n_sites)
    model = StaffedSiting.from_cost_matrix(
        cost, w, p, tables, pool=pool, market=n_sites - 1, market_capacity=market_cap,
        max_cost=MAX_S, existing=existing, excluded=excluded,
    )  # fmt: skip
    exact = model.solve("milp", time_limit_s=30)
    truth = _brute_force(model, cost, w, tables, pool, p, set(existing), set(excluded))
    assert exact.status == "optimal"
    assert exact.objective == pytest.approx(truth, rel=1e-6, abs=1e-4)
    _check_feasible(exact, model, w, pool, p, existing, excluded)
    heuristic = model.solve("heuristic", time_limit_s=10)
    assert heuristic.objective >= exact.objective - 1e-6 * max(1.0, exact.objective)
    _check_feasible(heuristic, model, w, pool, p, existing, excluded)
    # The capacity bound is a true lower bound; so is the heuristic's reported one.
    assert model.capacity_bound() <= truth + 1e-6 * max(1.0, truth)
    assert heuristic.bound is None or heuristic.bound <= truth + 1e-6 * max(1.0, truth)


def _check_feasible(res, model, w, pool, p, existing, excluded):
    market = model.market
    loads = res.loads
    served = np.asarray(res.flows.sum(axis=1)).ravel() + res.unserved
    np.testing.assert_allclose(served, w, atol=1e-6)
    assert (loads <= res.capacity + 1e-6).all()
    assert res.staff.sum() <= pool
    new = [j for j in np.flatnonzero(res.staff) if j not in existing]
    assert len(new) <= p
    assert all(res.staff[j] >= 1 for j in existing)
    assert all(res.staff[j] == 0 for j in excluded)
    for j in np.flatnonzero(res.staff):  # the property the plan promises
        f = queue_figures(loads[j] * PEAK, SERVICE, int(res.staff[j]))
        assert np.isfinite(f.mean_wait_min) and f.mean_wait_min <= TARGET + 1e-9
    assert loads[market] <= model.market_capacity + 1e-6


def test_pool_too_small_for_existing_stations_is_infeasible():
    cost = np.array([[100.0, 200.0, 300.0]])
    with pytest.raises(InfeasibleError, match="existing stations"):
        StaffedSiting.from_cost_matrix(
            cost, [1.0], 1, _tables(3), pool=1, market=2, market_capacity=10,
            max_cost=MAX_S, existing=[0, 1],
        )  # fmt: skip


def test_heuristic_close_to_exact_on_a_clustered_instance():
    rng = np.random.default_rng(3)
    n, m = 120, 16
    xy = rng.random((n, 2)) * 12
    sites = rng.random((m, 2)) * 12
    cost = np.hypot(*(xy[:, None] - sites[None]).transpose(2, 0, 1)) * 240
    cost = np.hstack([cost, np.hypot(*(xy - 6).T)[:, None] * 240])
    w = rng.integers(1, 6, n).astype(float)
    tables = _tables(m + 1)
    model = StaffedSiting.from_cost_matrix(
        cost, w, 6, tables, pool=14, market=m, market_capacity=40, max_cost=MAX_S
    )
    exact = model.solve("milp", time_limit_s=60)
    heuristic = model.solve("heuristic", time_limit_s=10)
    assert exact.status == "optimal"
    assert heuristic.objective <= 1.05 * exact.objective
    assert heuristic.bound is not None and heuristic.bound <= exact.objective + 1e-6


def _crowded():
    """Two dense clusters and a pool that must be spread: a bad start leaves visits unserved."""
    rng = np.random.default_rng(7)
    n, m = 60, 10
    centres = np.array([[2.0, 2.0], [9.0, 9.0]])
    xy = centres[rng.integers(0, 2, n)] + rng.normal(0, 0.8, (n, 2))
    sites = np.vstack([c + rng.normal(0, 1, (5, 2)) for c in centres])
    cost = np.hypot(*(xy[:, None] - sites[None]).transpose(2, 0, 1)) * 200
    cost = np.hstack([cost, np.full((n, 1), 2500.0)])
    w = rng.integers(2, 6, n).astype(float)
    model = StaffedSiting.from_cost_matrix(
        cost, w, 4, _tables(m + 1), pool=10, market=m, market_capacity=5, max_cost=MAX_S
    )
    return model, w


def test_repair_improves_a_bad_plan_and_stays_feasible():
    from planner.points.siting.repair import evaluate, repair

    model, w = _crowded()
    staff = np.zeros(model.problem.n_sites, dtype=np.intp)
    staff[0] = 3  # everything in one cluster
    bad = evaluate(model, staff)
    assert bad.unserved.sum() > 0
    fixed, stats = repair(model, bad, deadline=time.perf_counter() + 30)
    assert fixed.objective < bad.objective
    assert stats.unserved_after < stats.unserved_before
    assert fixed.unserved.sum() == pytest.approx(stats.unserved_after)
    _check_feasible(fixed, model, w, 10, 4, [], [])
    assert "capacity repair" in stats.note()


def test_repair_keeps_a_plan_it_cannot_improve():
    from planner.points.siting.repair import repair

    model, _ = _crowded()
    exact = model.solve("milp", time_limit_s=60)
    kept, _stats = repair(model, exact, deadline=time.perf_counter() + 10)
    assert kept.objective <= exact.objective + 1e-6 * exact.objective


def test_regression_highs_start_with_a_foreign_objective():
    """Found by hypothesis (pool 3 at one existing station, no new points, market full):
    HiGHS 1.16 given the greedy start returned that start with another objective and bound
    (4,783,177, "optimal") - below the true optimum - so a plan looked better than any
    possible one. The wrapper now checks the objective against its solution."""
    cost = np.array(
        [[857, 1299, 1294], [2400, 1583, 725], [71, 291, 694], [1249, 752, 176],
         [60, 914, 371], [306, 189, 2400]], dtype=float,
    )  # fmt: skip
    w = np.array([42.0, 21.0, 44.0, 60.0, 12.0, 18.0])
    tables = _tables(3)
    model = StaffedSiting.from_cost_matrix(
        cost, w, 0, tables, pool=3, market=2, market_capacity=0.0, max_cost=MAX_S, existing=[0]
    )
    truth = _brute_force(model, cost, w, tables, 3, 0, {0}, set())
    assert truth == pytest.approx(5_211_388.812, abs=0.01)
    for method in ("milp", "heuristic"):
        res = model.solve(method, time_limit_s=30)
        assert res.objective == pytest.approx(truth, rel=1e-7)
        flows = res.flows.tocoo()
        market = np.where(flows.col == 2, model.market_penalty, 0.0)
        recomputed = (flows.data * (cost[flows.row, flows.col] + market)).sum()
        recomputed += model.unserved_penalty * res.unserved.sum() + STAFF_COST * res.staff.sum()
        assert res.objective == pytest.approx(recomputed, rel=1e-9)
        _check_feasible(res, model, w, 3, 0, [0], [])
