"""Capacity repair of a staffed plan: spend idle staff and move points to the crowded areas.

The heuristic's site choice comes from a p-median with capacities relaxed, so at city scale
it puts too few (and too small) points where demand is dense; its MILP, restricted to those
sites, runs out of time before it can trade one site for another. This step starts from
its plan and, round by round within a deadline:

1. solves the assignment for the current staffing exactly (min-cost flow over each row's
   nearest reachable open points, :func:`planner.points.assign.assign`);
2. scores every site by the visits it could take from those left at the market or unserved
   (capped at its capacity with the most staff it may hold);
3. when the point count is used up, closes the ``batch`` least loaded new points and opens
   the best scoring closed sites instead, staffs them, then gives the idle staff (and those
   of the closed points) to the points with the most visits still waiting nearby;
4. keeps the new plan only if its objective (the model's: travel time, penalties, staff) is
   lower; otherwise halves ``batch`` and stops at zero.

Every plan it returns satisfies the model's constraints (pool, count, existing stations
open, excluded sites closed, capacities by staff), and its objective is exact for its
staffing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.points.assign import assign

if TYPE_CHECKING:
    from planner.points.siting.staffed import StaffedResult, StaffedSiting

logger = logging.getLogger(__name__)

REPAIR_NEAREST = 8
"""Open points per row in the repair's assignment flow."""


@dataclass(frozen=True)
class RepairStats:
    """What the repair did: rounds tried and kept, objective and unserved before/after."""

    rounds: int
    kept: int
    objective_before: float
    objective_after: float
    unserved_before: float
    unserved_after: float

    def note(self) -> str:
        return (
            f"capacity repair: {self.kept} of {self.rounds} rounds kept, unserved "
            f"{self.unserved_before:,.0f} -> {self.unserved_after:,.0f} visits/day, objective "
            f"{self.objective_before:.6g} -> {self.objective_after:.6g}"
        )


def repair(
    model: StaffedSiting,
    result: StaffedResult,
    *,
    deadline: float,
    batch: int = 8,
) -> tuple[StaffedResult, RepairStats]:
    """Improve `result` (a feasible plan of `model`) until `deadline` (``perf_counter``)."""
    best = evaluate(model, result.staff)
    start_obj, start_un = best.objective, float(best.unserved.sum())
    rounds = kept = 0
    # Only a plan leaving visits unserved is repaired (market relief is the model's job).
    while batch > 0 and time.perf_counter() < deadline and best.unserved.sum() > 1e-6:
        rounds += 1
        staff = _move(model, best, batch)
        if staff is None:
            break
        trial = evaluate(model, staff)
        if trial.objective < best.objective - 1e-9 * max(1.0, best.objective):
            best, kept = trial, kept + 1
        else:
            batch //= 2
    if best.objective >= result.objective:
        best = result
    stats = RepairStats(
        rounds, kept, start_obj, best.objective, start_un, float(best.unserved.sum())
    )
    logger.info("%s", stats.note())
    return best, stats


def evaluate(model: StaffedSiting, staff: NDArray[np.intp]) -> StaffedResult:
    """The exact assignment of `model`'s rows for a staffing (staff per site, 0 = closed)."""
    from planner.points.siting.staffed import STAFF_COST, StaffedResult

    prob = model.problem
    n_sites = prob.n_sites
    capacity = np.where(staff > 0, model.caps[np.arange(n_sites), np.maximum(staff, 0)], 0.0)
    capacity[model.market] = model.market_capacity
    started = time.perf_counter()
    a = assign(
        prob.cost,
        prob.weights,
        np.ones(prob.cost.shape, dtype=bool),
        capacity,
        market=model.market,
        max_time_s=model.max_cost,
        modes=np.full(prob.n_demand, "any", dtype=object),
        nearest=REPAIR_NEAREST,
    )
    flows = sp.csr_array(
        (a.flows["visits"].to_numpy(), (a.flows["group"], a.flows["facility"])),
        shape=(prob.n_demand, n_sites),
    )
    staff = staff.copy()
    staff[model.market] = 0
    return StaffedResult(
        open_sites=np.union1d(np.flatnonzero(staff > 0), [model.market]).astype(np.intp),
        staff=staff,
        capacity=capacity,
        flows=flows,
        unserved=a.unassigned,
        objective=a.objective + STAFF_COST * float(staff.sum()),
        bound=None,
        solver="heuristic",
        status="heuristic",
        runtime_s=time.perf_counter() - started,
    )


