"""p-median: open ``p`` sites (plus the fixed ones) minimising total weighted travel time."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from planner.points.siting.assemble import make_result
from planner.points.siting.highs import solve_milp
from planner.points.siting.problem import Method, SitingProblem, check_count, use_milp
from planner.points.siting.result import SitingResult
from planner.points.siting.search import (
    greedy_pmedian,
    iterated_swap_search,
    lagrangian_bound,
    swap_local_search,
)

logger = logging.getLogger(__name__)

"""``method="auto"`` uses the exact MILP up to this many demand x site pairs."""


def _is_integral(values: NDArray[np.float64]) -> bool:
    return bool(np.all(values == np.round(values)))


class PMedian:
    """Uncapacitated p-median with optional fixed open sites.

    Every demand row is served by its nearest open site. ``p`` counts the *new* sites; fixed
    sites (e.g. the central talent market) are open in addition. Rows that reach no candidate
    site at all are left out of the objective (they are reported as unassigned); a row that
    reaches candidates but no open one costs ``penalty`` per weight unit (see
    :meth:`SitingProblem.penalised_cost`), so plans leave nobody out if they can help it.
    """

    model_name = "p-median"

    def __init__(self, problem: SitingProblem, p: int) -> None:
        check_count(p, problem.n_sites, problem.fixed.size, name="p_facilities")
        self.problem = problem
        self.p = int(p)

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: ArrayLike,
        weights: ArrayLike | None,
        p_facilities: int,
        *,
        fixed: Sequence[int] | ArrayLike = (),
    ) -> PMedian:
        """Build from a ``(n_demand, n_sites)`` travel-time matrix (s, ``inf`` = unreachable).

        Parameters
        ----------
        cost_matrix
            Travel time (s) from each demand row to each candidate site.
        weights
            Demand weight per row (``None`` = 1 each).
        p_facilities
            Number of new sites to open, fixed sites not counted.
        fixed
            Indices of sites that are always open.
        """
        return cls(SitingProblem.build(cost_matrix, weights, fixed=fixed), p_facilities)

    def _reduced(self) -> tuple[NDArray[np.float64], NDArray[np.intp], float]:
        """Weighted penalised cost over the rows that matter, those rows, and the penalty."""
        prob = self.problem
        keep = np.flatnonzero(prob.reachable_rows() & (prob.weights > 0))
        cost, penalty = prob.penalised_cost()
        if keep.size == 0:
            # All weight is zero: any plan is optimal; site for the reachable rows unweighted
            # so the plan still opens `p` sensible sites.
            keep = np.flatnonzero(prob.reachable_rows())
            return cost[keep], keep, penalty
        return prob.weights[keep, None] * cost[keep], keep, penalty

    def solve(
        self,
        method: Method = "auto",
        *,
        time_limit_s: float = 60.0,
        seed: int = 0,
        max_rounds: int = 500,
        patience: int = 100,
        bound_iterations: int = 300,
    ) -> SitingResult:
        """Solve and return the plan.

        Parameters
        ----------
        method
            ``"milp"`` (HiGHS, exact up to ``time_limit_s``), ``"heuristic"`` (greedy + vertex
            substitution + iterated local search, Lagrangian lower bound) or ``"auto"``
            (MILP when the matrix has at most ``problem.MILP_AUTO_MAX_PAIRS`` pairs).
        time_limit_s
            Time limit (s): the MILP's, or the heuristic's for starting new perturbation rounds.
        seed
            Seed of the heuristic's perturbations.
        max_rounds, patience
            Heuristic: at most ``max_rounds`` perturbation rounds, stopping after ``patience``
            rounds without improvement or when the Lagrangian bound proves optimality.
        bound_iterations
            Heuristic: subgradient iterations of the Lagrangian bound (0 = no bound); they
            stop early after a quarter of ``time_limit_s``.
        """
        if use_milp(method, self.problem, self.model_name):
            return self._solve_milp(time_limit_s)
        return self._solve_heuristic(seed, max_rounds, patience, bound_iterations, time_limit_s)

    def _objective(self, sites: NDArray[np.intp], keep: NDArray[np.intp]) -> float:
        """Weighted (penalised) cost of ``sites`` over the kept rows."""
        if keep.size == 0 or sites.size == 0:
            return 0.0
        cost, _ = self.problem.penalised_cost()
        return float((self.problem.weights[keep] * cost[keep][:, sites].min(axis=1)).sum())

    def _notes(self, keep: NDArray[np.intp]) -> list[str]:
        dropped = self.problem.n_demand - keep.size
        return [f"{dropped} rows with zero weight or no reachable site left out"] if dropped else []

    def _solve_heuristic(
        self,
        seed: int,
        max_rounds: int,
        patience: int,
        bound_iterations: int,
        time_limit_s: float,
    ) -> SitingResult:
        start = time.perf_counter()
        c, keep, _ = self._reduced()
        fixed = self.problem.fixed
        q = self.p + fixed.size
        if keep.size == 0 or q == 0:
            sites = fixed
            objective, bound = 0.0, 0.0
        else:
            rng = np.random.default_rng(seed)

            sites = greedy_pmedian(c, q, fixed)
            mask = np.isin(sites, fixed)
            tol = 1e-9 * max(1.0, float(c.max()))
            sites, upper = swap_local_search(c, sites, mask, tol=tol)
            bound = -math.inf
            if bound_iterations > 0:
                bound = lagrangian_bound(
                    c,
                    q,
                    fixed,
                    upper,
                    iterations=bound_iterations,
                    deadline=start + 0.25 * time_limit_s,
                )
                if _is_integral(c):
                    bound = math.ceil(bound - 1e-6 * max(1.0, abs(bound)))
            sites, objective, stats = iterated_swap_search(
                c,
                q,
                fixed,
                rng=rng,
                max_rounds=max_rounds,
                patience=patience,
                target=bound,
                start=sites,
                deadline=start + time_limit_s,
            )
            logger.debug("p-median search: %s", stats)
        objective = self._objective(sites, keep)
        if not (self.problem.weights[keep] > 0).any():
            bound = 0.0  # the search ran on unweighted rows; every plan costs 0
        runtime = time.perf_counter() - start
        optimal = objective <= bound + 1e-9 * max(1.0, abs(objective))
        return make_result(
            self.problem,
            sites,
            model=self.model_name,
            solver="heuristic",
            status="optimal" if optimal else "heuristic",
            sense="min",
            objective=objective,
            bound=bound if bound_iterations > 0 else None,
            runtime_s=runtime,
            notes=self._notes(keep),
        )

    def _solve_milp(self, time_limit_s: float) -> SitingResult:
        c, keep, _ = self._reduced()
        n, m = c.shape
        fixed = self.problem.fixed
        q = self.p + fixed.size
        # Columns: x_ij for every (kept row, site) pair, then y_j. Unreachable pairs keep the
        # penalty cost so the model is always feasible (same objective as the heuristic).
        n_x = n * m
        rows_i = np.repeat(np.arange(n), m)
        cols_j = np.tile(np.arange(m), n)
        x_idx = np.arange(n_x)
        # Row blocks: assignment (n), linking x_ij <= y_j (n*m), cardinality (1).
        a = sp.coo_array(
            (
                np.concatenate([np.ones(n_x), np.ones(n_x), -np.ones(n_x), np.ones(m)]),
                (
                    np.concatenate([rows_i, n + x_idx, n + x_idx, np.full(m, n + n_x)]),
                    np.concatenate([x_idx, x_idx, n_x + cols_j, n_x + np.arange(m)]),
                ),
            ),
            shape=(n + n_x + 1, n_x + m),
        ).tocsc()
        row_lo = np.concatenate([np.ones(n), np.full(n_x, -np.inf), [q]])
        row_hi = np.concatenate([np.ones(n), np.zeros(n_x), [q]])
        col_lo = np.zeros(n_x + m)
        col_lo[n_x + fixed] = 1.0
        col_hi = np.ones(n_x + m)
        integer = np.zeros(n_x + m, dtype=bool)
        integer[n_x:] = True
        out = solve_milp(
            np.concatenate([c.ravel(), np.zeros(m)]),
            a,
            row_lo,
            row_hi,
            col_lo,
            col_hi,
            integer,
            time_limit_s=time_limit_s,
            what=self.model_name,
        )
        sites = np.flatnonzero(out.x[n_x:] > 0.5)
        objective = self._objective(sites, keep)
        return make_result(
            self.problem,
            sites,
            model=self.model_name,
            solver="milp-highs",
            status="optimal" if out.optimal else "time limit",
            sense="min",
            objective=objective,
            bound=out.bound,
            runtime_s=out.runtime_s,
            notes=self._notes(keep),
        )
