"""Capacitated, industry-matched assignment against an independent min-cost flow and LP."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from planner.points.assign import assign, industry_match, units_per_visit

MAX_S = 1800.0


def _flow_truth(time_s, weights, allowed, caps, market):
    """Optimal cost with networkx min-cost flow (integer data), same penalties as `assign`."""
    n_g, n_f = time_s.shape
    g = nx.DiGraph()
    market_penalty = MAX_S
    finite_market = np.where(np.isfinite(time_s[:, market]), time_s[:, market], 0)
    unassigned_penalty = 20.0 * MAX_S + float(finite_market.max())
    total = int(weights.sum())
    g.add_node("src", demand=-total)
    g.add_node("sink", demand=total)
    for i in range(n_g):
        g.add_edge("src", ("g", i), capacity=int(weights[i]), weight=0)
        g.add_edge(("g", i), "sink", capacity=total, weight=int(unassigned_penalty))
        for j in range(n_f):
            t = time_s[i, j]
            if not np.isfinite(t):
                continue
            if j == market:
                g.add_edge(("g", i), ("f", j), weight=int(t + market_penalty))
            elif allowed[i, j] and t <= MAX_S and caps[j] > 0:
                g.add_edge(("g", i), ("f", j), weight=int(t))
    for j in range(n_f):
        g.add_edge(("f", j), "sink", capacity=int(caps[j]), weight=0)
    return nx.min_cost_flow_cost(g)


@st.composite
def instances(draw):
    n_g = draw(st.integers(1, 6))
    n_f = draw(st.integers(2, 4))
    times = draw(st.lists(st.integers(60, 2400), min_size=n_g * n_f, max_size=n_g * n_f))
    time_s = np.array(times, dtype=float).reshape(n_g, n_f)
    weights = np.array(draw(st.lists(st.integers(0, 30), min_size=n_g, max_size=n_g)), float)
    caps = np.array(draw(st.lists(st.integers(0, 40), min_size=n_f, max_size=n_f)), float)
    allowed = np.array(
        draw(st.lists(st.booleans(), min_size=n_g * n_f, max_size=n_g * n_f))
    ).reshape(n_g, n_f)
    return time_s, weights, allowed, caps


@settings(max_examples=60, deadline=None)
@given(instances())
def test_assignment_is_optimal_and_feasible(inst):
    time_s, weights, allowed, caps = inst
    market = time_s.shape[1] - 1
    modes = np.array(["walk"] * len(weights), dtype=object)
    res = assign(time_s, weights, allowed, caps, market=market, max_time_s=MAX_S, modes=modes)
    truth = _flow_truth(time_s, weights, allowed, caps, market)
    assert res.objective == pytest.approx(truth, rel=1e-7, abs=1e-6)
    # Every visit is either assigned or reported unassigned.
    per_group = np.bincount(res.flows["group"], weights=res.flows["visits"], minlength=len(weights))
    np.testing.assert_allclose(per_group + res.unassigned, weights, atol=1e-6)
    # Capacities hold everywhere, the market included.
    assert (res.loads <= caps + 1e-6).all()
    # Service points only take matching groups within the time limit.
    pts = res.flows[res.flows["facility"] != market]
    assert allowed[pts["group"], pts["facility"]].all()
    assert (pts["time_s"] <= MAX_S).all()
    # Whoever is not fully served at matching points has a reason.
    at_point = np.bincount(pts["group"], weights=pts["visits"], minlength=len(weights))
    short = at_point < weights - 1e-6
    assert all(res.reason[short] != "")


def test_reasons_name_mode_and_limit():
    time_s = np.array([[600.0, 4000.0, 900.0], [3000.0, 3000.0, 900.0]])
    allowed = np.array([[True, True, True], [True, True, True]])
    caps = np.array([5.0, 100.0, 1.0])
    res = assign(
        time_s,
        np.array([10.0, 4.0]),
        allowed,
        caps,
        market=2,
        max_time_s=MAX_S,
        modes=np.array(["ebike", "bus"], dtype=object),
    )
    assert "full" in res.reason[0] and "central market" in res.reason[0]
    assert "no open service point" in res.reason[1] and "by bus" in res.reason[1]
    assert "full as well" in res.reason[1]  # market (capacity 1) cannot take both groups
    assert res.unassigned.sum() == pytest.approx(10 - 5 + 4 - 1)


def test_industry_match():
    groups = pd.Series(["textile;toys", "food", "other"])
    points = [{"textile"}, {"food", "chemical"}, set()]
    m = industry_match(groups, points)
    assert m.tolist() == [[True, False, False], [False, True, False], [False, False, False]]


def _lp_truth(time_s, weights, allowed, caps, market):
    """Optimum of the transportation LP (HiGHS via scipy) with fractional data, as the
    assignment solved it before the flow: rows x (points, market, unassigned)."""
    n_g, n_f = time_s.shape
    ok = allowed & np.isfinite(time_s) & (time_s <= MAX_S) & (caps[None, :] > 0)
    ok[:, market] = False
    gi, fj = np.nonzero(ok)
    mg = np.flatnonzero(np.isfinite(time_s[:, market]))
    market_t = time_s[mg, market]
    penalty = 20.0 * MAX_S + float(market_t.max() if mg.size else 0.0)
    cost = np.concatenate([time_s[gi, fj], market_t + MAX_S, np.full(n_g, penalty)])
    rows = np.concatenate([gi, mg, np.arange(n_g)])
    a_eq = sp.csr_array((np.ones(cost.size), (rows, np.arange(cost.size))), (n_g, cost.size))
    cap_rows = np.concatenate([fj, np.full(mg.size, market)])
    a_ub = sp.csr_array(
        (np.ones(cap_rows.size), (cap_rows, np.arange(cap_rows.size))), (n_f, cost.size)
    )
    res = linprog(cost, A_ub=a_ub, b_ub=caps, A_eq=a_eq, b_eq=weights, method="highs")
    assert res.status == 0
    return res.fun


@st.composite
def fractional_instances(draw):
    time_s, weights, allowed, caps = draw(instances())
    w_frac = draw(st.lists(st.floats(0, 1), min_size=weights.size, max_size=weights.size))
    c_frac = draw(st.lists(st.floats(0, 1), min_size=caps.size, max_size=caps.size))
    t_frac = draw(st.floats(0, 1))
    return time_s + t_frac / 3, weights * 0.37 + np.array(w_frac), allowed, caps + c_frac


@settings(max_examples=60, deadline=None)
@given(fractional_instances())
def test_fractional_visits_match_the_lp_within_the_bound(inst):
    """Fractional visits, capacities and times: the integral flow's rounding costs at most
    what its bound says, and the plan is feasible for the true (unrounded) data."""
    time_s, weights, allowed, caps = inst
    market = time_s.shape[1] - 1
    modes = np.array(["bus"] * len(weights), dtype=object)
    res = assign(time_s, weights, allowed, caps, market=market, max_time_s=MAX_S, modes=modes)
    truth = _lp_truth(time_s, weights, allowed, caps, market)
    tol = 1e-7 * max(1.0, truth)
    assert res.bound <= truth + tol
    assert res.objective >= truth - tol
    assert res.objective - res.bound <= 1e-4 * truth + 1.0  # 1 visit x s: a few units
    per_group = np.bincount(res.flows["group"], weights=res.flows["visits"], minlength=len(weights))
    np.testing.assert_allclose(per_group + res.unassigned, weights, atol=1e-9)
    assert (res.loads <= caps + 1e-9).all()


def test_units_per_visit_leaves_headroom():
    assert units_per_visit(20_000.0, 60_000.0) == 1_000_000
    small = units_per_visit(1e9, 60_000.0)
    assert 1 <= small < 1_000_000
    assert 1e9 * small * 600_000 <= 2.0**62 / 64
    assert units_per_visit(1e20, 1e9) == 1


@pytest.mark.parametrize(
    ("weights", "caps", "market", "match"),
    [
        (np.array([1.0, -2.0]), np.ones(2), 1, "`weights` must be finite and >= 0"),
        (np.array([1.0, np.nan]), np.ones(2), 1, "`weights` must be finite"),
        (np.ones(2), np.array([np.inf, 1.0]), 1, "`capacities` must be finite"),
        (np.ones(2), np.ones(3), 1, "`capacities` needs one value per facility"),
        (np.ones(2), np.ones(2), 2, "`market` = 2 is not a facility column"),
    ],
)
def test_bad_input_names_the_argument(weights, caps, market, match):
    with pytest.raises(ValueError, match=match):
        assign(
            np.full((2, 2), 100.0),
            weights,
            np.ones((2, 2), bool),
            caps,
            market=market,
            max_time_s=MAX_S,
            modes=np.array(["walk", "walk"]),
        )


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="`weights`"):
        assign(
            np.zeros((2, 2)),
            np.ones(3),
            np.ones((2, 2), bool),
            np.ones(2),
            market=1,
            max_time_s=MAX_S,
            modes=np.array(["walk", "walk"]),
        )
