"""The trade-off curve: what a number of points achieves with the given staff pool.

For each count in ``[staffing] tradeoff_points`` the staffed siting heuristic opens and
staffs at most that many new points (existing stations always open). A smaller count's plan
is kept when it serves better, and once the pool rather than the count limits the plan (it
opened at least three fewer points than allowed) larger counts keep it. Each row records the
share of seekers' visits within 15/30/45 min, the worst peak-hour mean wait, the market's
load, the staff used and the visits left unserved. Figures come from the siting rows
(industries are matched only in the final plan's assignment), so the row of the plan's own
count can differ slightly from ``plan_summary.json``.

At city scale the configured counts (Dongcao's 10-80) say nothing about a plan of 200
points: when ``n_points`` exceeds the largest count, the counts are stretched in proportion
so that the largest is ``n_points`` (10-80 become 25-200 at scale 5). The curve runs within
:data:`CURVE_BUDGET_S`: each count's MILP gets at most :data:`CURVE_TIME_LIMIT_S` and 60 %
of its share of what is left; counts the budget cannot reach are listed as skipped. ``note`` in
``tradeoff.json`` says what was done.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import geopandas as gpd
import numpy as np

from geo.scenario import PlanningParams
from geo.staffing import StaffingParams
from planner.errors import InfeasibleError
from planner.points import crowd
from planner.points.demand import Demand
from planner.points.siting.staffed import StaffedResult, StaffedSiting
from planner.points.staffed_step import PeakSetting, staffed_model
from planner.points.staffing import queue_figures, staff_for

logger = logging.getLogger(__name__)

CURVE_TIME_LIMIT_S = 3.0
"""MILP time of each curve point (s): the curve is for a budget argument, not the plan."""

CURVE_BUDGET_S = 30.0
"""Wall-clock budget of the whole curve (s)."""

MIN_COUNT_S = 0.5
"""A count is skipped when less than this MILP time (s) would be left for it."""


def curve_counts(configured: tuple[int, ...], n_points: int, most: int) -> tuple[list[int], float]:
    """The counts to run and the factor they were stretched by (1: as configured).

    Counts above `most` (the openable new sites) are dropped; when `n_points` exceeds the
    largest configured count, all are stretched so that the largest is `n_points`.
    """
    if not configured:
        return [], 1.0
    factor = max(1.0, n_points / max(configured))
    counts = sorted({max(1, round(c * factor)) for c in configured})
    return [c for c in counts if c <= most], factor


def tradeoff_curve(
    cost: np.ndarray,
    weights: np.ndarray,
    demand: Demand,
    siting_row: np.ndarray,
    facilities: gpd.GeoDataFrame,
    market: int,
    params: PlanningParams,
    peak: PeakSetting,
    staffing: StaffingParams,
    *,
    plan: StaffedResult | None = None,
) -> dict[str, Any]:
    """The curve as written to ``tradeoff.json``; `plan` (the plan's own staffed siting for
    ``n_points``) is reused as the row of that count instead of a new run."""
    started = time.perf_counter()
    model = staffed_model(cost, weights, facilities, market, params, peak)
    counts, factor = curve_counts(
        staffing.tradeoff_points, params.n_points, model.openable.size - model.existing.size
    )
    seeker_rows = _seeker_rows(demand, siting_row, cost.shape[0])
    order = model.greedy_order(max(counts, default=0) + 15)
    rows = []
    skipped: list[int] = []
    best: StaffedResult | None = None
    previous = 0
    for done, count in enumerate(counts):
        t0 = time.perf_counter()
        # A count's MILP gets 60 % of its share of the budget left (the rest: swaps, setup).
        share = 0.6 * (CURVE_BUDGET_S - (t0 - started)) / (len(counts) - done)
        milp_s = min(CURVE_TIME_LIMIT_S, share)
        if best is not None and _new_points(best, model) < previous - 2:
            result, milp_s = best, 0.0  # the pool limits the plan: more points add nothing
        elif plan is not None and count == params.n_points:
            result, milp_s = plan, 0.0  # the plan's own siting: no second run
            if best is not None and best.objective < result.objective:
                result = best
        elif milp_s < MIN_COUNT_S:
            skipped.append(count)
            continue
        else:
            result = model.solve_count(count, order, time_limit_s=milp_s, previous=best)
            if best is not None and best.objective < result.objective:
                result = best  # "at most `count` new points": fewer may serve better
        best, previous = result, count
        rows.append(
            {
                "new_points": count,
                **_figures(result, cost, seeker_rows, weights, market, params, peak),
                "milp_time_limit_s": round(milp_s, 2),
                "runtime_s": round(time.perf_counter() - t0, 2),
            }
        )
        logger.info("trade-off: %d points in %.1f s", count, rows[-1]["runtime_s"])
    reused = plan is not None and params.n_points in counts
    return {
        "pool": peak.pool,
        "market_staff": peak.market_staff,
        "existing_stations": int(model.existing.size),
        "target_wait_min": params.target_wait_min,
        "max_travel_min": params.max_travel_min,
        "note": _note(factor, skipped, staffing.tradeoff_points, reused),
        "budget_s": CURVE_BUDGET_S,
        "skipped_counts": skipped,
        "points": rows,
    }


def _note(factor: float, skipped: list[int], configured: tuple[int, ...], reused: bool) -> str:
    text = (
        "per number of new points, with the given staff pool: siting-row figures "
        "(industries matched only in the final plan); heuristic plans (greedy, swaps and a "
        f"MILP of at most {CURVE_TIME_LIMIT_S:g} s per count within a {CURVE_BUDGET_S:g} s "
        "budget)"
    )
    if factor > 1.0:
        text += (
            f"; the configured counts {list(configured)} were stretched x{factor:.3g} to the "
            "plan's number of points"
        )
    if skipped:
        text += f"; counts {skipped} skipped: the time budget ran out"
    if reused:
        text += "; the row of the plan's own count is the plan's siting (not run again)"
    return text


def _new_points(result: StaffedResult, model: StaffedSiting) -> int:
    return int(np.count_nonzero(result.staff)) - int(model.existing.size)


def _seeker_rows(demand: Demand, siting_row: np.ndarray, n_rows: int) -> np.ndarray:
    """Share of each siting row's visits that are seekers' (rows mix no kinds, so 0 or 1)."""
    seekers = (demand.groups["kind"] == "seeker").to_numpy()
    w = demand.groups["weight"].to_numpy()
    num = np.bincount(siting_row, weights=w * seekers, minlength=n_rows)
    den = np.bincount(siting_row, weights=w, minlength=n_rows)
    return np.divide(num, den, out=np.zeros(n_rows), where=den > 0)


def _figures(
    result: StaffedResult,
    cost: np.ndarray,
    seeker_share: np.ndarray,
    weights: np.ndarray,
    market: int,
    params: PlanningParams,
    peak: PeakSetting,
) -> dict[str, Any]:
    flows = result.flows.tocoo()
    times = cost[flows.row, flows.col]
    visits = flows.data * seeker_share[flows.row]
    unserved = result.unserved * seeker_share
    all_times = np.concatenate([times, np.full(unserved.size, np.inf)])
    all_visits = np.concatenate([visits, unserved])
    summary = crowd.travel_time_summary(all_times, all_visits)
    loads = result.loads
    waits = []
    staff_used = 0
    for j in np.flatnonzero(result.staff > 0):
        c = max(1, staff_for(float(loads[j]), peak.tables[j]))
        staff_used += c
        waits.append(_wait(float(loads[j]) * peak.peak_share, params, c))
    market_wait = _wait(float(loads[market]) * peak.peak_share, params, peak.market_staff)
    return {
        "open_points": int(np.count_nonzero(result.staff)),
        "within_15_min": round(summary["within_15_min"], 4),
        "within_30_min": round(summary["within_30_min"], 4),
        "within_45_min": round(summary["within_45_min"], 4),
        "worst_mean_wait_min": round(max([*waits, market_wait]), 2),
        "market_load": round(float(loads[market]), 1),
        "market_peak_per_hour": round(float(loads[market]) * peak.peak_share, 1),
        "staff_used": staff_used,
        "unserved_visits": round(float(result.unserved.sum()), 1),
        "objective": result.objective,
        "bound": result.bound,
    }


def _wait(arrivals_per_hour: float, params: PlanningParams, staff: int) -> float:
    try:
        return queue_figures(arrivals_per_hour, params.service_min, staff).mean_wait_min
    except InfeasibleError:  # never for a staffed plan: its loads are within capacity
        return float("inf")
