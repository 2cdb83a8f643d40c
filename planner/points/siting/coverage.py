"""Coverage models: maximal coverage and "fewest points so that X% of demand is within T".

A row is *covered* when some open site is within ``max_cost`` seconds. Rows are assigned to
their nearest open site (covered or not), so every result also carries the travel times.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from planner.errors import InfeasibleError
from planner.points.siting.assemble import make_result
from planner.points.siting.highs import solve_milp
from planner.points.siting.problem import Method, SitingProblem, check_count, use_milp
from planner.points.siting.result import SitingResult

logger = logging.getLogger(__name__)


def _check_limit(max_cost: float) -> None:
    if not (np.isfinite(max_cost) and max_cost > 0):
        msg = f"`max_cost` must be a positive number of seconds, got {max_cost}"
        raise InfeasibleError(msg)


def _coverage_search(
    cover: sp.csc_array,
    w: NDArray[np.float64],
    q: int,
    fixed: NDArray[np.intp],
    *,
    start: NDArray[np.intp] | None = None,
    rng: np.random.Generator,
    rounds: int,
) -> tuple[NDArray[np.intp], float]:
    """Greedy + best-improvement swaps (+ random restarts from perturbations) for max coverage.

    With ``cnt_i`` the number of open sites covering row ``i`` and ``A`` the 0/1 cover matrix:
    ``gain_k = sum w [A_ik, cnt=0]``, ``loss_j = sum w [A_ij, cnt=1]`` and
    ``extra_jk = sum w [A_ij, A_ik, cnt=1]``; ``profit = gain_k - loss_j + extra_jk``.
    The cover matrix is sparse (scipy products, no BLAS threads to contend for cores).
    """
    m = cover.shape[1]
    cover_t = sp.csr_array(cover.T)
    tol = 1e-9 * max(1.0, float(w.sum()))
    if start is None:
        sites = list(fixed.tolist())
        cnt = _count(cover, np.asarray(sites, dtype=np.intp))
        while len(sites) < q:
            gain = cover_t @ (w * (cnt == 0))
            gain[sites] = -1.0
            k = int(np.argmax(gain))
            sites.append(k)
            cnt += cover[:, [k]].toarray().ravel()
        start = np.asarray(sites, dtype=np.intp)
    fixed_mask = np.isin(start, fixed)

    def local(s: NDArray[np.intp]) -> tuple[NDArray[np.intp], float]:
        s = s.copy()
        while True:
            cnt = _count(cover, s)
            gain = cover_t @ (w * (cnt == 0))
            single = w * (cnt == 1)
            open_t = cover_t[s]
            loss = open_t @ single
            extra = (open_t.multiply(single[None, :]) @ cover).toarray()
            profit = extra + gain[None, :] - loss[:, None]
            profit[:, s] = -np.inf
            profit[fixed_mask, :] = -np.inf
            r, k = divmod(int(np.argmax(profit)), m)
            if not profit[r, k] > tol:
                return s, float(w @ (cnt > 0))
            s[r] = k

    if fixed_mask.all() or q == m:
        return start, float(w @ (_count(cover, start) > 0))
    best, best_val = local(start)
    free_pos = np.flatnonzero(~fixed_mask)
    for _ in range(rounds):
        cand = best.copy()
        kick = rng.choice(free_pos, size=min(2, free_pos.size), replace=False)
        closed = np.setdiff1d(np.arange(m), cand)
        if closed.size < kick.size:
            break
        cand[kick] = rng.choice(closed, size=kick.size, replace=False)
        cand, val = local(cand)
        if val > best_val + tol:
            best, best_val = cand, val
    return np.sort(best), best_val


def _count(cover: sp.csc_array, sites: NDArray[np.intp]) -> NDArray[np.float64]:
    """Number of the given sites covering each row."""
    if sites.size == 0:
        return np.zeros(cover.shape[0])
    return np.asarray(cover[:, sites].sum(axis=1), dtype=np.float64).ravel()


def _coverage_milp(
    cover: sp.csc_array,
    w: NDArray[np.float64],
    fixed: NDArray[np.intp],
    *,
    q: int | None,
    min_covered: float | None,
    time_limit_s: float,
    what: str,
) -> tuple[NDArray[np.intp], float, float, bool, float]:
    """MCLP (``q`` given: max covered weight) or min-points (``min_covered``: min new sites)."""
    n, m = cover.shape
    ii, jj = cover.nonzero()
    # Columns: y_j (m), z_i (n). Rows: z_i - sum_{j covers i} y_j <= 0 (n), then one of
    # sum y = q or sum w z >= min_covered.
    data = [np.ones(n), -np.ones(ii.size)]
    r_idx = [np.arange(n), ii]
    c_idx = [m + np.arange(n), jj]
    if q is not None:
        data.append(np.ones(m))
        r_idx.append(np.full(m, n))
        c_idx.append(np.arange(m))
        lo, hi = float(q), float(q)
        cost = np.concatenate([np.zeros(m), w])
    else:
        data.append(w)
        r_idx.append(np.full(n, n))
        c_idx.append(m + np.arange(n))
        lo, hi = float(min_covered or 0.0), np.inf
        cost = np.concatenate([np.ones(m), np.zeros(n)])
        cost[fixed] = 0.0
    a = sp.coo_array(
        (np.concatenate(data), (np.concatenate(r_idx), np.concatenate(c_idx))), shape=(n + 1, m + n)
    ).tocsc()
    col_lo = np.zeros(m + n)
    col_lo[fixed] = 1.0
    integer = np.zeros(m + n, dtype=bool)
    integer[:m] = True
    out = solve_milp(
        cost,
        a,
        np.concatenate([np.full(n, -np.inf), [lo]]),
        np.concatenate([np.zeros(n), [hi]]),
        col_lo,
        np.ones(m + n),
        integer,
        maximize=q is not None,
        time_limit_s=time_limit_s,
        what=what,
    )
    sites = np.flatnonzero(out.x[:m] > 0.5)
    return sites, out.objective, out.bound, out.optimal, out.runtime_s


class MaxCoverage:
    """Maximal covering location: open ``p`` new sites maximising demand within ``max_cost``."""

    model_name = "max coverage"

    def __init__(self, problem: SitingProblem, p: int, max_cost: float) -> None:
        check_count(p, problem.n_sites, problem.fixed.size, name="p_facilities")
        _check_limit(max_cost)
        self.problem, self.p, self.max_cost = problem, int(p), float(max_cost)
        self.cover = sp.csc_array(problem.cost <= self.max_cost, dtype=np.float64)
        if not ((_count(self.cover, np.arange(problem.n_sites)) > 0) & (problem.weights > 0)).any():
            msg = f"no demand can reach any candidate site within `max_cost`={max_cost:g} s"
            raise InfeasibleError(msg)

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: ArrayLike,
        weights: ArrayLike | None,
        p_facilities: int,
        max_cost: float,
        *,
        fixed: Sequence[int] | ArrayLike = (),
    ) -> MaxCoverage:
        """Build from a travel-time matrix (s), ``p`` new sites and the coverage limit (s)."""
        return cls(SitingProblem.build(cost_matrix, weights, fixed=fixed), p_facilities, max_cost)

    def solve(
        self,
        method: Method = "auto",
        *,
        time_limit_s: float = 60.0,
        seed: int = 0,
        rounds: int = 30,
    ) -> SitingResult:
        """Solve with the MILP (HiGHS) or greedy + swap local search (``"auto"``: by size)."""
        prob = self.problem
        q = self.p + prob.fixed.size
        if use_milp(method, prob, self.model_name):
            sites, value, bound, optimal, runtime = _coverage_milp(
                self.cover,
                prob.weights,
                prob.fixed,
                q=q,
                min_covered=None,
                time_limit_s=time_limit_s,
                what=self.model_name,
            )
            solver, status = "milp-highs", "optimal" if optimal else "time limit"
        else:
            start = time.perf_counter()
            sites, value = _coverage_search(
                self.cover,
                prob.weights,
                q,
                prob.fixed,
                rng=np.random.default_rng(seed),
                rounds=rounds,
            )
            runtime, bound = time.perf_counter() - start, None
            solver, status = "heuristic", "heuristic"
        covered = float(prob.weights[_count(self.cover, sites) > 0].sum())
        return make_result(
            prob,
            sites,
            model=self.model_name,
            solver=solver,
            status=status,
            sense="max",
            objective=covered,
            bound=bound,
            runtime_s=runtime,
            max_cost=self.max_cost,
            notes=[f"coverage limit {self.max_cost:g} s; value {value:g}"],
        )


class MinPointsCoverage:
    """Fewest new sites so that at least ``min_share`` of all demand is within ``max_cost``.

    The share is of the total weight (unreachable rows included). Fixed sites count as open
    but not in the objective.
    """

    model_name = "min points"

    def __init__(self, problem: SitingProblem, max_cost: float, min_share: float) -> None:
        _check_limit(max_cost)
        if not 0.0 < min_share <= 1.0:
            msg = f"`min_share` must lie in (0, 1], got {min_share}"
            raise InfeasibleError(msg)
        self.problem, self.max_cost, self.min_share = problem, float(max_cost), float(min_share)
        self.cover = sp.csc_array(problem.cost <= self.max_cost, dtype=np.float64)
        self.target = self.min_share * problem.total_weight
        reachable = float(problem.weights[_count(self.cover, np.arange(problem.n_sites)) > 0].sum())
        if reachable < self.target - 1e-9 * max(1.0, self.target):
            share = reachable / problem.total_weight if problem.total_weight else 0.0
            msg = (
                f"even with every site open only {share:.1%} of demand is within "
                f"`max_cost`={max_cost:g} s, below `min_share`={min_share:.1%}"
            )
            raise InfeasibleError(msg)

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: ArrayLike,
        weights: ArrayLike | None,
        max_cost: float,
        min_share: float,
        *,
        fixed: Sequence[int] | ArrayLike = (),
    ) -> MinPointsCoverage:
        """Build from a travel-time matrix (s), the limit (s) and the share to cover (0-1]."""
        return cls(SitingProblem.build(cost_matrix, weights, fixed=fixed), max_cost, min_share)

    def solve(
        self,
        method: Method = "auto",
        *,
        time_limit_s: float = 60.0,
        seed: int = 0,
        rounds: int = 20,
    ) -> SitingResult:
        """Solve with the MILP or greedy-then-shrink (drop a site while swaps keep the target)."""
        prob = self.problem
        fixed = prob.fixed
        w = prob.weights
        tol = 1e-9 * max(1.0, self.target)
        if use_milp(method, prob, self.model_name):
            sites, _value, bound, optimal, runtime = _coverage_milp(
                self.cover,
                w,
                fixed,
                q=None,
                min_covered=self.target - tol,
                time_limit_s=time_limit_s,
                what=self.model_name,
            )
            solver, status = "milp-highs", "optimal" if optimal else "time limit"
            count: float = float(np.setdiff1d(sites, fixed).size)
        else:
            start = time.perf_counter()
            rng = np.random.default_rng(seed)
            sites = fixed.copy()
            cnt = _count(self.cover, sites)
            cover_t = sp.csr_array(self.cover.T)
            while float(w @ (cnt > 0)) < self.target - tol:
                gain = cover_t @ (w * (cnt == 0))
                gain[sites] = -1.0
                k = int(np.argmax(gain))
                sites = np.append(sites, k)
                cnt += self.cover[:, [k]].toarray().ravel()
            # Shrink: try to reach the target with one site fewer by swap search.
            while sites.size > fixed.size:
                cnt = _count(self.cover, sites)
                only = cover_t[sites] @ (w * (cnt == 1))
                only[np.isin(sites, fixed)] = np.inf
                trial = np.delete(sites, int(np.argmin(only)))
                trial, val = _coverage_search(
                    self.cover, w, trial.size, fixed, start=trial, rng=rng, rounds=rounds
                )
                if val < self.target - tol:
                    break
                sites = trial
            runtime, bound = time.perf_counter() - start, None
            solver, status = "heuristic", "heuristic"
            count = float(np.setdiff1d(sites, fixed).size)
        return make_result(
            prob,
            sites,
            model=self.model_name,
            solver=solver,
            status=status,
            sense="min",
            objective=count,
            bound=bound,
            runtime_s=runtime,
            max_cost=self.max_cost,
            notes=[f"target {self.min_share:.1%} of demand within {self.max_cost:g} s"],
        )
