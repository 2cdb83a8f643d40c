"""Capacitated, industry-matched assignment against an independent min-cost flow."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.points.assign import assign, industry_match

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
