"""p-median and capacitated p-median against brute force on small random instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import InputError
from planner.errors import InfeasibleError, SolverError
from planner.points.siting import CapacitatedPMedian, PMedian


def brute_pmedian(cost, w, p, fixed=()):
    free = [j for j in range(cost.shape[1]) if j not in fixed]
    best = np.inf
    for combo in itertools.combinations(free, p):
        sites = list(combo) + list(fixed)
        best = min(best, float((w * cost[:, sites].min(axis=1)).sum()))
    return best


def brute_capacitated(cost, w, p, caps, *, fixed=()):
    """Single-source optimum by enumerating open sets and assignments."""
    n = cost.shape[0]
    free = [j for j in range(cost.shape[1]) if j not in fixed]
    best = np.inf
    for combo in itertools.combinations(free, p):
        sites = np.array(list(combo) + list(fixed))
        for assign in itertools.product(range(sites.size), repeat=n):
            a = np.array(assign)
            if (np.bincount(a, weights=w, minlength=sites.size) <= caps[sites] + 1e-9).all():
                best = min(best, float((w * cost[np.arange(n), sites[a]]).sum()))
    return best


def random_instance(seed, n=25, m=10):
    rng = np.random.default_rng(seed)
    return rng.uniform(1, 100, (n, m)), rng.integers(1, 6, n).astype(float)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("method", ["milp", "heuristic"])
def test_pmedian_matches_brute_force(seed, method):
    cost, w = random_instance(seed)
    p = 1 + seed % 4
    fixed = (seed % 10,) if seed % 2 else ()
    result = PMedian.from_cost_matrix(cost, w, p, fixed=fixed).solve(method)
    assert result.objective == pytest.approx(brute_pmedian(cost, w, p, fixed), rel=1e-9)
    assert result.new_sites.size == p
    assert set(fixed) <= set(result.open_sites.tolist())
    # Everyone goes to the nearest open site.
    expected = cost[:, result.open_sites].min(axis=1)
    np.testing.assert_allclose(result.cost, expected)
    if method == "milp":
        assert result.status == "optimal"
        assert result.gap == pytest.approx(0.0, abs=1e-6)
    else:
        assert result.bound is not None
        assert result.bound <= result.objective + 1e-6


def test_heuristic_bound_proves_optimality_on_integral_data():
    rng = np.random.default_rng(7)
    pts = rng.uniform(0, 1000, (60, 2))
    cost = np.round(np.linalg.norm(pts[:, None] - pts[None], axis=2))
    result = PMedian.from_cost_matrix(cost, None, 6).solve("heuristic")
    milp = PMedian.from_cost_matrix(cost, None, 6).solve("milp")
    assert result.objective == pytest.approx(milp.objective)
    assert result.bound <= milp.objective + 1e-9


def test_unreachable_rows_are_reported_not_counted():
    cost = np.array([[1.0, 5.0], [np.inf, np.inf], [4.0, 2.0]])
    result = PMedian.from_cost_matrix(cost, [1, 7, 1], 1).solve("milp")
    assert result.unassigned.tolist() == [1]
    assert result.objective == pytest.approx(min(1 + 4, 5 + 2))
    assert any("reach no open site" in note for note in result.notes)


def test_penalty_prefers_serving_everyone():
    # Site 0 is cheap for row 0 but cannot reach row 1; site 1 reaches both.
    cost = np.array([[1.0, 50.0], [np.inf, 50.0]])
    for method in ("milp", "heuristic"):
        result = PMedian.from_cost_matrix(cost, None, 1).solve(method)
        assert result.open_sites.tolist() == [1]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"p_facilities": 11}, InfeasibleError),
        ({"p_facilities": 10, "fixed": [0]}, InfeasibleError),
        ({"p_facilities": -1}, InputError),
        ({"p_facilities": 2, "fixed": [10]}, InputError),
        ({"p_facilities": 2, "fixed": [1, 1]}, InputError),
        ({"p_facilities": 2, "weights": [1.0] * 3}, InputError),
    ],
)
def test_pmedian_bad_settings(kwargs, error):
    cost, w = random_instance(0, n=5)
    args = {"weights": w, **kwargs}
    with pytest.raises(error):
        PMedian.from_cost_matrix(cost, args.pop("weights"), args.pop("p_facilities"), **args)


@pytest.mark.parametrize(
    "cost", [np.array([[1.0, np.nan]]), np.array([[1.0, -2.0]]), np.zeros((0, 3)), np.ones(3)]
)
def test_bad_cost_matrix(cost):
    with pytest.raises(InputError, match="cost"):
        PMedian.from_cost_matrix(cost, None, 1)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(3, 15),
    m=st.integers(2, 7),
    data=st.data(),
)
def test_heuristic_never_beats_brute_force_and_is_consistent(seed, n, m, data):
    p = data.draw(st.integers(1, m))
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 30, (n, m)).astype(float)
    w = rng.integers(0, 4, n).astype(float)
    result = PMedian.from_cost_matrix(cost, w, p).solve("heuristic", max_rounds=20)
    best = brute_pmedian(cost, w, p)
    assert result.objective >= best - 1e-9
    assert result.objective == pytest.approx(float((w * result.cost).sum()))
    assert result.bound <= best + 1e-9


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("method", ["milp", "heuristic"])
def test_capacitated_single_source_matches_brute_force(seed, method):
    rng = np.random.default_rng(100 + seed)
    n, m, p = 7, 5, 2
    cost = rng.uniform(1, 50, (n, m))
    w = rng.integers(1, 5, n).astype(float)
    caps = np.full(m, w.sum() * 0.6)
    fixed = (0,) if seed % 2 else ()
    result = CapacitatedPMedian.from_cost_matrix(cost, w, p, caps, fixed=fixed).solve(method)
    best = brute_capacitated(cost, w, p, caps, fixed=fixed)
    if method == "milp":
        assert result.objective == pytest.approx(best, rel=1e-7)
    else:
        assert result.objective <= best * 1.10
        assert result.objective >= best - 1e-6
    assert (result.loads <= caps + 1e-6).all()
    assert (result.assignment >= 0).all()
    assert set(result.assignment.tolist()) <= set(result.open_sites.tolist())


@pytest.mark.parametrize("method", ["milp", "heuristic"])
def test_capacitated_splittable_honours_capacities(method):
    rng = np.random.default_rng(11)
    cost = rng.uniform(1, 50, (40, 12))
    w = rng.integers(1, 9, 40).astype(float)
    caps = np.full(12, w.sum() / 3.5)
    model = CapacitatedPMedian.from_cost_matrix(cost, w, 3, caps, fixed=[5], single_source=False)
    result = model.solve(method)
    assert result.allocation is not None
    np.testing.assert_allclose(result.allocation.sum(axis=1), 1.0, atol=1e-6)
    assert (result.loads <= caps + 1e-6).all()
    assert 5 in result.open_sites
    uncapacitated = PMedian.from_cost_matrix(cost, w, 3, fixed=[5]).solve("milp")
    assert result.objective >= uncapacitated.objective - 1e-6


def test_capacitated_heuristic_close_to_milp_on_larger_instance():
    rng = np.random.default_rng(5)
    pts = rng.uniform(0, 5000, (120, 2))
    cost = np.linalg.norm(pts[:, None] - pts[None, :30], axis=2)
    w = rng.integers(1, 10, 120).astype(float)
    caps = np.full(30, w.sum() / 4.5)
    exact = CapacitatedPMedian.from_cost_matrix(cost, w, 5, caps).solve("milp")
    heur = CapacitatedPMedian.from_cost_matrix(cost, w, 5, caps).solve("heuristic")
    assert (heur.loads <= caps + 1e-6).all()
    assert heur.objective <= exact.objective * 1.05


@pytest.mark.parametrize(
    ("caps", "single_source", "match"),
    [
        (np.full(4, 2.0), True, "even all 4 candidate sites hold only 8"),
        (np.array([1.0, 1.0, 1.0, 10.0]), True, None),  # feasible: one large site
        (np.full(4, 3.0), True, "weigh more than any site"),
    ],
)
def test_capacitated_infeasible(caps, single_source, match):
    cost = np.ones((3, 4))
    w = np.array([1.0, 1.0, 4.0]) if match == "weigh more than any site" else np.ones(3) * 3
    p = 3 if match == "weigh more than any site" else 1
    if match is None:
        result = CapacitatedPMedian.from_cost_matrix(cost, w, 1, caps).solve("milp")
        assert result.open_sites.tolist() == [3]
        return
    with pytest.raises(InfeasibleError, match=match):
        CapacitatedPMedian.from_cost_matrix(cost, w, p, caps, single_source=single_source)


def test_capacitated_bin_packing_infeasible_is_clear():
    # Total capacity 4 >= demand 4 but items 3 + 1... into sites of 2 and 2 cannot be packed.
    cost = np.ones((2, 2))
    with pytest.raises(InfeasibleError):
        CapacitatedPMedian.from_cost_matrix(cost, [3.0, 1.0], 2, [2.0, 2.0]).solve("milp")


def _capacitated_instance(n: int = 3000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    pts = rng.uniform(0, 5000, (n, 2))
    cost = np.linalg.norm(pts[:, None] - pts[None, :60], axis=2)
    w = rng.integers(1, 10, n).astype(float)
    return cost, w, np.full(60, w.sum() / 9)


def test_capacitated_shortfall_states_the_points_needed():
    cost, w, caps = _capacitated_instance()
    # Independent truth: the fewest sites whose largest capacities cover the demand.
    need = int(np.ceil(w.sum() / caps[0]))
    with pytest.raises(InfeasibleError) as err:
        CapacitatedPMedian.from_cost_matrix(cost, w, need - 1, caps)
    text = str(err.value)
    assert f"{w.sum():,.0f} visits/day" in text
    assert f"can hold at most {(need - 1) * caps[0]:,.0f}" in text
    assert f"open at least {need} new sites" in text


def test_capacitated_time_out_is_not_infeasibility():
    cost, w, caps = _capacitated_instance()
    model = CapacitatedPMedian.from_cost_matrix(cost, w, 10, caps)
    with pytest.raises(SolverError) as err:
        model.solve("heuristic", time_limit_s=1e-9)
    assert not isinstance(err.value, InfeasibleError)
    assert "time limit" in str(err.value)
    assert "does cover the demand" in str(err.value)
    # The same model with time to solve has a solution: the time-out was no proof.
    result = model.solve("heuristic", time_limit_s=30)
    assert (result.loads <= caps.max() + 1e-6).all()


def _greedy_by_full_passes(c, q, fixed):
    """The greedy add recounting every gain from scratch at each step (the old code)."""
    sites = list(fixed)
    d1 = c[:, sites].min(axis=1)
    is_open = np.zeros(c.shape[1], dtype=bool)
    is_open[sites] = True
    while len(sites) < q:
        gain = np.maximum(d1[:, None] - c, 0.0).sum(axis=0)
        gain[is_open] = -1.0
        k = int(np.argmax(gain))
        sites.append(k)
        is_open[k] = True
        np.minimum(d1, c[:, k], out=d1)
    return sites


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 60), st.integers(2, 40))
def test_incremental_greedy_matches_full_passes(seed, n, m):
    """Incremental gains (a recount every GREEDY_RECOUNT steps) reach the same costs."""
    from planner.points.siting.search import greedy_pmedian

    rng = np.random.default_rng(seed)
    xy, sites = rng.random((n, 2)), rng.random((m, 2))
    c = np.hypot(*(xy[:, None] - sites[None]).transpose(2, 0, 1)) * rng.integers(1, 9, n)[:, None]
    fixed = np.array([0], dtype=np.intp)
    q = m
    fast, slow = greedy_pmedian(c, q, fixed).tolist(), _greedy_by_full_passes(c, q, [0])
    for k in range(1, q + 1):  # same cost after every step (ties may pick other sites)
        assert c[:, fast[:k]].min(axis=1).sum() == pytest.approx(
            c[:, slow[:k]].min(axis=1).sum(), rel=1e-9
        )