def _move(model: StaffedSiting, plan: StaffedResult, batch: int) -> NDArray[np.intp] | None:
    """A new staffing: swap up to `batch` points towards the waiting visits, then top up."""
    staff = plan.staff.copy()
    left = plan.unserved + plan.flows[:, [model.market]].toarray().ravel()
    if left.sum() <= 1e-6:
        return None
    is_new = np.zeros(staff.size, dtype=bool)
    is_new[model.openable] = True
    is_new[model.existing] = False
    max_cap = model.caps[np.arange(staff.size), model.caps.shape[1] - 1]
    pool_left = model.pool - int(staff.sum())
    if int(np.count_nonzero(staff[is_new])) >= model.p:
        loads = plan.loads
        open_new = np.flatnonzero(is_new & (staff > 0))
        close = open_new[np.argsort(loads[open_new])[:batch]]
        pool_left += int(staff[close].sum())
        staff[close] = 0
        # The visits the closed points held wait again (their rows may find room nearby).
        left = left + np.asarray(plan.flows[:, close].sum(axis=1)).ravel()
    opened = 0
    free = model.p - int(np.count_nonzero(staff[is_new]))
    for _ in range(free):
        score = _scores(model, left, staff == 0, max_cap)
        j = int(np.argmax(score))
        if score[j] <= 1e-6 or pool_left <= 0:
            break
        c = _staff_for(model.caps[j], min(score[j], max_cap[j]), pool_left)
        if c == 0:
            break
        staff[j], pool_left, opened = c, pool_left - c, opened + 1
        _serve(model, left, j, float(model.caps[j, c]))
    _top_up(model, staff, left, pool_left)
    return staff


def _scores(
    model: StaffedSiting, left: NDArray[np.float64], closed: NDArray[np.bool_], cap: NDArray
) -> NDArray[np.float64]:
    """Visits each closed openable site could take from `left` (at most its capacity)."""
    score = np.zeros(closed.size)
    cols = model.openable[closed[model.openable]]
    reach = model.reach[:, cols]
    score[cols] = np.minimum(left @ reach, cap[cols])
    return score


def _serve(model: StaffedSiting, left: NDArray[np.float64], j: int, cap: float) -> None:
    """Take up to `cap` visits off `left` in the rows site `j` reaches (nearest first)."""
    rows = np.flatnonzero(model.reach[:, j] & (left > 0))
    rows = rows[np.argsort(model.problem.cost[rows, j])]
    taken = np.cumsum(left[rows])
    full = rows[taken <= cap]
    left[full] = 0.0
    if full.size < rows.size:
        edge = rows[full.size]
        left[edge] = taken[full.size] - cap


def _staff_for(table: NDArray[np.float64], need: float, most: int) -> int:
    """Fewest staff (at most `most`) whose capacity covers `need`; else the most that helps."""
    levels = np.flatnonzero(table[1 : most + 1] >= need - 1e-9)
    if levels.size:
        return int(levels[0]) + 1
    return int(min(most, int(np.argmax(table)))) if most > 0 else 0


def _top_up(
    model: StaffedSiting, staff: NDArray[np.intp], left: NDArray[np.float64], pool_left: int
) -> None:
    """Give idle staff, one at a time, to the open point adding the most waiting visits."""
    is_open = staff > 0
    is_open[model.market] = False
    cols = np.flatnonzero(is_open)
    if cols.size == 0:
        return
    waiting = left @ model.reach[:, cols]
    top = model.caps.shape[1] - 1
    while pool_left > 0:
        now = model.caps[cols, np.minimum(staff[cols], top)]
        nxt = model.caps[cols, np.minimum(staff[cols] + 1, top)]
        gain = np.minimum(nxt - now, np.maximum(waiting, 0.0))
        k = int(np.argmax(gain))
        if gain[k] <= 1e-6:
            return
        staff[cols[k]] += 1
        waiting[k] -= gain[k]
        pool_left -= 1
