"""The plan's crowd report: the market before and after, trip times, each point's peak-hour
queue with its staff, and the demand left unserved with its reasons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.scenario import PlanningParams
from planner.errors import InfeasibleError
from planner.hexbin import MIN_COUNT, hex_polygons
from planner.points import crowd
from planner.points.assign import Assignment
from planner.points.demand import Demand
from planner.points.siting.staffed import StaffedResult
from planner.points.staffed_step import STATUS_EXCLUDED, PeakSetting, statuses
from planner.points.staffing import queue_figures

if TYPE_CHECKING:
    from planner.city import City

NO_SITE = "no site within reach"
NO_STAFF = "not enough staff in the pool"
SITES_FULL = "sites within reach at their safe limit"


def crowd_report(
    city: City,
    demand: Demand,
    assignment: Assignment,
    facilities: gpd.GeoDataFrame,
    market: int,
    open_mask: np.ndarray,
    params: PlanningParams,
    peak: PeakSetting,
    staff: np.ndarray,
    capacity: np.ndarray,
) -> dict[str, Any]:
    """The before/after report (``plan_summary.json`` without siting, staffing, timings)."""
    w = demand.groups["weight"].to_numpy()
    seekers = (demand.groups["kind"] == "seeker").to_numpy()
    points = point_figures(assignment.loads, facilities, market, open_mask, params, peak)
    for p, j in zip(points, np.flatnonzero(open_mask), strict=True):
        p.update(
            _queue(float(assignment.loads[j]), int(staff[j]), float(capacity[j]), params, peak)
        )
    return {
        "scenario": city.scenario.name,
        "title": city.scenario.title,
        "model": params.model,
        "parameters": {k: getattr(params, k) for k in params.__dataclass_fields__},
        "daily_visits": {
            "seekers": round(float(w[seekers].sum()), 1),
            "employers": round(float(w[~seekers].sum()), 1),
            "total": round(float(w.sum()), 1),
        },
        "peak": {
            "hourly_shares": [round(x, 4) for x in peak.hourly_shares],
            "peak_share": round(peak.peak_share, 4),
            "opens": params.opens,
            "closes": params.closes,
        },
        "before": _before(demand, facilities, market, params, peak),
        "after": {
            **_after(demand, assignment, market, open_mask, params, peak, staff),
            "market_capacity": float(facilities["capacity"].iat[market]),
            "market_load_vs_capacity": round(
                float(assignment.loads[market]) / float(facilities["capacity"].iat[market]), 3
            ),
            "points": points,
            "unserved": unserved(
                demand, assignment, facilities, market, params, peak, staff, city.network.crs
            ),
        },
    }


def _queue(
    load: float, staff: int, capacity: float, params: PlanningParams, peak: PeakSetting
) -> dict[str, Any]:
    """Peak-hour queue figures of a point with `staff` (``None`` waits: unstable queue)."""
    lam = load * peak.peak_share
    base: dict[str, Any] = {
        "staff": staff,
        "capacity": round(capacity, 1),
        "load_share": round(load / capacity, 3) if capacity > 0 else None,
        "arrivals_per_hour_peak": round(lam, 2),
        "service_min": params.service_min,
    }
    fig: dict[str, Any]
    try:
        fig = dict(queue_figures(lam, params.service_min, staff).as_dict())
    except InfeasibleError:
        fig = {"mean_wait_min": None, "p90_wait_min": None, "peak_on_site": None}
        fig |= {"p95_on_site": None, "utilisation": round(lam * params.service_min / 60 / staff, 3)}
    fig.pop("staff", None)
    fig.pop("arrivals_per_hour_peak", None)
    fig.pop("service_min", None)
    return base | fig


def point_figures(
    loads: np.ndarray,
    facilities: gpd.GeoDataFrame,
    market: int,
    open_mask: np.ndarray,
    params: PlanningParams,
    peak: PeakSetting,
) -> list[dict[str, Any]]:
    """Identity, load and limits of every open facility (queue figures added by the caller)."""
    status = statuses(facilities)
    return [
        {
            "id": str(facilities["id"].iat[j]),
            "name": str(facilities["name"].iat[j]),
            "status": "market" if j == market else str(status[j]),
            "is_market": bool(j == market),
            "load": round(float(loads[j]), 1),
            "room_capacity": float(facilities["capacity"].iat[j]),
            "max_staff": int(peak.max_staff[j]),
            "max_on_site": float(peak.max_on_site[j]),
            "target_wait_min": params.target_wait_min,
        }
        for j in np.flatnonzero(open_mask)
    ]


def _before(
    demand: Demand,
    facilities: gpd.GeoDataFrame,
    market: int,
    params: PlanningParams,
    peak: PeakSetting,
) -> dict[str, Any]:
    """Everyone goes to the central market, served by its own staff."""
    groups = demand.groups
    w = groups["weight"].to_numpy()
    seekers = (groups["kind"] == "seeker").to_numpy()
    total = float(w.sum())
    room = float(facilities["capacity"].iat[market])
    times = demand.time_s[:, market]
    q = _queue(total, peak.market_staff, peak.market_capacity, params, peak)
    lam = total * peak.peak_share
    return {
        "market_load": round(total, 1),
        "market_capacity": room,
        "market_load_vs_capacity": round(total / room, 3),
        "market_safe_capacity": round(peak.market_capacity, 1),
        "travel_time_by_mode": {
            mode: crowd.travel_time_summary(times[idx], w[idx])
            for mode, idx in mode_rows(groups, seekers).items()
        },
        "travel_time_all": crowd.travel_time_summary(times[seekers], w[seekers]),
        **{f"market_{k}": v for k, v in q.items() if k != "capacity"},
        "market_staff_needed": crowd.staff_needed(lam, params.service_min, params.target_wait_min),
        "staff_total": peak.market_staff,
    }


def _after(
    demand: Demand,
    assignment: Assignment,
    market: int,
    open_mask: np.ndarray,
    params: PlanningParams,
    peak: PeakSetting,
    staff: np.ndarray,
) -> dict[str, Any]:
    """Market load, trip times and staff of the plan."""
    groups = demand.groups
    w = groups["weight"].to_numpy()
    seekers = (groups["kind"] == "seeker").to_numpy()
    flows = assignment.flows
    g = flows["group"].to_numpy()
    f = flows["facility"].to_numpy()
    v = flows["visits"].to_numpy()
    t = flows["time_s"].to_numpy()
    is_seeker_flow = seekers[g]
    seeker_visits = float(w[seekers].sum())
    to_market = float(v[is_seeker_flow & (f == market)].sum())
    loads = assignment.loads
    by_mode = {}
    for mode, idx in mode_rows(groups, seekers).items():
        sel = np.isin(g, idx)
        by_mode[mode] = crowd.travel_time_summary(t[sel], v[sel])
    reasons = (
        pd.DataFrame({"reason": assignment.reason, "visits": w})
        .query("reason != ''")
        .groupby("reason")["visits"]
        .sum()
        .round(1)
        .sort_values(ascending=False)
    )
    point_staff = int(staff[open_mask].sum() - staff[market])
    return {
        "market_load": round(float(loads[market]), 1),
        "market_safe_capacity": round(peak.market_capacity, 1),
        "market_load_vs_safe_capacity": round(float(loads[market]) / peak.market_capacity, 3)
        if peak.market_capacity
        else None,
        "seeker_share_still_at_market": round(to_market / seeker_visits, 4) if seeker_visits else 0,
        "open_points": int(open_mask.sum() - 1),
        "unassigned_visits": round(float(assignment.unassigned.sum()), 1),
        "reasons": {str(k): float(val) for k, val in reasons.items()},
        "travel_time_by_mode": by_mode,
        "travel_time_all": crowd.travel_time_summary(t[is_seeker_flow], v[is_seeker_flow]),
        "staff_at_points": point_staff,
        "staff_pool": peak.pool,
        "staff_total": point_staff + peak.market_staff,
    }


def staffing_summary(
    staffed: StaffedResult,
    staff: np.ndarray,
    peak: PeakSetting,
    facilities: gpd.GeoDataFrame,
    market: int,
) -> dict[str, Any]:
    """How the pool was used, and the solver's figures."""
    used = int(staff.sum() - staff[market])
    return {
        "pool": peak.pool,
        "staff_used": used,
        "staff_left": peak.pool - used,
        "staff_allotted_by_siting": int(staffed.staff.sum()),
        "market_staff": peak.market_staff,
        "market_safe_capacity": round(peak.market_capacity, 1),
        "existing_stations": [
            str(facilities["id"].iat[j]) for j in np.flatnonzero(statuses(facilities) == "existing")
        ],
        "solver": staffed.solver,
        "status": staffed.status,
        "objective": staffed.objective,
        "bound": staffed.bound,
        "gap": staffed.gap,
        "runtime_s": round(staffed.runtime_s, 2),
        "notes": list(staffed.notes),
    }


