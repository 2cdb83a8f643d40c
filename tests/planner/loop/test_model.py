"""The recommendation model against independent optima (networkx min-cost flow, brute force,
HiGHS on the full LP), for both solvers: the exact OR-Tools flow and HiGHS column generation."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from planner.loop import AssignmentModel


def networkx_optimum(reg, emp, t, n_reg, cap, per, benefit) -> float:
    """Max of sum(benefit - t) x as a min-cost flow (integer times)."""
    g = nx.DiGraph()
    total = n_reg * per
    g.add_node("s", demand=-total)
    g.add_node("t", demand=total)
    g.add_edge("s", "t", capacity=total, weight=0)  # unused supply
    for r in range(n_reg):
        g.add_edge("s", ("r", r), capacity=per, weight=0)
    for j, c in enumerate(cap):
        g.add_edge(("e", j), "t", capacity=int(c), weight=0)
    for a, (r, j) in enumerate(zip(reg, emp, strict=True)):
        g.add_edge(("r", r), ("e", j), capacity=1, weight=int(t[a] - benefit))
    flow = nx.min_cost_flow(g)
    return float(
        sum(
            flow[("r", r)][("e", j)] * (benefit - t[a])
            for a, (r, j) in enumerate(zip(reg, emp, strict=True))
        )
    )


def brute_force(reg, emp, t, n_reg, cap, per, benefit) -> float:
    best = 0.0
    n = len(reg)
    for mask in itertools.product((0, 1), repeat=n):
        x = np.array(mask, dtype=bool)
        if (np.bincount(reg[x], minlength=n_reg) > per).any():
            continue
        if (np.bincount(emp[x], minlength=len(cap)) > cap).any():
            continue
        best = max(best, float(np.sum(benefit - t[x])))
    return best


def random_instance(seed: int, n_reg: int, n_emp: int, density: float = 0.5):
    rng = np.random.default_rng(seed)
    reg, emp = np.nonzero(rng.random((n_reg, n_emp)) < density)
    t = rng.integers(0, 2700, reg.size).astype(float)
    cap = rng.integers(0, 5, n_emp)
    per = int(rng.integers(1, 4))
    return reg, emp, t, cap, per


def solve(reg, emp, t, n_reg, cap, per, pool=1, method="highs"):
    model = AssignmentModel.from_pairs(
        reg, emp, t, n_registrations=n_reg, capacity=cap, per_registration=per, benefit_s=5400.0
    )
    return model, model.solve(method=method, pool=pool)


METHODS = ["flow", "highs"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", range(12))
def test_matches_networkx_min_cost_flow(seed, method):
    n_reg, n_emp = 25, 8
    reg, emp, t, cap, per = random_instance(seed, n_reg, n_emp)
    _, res = solve(reg, emp, t, n_reg, cap, per, method=method)
    assert res.method == method
    expected = networkx_optimum(reg, emp, t, n_reg, cap, per, 5400.0)
    assert res.objective == pytest.approx(expected, abs=1e-6)
    assert res.bound == pytest.approx(expected, rel=1e-9, abs=1e-4)  # certificate is tight
    assert res.gap == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force_on_tiny_cases(seed, method):
    n_reg, n_emp = 4, 3
    reg, emp, t, cap, per = random_instance(100 + seed, n_reg, n_emp, density=0.7)
    assert reg.size <= 12
    _, res = solve(reg, emp, t, n_reg, cap, per, method=method)
    assert res.objective == pytest.approx(brute_force(reg, emp, t, n_reg, cap, per, 5400.0))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_reg=st.integers(1, 30),
    n_emp=st.integers(1, 10),
    pool=st.integers(1, 6),
    method=st.sampled_from(METHODS),
)
def test_limits_hold_and_result_is_integral(seed, n_reg, n_emp, pool, method):
    reg, emp, t, cap, per = random_instance(seed, n_reg, n_emp)
    _, res = solve(reg, emp, t, n_reg, cap, per, pool=pool, method=method)
    chosen = res.chosen
    assert (np.bincount(reg[chosen], minlength=n_reg) <= per).all()
    assert (np.bincount(emp[chosen], minlength=n_emp) <= cap).all()  # never over capacity
    assert np.unique(chosen).size == chosen.size
    assert res.objective <= res.bound + 1e-6


@pytest.mark.parametrize("method", METHODS)
def test_capacity_binds_nearest_candidates_win(method):
    # One employer, one place, two candidates: the nearer one gets it.
    _, res = solve(
        np.array([0, 1]),
        np.array([0, 0]),
        np.array([600.0, 300.0]),
        2,
        np.array([1]),
        1,
        method=method,
    )
    assert res.chosen.tolist() == [1]


def highs_full_lp(reg, emp, t, n_reg, cap, per, benefit) -> float:
    """The LP over all pairs at once with HiGHS (no column generation), in exact seconds."""
    n_emp = len(cap)
    rows = np.r_[reg, n_reg + emp]
    cols = np.r_[np.arange(reg.size), np.arange(reg.size)]
    a = sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(n_reg + n_emp, reg.size))
    res = linprog(
        -(benefit - t),
        A_ub=a,
        b_ub=np.r_[np.full(n_reg, per), cap].astype(float),
        bounds=(0, 1),
        method="highs",
    )
    assert res.status == 0
    return float(-res.fun)


@pytest.mark.parametrize("resolution", [1.0, 0.001])
@pytest.mark.parametrize("seed", range(4))
def test_flow_equals_the_lp_optimum_with_fractional_times(seed, resolution):
    # Sub-second times: the flow rounds costs to the resolution; its result must still be
    # the LP optimum within the stated rounding bound, and the bound must hold.
    rng = np.random.default_rng(500 + seed)
    n_reg, n_emp = 300, 25
    reg, emp = np.nonzero(rng.random((n_reg, n_emp)) < 0.3)
    t = rng.uniform(0, 2700, reg.size)
    cap = rng.integers(0, 20, n_emp)
    model = AssignmentModel.from_pairs(
        reg, emp, t, n_registrations=n_reg, capacity=cap, per_registration=3, benefit_s=5400.0
    )
    res = model.solve(method="flow", resolution_s=resolution)
    lp = highs_full_lp(reg, emp, t, n_reg, cap, 3, 5400.0)
    assert res.objective <= lp + 1e-6
    assert res.bound >= lp - 1e-6
    assert res.objective >= lp - resolution * res.matches - 1e-6  # at most the rounding
    assert res.gap < resolution * 1e-3  # bound - objective <= resolution per place
    chosen = res.chosen
    assert (np.bincount(reg[chosen], minlength=n_reg) <= 3).all()
    assert (np.bincount(emp[chosen], minlength=n_emp) <= cap).all()


def test_flow_handles_registrations_and_employers_without_pairs():
    model = AssignmentModel.from_pairs(
        np.array([2]),
        np.array([1]),
        np.array([100.0]),
        n_registrations=4,
        capacity=np.array([0, 1, 0]),
        per_registration=2,
        benefit_s=5400.0,
    )
    res = model.solve()
    assert res.method == "flow"
    assert res.chosen.tolist() == [0]
    assert res.objective == pytest.approx(5300.0)
    empty = AssignmentModel.from_pairs(
        np.zeros(0, int),
        np.zeros(0, int),
        np.zeros(0),
        n_registrations=2,
        capacity=np.array([1]),
        per_registration=1,
        benefit_s=10.0,
    ).solve()
    assert empty.matches == 0
    assert empty.objective == 0.0


def test_unknown_method_is_refused():
    model = AssignmentModel.from_pairs(
        np.array([0]),
        np.array([0]),
        np.array([1.0]),
        n_registrations=1,
        capacity=np.array([1]),
        per_registration=1,
        benefit_s=10.0,
    )
    with pytest.raises(ValueError, match="method"):
        model.solve(method="greedy")
    with pytest.raises(ValueError, match="resolution_s"):
        model.solve(resolution_s=0.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"capacity": np.array([-1])}, "capacity"),
        ({"per_registration": 0}, "per_registration"),
        ({"benefit_s": 100.0}, "benefit_s"),
    ],
)
def test_bad_models_are_refused(kwargs, match):
    args = {
        "n_registrations": 1,
        "capacity": np.array([1]),
        "per_registration": 1,
        "benefit_s": 5400.0,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        AssignmentModel.from_pairs(np.array([0]), np.array([0]), np.array([600.0]), **args)


def test_duplicate_pairs_are_refused():
    with pytest.raises(ValueError, match="twice"):
        AssignmentModel.from_pairs(
            np.array([0, 0]),
            np.array([0, 0]),
            np.array([1.0, 2.0]),
            n_registrations=1,
            capacity=np.array([2]),
            per_registration=2,
            benefit_s=10.0,
        )
