"""Capacitated p-median: each open site serves at most its safe daily capacity.

Assignment is *single-source* by default (every demand row goes to exactly one site, as a
seeker is sent to one service point); ``single_source=False`` allows splitting a row's weight
over several sites (right for aggregated demand, e.g. a hex cell of many seekers). Capacities
are honoured strictly in both cases; if they cannot be, :class:`InfeasibleError` is raised.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from planner.errors import InfeasibleError, SolverError
from planner.points.siting.assemble import make_result
from planner.points.siting.highs import solve_milp
from planner.points.siting.problem import Method, SitingProblem, check_count, use_milp
from planner.points.siting.result import SitingResult
from planner.points.siting.search import iterated_swap_search, swap_contributions, two_nearest

logger = logging.getLogger(__name__)


class CapacitatedPMedian:
    """p-median with site capacities (weight units per day) and fixed open sites.

    Rows that reach no candidate site are left out (reported unassigned); every other row
    must be served within capacity, otherwise the model is infeasible.
    """

    model_name = "capacitated p-median"

    def __init__(self, problem: SitingProblem, p: int, *, single_source: bool = True) -> None:
        if problem.capacities is None:
            msg = "`capacities` are required for the capacitated p-median"
            raise InfeasibleError(msg)
        check_count(p, problem.n_sites, problem.fixed.size, name="p_facilities")
        self.problem = problem
        self.p = int(p)
        self.single_source = single_source
        self._check_capacity()

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: ArrayLike,
        weights: ArrayLike | None,
        p_facilities: int,
        capacities: ArrayLike,
        *,
        fixed: Sequence[int] | ArrayLike = (),
        single_source: bool = True,
    ) -> CapacitatedPMedian:
        """Build from a travel-time matrix (s), weights, ``p`` new sites and site capacities."""
        prob = SitingProblem.build(cost_matrix, weights, fixed=fixed, capacities=capacities)
        return cls(prob, p_facilities, single_source=single_source)

    @property
    def _rows(self) -> NDArray[np.intp]:
        prob = self.problem
        return np.flatnonzero(prob.reachable_rows() & (prob.weights > 0))

    def _check_capacity(self) -> None:
        prob = self.problem
        caps = np.asarray(prob.capacities)
        need = float(prob.weights[self._rows].sum())
        free = np.setdiff1d(np.arange(prob.n_sites), prob.fixed)
        best_free = np.sort(caps[free])[::-1][: self.p]
        most = float(caps[prob.fixed].sum() + best_free.sum())
        if most < need:
            raise InfeasibleError(capacity_shortfall(need, caps, prob.fixed, free, self.p))
        if self.single_source:
            too_big = prob.weights[self._rows] > caps.max()
            if too_big.any():
                msg = (
                    f"{int(too_big.sum())} demand rows weigh more than any site's capacity; "
                    "use `single_source=False` or split them"
                )
                raise InfeasibleError(msg)

    def solve(
        self,
        method: Method = "auto",
        *,
        time_limit_s: float = 60.0,
        seed: int = 0,
        swap_rounds: int = 30,
        swaps_per_round: int = 8,
    ) -> SitingResult:
        """Solve; ``"auto"``: MILP up to ``problem.MILP_AUTO_MAX_PAIRS`` pairs, else heuristic.

        The heuristic locates sites with the uncapacitated search (capacity-repaired), assigns
        demand with HiGHS (transportation LP; for single-source the few split rows are then
        re-assigned by a small MILP), and tries the ``swaps_per_round`` most promising swaps for
        up to ``swap_rounds`` rounds, each evaluated by that exact assignment.
        """
        if use_milp(method, self.problem, self.model_name):
            return self._solve_milp(time_limit_s)
        return self._solve_heuristic(time_limit_s, seed, swap_rounds, swaps_per_round)

    # --- exact -----------------------------------------------------------------------------

    def _solve_milp(self, time_limit_s: float) -> SitingResult:
        prob = self.problem
        rows = self._rows
        cost = prob.cost[rows]
        w = prob.weights[rows]
        caps = np.minimum(np.asarray(prob.capacities), w.sum())
        ii, jj = np.nonzero(np.isfinite(cost))
        n, m, k = rows.size, prob.n_sites, ii.size
        q = self.p + prob.fixed.size
        x = np.arange(k)
        # Columns: x_k (one per reachable pair), y_j. Rows: assign (n), capacity (m),
        # linking x_k <= y_j (k), cardinality (1).
        a = sp.coo_array(
            (
                np.concatenate([np.ones(k), w[ii], -caps, np.ones(k), -np.ones(k), np.ones(m)]),
                (
                    np.concatenate(
                        [ii, n + jj, n + np.arange(m), n + m + x, n + m + x, np.full(m, n + m + k)]
                    ),
                    np.concatenate([x, x, k + np.arange(m), x, k + jj, k + np.arange(m)]),
                ),
            ),
            shape=(n + m + k + 1, k + m),
        ).tocsc()
        row_lo = np.concatenate([np.ones(n), np.full(m + k, -np.inf), [q]])
        row_hi = np.concatenate([np.ones(n), np.zeros(m + k), [q]])
        col_lo = np.zeros(k + m)
        col_lo[k + prob.fixed] = 1.0
        integer = np.zeros(k + m, dtype=bool)
        integer[k:] = True
        if self.single_source:
            integer[:k] = True
        out = solve_milp(
            np.concatenate([w[ii] * cost[ii, jj], np.zeros(m)]),
            a,
            row_lo,
            row_hi,
            col_lo,
            np.ones(k + m),
            integer,
            time_limit_s=time_limit_s,
            what=self.model_name,
        )
        share = np.clip(out.x[:k], 0.0, 1.0)
        sites = np.flatnonzero(out.x[k:] > 0.5)
        return self._result(
            sites,
            rows[ii],
            jj,
            share,
            solver="milp-highs",
            status="optimal" if out.optimal else "time limit",
            bound=out.bound,
            runtime=out.runtime_s,
        )

    # --- heuristic -------------------------------------------------------------------------

    def _assign(
        self, sites: NDArray[np.intp], time_limit_s: float
    ) -> tuple[float, NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]] | None:
        """Best assignment of the kept rows to ``sites``: (cost, rows, sites, shares) or None."""
        prob = self.problem
        rows = self._rows
        cost = prob.cost[np.ix_(rows, sites)]
        w = prob.weights[rows]
        caps = np.asarray(prob.capacities)[sites]
        ii, jj = np.nonzero(np.isfinite(cost))
        if np.setdiff1d(np.arange(rows.size), ii).size:
            return None  # some row reaches none of these sites
        outcome = _transport(
            cost[ii, jj] * w[ii],
            ii,
            jj,
            w,
            caps,
            rows.size,
            sites.size,
            integer=False,
            time_limit_s=time_limit_s,
        )
        if outcome is None:
            return None
        value, share = outcome
        if self.single_source:
            split = np.flatnonzero(np.bincount(ii, weights=(share > 1e-9), minlength=rows.size) > 1)
            if split.size:
                whole = (share > 1 - 1e-9) & ~np.isin(ii, split)
                used = np.bincount(jj[whole], weights=w[ii[whole]], minlength=sites.size)
                sub = np.isin(ii, split)
                local = np.searchsorted(split, ii[sub])
                outcome = _transport(
                    cost[ii[sub], jj[sub]] * w[ii[sub]],
                    local,
                    jj[sub],
                    w[split],
                    np.maximum(caps - used, 0.0),
                    split.size,
                    sites.size,
                    integer=True,
                    time_limit_s=time_limit_s,
                )
                if outcome is None:
                    # Residual capacity is fragmented: solve the whole assignment as a MILP.
                    outcome = _transport(
                        cost[ii, jj] * w[ii],
                        ii,
                        jj,
                        w,
                        caps,
                        rows.size,
                        sites.size,
                        integer=True,
                        time_limit_s=time_limit_s,
                    )
                    if outcome is None:
                        return None
                    value, share = outcome
                else:
                    share = np.where(whole, 1.0, 0.0)
                    share[np.flatnonzero(sub)] = outcome[1]
                    value = float((cost[ii, jj] * w[ii] * share).sum())
            share = np.round(share)
        return value, rows[ii], sites[jj], share

    def _solve_heuristic(
        self, time_limit_s: float, seed: int, swap_rounds: int, swaps_per_round: int
    ) -> SitingResult:
        start = time.perf_counter()
        prob = self.problem
        rows = self._rows
        caps = np.asarray(prob.capacities)
        penalised, _ = prob.penalised_cost()
        c = prob.weights[rows, None] * penalised[rows]
        q = self.p + prob.fixed.size
        sites, _, _ = iterated_swap_search(
            c, q, prob.fixed, rng=np.random.default_rng(seed), max_rounds=50, patience=20
        )
        sites = self._repair(sites, caps, float(prob.weights[rows].sum()))
        try:
            best = self._assign(sites, time_limit_s)
        except SolverError as exc:
            msg = (
                f"{self.model_name}: time limit: no assignment of {rows.size:,} demand rows to "
                f"the {sites.size} sites found within `time_limit_s` = {time_limit_s:g} s "
                f"(the sites' capacity {caps[sites].sum():,.0f} does cover the demand "
                f"{prob.weights[rows].sum():,.0f}); raise `time_limit_s` ({exc})"
            )
            raise SolverError(msg) from exc
        if best is None:
            msg = (
                f"{self.model_name}: the heuristic's {sites.size} sites cannot hold the demand "
                "within capacity (HiGHS proved their assignment infeasible: demand rows reach "
                "too few of them); this does not prove the model infeasible: open more points "
                "or use `single_source=False`"
            )
            raise SolverError(msg)
        movable = ~np.isin(sites, prob.fixed)
        for _ in range(swap_rounds):
            improved = False
            for r, k in _promising_swaps(c, sites, movable, swaps_per_round):
                trial = sites.copy()
                trial[r] = k
                if caps[trial].sum() < prob.weights[rows].sum():
                    continue
                try:
                    got = self._assign(trial, time_limit_s)
                except SolverError:  # time-out on this trial: keep the incumbent
                    got = None
                if got is not None and got[0] < best[0] - 1e-9 * max(1.0, abs(best[0])):
                    sites, best, improved = trial, got, True
                    break
            if not improved or time.perf_counter() - start > time_limit_s:
                break
        value, rr, jj, share = best
        return self._result(
            np.sort(sites),
            rr,
            jj,
            share,
            solver="heuristic",
            status="heuristic",
            bound=None,
            runtime=time.perf_counter() - start,
            objective=value,
        )

    def _repair(
        self, sites: NDArray[np.intp], caps: NDArray[np.float64], need: float
    ) -> NDArray[np.intp]:
        """Swap small open sites for large closed ones until total capacity covers demand."""
        sites = sites.copy()
        fixed = set(self.problem.fixed.tolist())
        order = np.argsort(-caps)
        while caps[sites].sum() < need:
            closed = order[~np.isin(order, sites)]
            movable = [pos for pos, s in enumerate(sites.tolist()) if s not in fixed]
            worst = min(movable, key=lambda pos: caps[sites[pos]])
            sites[worst] = closed[0]
        return sites

    def _result(
        self,
        sites: NDArray[np.intp],
        rows: NDArray[np.intp],
        cols: NDArray[np.intp],
        share: NDArray[np.float64],
        *,
        solver: str,
        status: str,
        bound: float | None,
        runtime: float,
        objective: float | None = None,
    ) -> SitingResult:
        prob = self.problem
        keep = share > 1e-9
        alloc = sp.csr_array(
            (share[keep], (rows[keep], cols[keep])), shape=(prob.n_demand, prob.n_sites)
        )
        assignment = np.full(prob.n_demand, -1, dtype=np.intp)
        dense_rows = np.flatnonzero(alloc.sum(axis=1) > 0)
        if dense_rows.size:
            sub = alloc[dense_rows].toarray()
            assignment[dense_rows] = np.argmax(sub, axis=1)
        served = prob.cost[rows[keep], cols[keep]] * prob.weights[rows[keep]] * share[keep]
        value = float(served.sum()) if objective is None else objective
        notes = ["single-source assignment" if self.single_source else "splittable assignment"]
        return make_result(
            prob,
            sites,
            model=self.model_name,
            solver=solver,
            status=status,
            sense="min",
            objective=value,
            bound=bound,
            runtime_s=runtime,
            assignment=assignment,
            allocation=None if self.single_source else alloc,
            notes=notes,
        )


def _transport(
    pair_cost: NDArray[np.float64],
    ii: NDArray[np.intp],
    jj: NDArray[np.intp],
    w: NDArray[np.float64],
    caps: NDArray[np.float64],
    n: int,
    m: int,
    *,
    integer: bool,
    time_limit_s: float,
) -> tuple[float, NDArray[np.float64]] | None:
    """Min-cost assignment of rows (weight ``w``) to sites within ``caps``; None if infeasible."""
    k = ii.size
    x = np.arange(k)
    a = sp.coo_array(
        (
            np.concatenate([np.ones(k), w[ii]]),
            (np.concatenate([ii, n + jj]), np.concatenate([x, x])),
        ),
        shape=(n + m, k),
    ).tocsc()
    try:
        out = solve_milp(
            pair_cost,
            a,
            np.concatenate([np.ones(n), np.full(m, -np.inf)]),
            np.concatenate([np.ones(n), caps]),
            np.zeros(k),
            np.ones(k),
            np.full(k, integer),
            time_limit_s=time_limit_s,
            what="capacitated assignment",
        )
    except InfeasibleError:
        return None  # proven: these sites cannot hold these rows (a time-out is raised)
    return out.objective, np.clip(out.x, 0.0, 1.0)


def _promising_swaps(
    c: NDArray[np.float64], sites: NDArray[np.intp], movable: NDArray[np.bool_], count: int
) -> list[tuple[int, int]]:
    """The ``count`` swaps (position, new site) with the best uncapacitated profit."""
    d1, d2, pos1, _ = two_nearest(c, sites)
    gain, loss, extra = swap_contributions(c, d1, d2, pos1, sites.size)
    profit = extra + gain[None, :] - loss[:, None]
    profit[:, sites] = -np.inf
    profit[~movable, :] = -np.inf
    flat = np.argsort(profit, axis=None)[::-1][:count]
    m = c.shape[1]
    return [divmod(int(f), m) for f in flat if np.isfinite(profit.flat[f])]


def capacity_shortfall(
    need: float,
    caps: NDArray[np.float64],
    fixed: NDArray[np.intp],
    free: NDArray[np.intp],
    p: int,
) -> str:
    """Why `p` new sites plus the `fixed` ones cannot hold `need` (proof: largest capacities).

    States the demand, the most the `p` largest free sites and the fixed sites hold, and the
    fewest new sites that could hold it (or that even all of them cannot).
    """
    best = np.sort(caps[free])[::-1]
    fixed_cap = float(caps[fixed].sum())
    top = float(best[:p].sum())
    reach = fixed_cap + np.concatenate([[0.0], np.cumsum(best)])
    enough = np.flatnonzero(reach >= need)
    fix = f" + {fixed.size} fixed site(s) {fixed_cap:,.0f} = {top + fixed_cap:,.0f}"
    head = f"{need:,.0f} visits/day, but {p} new sites can hold at most {top:,.0f}"
    head += fix if fixed.size else ""
    if enough.size:
        return f"{head}: open at least {int(enough[0])} new sites or raise capacities"
    return (
        f"{head}; even all {best.size} candidate sites hold only {reach[-1]:,.0f}: "
        "raise capacities or add candidate sites"
    )