def mode_rows(groups: pd.DataFrame, seekers: np.ndarray) -> dict[str, np.ndarray]:
    """Rows of the seeker groups of each travel mode."""
    modes = groups["mode"].to_numpy()
    return {str(m): np.flatnonzero(seekers & (modes == m)) for m in pd.unique(modes[seekers])}


def unserved(
    demand: Demand,
    assignment: Assignment,
    facilities: gpd.GeoDataFrame,
    market: int,
    params: PlanningParams,
    peak: PeakSetting,
    staff: np.ndarray,
    crs: str,
) -> dict[str, Any]:
    """Visits served nowhere safely: how many, why, and where (cells of >= 5 people)."""
    left = assignment.unassigned
    rows = np.flatnonzero(left > 1e-9)
    if rows.size == 0:
        return {"visits": 0.0, "by_reason": {}, "cells": []}
    max_s = params.max_travel_min * 60.0
    openable = statuses(facilities) != STATUS_EXCLUDED
    openable[market] = False
    near = (demand.time_s[rows][:, openable] <= max_s).any(axis=1)
    pool_used = int(staff.sum() - staff[market]) >= peak.pool
    why = np.where(~near, NO_SITE, NO_STAFF if pool_used else SITES_FULL)
    groups = demand.groups.iloc[rows]
    table = pd.DataFrame(
        {
            "q": groups["q"].to_numpy(),
            "r": groups["r"].to_numpy(),
            "reason": why,
            "visits": left[rows],
            "people": groups["people"].to_numpy() * left[rows] / groups["weight"].to_numpy(),
        }
    )
    by_reason = table.groupby("reason")["visits"].sum().round(1)
    cells = table.groupby(["q", "r", "reason"], as_index=False)[["visits", "people"]].sum()
    shown = cells[cells["people"] >= MIN_COUNT]
    polys = hex_polygons(shown["q"].to_numpy(), shown["r"].to_numpy(), demand.cell_m)
    centres = gpd.GeoSeries(shapely.centroid(polys), crs=crs).to_crs("EPSG:4326")
    return {
        "visits": round(float(left.sum()), 1),
        "by_reason": {str(k): float(v) for k, v in by_reason.items()},
        "explanation": {
            NO_SITE: f"no open or candidate site within {params.max_travel_min:g} min and the "
            "central market is at its safe limit",
            NO_STAFF: "the sites within reach would need more staff than the pool has left",
            SITES_FULL: "the sites within reach are at their safe limit (most staff the room "
            "holds, or the point count) and the market is full",
        },
        "cells": [
            {
                "cell": f"{q},{r}",
                "reason": reason,
                "visits": round(float(v), 1),
                "lon": round(float(x), 5),
                "lat": round(float(y), 5),
            }
            for (q, r, reason, v), x, y in zip(
                shown[["q", "r", "reason", "visits"]].itertuples(index=False),
                centres.x,
                centres.y,
                strict=True,
            )
        ],
        "cells_suppressed_visits": round(float(cells["visits"].sum() - shown["visits"].sum()), 1),
    }
