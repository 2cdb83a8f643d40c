"""Maximal coverage and minimum-points models against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InfeasibleError
from planner.points.siting import MaxCoverage, MinPointsCoverage


def covered(cost, w, sites, limit):
    return float(w[(cost[:, list(sites)] <= limit).any(axis=1)].sum())


def brute_max_cover(cost, w, p, limit, fixed=()):
    free = [j for j in range(cost.shape[1]) if j not in fixed]
    return max(
        covered(cost, w, list(c) + list(fixed), limit) for c in itertools.combinations(free, p)
    )


def brute_min_points(cost, w, limit, share, fixed=()):
    free = [j for j in range(cost.shape[1]) if j not in fixed]
    for k in range(len(free) + 1):
        for combo in itertools.combinations(free, k):
            if covered(cost, w, list(combo) + list(fixed), limit) >= share * w.sum() - 1e-9:
                return k
    raise AssertionError("unreachable")


def instance(seed, n=30, m=10):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 100, (n, m))
    cost[rng.random((n, m)) < 0.1] = np.inf
    return cost, rng.integers(1, 6, n).astype(float)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("method", ["milp", "heuristic"])
def test_max_coverage_matches_brute_force(seed, method):
    cost, w = instance(seed)
    p, limit = 1 + seed % 3, 25.0
    fixed = (seed,) if seed % 2 else ()
    result = MaxCoverage.from_cost_matrix(cost, w, p, limit, fixed=fixed).solve(method)
    best = brute_max_cover(cost, w, p, limit, fixed)
    if method == "milp":
        assert result.objective == pytest.approx(best)
    else:
        assert result.objective >= 0.97 * best
    assert result.objective == pytest.approx(covered(cost, w, result.open_sites, limit))
    assert result.covered_weight == pytest.approx(result.objective)
    assert set(fixed) <= set(result.open_sites.tolist())
    assert result.new_sites.size == p


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("method", ["milp", "heuristic"])
def test_min_points_matches_brute_force_and_meets_target(seed, method):
    cost, w = instance(seed, m=8)
    share, limit = 0.7, 30.0
    fixed = (2,) if seed % 2 else ()
    try:
        best = brute_min_points(cost, w, limit, share, fixed)
    except AssertionError:
        pytest.fail("instance generator produced an infeasible case")
    result = MinPointsCoverage.from_cost_matrix(cost, w, limit, share, fixed=fixed).solve(method)
    assert result.covered_weight >= share * w.sum() - 1e-9
    assert result.objective == result.new_sites.size
    if method == "milp":
        assert result.objective == best
    else:
        assert best <= result.objective <= best + 1


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), share=st.floats(0.05, 1.0))
def test_min_points_heuristic_always_meets_target(seed, share):
    cost, w = instance(seed, n=20, m=8)
    reach = float(w[(cost <= 40).any(axis=1)].sum()) / w.sum()
    if share > reach:
        with pytest.raises(InfeasibleError, match="min_share"):
            MinPointsCoverage.from_cost_matrix(cost, w, 40, share)
        return
    result = MinPointsCoverage.from_cost_matrix(cost, w, 40, share).solve("heuristic")
    assert result.covered_weight >= share * w.sum() - 1e-9


def test_nothing_within_limit_is_infeasible():
    cost = np.full((4, 3), 100.0)
    with pytest.raises(InfeasibleError, match="within `max_cost`"):
        MaxCoverage.from_cost_matrix(cost, None, 1, 10.0)
    with pytest.raises(InfeasibleError, match="min_share"):
        MinPointsCoverage.from_cost_matrix(cost, None, 10.0, 0.5)


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda c: MaxCoverage.from_cost_matrix(c, None, 4, 10.0), "exceed"),
        (lambda c: MaxCoverage.from_cost_matrix(c, None, 1, -1.0), "max_cost"),
        (lambda c: MinPointsCoverage.from_cost_matrix(c, None, 10.0, 1.5), "min_share"),
        (lambda c: MinPointsCoverage.from_cost_matrix(c, None, np.inf, 0.5), "max_cost"),
    ],
)
def test_bad_coverage_settings(factory, match):
    with pytest.raises(InfeasibleError, match=match):
        factory(np.ones((3, 3)))
