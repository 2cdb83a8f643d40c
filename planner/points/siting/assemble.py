"""Shared pieces of the siting models: nearest-open assignment and result assembly."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.points.siting.problem import SitingProblem
from planner.points.siting.result import SitingResult


def nearest_open(
    cost: NDArray[np.float64], open_sites: NDArray[np.intp]
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Nearest open site of every row (``-1``/``inf`` when none is reachable)."""
    if open_sites.size == 0:
        n = cost.shape[0]
        return np.full(n, -1, dtype=np.intp), np.full(n, np.inf)
    sub = cost[:, open_sites]
    pos = np.argmin(sub, axis=1)
    best = sub[np.arange(cost.shape[0]), pos]
    site = np.where(np.isfinite(best), open_sites[pos], -1)
    return site.astype(np.intp), best


def make_result(
    problem: SitingProblem,
    open_sites: NDArray[np.intp],
    *,
    model: str,
    solver: str,
    status: str,
    sense: str,
    objective: float,
    bound: float | None,
    runtime_s: float,
    assignment: NDArray[np.intp] | None = None,
    allocation: sp.csr_array | None = None,
    max_cost: float | None = None,
    notes: list[str] | None = None,
) -> SitingResult:
    """Assemble a :class:`SitingResult`; assignment defaults to the nearest open site."""
    open_sites = np.unique(np.asarray(open_sites, dtype=np.intp))
    rows = np.arange(problem.n_demand)
    # Rows without a site: none within reach (nearest open) or all visits unserved (given).
    why = "reach no open site" if assignment is None else "have all their visits unserved"
    if assignment is None:
        assignment, cost = nearest_open(problem.cost, open_sites)
    else:
        cost = np.where(assignment >= 0, problem.cost[rows, np.maximum(assignment, 0)], np.inf)
    if allocation is not None:
        loads = np.asarray(allocation.T @ problem.weights, dtype=np.float64).ravel()
    else:
        served = assignment >= 0
        loads = np.bincount(
            assignment[served], weights=problem.weights[served], minlength=problem.n_sites
        ).astype(np.float64)
    covered = None
    if max_cost is not None:
        covered = float(problem.weights[cost <= max_cost].sum())
    notes = list(notes or [])
    unassigned = assignment < 0
    if unassigned.any():
        weight = float(problem.weights[unassigned].sum())
        notes.append(f"{int(unassigned.sum())} demand rows (weight {weight:g}) {why}")
    return SitingResult(
        model=model,
        solver=solver,
        status=status,
        sense="max" if sense == "max" else "min",
        objective=float(objective),
        bound=None if bound is None or not np.isfinite(bound) else float(bound),
        runtime_s=float(runtime_s),
        open_sites=open_sites,
        fixed_sites=problem.fixed.copy(),
        assignment=assignment,
        cost=cost,
        loads=loads,
        total_weight=problem.total_weight,
        covered_weight=covered,
        allocation=allocation,
        notes=tuple(notes),
    )
